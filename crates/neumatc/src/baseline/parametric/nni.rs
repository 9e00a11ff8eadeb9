//! NNI, the paper's pointwise Newton–Schulz inversion (its ref. [31]): returns its last iterate and its
//! iteration count whether or not it met the tolerance.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::gemm_par;
use crate::error::parse_options;
use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;

/// Largest accepted `maxIters` of [`NniConfig`].
const MAX_NNI_ITERS: usize = 10_000;

/// Options of [`newton_schulz_inverse`]. JSON uses camelCase names; every field is optional.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct NniConfig {
    /// Most Newton–Schulz steps per matrix (each costs two `n × n` GEMMs). At most 10 000. Default 100.
    pub max_iters: usize,
    /// Stop when the scaled residual `‖I − A X_k‖_F / √n` is at most this (≥ 0; 0 runs every step).
    /// Default 1e-10.
    pub tol: f64,
}

impl Default for NniConfig {
    fn default() -> Self {
        Self { max_iters: 100, tol: 1e-10 }
    }
}

impl NniConfig {
    /// Parses a JSON object of options; absent fields keep their defaults, unknown fields are errors.
    ///
    /// ```
    /// let cfg = neumatc::baseline::NniConfig::from_json(r#"{"tol": 1e-8}"#).unwrap();
    /// assert_eq!((cfg.max_iters, cfg.tol), (100, 1e-8));
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: Self = parse_options("options", json)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Range checks on every option.
    pub fn validate(&self) -> Result<()> {
        if self.max_iters > MAX_NNI_ITERS {
            return Err(Error::option("maxIters", format!("must be at most {MAX_NNI_ITERS}, got {}", self.max_iters)));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::option("tol", format!("must be a finite number ≥ 0, got {}", self.tol)));
        }
        Ok(())
    }
}

/// The paper's NNI baseline ("Neural Newton Inversion", Zhang, Ma & Cai 2008: the ZNN for a constant
/// matrix discretised with unit step is Newton's iteration) on every matrix of a batch: the Newton–Schulz
/// iteration `X_{k+1} = X_k (2I − A X_k)` from `X_0 = Aᵀ / (‖A‖₁ ‖A‖_∞)`, which makes `‖I − A X_0‖₂ < 1`
/// for every nonsingular `A`, after which convergence is quadratic (about `log₂(n κ²)` steps to get going,
/// `κ` the condition number).
///
/// Stops at `‖I − A X_k‖_F / √n ≤ tol` or after `max_iters` steps and returns `X_k` either way, with the
/// `k` of every matrix: the baseline's honest accuracy, not an error. Returns ((batch, n, n), iterations).
/// Fails with `NoConvergence` (`iters` = the step; the error type has no batch index) if the iterate
/// or the norms of `A` overflow, `Singular` (`p` = the batch index) for a zero matrix, `ShapeMismatch`
/// for non-square matrices, `InvalidInput` for NaN/Inf.
///
/// ```
/// use neumatc::baseline::{NniConfig, newton_schulz_inverse};
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![2.0, 1.0, 1.0, 3.0]).unwrap();
/// let (x, iters) = newton_schulz_inverse(&a, &NniConfig::default()).unwrap();
/// let want = [0.6, -0.2, -0.2, 0.4];
/// assert!(x.data.iter().zip(want).all(|(x, w)| (x - w).abs() < 1e-10) && iters[0] < 20);
/// ```
pub fn newton_schulz_inverse(a: &MatrixBatch, cfg: &NniConfig) -> Result<(MatrixBatch, Vec<usize>)> {
    const OP: &str = "newtonSchulzInverse";
    cfg.validate()?;
    let n = a.require_square(OP)?;
    crate::matrix::check_len(OP, &a.data, a.batch, n, n)?;
    crate::matrix::check_finite(OP, &a.data)?;
    let mut data = vec![0.0; a.data.len()];
    let mut iters = vec![0usize; a.batch];
    if n == 0 {
        return Ok((MatrixBatch { batch: a.batch, rows: 0, cols: 0, data }, iters));
    }
    let run = |(i, (out, it)): (usize, (&mut [f64], &mut usize)), par: Par| -> Result<()> {
        let a_i = MatRef::from_row_major_slice(a.matrix(i), n, n);
        *it = newton_schulz_matrix(a_i, cfg, MatMut::from_row_major_slice_mut(out, n, n), par).map_err(|e| match e {
            NewtonSchulzFailure::Zero => Error::Singular { op: OP, p: vec![i as f64] },
            NewtonSchulzFailure::Diverged(k) => Error::NoConvergence { op: OP, iters: k },
        })?;
        Ok(())
    };
    if a.batch > 1 && rayon::current_num_threads() > 1 {
        data.par_chunks_mut(n * n).zip(iters.par_iter_mut()).enumerate().try_for_each(|job| run(job, Par::Seq))?;
    } else {
        data.chunks_mut(n * n).zip(iters.iter_mut()).enumerate().try_for_each(|job| run(job, gemm_par(n)))?;
    }
    Ok((MatrixBatch { batch: a.batch, rows: n, cols: n, data }, iters))
}

enum NewtonSchulzFailure {
    /// `A = 0`: no starting point.
    Zero,
    /// The iterate became non-finite at this step.
    Diverged(usize),
}

/// Newton–Schulz on one matrix; writes the last iterate to `out` and returns its step count.
fn newton_schulz_matrix(
    a: MatRef<'_, f64>,
    cfg: &NniConfig,
    mut out: MatMut<'_, f64>,
    par: Par,
) -> std::result::Result<usize, NewtonSchulzFailure> {
    let n = a.nrows();
    let norm_1 = (0..n).map(|j| (0..n).map(|i| a[(i, j)].abs()).sum::<f64>()).fold(0.0, f64::max);
    let norm_inf = (0..n).map(|i| (0..n).map(|j| a[(i, j)].abs()).sum::<f64>()).fold(0.0, f64::max);
    if !(norm_1.is_finite() && norm_inf.is_finite()) {
        // The norms overflow: the scaled start cannot be formed.
        return Err(NewtonSchulzFailure::Diverged(0));
    }
    if norm_1 == 0.0 {
        return Err(NewtonSchulzFailure::Zero);
    }
    // Divided one norm at a time, so neither huge nor tiny matrices over- or underflow the scale.
    let mut x = Mat::<f64>::from_fn(n, n, |i, j| a[(j, i)] / norm_1 / norm_inf);
    let mut r = Mat::<f64>::zeros(n, n);
    let mut next = Mat::<f64>::zeros(n, n);
    let sqrt_n = (n as f64).sqrt();
    let mut k = 0;
    loop {
        // R = I − A X_k.
        matmul(r.as_mut(), Accum::Replace, a, x.as_ref(), -1.0, par);
        for i in 0..n {
            r[(i, i)] += 1.0;
        }
        let residual = r.norm_l2() / sqrt_n;
        if !residual.is_finite() {
            return Err(NewtonSchulzFailure::Diverged(k));
        }
        if residual <= cfg.tol || k == cfg.max_iters {
            out.copy_from(x.as_ref());
            return Ok(k);
        }
        // X_{k+1} = X_k (2I − A X_k) = X_k + X_k R.
        next.copy_from(x.as_ref());
        matmul(next.as_mut(), Accum::Add, x.as_ref(), r.as_ref(), 1.0, par);
        std::mem::swap(&mut x, &mut next);
        k += 1;
    }
}
