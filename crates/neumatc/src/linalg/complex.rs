//! Exact kernels in complex arithmetic (faer): LU inverse and rank-`r` SVD in a canonical phase, batched
//! and on the stacked/embedded layouts complex models use (see [`crate::matrix::complex`]).

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, MatRef, c64};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;
use crate::matrix::complex::{ComplexBatch, stack};

/// The exact complex inverse of the matrix embedded in `e` (`2n × 2n` row-major) as `[Re G; Im G]`
/// (`2n × n` row-major, how complex inverse models store it); `None` when singular.
pub(crate) fn inverse_stacked(e: &[f64], n: usize) -> Option<Vec<f64>> {
    let a = Mat::from_fn(n, n, |i, j| c64::new(e[i * 2 * n + j], e[(n + i) * 2 * n + j]));
    let g = inverse_matrix(&a)?;
    let mut out = vec![0.0; 2 * n * n];
    stack(g.as_ref(), &mut out);
    Some(out)
}

/// Exact complex inverse of every matrix (LU with partial pivoting in complex arithmetic, one matrix
/// per thread). A matrix whose smallest pivot falls below `n · ε · max|pivot|` is [`Error::Singular`]
/// with its batch index as `p`.
pub fn inverse(a: &ComplexBatch) -> Result<ComplexBatch> {
    if a.rows != a.cols {
        return Err(Error::ShapeMismatch {
            op: "complex inverse",
            expected: vec![a.batch, a.rows, a.rows],
            got: vec![a.batch, a.rows, a.cols],
        });
    }
    let n = a.rows;
    let out: Vec<Vec<c64>> = (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let inv = inverse_matrix(&a.matrix(i)).ok_or(Error::Singular { op: "complex inverse", p: vec![i as f64] })?;
            Ok((0..n * n).map(|k| inv[(k / n, k % n)]).collect())
        })
        .collect::<Result<_>>()?;
    Ok(ComplexBatch::from_c64(a.batch, n, n, &out.concat()))
}

/// The inverse of one complex matrix, `None` when it is singular to working precision.
pub(crate) fn inverse_matrix(a: &Mat<c64>) -> Option<Mat<c64>> {
    let n = a.nrows();
    let lu = a.partial_piv_lu();
    let u = lu.U();
    let pivots: Vec<f64> = (0..n).map(|i| u[(i, i)].norm()).collect();
    let max = pivots.iter().copied().fold(0.0, f64::max);
    let min = pivots.iter().copied().fold(f64::INFINITY, f64::min);
    if n > 0 && (min.is_nan() || min <= n as f64 * f64::EPSILON * max) {
        return None;
    }
    Some(lu.inverse())
}

/// A batch of complex (thin or truncated) SVDs `A = U diag(S) Vᴴ`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexSvd {
    /// Left singular vectors, (batch, m, r).
    pub u: ComplexBatch,
    /// Singular values, descending, (batch, r, 1).
    pub s: MatrixBatch,
    /// Right singular vectors, (batch, n, r).
    pub v: ComplexBatch,
}

/// Exact complex SVD of every matrix, truncated to `rank` (default `min(m, n)`). Each pair `(u_j, v_j)`
/// is put in a canonical phase: the largest-magnitude entry of `v_j` real and positive.
pub fn svd(a: &ComplexBatch, rank: Option<usize>) -> Result<ComplexSvd> {
    let (m, n) = (a.rows, a.cols);
    let full = m.min(n);
    let r = rank.unwrap_or(full);
    if r == 0 || r > full {
        return Err(Error::option("rank", format!("rank {r} must be between 1 and min(rows, cols) = {full}")));
    }
    let parts: Vec<(Vec<c64>, Vec<f64>, Vec<c64>)> =
        (0..a.batch).into_par_iter().map(|i| svd_matrix(&a.matrix(i), r)).collect::<Result<_>>()?;
    let (mut u, mut s, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for (pu, ps, pv) in parts {
        u.extend(pu);
        s.extend(ps);
        v.extend(pv);
    }
    Ok(ComplexSvd {
        u: ComplexBatch::from_c64(a.batch, m, r, &u),
        s: MatrixBatch { batch: a.batch, rows: r, cols: 1, data: s },
        v: ComplexBatch::from_c64(a.batch, n, r, &v),
    })
}

/// Rank-`r` SVD of one complex matrix in canonical phase: `U` (m × r), `S` (r), `V` (n × r), row-major.
pub(crate) fn svd_matrix(a: &Mat<c64>, r: usize) -> Result<(Vec<c64>, Vec<f64>, Vec<c64>)> {
    let (m, n) = (a.nrows(), a.ncols());
    let svd = a.thin_svd().map_err(|_| Error::NoConvergence { op: "complex svd", iters: 0 })?;
    let (su, ss, sv) = (svd.U(), svd.S(), svd.V());
    let mut u = vec![c64::new(0.0, 0.0); m * r];
    let mut v = vec![c64::new(0.0, 0.0); n * r];
    let s: Vec<f64> = (0..r).map(|j| ss[j].re).collect();
    for j in 0..r {
        let big = (0..n).max_by(|&x, &y| sv[(x, j)].norm().total_cmp(&sv[(y, j)].norm())).unwrap_or(0);
        let z = sv[(big, j)];
        let phase = if z.norm() > 0.0 { z.conj() / z.norm() } else { c64::new(1.0, 0.0) };
        for i in 0..m {
            u[i * r + j] = su[(i, j)] * phase;
        }
        for i in 0..n {
            v[i * r + j] = sv[(i, j)] * phase;
        }
    }
    Ok((u, s, v))
}

/// The exact rank-`r` complex SVD of the matrix embedded in `e` (`2m × 2n` row-major), stacked as a
/// joint result `[U_E, S, V_E]` (see [`align_svd`]).
pub(crate) fn svd_stacked(e: &[f64], m: usize, n: usize, r: usize) -> Result<Vec<f64>> {
    let a = Mat::from_fn(m, n, |i, j| c64::new(e[i * 2 * n + j], e[(m + i) * 2 * n + j]));
    let (u, s, v) = svd_matrix(&a, r)?;
    let mut out = vec![0.0; 2 * m * r + r + 2 * n * r];
    stack(MatRef::from_row_major_slice(&u, m, r), &mut out[..2 * m * r]);
    out[2 * m * r..2 * m * r + r].copy_from_slice(&s);
    stack(MatRef::from_row_major_slice(&v, n, r), &mut out[2 * m * r + r..]);
    Ok(out)
}
