//! The paper's error metrics, computed in f64 whatever the precision of the prediction.

use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;

use crate::matrix::check_len;
use crate::{Error, MatrixBatch, Result};

/// A value a prediction may hold (`f32` or `f64`), widened to f64 for the metric.
pub trait Real: Copy + Send + Sync + Into<f64> {}
impl Real for f32 {}
impl Real for f64 {}

/// `‖A(p) G(p) − I‖²_F / ‖I‖²_F` for every matrix of the batch. `g` holds (batch, n, n) row-major.
pub fn inverse_residuals<T: Real>(a: &MatrixBatch, g: &[T]) -> Result<Vec<f64>> {
    let n = a.require_square("relErrInverse")?;
    check_len("relErrInverse", g, a.batch, n, n)?;
    let sz = n * n;
    let out = (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let gi = Mat::<f64>::from_fn(n, n, |r, c| g[i * sz + r * n + c].into());
            let ai = MatRef::from_row_major_slice(a.matrix(i), n, n);
            let mut r = Mat::<f64>::identity(n, n);
            faer::linalg::matmul::matmul(r.as_mut(), Accum::Add, ai, gi.as_ref(), -1.0, Par::Seq);
            r.squared_norm_l2() / n as f64
        })
        .collect::<Vec<_>>();
    if out.iter().any(|v| !v.is_finite()) {
        return Err(Error::input("relErrInverse", "the candidate inverse holds NaN or Inf"));
    }
    Ok(out)
}

/// The paper's `RelErr_inv = mean_p ‖A(p) Â⁻¹(p) − I‖²_F / ‖I‖²_F`.
///
/// ```
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![2.0, 0.0, 0.0, 4.0]).unwrap();
/// assert_eq!(neumatc::metrics::rel_err_inverse(&a, &[0.5, 0.0, 0.0, 0.25]).unwrap(), 0.0);
/// ```
pub fn rel_err_inverse<T: Real>(a: &MatrixBatch, g: &[T]) -> Result<f64> {
    let r = inverse_residuals(a, g)?;
    Ok(mean(&r))
}

/// `‖X − Y‖²_F / ‖Y‖²_F` over two equally long buffers.
pub fn rel_fro_error<T: Real>(x: &[T], y: &[f64]) -> f64 {
    let num: f64 = x.iter().zip(y).map(|(&a, &b)| (a.into() - b).powi(2)).sum();
    let den: f64 = y.iter().map(|b| b * b).sum();
    num / den
}

/// Arithmetic mean (0 for an empty slice).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
}
