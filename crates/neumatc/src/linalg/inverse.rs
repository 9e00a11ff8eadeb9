//! Batched LU inverse (partial pivoting).

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor, inverse as lu_inverse, solve as lu_solve};
use faer::{MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;
use crate::matrix::{BufferSource, FreshBuffers};

/// How many threads a batched baseline uses. Default: rayon's global pool (`RAYON_NUM_THREADS`, else all cores).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Threads {
    /// All threads of rayon's global pool.
    #[default]
    All,
    /// One thread.
    Single,
}

/// Inverts every matrix of a batch by LU with partial pivoting. Returns (batch, n, n).
///
/// Batches are spread over threads one matrix per task; a single matrix uses a parallel LU. A matrix
/// whose pivots fall below `n · ε · max|pivot|` is reported as [`Error::Singular`] with its batch index.
///
/// ```
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![2.0, 0.0, 0.0, 4.0]).unwrap();
/// let inv = neumatc::baseline::inverse(&a).unwrap();
/// assert_eq!(inv.data, vec![0.5, 0.0, 0.0, 0.25]);
/// ```
pub fn inverse(a: &MatrixBatch) -> Result<MatrixBatch> {
    inverse_with(a, Threads::All)
}

/// [`inverse`] with an explicit thread policy.
pub fn inverse_with(a: &MatrixBatch, threads: Threads) -> Result<MatrixBatch> {
    inverse_into(a, threads, &FreshBuffers)
}

/// [`inverse_with`] writing into a buffer taken from `buffers`.
pub fn inverse_into(a: &MatrixBatch, threads: Threads, buffers: &dyn BufferSource) -> Result<MatrixBatch> {
    let n = a.require_square("inverse")?;
    crate::matrix::check_len("inverse", &a.data, a.batch, n, n)?;
    crate::matrix::check_finite("inverse input", &a.data)?;
    let mut data = buffers.take_f64(a.data.len());
    let sz = n * n;
    let run = |(i, out): (usize, &mut [f64]), par: Par| {
        inverse_matrix(a.matrix(i), n, out, par).map_err(|_| Error::Singular { op: "inverse", p: vec![i as f64] })
    };
    let parallel_batch = a.batch > 1 && threads == Threads::All && rayon::current_num_threads() > 1;
    if parallel_batch {
        data.par_chunks_mut(sz).enumerate().try_for_each(|job| run(job, Par::Seq))?;
    } else {
        let par = if threads == Threads::All { Par::rayon(0) } else { Par::Seq };
        data.chunks_mut(sz).enumerate().try_for_each(|job| run(job, par))?;
    }
    Ok(MatrixBatch { batch: a.batch, rows: n, cols: n, data })
}

/// Marker error of [`inverse_matrix`]: the matrix is singular to working precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SingularMatrix;

/// Inverts one row-major `n × n` matrix into `out` (row-major).
pub fn inverse_matrix(a: &[f64], n: usize, out: &mut [f64], par: Par) -> std::result::Result<(), SingularMatrix> {
    // Row-major A read as column-major is Aᵀ; inv(Aᵀ) written column-major is inv(A) row-major.
    let mut lu = MatRef::from_column_major_slice(a, n, n).to_owned();
    let mut fwd = vec![0usize; n];
    let mut bwd = vec![0usize; n];
    let scratch =
        factor::lu_in_place_scratch::<usize, f64>(n, n, par, Default::default()).or(lu_inverse::inverse_scratch::<usize, f64>(n, par));
    let mut mem = MemBuffer::new(scratch);
    let stack = MemStack::new(&mut mem);
    let (_, perm) = factor::lu_in_place(lu.as_mut(), &mut fwd, &mut bwd, par, stack, Default::default());
    if is_singular(lu.as_ref()) {
        return Err(SingularMatrix);
    }
    let out = MatMut::from_column_major_slice_mut(out, n, n);
    lu_inverse::inverse(out, lu.as_ref(), lu.as_ref(), perm, par, stack);
    Ok(())
}

/// 2-norm condition number `σ_max / σ_min` of one row-major `n × n` matrix (infinite when singular).
pub fn condition_number(a: &[f64], n: usize) -> f64 {
    match MatRef::from_column_major_slice(a, n, n).singular_values() {
        Ok(s) => {
            let (max, min) = (s[0], s[s.len() - 1]);
            if min > 0.0 { max / min } else { f64::INFINITY }
        }
        Err(_) => f64::NAN,
    }
}

