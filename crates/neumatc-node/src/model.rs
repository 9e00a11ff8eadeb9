//! `NativeModel`: a trained, read-only NeuMatC model.

use std::sync::Arc;

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use napi::bindgen_prelude::{Float64Array, Uint32Array};

use crate::convert::{NativeComponent, NativeDomain, complex_component, component};
use crate::error::{Result, napi_internal, to_napi};
use crate::family::NativeFamily;
use crate::task::EngineTask;

/// A trained model. Created by `train`; predictions come back in the model's dtype.
#[napi]
pub struct NativeModel {
    pub(crate) inner: Arc<neumatc::NeuMatC>,
}

#[napi]
impl NativeModel {
    /// Predicts every result component for a batch of parameters, on the JS thread. With `extrapolate`,
    /// parameters outside the trained domain are allowed (the result then carries a warning).
    /// `device` (`cpu` (default), `cuda`, `cuda:N`) is where the prediction runs: on a GPU the weights
    /// are uploaded for the call and the result copied back (`DEVICE_UNAVAILABLE` without CUDA).
    /// A complex model's components come back complex (real and imaginary planes, complex shape).
    #[napi(catch_unwind)]
    pub fn predict_sync(&self, params: &[f64], extrapolate: Option<bool>, device: Option<String>) -> Result<NativePrediction> {
        predict_inner(&self.inner, params, extrapolate, device.as_deref()).map(NativePrediction::from).map_err(to_napi)
    }

    /// Predicts on the libuv pool; `params` is copied on the JS thread first.
    #[napi(catch_unwind, ts_return_type = "Promise<NativePrediction>")]
    pub fn predict(
        &self,
        params: &[f64],
        extrapolate: Option<bool>,
        device: Option<String>,
    ) -> AsyncTask<EngineTask<Predicted, NativePrediction>> {
        let (model, params) = (self.inner.clone(), params.to_vec());
        AsyncTask::new(EngineTask::new(move || predict_inner(&model, &params, extrapolate, device.as_deref()), NativePrediction::from))
    }

    /// A-posteriori residuals of the model's answers at `params` (`CheckOptions` JSON: `probes`,
    /// `extrapolate`), on the JS thread. `family` gives `A(p)`; without it the training family is used.
    #[napi(catch_unwind)]
    pub fn check_sync(&self, family: Option<&NativeFamily>, params: &[f64], options_json: String) -> Result<NativeCheck> {
        check_inner(&self.inner, family.map(|f| f.inner.clone()), params, &options_json).map(NativeCheck::from).map_err(to_napi)
    }

    /// `checkSync` on the libuv pool.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeCheck>")]
    pub fn check(
        &self,
        family: Option<&NativeFamily>,
        params: &[f64],
        options_json: String,
    ) -> AsyncTask<EngineTask<neumatc::CheckReport, NativeCheck>> {
        let (model, fam, params) = (self.inner.clone(), family.map(|f| f.inner.clone()), params.to_vec());
        AsyncTask::new(EngineTask::new(move || check_inner(&model, fam, &params, &options_json), NativeCheck::from))
    }

    /// Iterative refinement `x ← x + Ĝ(p)(b − A(p)x)` (`RefineConfig` JSON: `tol`, `maxIter`,
    /// `extrapolate`), on the JS thread. `b`: `n` values or `batch · n`.
    #[napi(catch_unwind)]
    pub fn refine_sync(&self, family: Option<&NativeFamily>, params: &[f64], b: &[f64], options_json: String) -> Result<NativeRefined> {
        refine_inner(&self.inner, family.map(|f| f.inner.clone()), params, b, &options_json).map(NativeRefined::from).map_err(to_napi)
    }

    /// `refineSync` on the libuv pool.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeRefined>")]
    pub fn refine(
        &self,
        family: Option<&NativeFamily>,
        params: &[f64],
        b: &[f64],
        options_json: String,
    ) -> AsyncTask<EngineTask<neumatc::Refined, NativeRefined>> {
        let (model, fam, params, b) = (self.inner.clone(), family.map(|f| f.inner.clone()), params.to_vec(), b.to_vec());
        AsyncTask::new(EngineTask::new(move || refine_inner(&model, fam, &params, &b, &options_json), NativeRefined::from))
    }

    /// Writes the model to `path` atomically (temporary file, fsync, rename), on the JS thread.
    #[napi(catch_unwind)]
    pub fn save_sync(&self, path: String) -> Result<()> {
        self.inner.save(&path).map_err(to_napi)
    }

    /// `saveSync` on the libuv pool.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn save(&self, path: String) -> AsyncTask<EngineTask<(), ()>> {
        let model = self.inner.clone();
        AsyncTask::new(EngineTask::new(move || model.save(&path), |()| ()))
    }

    /// The JSON metadata written into model files (format, operation, shapes, family, report, ...).
    #[napi(getter, catch_unwind)]
    pub fn metadata(&self) -> Result<String> {
        serde_json::to_string(&self.inner.metadata()).map_err(|e| napi_internal(napi::Error::from_reason(e.to_string())))
    }

    /// Whether the model can evaluate `A(p)` itself (trained on, or loaded with, a built-in family).
    #[napi(getter, catch_unwind)]
    pub fn has_family(&self) -> bool {
        self.inner.family().is_some()
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

    /// Whether the model was trained on complex matrices (its predictions are then complex).
    #[napi(getter, catch_unwind)]
    pub fn is_complex(&self) -> bool {
        self.inner.is_complex()
    }
}

