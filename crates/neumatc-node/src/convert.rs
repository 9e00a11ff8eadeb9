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
/// For a complex model's complex components, `data` holds the real parts and `im` the imaginary
/// parts (both `batch * rows * cols`, complex shape); `im` is absent for real components.
#[napi(object, object_from_js = false)]
pub struct NativeComponent {
    pub name: String,
    pub batch: u32,
    pub rows: u32,
    pub cols: u32,
    pub data: Either<Float32Array, Float64Array>,
    pub im: Option<Either<Float32Array, Float64Array>>,
}

/// Moves a component's values to JS without a copy.
fn component_data(d: neumatc::ComponentData) -> Either<Float32Array, Float64Array> {
    match d {
        neumatc::ComponentData::F32(v) => Either::A(crate::pool::f32_array(v)),
        neumatc::ComponentData::F64(v) => Either::B(crate::pool::f64_array(v)),
    }
}

/// Converts one component; its buffer moves to JS without a copy.
pub fn component(c: neumatc::Component) -> NativeComponent {
    NativeComponent {
        name: c.name.to_string(),
        batch: c.batch as u32,
        rows: c.rows as u32,
        cols: c.cols as u32,
        data: component_data(c.data),
        im: None,
    }
}

/// Converts one complex component (see `neumatc::complex::complex_component`); its planes move to JS
/// without a copy.
pub fn complex_component(c: neumatc::complex::ComplexComponent) -> NativeComponent {
    NativeComponent {
        name: c.name.to_string(),
        batch: c.batch as u32,
        rows: c.rows as u32,
        cols: c.cols as u32,
        data: component_data(c.re),
        im: c.im.map(component_data),
    }
}

/// A batch of complex matrices crossing the boundary: real and imaginary planes, each
/// `batch * rows * cols` values, row-major, batch-major.
#[napi(object, object_from_js = false)]
pub struct NativeComplexMatrix {
    pub batch: u32,
    pub rows: u32,
    pub cols: u32,
    pub re: Float64Array,
    pub im: Float64Array,
}

impl From<neumatc::ComplexBatch> for NativeComplexMatrix {
    fn from(m: neumatc::ComplexBatch) -> Self {
        NativeComplexMatrix {
            batch: m.batch as u32,
            rows: m.rows as u32,
            cols: m.cols as u32,
            re: crate::pool::f64_array(m.re),
            im: crate::pool::f64_array(m.im),
        }
    }
}

/// A batch of complex SVDs `A = U diag(S) Vᴴ`: U (batch, m, r), S (batch, r, 1) real and descending,
/// V (batch, n, r).
#[napi(object, object_from_js = false)]
pub struct NativeComplexSvd {
    pub u: NativeComplexMatrix,
    pub s: NativeMatrix,
    pub v: NativeComplexMatrix,
}

impl From<neumatc::complex::ComplexSvd> for NativeComplexSvd {
    fn from(b: neumatc::complex::ComplexSvd) -> Self {
        NativeComplexSvd { u: b.u.into(), s: b.s.into(), v: b.v.into() }
    }
}

/// A batch of complex matrices coming from JS, each plane in either float type (a prediction, or an
/// exact result).
#[napi(object, object_to_js = false)]
pub struct NativeComplexView {
    pub batch: u32,
    pub rows: u32,
    pub cols: u32,
    pub re: Either<Float32Array, Float64Array>,
    pub im: Either<Float32Array, Float64Array>,
}

/// A plane's values as f64 (widening f32 predictions; no arithmetic).
fn widen(v: &Either<Float32Array, Float64Array>) -> Vec<f64> {
    match v {
        Either::A(v) => v.iter().map(|&x| f64::from(x)).collect(),
        Either::B(v) => v.to_vec(),
    }
}

impl NativeComplexView {
    /// The engine's complex batch (the engine checks the planes' lengths and finiteness).
    pub fn batch(&self) -> neumatc::Result<neumatc::ComplexBatch> {
        complex_batch(self.batch, self.rows, self.cols, widen(&self.re), widen(&self.im))
    }
}

/// Builds an engine `ComplexBatch` (the engine checks the lengths and finiteness).
pub fn complex_batch(batch: u32, rows: u32, cols: u32, re: Vec<f64>, im: Vec<f64>) -> neumatc::Result<neumatc::ComplexBatch> {
    neumatc::ComplexBatch::new(batch as usize, rows as usize, cols as usize, re, im)
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
