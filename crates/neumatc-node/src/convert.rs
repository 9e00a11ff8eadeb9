//! Plain value conversions between engine types and JS objects. No numerics.

use napi::bindgen_prelude::{Either, Float32Array, Float64Array};
use napi_derive::napi;

/// A batch of matrices crossing the boundary: `batch * rows * cols` values, row-major, batch-major.
#[napi(object, object_from_js = false)]
pub struct NativeMatrix {
    pub batch: u32,
    pub rows: u32,
    pub cols: u32,
    pub data: Float64Array,
}

impl From<neumatc::MatrixBatch> for NativeMatrix {
    fn from(m: neumatc::MatrixBatch) -> Self {
        NativeMatrix {
            batch: m.batch as u32,
            rows: m.rows as u32,
            cols: m.cols as u32,
            // Hands the Vec's buffer to JS without a copy; it is recycled once JS frees it.
            data: crate::pool::f64_array(m.data),
        }
    }
}

/// One named result component of a prediction (`inverse`, `U`, `S`, ...), in the model's dtype.
#[napi(object, object_from_js = false)]
pub struct NativeComponent {
    pub name: String,
    pub batch: u32,
    pub rows: u32,
    pub cols: u32,
    pub data: Either<Float32Array, Float64Array>,
}

/// Converts a prediction; the component buffers move to JS without a copy.
pub fn components(p: neumatc::Prediction) -> Vec<NativeComponent> {
    p.components
        .into_iter()
        .map(|c| NativeComponent {
            name: c.name.to_string(),
            batch: c.batch as u32,
            rows: c.rows as u32,
            cols: c.cols as u32,
            data: match c.data {
                neumatc::ComponentData::F32(v) => Either::A(crate::pool::f32_array(v)),
                neumatc::ComponentData::F64(v) => Either::B(crate::pool::f64_array(v)),
            },
        })
        .collect()
}

/// The parameter box `[lo, hi]` per parameter dimension.
#[napi(object, object_from_js = false)]
pub struct NativeDomain {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl From<&neumatc::Domain> for NativeDomain {
    fn from(d: &neumatc::Domain) -> Self {
        NativeDomain { lo: d.lo.clone(), hi: d.hi.clone() }
    }
}

/// Builds an engine `MatrixBatch` (the engine checks the length and finiteness).
pub fn matrix_batch(batch: u32, rows: u32, cols: u32, data: Vec<f64>) -> neumatc::Result<neumatc::MatrixBatch> {
    neumatc::MatrixBatch::new(batch as usize, rows as usize, cols as usize, data)
}
