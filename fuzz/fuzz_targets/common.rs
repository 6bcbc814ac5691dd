//! Turning fuzzer bytes into shapes, strides and values (shared by the targets).

/// Reads bytes off the front of the fuzzer's input; zeros once it runs out.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    /// A value in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.u8() as usize % n }
    }
    /// A float: mostly small integers (exact sums), sometimes a special value.
    pub fn value(&mut self) -> f64 {
        match self.u8() {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => 1e300,
            4 => 1e-300,
            5 => -0.0,
            6 => 5e-324,
            b => (b as i32 - 128) as f64 / 8.0,
        }
    }
}

/// A strided view's layout over a buffer: shape, strides (any sign, zero allowed for axes of
/// broadcast) and the offset of element zero, with the buffer length that holds every element.
pub struct Layout {
    pub shape: Vec<usize>,
    pub strides: Vec<isize>,
    pub offset: usize,
    pub len: usize,
}

pub fn layout(bytes: &mut Bytes, shape: Vec<usize>) -> Layout {
    let mut strides = Vec::with_capacity(shape.len());
    let mut step: isize = 1;
    // C order by default, then each axis's stride stretched, flipped or zeroed by the fuzzer
    for &d in shape.iter().rev() {
        let s = match bytes.below(6) {
            0 => 0,
            1 => -step,
            2 => step * 2,
            _ => step,
        };
        strides.push(s);
        step = step.saturating_mul(d.max(1) as isize).saturating_mul(2);
    }
    strides.reverse();
    if bytes.below(4) == 0 && shape.len() >= 2 {
        let n = shape.len();
        strides.swap(n - 1, n - 2); // a transposed-looking layout
    }
    // the lowest and highest offsets the view reaches
    let (mut lo, mut hi) = (0isize, 0isize);
    for (&d, &s) in shape.iter().zip(&strides) {
        if d > 0 {
            let reach = (d as isize - 1) * s;
            if reach < 0 { lo += reach } else { hi += reach }
        }
    }
    let empty = shape.iter().any(|&d| d == 0);
    Layout { shape, strides, offset: (-lo) as usize, len: if empty { 1 } else { (hi - lo + 1) as usize } }
}

/// The offset of `index` in a layout.
pub fn at(l: &Layout, index: &[usize]) -> usize {
    (l.offset as isize + index.iter().zip(&l.strides).map(|(&i, &s)| i as isize * s).sum::<isize>()) as usize
}
