//! Batched LU inverse (partial pivoting).

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor, inverse as lu_inverse};
use faer::{MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::{Error, MatrixBatch, Result};

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
    let n = a.require_square("inverse")?;
    crate::matrix::check_len("inverse", &a.data, a.batch, n, n)?;
    crate::matrix::check_finite("inverse input", &a.data)?;
    let mut data = vec![0.0; a.data.len()];
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
    let pivots = (0..n).map(|i| lu[(i, i)].abs());
    let (min, max) = pivots.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if min.is_nan() || min <= max * n as f64 * f64::EPSILON {
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
