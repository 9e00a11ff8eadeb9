//! The paper's error metrics.

use napi::bindgen_prelude::{Either, Float32Array, Float64Array};
use napi_derive::napi;

use crate::convert::matrix_batch;
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
