//! The order of pairwise contractions: greedy (opt_einsum's cost heuristic) or exhaustive
//! "optimal" (depth-first branch and bound over pairs), with a memory limit on intermediates.
//!
//! A path is NumPy's: a list of steps, each the positions (in the current list of operands) of
//! the operands it contracts; they are removed and the step's result is appended at the end.
//! Costs are counted as NumPy's `einsum_path` counts them, so the reports agree.

use super::parse::{label_name, labels_of, LabelSet, Parsed, NLETTERS};
use crate::error::{fmt_shape, Error, Result};

/// How to choose the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Optimize {
    /// Left to right, one pair at a time (NumPy's `optimize=False` contracts all operands in one
    /// loop nest; pairwise is never slower and gives the same values).
    None,
    Greedy,
    Optimal,
    /// A path given by the caller (NumPy's `["einsum_path", (0, 1), ...]`, without the tag).
    Path(Vec<Vec<usize>>),
}

/// The optimal search is exhaustive up to this many operands; above, it falls back to greedy
/// (the number of pair sequences grows as n!^2 / 2^n).
pub const OPTIMAL_MAX_OPERANDS: usize = 8;

/// One contraction of a path, for the report.
#[derive(Clone, Debug)]
pub struct Step {
    /// Positions of the contracted operands in the list current before the step.
    pub positions: Vec<usize>,
    /// Their label sets, in descending position order (NumPy's report order).
    pub inputs: Vec<LabelSet>,
    /// The labels of the step's result.
    pub result: LabelSet,
    /// The operand list after the step (result last).
    pub remaining: Vec<LabelSet>,
    pub flops: f64,
    /// Number of distinct labels the step loops over.
    pub scaling: usize,
}

/// A parsed expression and its contraction path, for fixed operand shapes.
#[derive(Clone, Debug)]
pub struct Plan {
    pub subscripts: String,
    pub parsed: Parsed,
    pub shapes: Vec<Vec<usize>>,
    pub path: Vec<Vec<usize>>,
    pub steps: Vec<Step>,
    pub naive_flops: f64,
    pub opt_flops: f64,
    /// Elements of the largest intermediate (results of steps other than the last; 0 if none).
    pub largest_intermediate: usize,
    /// The bound the path was made to obey (also bounds the executor's scratch copies).
    pub memory_limit: Option<usize>,
    /// A single operand whose result is a permutation / diagonal of it: returned as a view.
    pub is_view: bool,
    /// The strategy the path was chosen by.
    pub optimize: Optimize,
}

/// NumPy's flop count of one contraction.
fn flop_count(parsed: &Parsed, contract: LabelSet, inner: bool, nterms: usize) -> f64 {
    let size: f64 = labels_of(contract).map(|l| parsed.sizes[l as usize] as f64).product();
    size * ((nterms.saturating_sub(1)).max(1) + inner as usize) as f64
}

/// (result labels, labels looped over) of contracting `positions` of `sets`.
fn contraction(sets: &[LabelSet], positions: &[usize], output: LabelSet) -> (LabelSet, LabelSet) {
    let mut contract = 0;
    let mut others = output;
    for (i, &s) in sets.iter().enumerate() {
        if positions.contains(&i) {
            contract |= s;
        } else {
            others |= s;
        }
    }
    (contract & others, contract)
}

/// The set list after contracting `positions` (removed, result appended).
fn after(sets: &[LabelSet], positions: &[usize], result: LabelSet) -> Vec<LabelSet> {
    let mut next: Vec<LabelSet> = sets.iter().enumerate().filter(|(i, _)| !positions.contains(i)).map(|(_, &s)| s).collect();
    next.push(result);
    next
}

