//! `NativeFamily`: a source of matrices `A(p)`.

use std::sync::Arc;

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;

use crate::convert::{NativeDomain, NativeMatrix, matrix_batch};
use crate::error::{Failure, Result, to_napi};

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
