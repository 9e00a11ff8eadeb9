//! Small dense helpers on row-major slices (faer underneath), and seeded Gaussian probes.

use faer::{Accum, MatMut, MatRef, Par};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// `op(a) · op(b)` for row-major `a` (`ar × ac`) and `b` (`br × bc`), `op` = transpose when the flag is
/// set. Returns the row-major product.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(a: &[f64], ar: usize, ac: usize, ta: bool, b: &[f64], br: usize, bc: usize, tb: bool) -> Vec<f64> {
    let ma = MatRef::from_row_major_slice(a, ar, ac);
    let mb = MatRef::from_row_major_slice(b, br, bc);
    let (ma, mb) = (if ta { ma.transpose() } else { ma }, if tb { mb.transpose() } else { mb });
    assert_eq!(ma.ncols(), mb.nrows(), "inner dimensions of a product");
    let (rows, cols) = (ma.nrows(), mb.ncols());
    let mut out = vec![0.0; rows * cols];
    if rows * cols > 0 {
        faer::linalg::matmul::matmul(MatMut::from_row_major_slice_mut(&mut out, rows, cols), Accum::Replace, ma, mb, 1.0, Par::Seq);
    }
    out
}

/// `len` standard normal values drawn in order from `rng` (every seeded probe, sketch and initial latent
/// of the engine comes from here, so a seed gives the same values wherever it is used).
pub(crate) fn gaussian(rng: &mut impl Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| rng.sample(StandardNormal)).collect()
}

/// [`gaussian`] from a fresh ChaCha8 stream seeded with `seed`.
pub(crate) fn seeded_gaussian(len: usize, seed: u64) -> Vec<f64> {
    gaussian(&mut ChaCha8Rng::seed_from_u64(seed), len)
}

/// `a -= b`, elementwise.
pub(crate) fn sub(a: &mut [f64], b: &[f64]) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x -= y);
}

/// `X diag(s)` for row-major `X` (`rows × s.len()`).
pub(crate) fn scale_cols(x: &[f64], s: &[f64]) -> Vec<f64> {
    let r = s.len();
    x.iter().enumerate().map(|(i, v)| v * s[i % r]).collect()
}

/// `diag(s) X` for row-major `X` (`s.len() × cols`).
pub(crate) fn scale_rows(x: &[f64], s: &[f64], cols: usize) -> Vec<f64> {
    x.iter().enumerate().map(|(i, v)| v * s[i / cols]).collect()
}

/// `r = b − A x` (row-major `n × n` `a`); returns `‖r‖₂`.
pub(crate) fn residual(a: &[f64], n: usize, b: &[f64], x: &[f64], r: &mut [f64]) -> f64 {
    r.copy_from_slice(b);
    gemv(r, Accum::Add, a, n, n, false, x, -1.0);
    norm(r)
}

/// `y = α op(M) x` (`Replace`) or `y += α op(M) x` (`Add`) for row-major `M` (`rows × cols`), `op` the
/// transpose when `t`. Sequential (the callers run one parameter per thread).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv<T: faer::traits::ComplexField>(
    y: &mut [T],
    accum: Accum,
    m: &[T],
    rows: usize,
    cols: usize,
    t: bool,
    x: &[T],
    alpha: T,
) {
    let m = MatRef::from_row_major_slice(m, rows, cols);
    let m = if t { m.transpose() } else { m };
    let x = MatRef::from_column_major_slice(x, m.ncols(), 1);
    let y = MatMut::from_column_major_slice_mut(y, m.nrows(), 1);
    faer::linalg::matmul::matmul(y, accum, m, x, alpha, Par::Seq);
}

/// `‖v‖₂`.
pub(crate) fn norm(v: &[f64]) -> f64 {
    sq(v).sqrt()
}

/// `Σ v²`.
pub(crate) fn sq(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum()
}
