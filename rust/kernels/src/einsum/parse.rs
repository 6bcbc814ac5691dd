//! The einsum subscript grammar, as NumPy accepts it.
//!
//! `term,term,...[->output]` where a term is letters (`a-z`, `A-Z`) and at most one `...`;
//! spaces are ignored. Without `->` the output is the ellipsis dimensions followed by the letters
//! that occur exactly once, in ASCII order (upper case first), as NumPy orders them.
//!
//! Every label becomes a small integer: `A-Z` are 0-25, `a-z` 26-51 (so ascending ids are ASCII
//! order) and the broadcast dimensions an ellipsis stands for are 52, 53, ... right-aligned
//! across operands. A label whose size is 1 in one operand and `n` in another broadcasts (NumPy
//! allows that for letters as well as for ellipsis dimensions).
//!
//! The parser never panics: every malformed input is an [`Error::Value`] naming the offending
//! character and its position, or the label and the sizes that disagree. cargo-fuzz drives it
//! with arbitrary strings and shapes.

use crate::error::{fmt_shape, Error, Result};

/// A label id (see the module documentation).
pub type Label = u8;
/// A set of labels as a bit mask (52 letters plus at most 64 ellipsis dimensions).
pub type LabelSet = u128;

/// Number of letter labels.
pub const NLETTERS: usize = 52;
/// Most ellipsis dimensions an operand may have (NumPy's limit on dimensions).
pub const MAX_ELLIPSIS: usize = 64;

/// A parsed and shape-checked einsum expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// For each operand, the label of each of its axes (repeats allowed: diagonals and traces).
    pub inputs: Vec<Vec<Label>>,
    /// The labels of the result's axes (no repeats).
    pub output: Vec<Label>,
    /// The size of each label id (broadcast over operands); 1 for ids that do not occur.
    pub sizes: Vec<usize>,
    /// How many ellipsis dimensions the expression broadcasts over.
    pub n_ellipsis: usize,
}

impl Parsed {
    /// The set of labels of operand `i`.
    pub fn input_set(&self, i: usize) -> LabelSet {
        set_of(&self.inputs[i])
    }
    pub fn output_set(&self) -> LabelSet {
        set_of(&self.output)
    }
    /// The result's shape.
    pub fn output_shape(&self) -> Vec<usize> {
        self.output.iter().map(|&l| self.sizes[l as usize]).collect()
    }
    /// Number of elements of a tensor holding exactly the labels in `set` (saturating).
    pub fn set_size(&self, set: LabelSet) -> usize {
        labels_of(set).fold(1usize, |acc, l| acc.saturating_mul(self.sizes[l as usize]))
    }
}

pub fn set_of(labels: &[Label]) -> LabelSet {
    labels.iter().fold(0, |s, &l| s | (1u128 << l))
}

/// The labels of a set, in ascending order.
pub fn labels_of(set: LabelSet) -> impl Iterator<Item = Label> {
    // set bits lowest first (a plan and every call of a planned expression walk many sets)
    let mut rest = set;
    core::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let l = rest.trailing_zeros() as Label;
        rest &= rest - 1;
        Some(l)
    })
}

/// The letter of a label, or `…k` for the k-th ellipsis dimension.
pub fn label_name(l: Label) -> String {
    match l as usize {
        0..=25 => ((b'A' + l) as char).to_string(),
        26..=51 => ((b'a' + l - 26) as char).to_string(),
        k => format!("...[{}]", k - NLETTERS),
    }
}

fn letter_label(c: char) -> Option<Label> {
    match c {
        'A'..='Z' => Some(c as u8 - b'A'),
        'a'..='z' => Some(c as u8 - b'a' + 26),
        _ => None,
    }
}

/// One item of a term: a letter (with its position in the string) or an ellipsis.
#[derive(Clone, Copy, Debug)]
enum Item {
    Letter(Label, usize),
    Ellipsis,
}

