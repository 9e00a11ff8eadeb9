//! `NativeModel`: a trained, read-only NeuMatC model.

use std::sync::Arc;

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;

use crate::convert::{NativeComponent, NativeDomain, component, components};
use crate::error::{Failure, Result, napi_internal, to_napi};
use crate::task::EngineTask;

/// A trained model. Created by `train`; predictions come back in the model's dtype.
#[napi]
pub struct NativeModel {
    pub(crate) inner: Arc<neumatc::NeuMatC>,
}

#[napi]
impl NativeModel {
    /// Predicts every result component for a batch of parameters, on the JS thread.
    #[napi(catch_unwind)]
    pub fn predict_sync(&self, params: &[f64]) -> Result<Vec<NativeComponent>> {
        self.inner.predict_with(params, &crate::pool::Pool).map(components).map_err(to_napi)
    }

    /// Predicts on the libuv pool; `params` is copied on the JS thread first.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<NativeComponent>>")]
    pub fn predict(&self, params: &[f64]) -> AsyncTask<PredictTask> {
        AsyncTask::new(PredictTask { model: self.inner.clone(), params: params.to_vec(), failure: None })
    }

    /// `Ĝ(p) b` of an inverse model for a batch of parameters without forming `Ĝ(p)` (`b`: `n` values),
    /// on the JS thread. Returns the component `x`, (batch, n, 1), in the model's dtype.
    #[napi(catch_unwind)]
    pub fn apply_sync(&self, params: &[f64], b: &[f64]) -> Result<NativeComponent> {
        self.inner.apply(params, b).map(component).map_err(to_napi)
    }

    /// `Ĝ(p) b` on the libuv pool; `params` and `b` are copied on the JS thread first.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeComponent>")]
    pub fn apply(&self, params: &[f64], b: &[f64]) -> AsyncTask<EngineTask<neumatc::Component, NativeComponent>> {
        let (model, params, b) = (self.inner.clone(), params.to_vec(), b.to_vec());
        AsyncTask::new(EngineTask::new(move || model.apply(&params, &b), component))
    }

    /// What the model computes as JSON (`OpSpec`, camelCase: `op`, `rows`, `cols`, `rank`, `rhs`).
    #[napi(getter, catch_unwind)]
    pub fn spec(&self) -> Result<String> {
        serde_json::to_string(self.inner.spec()).map_err(|e| napi_internal(napi::Error::from_reason(e.to_string())))
    }

    /// The training report as JSON (`TrainReport`, camelCase).
    #[napi(getter, catch_unwind)]
    pub fn report(&self) -> Result<String> {
        serde_json::to_string(self.inner.report()).map_err(|e| napi_internal(napi::Error::from_reason(e.to_string())))
    }

    /// The operation's name (`inverse`, ...).
    #[napi(getter, catch_unwind)]
    pub fn operation(&self) -> String {
        self.inner.operation().name().to_string()
    }

    /// Length of one parameter vector `p`.
    #[napi(getter, catch_unwind)]
    pub fn param_dim(&self) -> u32 {
        self.inner.param_dim() as u32
    }

    /// `f32` or `f64`: the element type of predictions.
    #[napi(getter, catch_unwind)]
    pub fn dtype(&self) -> String {
        self.inner.dtype_name().to_string()
    }

    /// Latent dimension `d` of the model.
    #[napi(getter, catch_unwind)]
    pub fn latent_dim(&self) -> u32 {
        self.inner.latent_dim() as u32
    }

    /// The device the model was trained on (`cpu`, `cuda:N`).
    #[napi(getter, catch_unwind)]
    pub fn device(&self) -> String {
        self.inner.device().name()
    }

    /// The parameter box the model was trained on.
    #[napi(catch_unwind)]
    pub fn domain(&self) -> NativeDomain {
        NativeDomain::from(self.inner.domain())
    }
}

/// `NativeModel.predict` off the JS thread.
pub struct PredictTask {
    model: Arc<neumatc::NeuMatC>,
    params: Vec<f64>,
    failure: Option<Failure>,
}

impl Task for PredictTask {
    type Output = neumatc::Prediction;
    type JsValue = Vec<NativeComponent>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        crate::task::run(&mut self.failure, || self.model.predict_with(&self.params, &crate::pool::Pool))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(components(output))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Self::JsValue> {
        Err(crate::task::rejection(&env, self.failure.take(), err))
    }
}
