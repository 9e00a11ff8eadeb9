//! `NativeFamily`: a source of matrices `A(p)`.

use std::sync::Arc;

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;

use crate::convert::{NativeComplexMatrix, NativeDomain, NativeMatrix, complex_batch, matrix_batch};
use crate::error::{Failure, Result, to_napi};
use crate::task::EngineTask;

/// A parametric matrix family `A(p)` held by the engine.
#[napi]
pub struct NativeFamily {
    pub(crate) inner: Arc<neumatc::Family>,
}

#[napi]
impl NativeFamily {
    /// The paper's synthetic family (§3.1). `json` is a `SyntheticConfig` (camelCase; defaults in Rust).
    #[napi(factory, catch_unwind)]
    pub fn synthetic(json: String) -> Result<NativeFamily> {
        let fam = neumatc::Family::synthetic_from_json(&json).map_err(to_napi)?;
        Ok(NativeFamily { inner: Arc::new(fam) })
    }

    /// The paper's 2-D SPD family (Table 6), `A(p) = B(p)B(p)ᵀ + εI` on `[0, 1]²`. `json` is a
    /// `SpdFourierConfig` (camelCase; defaults in Rust).
    #[napi(factory, catch_unwind)]
    pub fn spd_fourier(json: String) -> Result<NativeFamily> {
        let fam = neumatc::Family::spd_fourier_from_json(&json).map_err(to_napi)?;
        Ok(NativeFamily { inner: Arc::new(fam) })
    }

    /// The paper's controlled-parametric-rank family (Appendix I), `H(p) = U(p)S(p)V(p)ᵀ` on `[0, 1]`.
    /// `json` is a `ControlledRankConfig` (camelCase; defaults in Rust).
    #[napi(factory, catch_unwind)]
    pub fn controlled_rank(json: String) -> Result<NativeFamily> {
        let fam = neumatc::Family::controlled_rank_from_json(&json).map_err(to_napi)?;
        Ok(NativeFamily { inner: Arc::new(fam) })
    }

    /// The user's own matrices at a grid of parameters: `params` is `batch * paramDim` values,
    /// `data` is `batch * rows * cols` values.
    #[napi(factory, catch_unwind)]
    pub fn from_samples(param_dim: u32, params: &[f64], batch: u32, rows: u32, cols: u32, data: &[f64]) -> Result<NativeFamily> {
        let matrices = matrix_batch(batch, rows, cols, data.to_vec()).map_err(to_napi)?;
        let fam = neumatc::Family::from_samples(param_dim as usize, params.to_vec(), matrices).map_err(to_napi)?;
        Ok(NativeFamily { inner: Arc::new(fam) })
    }