/// Loads a model file (safetensors + JSON metadata) on the JS thread.
#[napi(catch_unwind)]
pub fn load_model_sync(path: String) -> Result<NativeModel> {
    neumatc::NeuMatC::load(&path).map(NativeModel::from).map_err(to_napi)
}

/// `loadModelSync` on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeModel>")]
pub fn load_model(path: String) -> AsyncTask<EngineTask<neumatc::NeuMatC, NativeModel>> {
    AsyncTask::new(EngineTask::new(move || neumatc::NeuMatC::load(&path), NativeModel::from))
}

/// The JSON metadata of a model file, read without loading its tensors.
#[napi(catch_unwind)]
pub fn read_model_metadata(path: String) -> Result<String> {
    let meta = neumatc::model::read_metadata(&path).map_err(to_napi)?;
    serde_json::to_string(&meta).map_err(|e| napi_internal(napi::Error::from_reason(e.to_string())))
}

impl From<neumatc::NeuMatC> for NativeModel {
    fn from(m: neumatc::NeuMatC) -> Self {
        NativeModel { inner: Arc::new(m) }
    }
}

/// A prediction: its components (buffers moved to JS) and its warnings (extrapolation, ...).
#[napi(object, object_from_js = false)]
pub struct NativePrediction {
    pub components: Vec<NativeComponent>,
    pub warnings: Vec<String>,
}

/// A prediction as the engine made it: real components, or a complex model's components already in
/// complex form (`neumatc::complex::complex_component`, run off the JS thread with the prediction).
pub enum Predicted {
    Real(neumatc::Prediction),
    Complex(Vec<neumatc::complex::ComplexComponent>, Vec<String>),
}

impl From<Predicted> for NativePrediction {
    fn from(p: Predicted) -> Self {
        match p {
            Predicted::Real(p) => NativePrediction { components: p.components.into_iter().map(component).collect(), warnings: p.warnings },
            Predicted::Complex(c, warnings) => NativePrediction { components: c.into_iter().map(complex_component).collect(), warnings },
        }
    }
}

/// Per-parameter residual measures of `check`: `values[i]` belongs to `names[i]`.
#[napi(object, object_from_js = false)]
pub struct NativeCheck {
    pub batch: u32,
    pub names: Vec<String>,
    pub values: Vec<Float64Array>,
    pub warnings: Vec<String>,
}

impl From<neumatc::CheckReport> for NativeCheck {
    fn from(r: neumatc::CheckReport) -> Self {
        let (names, values) = r.measures.into_iter().map(|(n, v)| (n.to_string(), Float64Array::new(v))).unzip();
        NativeCheck { batch: r.batch as u32, names, values, warnings: r.warnings }
    }
}

/// What `refine` returns per parameter.
#[napi(object, object_from_js = false)]
pub struct NativeRefined {
    pub batch: u32,
    pub n: u32,
    pub x: Float64Array,
    pub iterations: Uint32Array,
    pub residual: Float64Array,
    pub fell_back: Vec<bool>,
    pub warnings: Vec<String>,
}

impl From<neumatc::Refined> for NativeRefined {
    fn from(r: neumatc::Refined) -> Self {
        NativeRefined {
            batch: r.batch as u32,
            n: r.n as u32,
            x: Float64Array::new(r.x),
            iterations: Uint32Array::new(r.iterations),
            residual: Float64Array::new(r.residual),
            fell_back: r.fell_back,
            warnings: r.warnings,
        }
    }
}

fn predict_inner(model: &neumatc::NeuMatC, params: &[f64], extrapolate: Option<bool>, device: Option<&str>) -> neumatc::Result<Predicted> {
    let device = device.map(neumatc::DeviceSpec::parse).transpose()?.unwrap_or_default();
    let opts = neumatc::PredictOptions { extrapolate: extrapolate.unwrap_or(false), device };
    let p = model.predict_opts(params, opts, &crate::pool::POOL)?;
    if !model.is_complex() {
        return Ok(Predicted::Real(p));
    }
    let spec = model.spec();
    Ok(Predicted::Complex(p.components.iter().map(|c| neumatc::complex::complex_component(spec, c)).collect(), p.warnings))
}

fn options<T: serde::de::DeserializeOwned>(json: &str, name: &'static str) -> neumatc::Result<T> {
    serde_json::from_str(json).map_err(|e| neumatc::Error::InvalidOption { name, reason: e.to_string() })
}

fn check_inner(
    model: &neumatc::NeuMatC,
    family: Option<Arc<neumatc::Family>>,
    params: &[f64],
    json: &str,
) -> neumatc::Result<neumatc::CheckReport> {
    model.check(family.as_deref(), params, &options(json, "check options")?)
}

fn refine_inner(
    model: &neumatc::NeuMatC,
    family: Option<Arc<neumatc::Family>>,
    params: &[f64],
    b: &[f64],
    json: &str,
) -> neumatc::Result<neumatc::Refined> {
    model.refine(family.as_deref(), params, b, &options(json, "refine options")?)
}