fn err(subscripts: &str, msg: String) -> Error {
    Error::Value(format!("einsum: {msg} in subscripts {subscripts:?}"))
}

/// Splits one term (the characters in `chars`, with their positions) into items.
fn parse_term(subscripts: &str, chars: &[(usize, char)], what: &str) -> Result<Vec<Item>> {
    let mut items = Vec::with_capacity(chars.len());
    let mut i = 0;
    let mut seen_ellipsis = false;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if let Some(l) = letter_label(c) {
            items.push(Item::Letter(l, pos));
            i += 1;
        } else if c == '.' {
            if i + 2 < chars.len() && chars[i + 1].1 == '.' && chars[i + 2].1 == '.' {
                if seen_ellipsis {
                    return Err(err(subscripts, format!("{what} has a second '...' at position {pos}")));
                }
                seen_ellipsis = true;
                items.push(Item::Ellipsis);
                i += 3;
            } else {
                return Err(err(
                    subscripts,
                    format!("{what} has a '.' at position {pos} that is not part of an ellipsis ('...')"),
                ));
            }
        } else {
            return Err(err(
                subscripts,
                format!("invalid subscript {c:?} at position {pos} in {what} (subscripts must be letters a-z, A-Z)"),
            ));
        }
    }
    Ok(items)
}