    /// The user's complex matrices on a grid of parameters: `params` is `batch * paramDim` values,
    /// `re` and `im` are `batch * rows * cols` values each (stored as real embeddings by the engine).
    #[napi(factory, catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn from_samples_complex(
        param_dim: u32,
        params: &[f64],
        batch: u32,
        rows: u32,
        cols: u32,
        re: &[f64],
        im: &[f64],
    ) -> Result<NativeFamily> {
        let matrices = complex_batch(batch, rows, cols, re.to_vec(), im.to_vec()).map_err(to_napi)?;
        let fam = neumatc::Family::from_samples_complex(param_dim as usize, params.to_vec(), &matrices).map_err(to_napi)?;
        Ok(NativeFamily { inner: Arc::new(fam) })
    }

    /// Like `fromSamplesComplex`, the matrices given as interleaved `re, im, re, im, …` values
    /// (`2 * batch * rows * cols`).
    #[napi(factory, catch_unwind)]
    pub fn from_samples_interleaved(
        param_dim: u32,
        params: &[f64],
        batch: u32,
        rows: u32,
        cols: u32,
        data: &[f64],
    ) -> Result<NativeFamily> {
        let matrices = neumatc::ComplexBatch::from_interleaved(batch as usize, rows as usize, cols as usize, data).map_err(to_napi)?;
        let fam = neumatc::Family::from_samples_complex(param_dim as usize, params.to_vec(), &matrices).map_err(to_napi)?;
        Ok(NativeFamily { inner: Arc::new(fam) })
    }

    /// TR 38.901 CDL MIMO channels (or their MMSE Gram matrices) over a band. `json` is a `CdlConfig`
    /// (camelCase; defaults in Rust). Complex.
    #[napi(factory, catch_unwind)]
    pub fn cdl(json: String) -> Result<NativeFamily> {
        let fam = neumatc::Family::cdl_from_json(&json).map_err(to_napi)?;
        Ok(NativeFamily { inner: Arc::new(fam) })
    }

    /// The paper's App. H advection–diffusion–reaction operator (sparse). `json` is an `AdrConfig`
    /// (camelCase; defaults in Rust).
    #[napi(factory, catch_unwind)]
    pub fn adr(json: String) -> Result<NativeFamily> {
        let fam = neumatc::Family::adr_from_json(&json).map_err(to_napi)?;
        Ok(NativeFamily { inner: Arc::new(fam) })
    }

    /// Whether `A(p)` is complex (`rows`/`cols`/`at` are then those of the real embedding).
    #[napi(getter, catch_unwind)]
    pub fn is_complex(&self) -> bool {
        self.inner.is_complex()
    }

    /// The complex shape `[m, n]` of a complex family; `[rows, cols]` of a real one.
    #[napi(catch_unwind)]
    pub fn complex_shape(&self) -> Vec<u32> {
        let (m, n) = self.inner.complex_shape();
        vec![m as u32, n as u32]
    }

    /// Unknowns `n` of a sparse (ADR) family; `null` for dense families.
    #[napi(getter, catch_unwind)]
    pub fn sparse_n(&self) -> Option<u32> {
        self.inner.sparse().map(|f| f.n() as u32)
    }

    /// `A(p)` of a complex family as complex matrices, on the JS thread.
    #[napi(catch_unwind)]
    pub fn at_complex(&self, params: &[f64]) -> Result<NativeComplexMatrix> {
        self.inner.at_complex(params).map(NativeComplexMatrix::from).map_err(to_napi)
    }

    /// `atComplex` on the libuv pool; `params` is copied first.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeComplexMatrix>")]
    pub fn at_complex_async(&self, params: &[f64]) -> AsyncTask<EngineTask<neumatc::ComplexBatch, NativeComplexMatrix>> {
        let (fam, params) = (self.inner.clone(), params.to_vec());
        AsyncTask::new(EngineTask::new(move || fam.at_complex(&params), NativeComplexMatrix::from))
    }

    /// Relative residuals `‖A(p)x − b‖₂ / ‖b‖₂` of a sparse (ADR) family's right-hand side, one per
    /// parameter; `x` is `batch * n` values. `INVALID_INPUT` for a dense family.
    #[napi(catch_unwind)]
    pub fn sparse_residual(&self, params: &[f64], x: &[f64]) -> Result<Vec<f64>> {
        sparse_residual_inner(&self.inner, params, x).map_err(to_napi)
    }

    /// Rows of each matrix.
    #[napi(getter, catch_unwind)]
    pub fn rows(&self) -> u32 {
        self.inner.rows() as u32
    }

    /// Columns of each matrix.
    #[napi(getter, catch_unwind)]
    pub fn cols(&self) -> u32 {
        self.inner.cols() as u32
    }

    /// Length of one parameter vector `p`.
    #[napi(getter, catch_unwind)]
    pub fn param_dim(&self) -> u32 {
        self.inner.param_dim() as u32
    }

    /// The parameter box.
    #[napi(catch_unwind)]
    pub fn domain(&self) -> NativeDomain {
        NativeDomain::from(self.inner.domain())
    }

    /// A JSON description of the family (kind, shape, settings).
    #[napi(catch_unwind)]
    pub fn describe(&self) -> String {
        self.inner.describe().to_string()
    }

    /// `A(p)` for a batch of parameters, on the JS thread.
    #[napi(catch_unwind)]
    pub fn at(&self, params: &[f64]) -> Result<NativeMatrix> {
        self.inner.at(params).map(NativeMatrix::from).map_err(to_napi)
    }

    /// `A(p)` for a batch of parameters, on the libuv pool. `params` is copied first.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
    pub fn at_async(&self, params: &[f64]) -> AsyncTask<AtTask> {
        AsyncTask::new(AtTask { family: self.inner.clone(), params: params.to_vec(), failure: None })
    }
}

/// `NativeFamily.atAsync` off the JS thread.
pub struct AtTask {
    family: Arc<neumatc::Family>,
    params: Vec<f64>,
    failure: Option<Failure>,
}

impl Task for AtTask {
    type Output = neumatc::MatrixBatch;
    type JsValue = NativeMatrix;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        crate::task::run(&mut self.failure, || self.family.at(&self.params))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(NativeMatrix::from(output))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Self::JsValue> {
        Err(crate::task::rejection(&env, self.failure.take(), err))
    }
}

/// The sparse operator of `family`, or `INVALID_INPUT` naming `what`.
pub fn sparse_of<'a>(family: &'a neumatc::Family, what: &'static str) -> neumatc::Result<&'a neumatc::sparse::AdrFamily> {
    family.sparse().ok_or_else(|| neumatc::Error::InvalidInput {
        what,
        reason: format!("needs a sparse family (Family.adr), got a {} family", family.describe()["kind"].as_str().unwrap_or("dense")),
    })
}

fn sparse_residual_inner(family: &neumatc::Family, params: &[f64], x: &[f64]) -> neumatc::Result<Vec<f64>> {
    let fam = sparse_of(family, "residual")?;
    let batch = fam.domain().check(params)?;
    let n = fam.n();
    if x.len() != batch * n {
        return Err(neumatc::Error::ShapeMismatch { op: "residual", expected: vec![batch, n], got: vec![x.len()] });
    }
    Ok(params.iter().zip(x.chunks(n)).map(|(&p, xi)| fam.relative_residual(p, xi)).collect())
}
