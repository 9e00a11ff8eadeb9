//! The paper's error metrics.

use napi::bindgen_prelude::{Either, Float32Array, Float64Array};
use napi_derive::napi;

use crate::convert::{NativeComplexView, NativeMatrixView, matrix_batch};
use crate::error::{Result, to_napi};

/// `RelErr_inv = mean_p ‖A Â⁻¹ − I‖²_F / ‖I‖²_F` of a batch `A` and its approximate inverses `G`
/// (`f32` or `f64`, shape `(gBatch, gRows, gCols)`, which must equal `A`'s).
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn rel_err_inverse(
    batch: u32,
    rows: u32,
    cols: u32,
    a: &[f64],
    g_batch: u32,
    g_rows: u32,
    g_cols: u32,
    g: Either<Float32Array, Float64Array>,
) -> Result<f64> {
    if (g_batch, g_rows, g_cols) != (batch, rows, cols) {
        return Err(to_napi(neumatc::Error::ShapeMismatch {
            op: "relErrInverse",
            expected: vec![batch as usize, rows as usize, cols as usize],
            got: vec![g_batch as usize, g_rows as usize, g_cols as usize],
        }));
    }
    let a = matrix_batch(batch, rows, cols, a.to_vec()).map_err(to_napi)?;
    match g {
        Either::A(g) => neumatc::metrics::rel_err_inverse(&a, &g[..]),
        Either::B(g) => neumatc::metrics::rel_err_inverse(&a, &g[..]),
    }
    .map_err(to_napi)
}

/// The paper-style `RelErr` of `op` (`svd`, `qr`, `cholesky`, `eigh`, `expm`, `solve`, `inverse`), the
/// mean over the batch `A`, of a result given as its components in the operation's order (`[U, S, V]`,
/// `[Q, R]`, `[L]`, `[values, vectors]`, `[expm]`, `[x]`, `[inverse]`), each `f32` or `f64`. `rhs` is the
/// right-hand side of `solve` (`n` or `batch * n` values); `exact` the exact exponentials of `expm`
/// (shape of `A`), computed by the engine when absent.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn rel_err_op(
    op: String,
    batch: u32,
    rows: u32,
    cols: u32,
    a: &[f64],
    components: Vec<NativeMatrixView>,
    rhs: Option<Float64Array>,
    exact: Option<Float64Array>,
) -> Result<f64> {
    let op = neumatc::Operation::parse(&op).map_err(to_napi)?;
    let a = matrix_batch(batch, rows, cols, a.to_vec()).map_err(to_napi)?;
    let exact = exact.map(|e| matrix_batch(batch, rows, cols, e.to_vec())).transpose().map_err(to_napi)?;
    let views: Vec<_> = components.iter().map(NativeMatrixView::view).collect();
    neumatc::metrics::rel_err(op, &a, &views, rhs.as_deref(), exact.as_ref()).map_err(to_napi)
}

/// The largest orthogonality defect `‖XᵀX − I‖_F / √r` of the orthonormal factors of `op` (`svd`,
/// `qr`, `eigh`) over a batch of results given as components (as in `relErrOp`).
#[napi(catch_unwind)]
pub fn orthogonality_defect(op: String, components: Vec<NativeMatrixView>) -> Result<f64> {
    let op = neumatc::Operation::parse(&op).map_err(to_napi)?;
    let views: Vec<_> = components.iter().map(NativeMatrixView::view).collect();
    neumatc::metrics::orthogonality_defect(op, &views).map_err(to_napi)
}

/// The paper's `RelErr_inv` in complex arithmetic, `mean_p ‖A Ĝ − I‖²_F / n`, of complex batches `A`
/// and `G` (planes `f32` or `f64`).
#[napi(catch_unwind)]
pub fn complex_rel_err_inverse(a: NativeComplexView, g: NativeComplexView) -> Result<f64> {
    let (a, g) = (a.batch().map_err(to_napi)?, g.batch().map_err(to_napi)?);
    neumatc::complex::rel_err_inverse(&a, &g).map_err(to_napi)
}

/// The paper's `RelErr_svd` in complex arithmetic, `mean_p ‖Û diag(Ŝ) V̂ᴴ − A‖²_F / ‖A‖²_F`: `U` (batch, m, r),
/// `S` (batch, r, 1) real, `V` (batch, n, r).
#[napi(catch_unwind)]
pub fn complex_rel_err_svd(
    a: NativeComplexView,
    u: NativeComplexView,
    s: Either<Float32Array, Float64Array>,
    v: NativeComplexView,
) -> Result<f64> {
    let (a, u, v) = (a.batch().map_err(to_napi)?, u.batch().map_err(to_napi)?, v.batch().map_err(to_napi)?);
    let s: Vec<f64> = match &s {
        Either::A(s) => s.iter().map(|&x| f64::from(x)).collect(),
        Either::B(s) => s.to_vec(),
    };
    neumatc::complex::rel_err_svd(&a, &u, &s, &v).map_err(to_napi)
}