fn greedy(parsed: &Parsed, sets: &[LabelSet], limit: usize) -> Vec<Vec<usize>> {
    let output = parsed.output_set();
    let mut sets = sets.to_vec();
    let mut path = Vec::new();
    while sets.len() > 1 {
        if sets.len() == 2 {
            path.push(vec![0, 1]); // the result is the output: no limit applies
            break;
        }
        // best by (most memory removed, fewest flops); outer products only if nothing else fits
        let mut best: Option<((i128, f64), usize, usize, LabelSet)> = None;
        for outer in [false, true] {
            for i in 0..sets.len() {
                for j in i + 1..sets.len() {
                    if !outer && sets[i] & sets[j] == 0 {
                        continue;
                    }
                    let (result, contract) = contraction(&sets, &[i, j], output);
                    let new_size = parsed.set_size(result);
                    if new_size > limit {
                        continue;
                    }
                    let removed = parsed.set_size(sets[i]) as i128 + parsed.set_size(sets[j]) as i128 - new_size as i128;
                    let cost = flop_count(parsed, contract, result != contract, 2);
                    let key = (-removed, cost);
                    if best.as_ref().is_none_or(|(k, ..)| key.0 < k.0 || (key.0 == k.0 && key.1 < k.1)) {
                        best = Some((key, i, j, result));
                    }
                }
            }
            if best.is_some() {
                break;
            }
        }
        match best {
            Some((_, i, j, result)) => {
                path.push(vec![i, j]);
                sets = after(&sets, &[i, j], result);
            }
            None => {
                // no pair fits the memory limit: contract the rest in one loop nest, no intermediate
                path.push((0..sets.len()).collect());
                break;
            }
        }
    }
    if path.is_empty() {
        path.push(vec![0]);
    }
    path
}

/// Exhaustive search, pruned by the best cost found so far (seeded with the greedy path's).
fn optimal(parsed: &Parsed, sets: &[LabelSet], limit: usize, bound: f64) -> Option<Vec<Vec<usize>>> {
    struct Search<'p> {
        parsed: &'p Parsed,
        output: LabelSet,
        limit: usize,
        best_cost: f64,
        best: Option<Vec<Vec<usize>>>,
        path: Vec<Vec<usize>>,
    }
    fn go(s: &mut Search<'_>, sets: &[LabelSet], cost: f64) {
        if sets.len() == 1 {
            if cost < s.best_cost {
                s.best_cost = cost;
                s.best = Some(s.path.clone());
            }
            return;
        }
        for i in 0..sets.len() {
            for j in i + 1..sets.len() {
                let (result, contract) = contraction(sets, &[i, j], s.output);
                if sets.len() > 2 && s.parsed.set_size(result) > s.limit {
                    continue;
                }
                let c = cost + flop_count(s.parsed, contract, result != contract, 2);
                if c >= s.best_cost {
                    continue;
                }
                s.path.push(vec![i, j]);
                go(s, &after(sets, &[i, j], result), c);
                s.path.pop();
            }
        }
    }
    let mut s = Search { parsed, output: parsed.output_set(), limit, best_cost: bound, best: None, path: Vec::new() };
    go(&mut s, sets, 0.0);
    s.best
}

fn path_cost(parsed: &Parsed, sets: &[LabelSet], path: &[Vec<usize>]) -> f64 {
    let output = parsed.output_set();
    let mut sets = sets.to_vec();
    let mut total = 0.0;
    for step in path {
        let (result, contract) = contraction(&sets, step, output);
        total += flop_count(parsed, contract, result != contract, step.len());
        sets = after(&sets, step, result);
    }
    total
}

