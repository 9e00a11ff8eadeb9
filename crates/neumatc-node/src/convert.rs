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

/// Converts one component; its buffer moves to JS without a copy.
pub fn component(c: neumatc::Component) -> NativeComponent {
    NativeComponent {
        name: c.name.to_string(),
        batch: c.batch as u32,
        rows: c.rows as u32,
        cols: c.cols as u32,
        data: match c.data {
            neumatc::ComponentData::F32(v) => Either::A(crate::pool::f32_array(v)),
            neumatc::ComponentData::F64(v) => Either::B(crate::pool::f64_array(v)),
        },
    }
}

/// A batch of matrices coming from JS in either float type (a prediction, or an exact result):
/// `batch * rows * cols` values, row-major, batch-major.
#[napi(object, object_to_js = false)]
pub struct NativeMatrixView {
    pub batch: u32,
    pub rows: u32,
    pub cols: u32,
    pub data: Either<Float32Array, Float64Array>,
}

impl NativeMatrixView {
    /// The engine's borrowed view of it (the engine checks the shape against the data).
    pub fn view(&self) -> neumatc::metrics::ComponentView<'_> {
        let data = match &self.data {
            Either::A(v) => neumatc::metrics::FloatSlice::F32(&v[..]),
            Either::B(v) => neumatc::metrics::FloatSlice::F64(&v[..]),
        };
        neumatc::metrics::ComponentView { batch: self.batch as usize, rows: self.rows as usize, cols: self.cols as usize, data }
    }
}

/// A batch of SVDs `A = U diag(S) Vᵀ`: U (batch, m, r), S (batch, r, 1) descending, V (batch, n, r).
#[napi(object, object_from_js = false)]
pub struct NativeSvd {
    pub u: NativeMatrix,
    pub s: NativeMatrix,
    pub v: NativeMatrix,
}

impl From<neumatc::baseline::SvdBatch> for NativeSvd {
    fn from(b: neumatc::baseline::SvdBatch) -> Self {
        NativeSvd { u: b.u.into(), s: b.s.into(), v: b.v.into() }
    }
}

/// A batch of thin QR factorisations: Q (batch, m, n), R (batch, n, n).
#[napi(object, object_from_js = false)]
pub struct NativeQr {
    pub q: NativeMatrix,
    pub r: NativeMatrix,
}

impl From<neumatc::baseline::QrBatch> for NativeQr {
    fn from(b: neumatc::baseline::QrBatch) -> Self {
        NativeQr { q: b.q.into(), r: b.r.into() }
    }
}

/// A batch of symmetric eigendecompositions: values (batch, n, 1) ascending, vectors (batch, n, n).
#[napi(object, object_from_js = false)]
pub struct NativeEigh {
    pub values: NativeMatrix,
    pub vectors: NativeMatrix,
}

impl From<neumatc::baseline::EighBatch> for NativeEigh {
    fn from(b: neumatc::baseline::EighBatch) -> Self {
        NativeEigh { values: b.values.into(), vectors: b.vectors.into() }
    }
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