/// Parses `subscripts` for operands of the given shapes and checks the shapes against it.
pub fn parse(subscripts: &str, shapes: &[&[usize]]) -> Result<Parsed> {
    // positions are character indices; spaces are dropped
    let chars: Vec<(usize, char)> = subscripts.chars().enumerate().filter(|(_, c)| !c.is_whitespace()).collect();
    // split off the output at the one '->'
    let mut arrow = None;
    for (k, &(pos, c)) in chars.iter().enumerate() {
        let is_arrow = c == '-' && chars.get(k + 1).is_some_and(|&(_, d)| d == '>');
        if is_arrow {
            if arrow.is_some() {
                return Err(err(subscripts, format!("a second '->' at position {pos}")));
            }
            arrow = Some(k);
        } else if c == '-' || (c == '>' && !(k > 0 && chars[k - 1].1 == '-')) {
            return Err(err(subscripts, format!("a {c:?} at position {pos} that is not part of '->'")));
        }
    }
    let (lhs, rhs) = match arrow {
        Some(k) => (&chars[..k], Some(&chars[k + 2..])),
        None => (&chars[..], None),
    };
    let terms: Vec<&[(usize, char)]> = lhs.split(|&(_, c)| c == ',').collect();
    if terms.len() != shapes.len() {
        return Err(err(
            subscripts,
            format!(
                "{} operand{} named but {} given ({})",
                terms.len(),
                if terms.len() == 1 { "" } else { "s" },
                shapes.len(),
                if terms.len() > shapes.len() {
                    "fewer operands provided than specified in the subscripts string"
                } else {
                    "more operands provided than specified in the subscripts string"
                }
            ),
        ));
    }
    let mut items = Vec::with_capacity(terms.len());
    for (t, term) in terms.iter().enumerate() {
        items.push(parse_term(subscripts, term, &format!("operand {t}"))?);
    }
    // how many dimensions each operand's ellipsis stands for
    let mut ell = vec![0usize; shapes.len()];
    for (t, (its, shape)) in items.iter().zip(shapes).enumerate() {
        let letters = its.iter().filter(|i| matches!(i, Item::Letter(..))).count();
        let has_ellipsis = its.len() > letters;
        if letters > shape.len() {
            return Err(err(
                subscripts,
                format!(
                    "operand {t} has {} dimension{} (shape {}) but its subscripts name {letters}",
                    shape.len(),
                    if shape.len() == 1 { "" } else { "s" },
                    fmt_shape(shape)
                ),
            ));
        }
        if !has_ellipsis && letters < shape.len() {
            return Err(err(
                subscripts,
                format!(
                    "operand {t} has {} dimensions (shape {}) but its subscripts name only {letters} and no '...' to broadcast the rest",
                    shape.len(),
                    fmt_shape(shape)
                ),
            ));
        }
        ell[t] = shape.len() - letters;
        if ell[t] > MAX_ELLIPSIS {
            return Err(err(subscripts, format!("operand {t} has more than {MAX_ELLIPSIS} ellipsis dimensions")));
        }
    }
    let n_ell = ell.iter().copied().max().unwrap_or(0);
    // labels per axis, and the sizes they take
    let mut sizes = vec![1usize; NLETTERS + n_ell];
    // for each label: which operand and axis fixed its size (for messages); None while 1
    let mut source: Vec<Option<(usize, usize)>> = vec![None; NLETTERS + n_ell];
    let mut count = vec![0usize; NLETTERS + n_ell];
    let mut inputs = Vec::with_capacity(shapes.len());
    for (t, (its, shape)) in items.iter().zip(shapes).enumerate() {
        let mut labels: Vec<Label> = Vec::with_capacity(shape.len());
        let mut positions: Vec<Option<usize>> = Vec::with_capacity(shape.len());
        for item in its {
            match *item {
                Item::Letter(l, pos) => {
                    labels.push(l);
                    positions.push(Some(pos));
                }
                Item::Ellipsis => {
                    for e in 0..ell[t] {
                        labels.push((NLETTERS + n_ell - ell[t] + e) as Label);
                        positions.push(None);
                    }
                }
            }
        }
        for (axis, (&l, &d)) in labels.iter().zip(shape.iter()).enumerate() {
            let li = l as usize;
            count[li] += 1;
            // a label repeated within one operand takes its diagonal: the sizes must agree exactly
            if let Some(first) = labels[..axis].iter().position(|&m| m == l) {
                if shape[first] != d {
                    return Err(err(
                        subscripts,
                        format!(
                            "label '{}' is repeated in operand {t} (a diagonal) with sizes {} and {d} (axes {first} and {axis})",
                            label_name(l),
                            shape[first]
                        ),
                    ));
                }
                continue;
            }
            if sizes[li] == 1 {
                sizes[li] = d;
                if d != 1 {
                    source[li] = Some((t, axis));
                }
            } else if d != 1 && d != sizes[li] {
                let (t0, a0) = source[li].unwrap_or((t, axis));
                let at = positions[axis].map(|p| format!(" (position {p})")).unwrap_or_default();
                return Err(err(
                    subscripts,
                    format!(
                        "label '{}'{at} has size {} in operand {t0} (axis {a0}) but size {d} in operand {t} (axis {axis})",
                        label_name(l),
                        sizes[li]
                    ),
                ));
            }
        }
        inputs.push(labels);
    }
    // the output
    let output = match rhs {
        Some(rhs) => {
            let its = parse_term(subscripts, rhs, "the output")?;
            let mut out: Vec<Label> = Vec::with_capacity(its.len() + n_ell);
            let mut has_ellipsis = false;
            for item in its {
                match item {
                    Item::Letter(l, pos) => {
                        if count[l as usize] == 0 {
                            return Err(err(
                                subscripts,
                                format!("output subscript '{}' at position {pos} never appears in an input", label_name(l)),
                            ));
                        }
                        if out.contains(&l) {
                            return Err(err(
                                subscripts,
                                format!("output subscript '{}' at position {pos} appears more than once", label_name(l)),
                            ));
                        }
                        out.push(l);
                    }
                    Item::Ellipsis => {
                        has_ellipsis = true;
                        out.extend((0..n_ell).map(|e| (NLETTERS + e) as Label));
                    }
                }
            }
            if n_ell > 0 && !has_ellipsis {
                return Err(err(
                    subscripts,
                    format!(
                        "the operands have {n_ell} broadcast dimension{} ('...') but the output has no '...' to hold them",
                        if n_ell == 1 { "" } else { "s" }
                    ),
                ));
            }
            out
        }
        None => {
            let mut out: Vec<Label> = (0..n_ell).map(|e| (NLETTERS + e) as Label).collect();
            out.extend((0..NLETTERS).filter(|&l| count[l] == 1).map(|l| l as Label));
            out
        }
    };
    Ok(Parsed { inputs, output, sizes, n_ellipsis: n_ell })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, shapes: &[&[usize]]) -> Result<Parsed> {
        parse(s, shapes)
    }

    #[test]
    fn implicit_and_explicit_outputs() {
        let q = p("ij,jk", &[&[2, 3], &[3, 4]]).unwrap();
        assert_eq!(q.output_shape(), vec![2, 4]);
        let q = p("ba", &[&[2, 3]]).unwrap();
        assert_eq!(q.output_shape(), vec![3, 2]); // implicit: alphabetical
        let q = p("Ab,bA", &[&[2, 3], &[3, 2]]).unwrap();
        assert!(q.output.is_empty());
        let q = p("i...", &[&[2, 3, 4]]).unwrap();
        assert_eq!(q.output_shape(), vec![3, 4, 2]); // ellipsis first
        let q = p("...ij,...jk->...ik", &[&[5, 1, 2, 3], &[4, 3, 6]]).unwrap();
        assert_eq!(q.output_shape(), vec![5, 4, 2, 6]);
        let q = p("ii->i", &[&[3, 3]]).unwrap();
        assert_eq!(q.output_shape(), vec![3]);
        let q = p("", &[&[]]).unwrap();
        assert!(q.output.is_empty());
        let q = p(",", &[&[], &[]]).unwrap();
        assert!(q.output.is_empty());
        let q = p(" i j , j k -> i k ", &[&[2, 3], &[3, 4]]).unwrap();
        assert_eq!(q.output_shape(), vec![2, 4]);
    }

    #[test]
    fn errors_name_the_character_and_sizes() {
        let e = p("ij,jk", &[&[2, 3], &[4, 5]]).unwrap_err().to_string();
        assert!(e.contains("'j'") && e.contains("size 3") && e.contains("size 4"), "{e}");
        let e = p("i$", &[&[2, 3]]).unwrap_err().to_string();
        assert!(e.contains("'$'") && e.contains("position 1"), "{e}");
        let e = p("ij,jk", &[&[2, 3]]).unwrap_err().to_string();
        assert!(e.contains("fewer operands"), "{e}");
        let e = p("ij", &[&[2, 3], &[3]]).unwrap_err().to_string();
        assert!(e.contains("more operands"), "{e}");
        assert!(p("ij->k", &[&[2, 3]]).unwrap_err().to_string().contains("'k'"));
        assert!(p("ij->ii", &[&[2, 3]]).is_err());
        assert!(p("i->i->i", &[&[2]]).is_err());
        assert!(p("i.j", &[&[2, 3]]).is_err());
        assert!(p("..", &[&[2, 3]]).is_err());
        assert!(p("......", &[&[2, 3]]).is_err());
        assert!(p("i", &[&[2, 3]]).is_err());
        assert!(p("ijk", &[&[2, 3]]).is_err());
        assert!(p("...i->i", &[&[2, 3]]).is_err());
        assert!(p("ii", &[&[2, 3]]).is_err());
        assert!(p("i>", &[&[2]]).is_err());
        assert!(p("i-", &[&[2]]).is_err());
        assert!(p("->", &[&[]]).is_ok());
    }

    #[test]
    fn never_panics_on_junk() {
        let junk = ["", "->", "-", ">", "...", ".", ",,", "a,", "->...", "...->", "a...b...", "é", "a->é", "\u{0}", "......->..."];
        for s in junk {
            for shapes in [&[][..], &[&[][..]][..], &[&[2usize, 3][..], &[3][..]][..]] {
                let _ = parse(s, shapes);
            }
        }
    }
}