/// Plans `subscripts` for operands of `shapes`.
pub fn plan(subscripts: &str, shapes: &[&[usize]], optimize: &Optimize, memory_limit: Option<usize>) -> Result<Plan> {
    let parsed = super::parse::parse(subscripts, shapes)?;
    let n = shapes.len();
    let sets: Vec<LabelSet> = (0..n).map(|i| parsed.input_set(i)).collect();
    let limit = memory_limit.unwrap_or(usize::MAX);
    let path = match optimize {
        _ if n == 1 => vec![vec![0]],
        Optimize::None => (1..n).map(|_| vec![0, 1]).collect(),
        Optimize::Greedy => greedy(&parsed, &sets, limit),
        Optimize::Optimal => {
            let g = greedy(&parsed, &sets, limit);
            if n <= OPTIMAL_MAX_OPERANDS {
                // a hair above the greedy cost, so that an equally good path is still found
                let bound = path_cost(&parsed, &sets, &g) * (1.0 + 1e-9) + 1.0;
                optimal(&parsed, &sets, limit, bound).unwrap_or(g)
            } else {
                g
            }
        }
        Optimize::Path(p) => {
            check_path(p, n)?;
            p.clone()
        }
    };
    // a left-to-right or given path must obey the limit too: fall back to greedy's choice
    let path = if memory_limit.is_some() && matches!(optimize, Optimize::None) && largest(&parsed, &sets, &path) > limit {
        greedy(&parsed, &sets, limit)
    } else {
        path
    };
    let output = parsed.output_set();
    let mut steps = Vec::with_capacity(path.len());
    let mut current = sets.clone();
    let mut opt_flops = 0.0;
    for step in &path {
        let (result, contract) = contraction(&current, step, output);
        let flops = flop_count(&parsed, contract, result != contract, step.len());
        opt_flops += flops;
        let mut desc = step.clone();
        desc.sort_unstable_by(|a, b| b.cmp(a));
        let inputs = desc.iter().map(|&i| current[i]).collect();
        current = after(&current, step, result);
        steps.push(Step {
            positions: step.clone(),
            inputs,
            result,
            remaining: current.clone(),
            flops,
            scaling: contract.count_ones() as usize,
        });
    }
    let all: LabelSet = sets.iter().fold(output, |a, &s| a | s);
    let inner = all != output;
    let naive_flops = flop_count(&parsed, all, inner, n);
    let largest_intermediate = largest(&parsed, &sets, &path);
    let is_view = n == 1 && parsed.input_set(0) == output;
    Ok(Plan {
        subscripts: subscripts.to_string(),
        shapes: shapes.iter().map(|s| s.to_vec()).collect(),
        parsed,
        path,
        steps,
        naive_flops,
        opt_flops: opt_flops + 1.0,
        largest_intermediate,
        memory_limit,
        is_view,
        optimize: optimize.clone(),
    })
}

/// How many recent plans [`cached_plan`] keeps.
const CACHE_SIZE: usize = 32;

static CACHE: std::sync::Mutex<Vec<std::sync::Arc<Plan>>> = std::sync::Mutex::new(Vec::new());

/// [`plan`], remembering the last few plans: a program calling `einsum` in a loop on operands of
/// the same shapes parses and plans once (the rest of a small call costs a few microseconds,
/// parsing and planning about as much again). Most recently used first.
pub fn cached_plan(
    subscripts: &str,
    shapes: &[&[usize]],
    optimize: &Optimize,
    memory_limit: Option<usize>,
) -> Result<std::sync::Arc<Plan>> {
    let same = |p: &Plan| {
        p.subscripts == subscripts
            && p.memory_limit == memory_limit
            && p.optimize == *optimize
            && p.shapes.len() == shapes.len()
            && p.shapes.iter().zip(shapes).all(|(a, b)| a.as_slice() == *b)
    };
    {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = cache.iter().position(|p| same(p)) {
            let hit = cache.remove(i);
            cache.insert(0, hit.clone());
            return Ok(hit);
        }
    }
    let made = std::sync::Arc::new(plan(subscripts, shapes, optimize, memory_limit)?);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.insert(0, made.clone());
    cache.truncate(CACHE_SIZE);
    Ok(made)
}

/// Elements of the largest intermediate of a path (the last step's result is the output).
fn largest(parsed: &Parsed, sets: &[LabelSet], path: &[Vec<usize>]) -> usize {
    let output = parsed.output_set();
    let mut sets = sets.to_vec();
    let mut big = 0;
    for (k, step) in path.iter().enumerate() {
        let (result, _) = contraction(&sets, step, output);
        if k + 1 < path.len() {
            big = big.max(parsed.set_size(result));
        }
        sets = after(&sets, step, result);
    }
    big
}

fn check_path(path: &[Vec<usize>], n: usize) -> Result<()> {
    let mut len = n;
    for (k, step) in path.iter().enumerate() {
        let bad = step.is_empty()
            || step.iter().any(|&i| i >= len)
            || (1..step.len()).any(|a| step[..a].contains(&step[a]));
        if bad {
            return Err(Error::Value(format!(
                "einsum: path step {k} {step:?} is not a set of distinct positions among the {len} operands left"
            )));
        }
        len = len - step.len() + 1;
    }
    if len != 1 {
        return Err(Error::Value(format!("einsum: the path leaves {len} operands instead of one")));
    }
    Ok(())
}