/// `‖M‖₂` of a row-major `n × n` matrix by 30 power iterations on `MᵀM` (a few digits, enough for a report).
pub fn spectral_norm(m: &[f64], n: usize) -> f64 {
    let mut v: Vec<f64> = (0..n).map(|i| 1.0 + (i as f64 * 0.618).fract()).collect();
    let mut w = vec![0.0; n];
    let mut sigma = 0.0;
    for _ in 0..30 {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            return 0.0;
        }
        v.iter_mut().for_each(|x| *x /= norm);
        for (i, wi) in w.iter_mut().enumerate() {
            *wi = m[i * n..(i + 1) * n].iter().zip(&v).map(|(a, b)| a * b).sum();
        }
        sigma = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x = 0.0);
        for (i, &wi) in w.iter().enumerate() {
            for (vj, a) in v.iter_mut().zip(&m[i * n..(i + 1) * n]) {
                *vj += a * wi;
            }
        }
    }
    sigma
}

/// Estimate of the 2-norm condition number of one row-major `n × n` matrix: `‖A‖₂` and `‖A⁻¹‖₂` by 20
/// power iterations each, the latter through one LU factorisation (about a third of the cost of an
/// inverse). Infinite when the matrix is singular to working precision. Power iteration approaches
/// from below: expect a few percent low when the extreme singular values are clustered.
pub fn condition_estimate(a: &[f64], n: usize) -> f64 {
    // Row-major A is column-major Aᵀ: factor Aᵀ; ‖Aᵀ⁻¹‖₂ = ‖A⁻¹‖₂.
    let at = MatRef::from_column_major_slice(a, n, n);
    let mut lu = at.to_owned();
    let mut fwd = vec![0usize; n];
    let mut bwd = vec![0usize; n];
    let par = Par::Seq;
    let scratch = factor::lu_in_place_scratch::<usize, f64>(n, n, par, Default::default())
        .or(lu_solve::solve_in_place_scratch::<usize, f64>(n, 1, par))
        .or(lu_solve::solve_transpose_in_place_scratch::<usize, f64>(n, 1, par));
    let mut mem = MemBuffer::new(scratch);
    let stack = MemStack::new(&mut mem);
    let (_, perm) = factor::lu_in_place(lu.as_mut(), &mut fwd, &mut bwd, par, stack, Default::default());
    if is_singular(lu.as_ref()) {
        return f64::INFINITY;
    }
    let norm_a = spectral_norm(a, n);
    let mut v = faer::Mat::<f64>::from_fn(n, 1, |i, _| 1.0 + (i as f64 * 0.618).fract());
    let mut sigma = 0.0;
    for _ in 0..20 {
        let norm = v.norm_l2();
        v.as_mut().col_mut(0).iter_mut().for_each(|x| *x /= norm);
        // w = (Aᵀ)⁻¹ v, then v = (Aᵀ)⁻ᵀ w: power iteration on (AᵀᵀAᵀ)⁻¹.
        lu_solve::solve_in_place(lu.as_ref(), lu.as_ref(), perm, v.as_mut(), par, stack);
        sigma = v.norm_l2();
        lu_solve::solve_transpose_in_place(lu.as_ref(), lu.as_ref(), perm, v.as_mut(), par, stack);
    }
    norm_a * sigma
}

/// The pivot test of every LU here ([`inverse_matrix`], solves, the Padé solve of expm): some
/// `|u_ii| ≤ n · ε · max |u_ii|` (or NaN) in the factor `lu`.
pub(super) fn is_singular(lu: MatRef<'_, f64>) -> bool {
    let n = lu.nrows();
    let (min, max) = (0..n).map(|i| lu[(i, i)].abs()).fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    min.is_nan() || min <= max * n as f64 * f64::EPSILON
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_estimate_matches_the_svd() {
        let n = 12;
        let diag: Vec<f64> = (0..n * n).map(|i| if i % (n + 1) == 0 { 1.0 + (i / (n + 1)) as f64 } else { 0.0 }).collect();
        let est = condition_estimate(&diag, n);
        assert!(est <= 12.0 + 1e-9 && est > 0.97 * 12.0, "diagonal estimate {est}");
        let a: Vec<f64> = (0..n * n).map(|i| ((i * 7919 % 101) as f64 / 50.0 - 1.0) + if i % (n + 1) == 0 { 3.0 } else { 0.0 }).collect();
        let (est, exact) = (condition_estimate(&a, n), condition_number(&a, n));
        assert!((est - exact).abs() < 3e-2 * exact, "estimate {est} vs svd {exact}");
        let mut singular = a.clone();
        singular[n..2 * n].copy_from_slice(&a[..n]);
        assert!(condition_estimate(&singular, n) > 1e12);
    }
}