impl Plan {
    /// Letters for each label in reports: ellipsis dimensions get letters the expression does
    /// not use (as NumPy's report shows them).
    fn names(&self) -> Vec<String> {
        let used: LabelSet = (0..self.parsed.inputs.len()).fold(0, |a, i| a | self.parsed.input_set(i));
        let mut free = (0..NLETTERS as u8).rev().filter(|&l| used & (1u128 << l) == 0).collect::<Vec<_>>();
        (0..self.parsed.sizes.len())
            .map(|l| {
                if l < NLETTERS {
                    label_name(l as u8)
                } else {
                    free.pop().map(label_name).unwrap_or_else(|| label_name(l as u8))
                }
            })
            .collect()
    }

    /// The report NumPy's `einsum_path` prints, for this plan.
    pub fn report(&self) -> String {
        let names = self.names();
        let term = |labels: &[u8]| labels.iter().map(|&l| names[l as usize].as_str()).collect::<String>();
        let set_term = |s: LabelSet| labels_of(s).map(|l| names[l as usize].as_str()).collect::<String>();
        let output = term(&self.parsed.output);
        let inputs: Vec<String> = self.parsed.inputs.iter().map(|t| term(t)).collect();
        let all: LabelSet = (0..inputs.len()).fold(self.parsed.output_set(), |a, i| a | self.parsed.input_set(i));
        let max_size = self
            .steps
            .iter()
            .map(|s| self.parsed.set_size(s.result))
            .max()
            .unwrap_or(0)
            .max(self.parsed.set_size(self.parsed.output_set()));
        let opt_scaling = self.steps.iter().map(|s| s.scaling).max().unwrap_or(0);
        let mut r = String::new();
        r += &format!("  Complete contraction:  {}->{}\n", inputs.join(","), output);
        r += &format!("         Naive scaling:  {}\n", all.count_ones());
        r += &format!("     Optimized scaling:  {opt_scaling}\n");
        r += &format!("      Naive FLOP count:  {}\n", sci(self.naive_flops));
        r += &format!("  Optimized FLOP count:  {}\n", sci(self.opt_flops));
        r += &format!("   Theoretical speedup:  {:.3}\n", self.naive_flops / self.opt_flops);
        r += &format!("  Largest intermediate:  {} elements\n", sci(max_size as f64));
        r += &"-".repeat(74);
        r += &format!("\n{:>6} {:>24} {:>40}\n", "scaling", "current", "remaining");
        r += &"-".repeat(74);
        let last = self.steps.len().saturating_sub(1);
        for (k, s) in self.steps.iter().enumerate() {
            let result = if k == last { output.clone() } else { set_term(s.result) };
            let current = format!("{}->{}", s.inputs.iter().map(|&x| set_term(x)).collect::<Vec<_>>().join(","), result);
            let mut rem: Vec<String> = s.remaining.iter().map(|&x| set_term(x)).collect();
            if k == last {
                rem = vec![output.clone()];
            }
            r += &format!("\n{:>4}    {:>24} {:>40}", s.scaling, current, format!("{}->{}", rem.join(","), output));
        }
        r
    }

    /// The shapes this plan was made for, as a message fragment.
    pub fn shapes_text(&self) -> String {
        self.shapes.iter().map(|s| fmt_shape(s)).collect::<Vec<_>>().join(", ")
    }
}

/// `%.3e` as Python prints it (`1.600e+02`).
fn sci(x: f64) -> String {
    let s = format!("{x:.3e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = if let Some(d) = e.strip_prefix('-') { ('-', d) } else { ('+', e) };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_matches_numpy_on_a_chain() {
        let p = plan("ij,jk,kl->il", &[&[2, 3], &[3, 4], &[4, 5]], &Optimize::Greedy, None).unwrap();
        assert_eq!(p.path, vec![vec![1, 2], vec![0, 1]]);
        assert_eq!(p.naive_flops, 360.0);
        assert_eq!(p.opt_flops, 181.0);
        let r = p.report();
        assert!(r.contains("kl,jk->jl") && r.contains("3.600e+02") && r.contains("1.810e+02"), "{r}");
    }

    #[test]
    fn optimal_is_no_worse_than_greedy_and_limit_is_obeyed() {
        let shapes: [&[usize]; 4] = [&[10, 20], &[20, 30], &[30, 5], &[5, 40]];
        let g = plan("ab,bc,cd,de->ae", &shapes, &Optimize::Greedy, None).unwrap();
        let o = plan("ab,bc,cd,de->ae", &shapes, &Optimize::Optimal, None).unwrap();
        assert!(o.opt_flops <= g.opt_flops);
        for limit in [0, 50, 200, 1000] {
            for opt in [Optimize::Greedy, Optimize::Optimal, Optimize::None] {
                let p = plan("ab,bc,cd,de->ae", &shapes, &opt, Some(limit)).unwrap();
                assert!(p.largest_intermediate <= limit, "{opt:?} {limit}: {:?}", p.path);
            }
        }
        assert_eq!(plan("ab,bc,cd,de->ae", &shapes, &Optimize::Greedy, Some(0)).unwrap().path, vec![vec![0, 1, 2, 3]]);
    }

    #[test]
    fn planning_never_panics_on_odd_input() {
        // what cargo-fuzz will throw at it, in small: junk strings against assorted shapes
        let strings = ["", "->", "a", "aa", "a,a", "...", "...a,a...->...", "ab,bc,cd,de,ef,fg,gh,hi,ij", "a,b,c,d,e,f,g,h,i", "Zz->zZ", "a->", ",,"];
        let nine: Vec<&[usize]> = vec![&[3, 3]; 9];
        let shapes: [&[&[usize]]; 5] = [&[], &[&[]], &[&[0, 1]], &[&[usize::MAX, 2], &[2]], &nine];
        for s in strings {
            for sh in shapes {
                for opt in [Optimize::None, Optimize::Greedy, Optimize::Optimal, Optimize::Path(vec![vec![0]])] {
                    for limit in [None, Some(0)] {
                        if let Ok(p) = plan(s, sh, &opt, limit) {
                            let _ = p.report();
                        }
                    }
                }
            }
        }
        let chain: Vec<&[usize]> = vec![&[3, 3]; 9];
        let big = plan("ab,bc,cd,de,ef,fg,gh,hi,ij->aj", &chain, &Optimize::Optimal, None).unwrap();
        assert_eq!(big.path.len(), 8); // above OPTIMAL_MAX_OPERANDS: greedy's path
    }

    #[test]
    fn cached_plans_match_their_call() {
        let a = cached_plan("ij,jk", &[&[2, 3], &[3, 4]], &Optimize::Greedy, None).unwrap();
        let b = cached_plan("ij,jk", &[&[2, 3], &[3, 4]], &Optimize::Greedy, None).unwrap();
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        let c = cached_plan("ij,jk", &[&[2, 3], &[3, 5]], &Optimize::Greedy, None).unwrap();
        assert_eq!(c.parsed.output_shape(), vec![2, 5]);
        let d = cached_plan("ij,jk", &[&[2, 3], &[3, 4]], &Optimize::Greedy, Some(1)).unwrap();
        assert!(!std::sync::Arc::ptr_eq(&a, &d));
    }

    #[test]
    fn explicit_paths_are_checked() {
        let shapes: [&[usize]; 3] = [&[2, 3], &[3, 4], &[4, 5]];
        assert!(plan("ij,jk,kl", &shapes, &Optimize::Path(vec![vec![0, 1], vec![0, 1]]), None).is_ok());
        assert!(plan("ij,jk,kl", &shapes, &Optimize::Path(vec![vec![0, 1]]), None).is_err());
        assert!(plan("ij,jk,kl", &shapes, &Optimize::Path(vec![vec![0, 3], vec![0, 1]]), None).is_err());
        assert!(plan("ij,jk,kl", &shapes, &Optimize::Path(vec![vec![0, 0], vec![0, 1]]), None).is_err());
        assert!(plan("ij,jk,kl", &shapes, &Optimize::Path(vec![vec![0, 1, 2]]), None).is_ok());
    }
}
