//! The trained NeuMatC model: `G(p) = Φ_θ(p) · C` per result component.

mod check;
mod complex;
mod io;
mod mlp;
mod report;
mod resident;

use candle_core::{DType, Device, Tensor};
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

pub use check::{CheckOptions, CheckReport, RefineConfig, Refined};
pub use complex::{ComplexComponent, complex_component};
pub use io::{FORMAT_VERSION, read_metadata};
#[allow(deprecated)]
pub use mlp::SineMlp;
pub use mlp::{Activation, Mlp};
pub(crate) use mlp::{forward as mlp_forward, hidden as mlp_hidden};
pub use report::TrainReport;
pub use resident::{DeviceModel, DevicePrediction};

use crate::device::DeviceSpec;
use crate::domain::Domain;
use crate::error::Result;
use crate::family::Family;
use crate::matrix::{BufferSource, FloatVec, FreshBuffers, Recycler};
use crate::op::{OpSpec, Operation};

/// Floating-point type of a model's weights and predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 32-bit (default): half the memory traffic of f64 at inference.
    #[default]
    F32,
    /// 64-bit.
    F64,
}

impl Dtype {
    /// The candle dtype.
    pub fn candle(self) -> DType {
        match self {
            Dtype::F32 => DType::F32,
            Dtype::F64 => DType::F64,
        }
    }

    /// `"f32"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }

    /// Bytes per value.
    pub fn bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// The values of one predicted component, in the model's dtype.
pub type ComponentData = FloatVec;

/// One predicted result component: (batch, rows, cols) row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Component name (`"inverse"`, ...).
    pub name: &'static str,
    /// Number of parameters predicted.
    pub batch: usize,
    /// Rows per matrix.
    pub rows: usize,
    /// Columns per matrix.
    pub cols: usize,
    /// `batch * rows * cols` values.
    pub data: ComponentData,
}

/// Every component the operation produces, in [`Operation::components`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The components.
    pub components: Vec<Component>,
    /// Notes about this prediction (parameters extrapolated outside the trained domain, ...).
    pub warnings: Vec<String>,
}

impl Prediction {
    /// Hands the component buffers to `recycler` for the next prediction to write into.
    pub fn recycle(self, recycler: &Recycler) {
        for c in self.components {
            match c.data {
                ComponentData::F32(v) => recycler.give_back_f32(v),
                ComponentData::F64(v) => recycler.give_back_f64(v),
            }
        }
    }
}

/// Options of [`NeuMatC::predict_opts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PredictOptions {
    /// Allow parameters outside the trained domain (default false: they are an `OUT_OF_DOMAIN` error).
    /// The model was never fitted there and its error is unknown: the prediction carries a warning.
    pub extrapolate: bool,
    /// Where to compute (default the CPU). Another device uploads `Φ` and `C` for this call and copies the
    /// result back; to predict many batches on a GPU, upload once with [`NeuMatC::to_device`].
    pub device: DeviceSpec,
}

impl Prediction {
    /// The component called `name`.
    pub fn get(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// Every component of every parameter widened to f64, as joint results: for each parameter its
    /// components concatenated in order (the layout of [`crate::op::OpSpec::exact`]).
    pub fn joint_f64(&self) -> Vec<f64> {
        let batch = self.components.first().map_or(0, |c| c.batch);
        let wide: Vec<Vec<f64>> = self.components.iter().map(|c| c.data.to_f64()).collect();
        let mut out = Vec::with_capacity(wide.iter().map(Vec::len).sum());
        for i in 0..batch {
            for (c, w) in self.components.iter().zip(&wide) {
                let m = c.rows * c.cols;
                out.extend_from_slice(&w[i * m..(i + 1) * m]);
            }
        }
        out
    }
}

/// A trained NeuMatC model. Read-only; cheap to share across threads.
#[derive(Debug, Clone)]
pub struct NeuMatC {
    /// The operation with its settings (shape, SVD rank, right-hand side).
    pub(crate) spec: OpSpec,
    pub(crate) domain: Domain,
    pub(crate) shapes: Vec<(usize, usize)>,
    pub(crate) latent_dim: usize,
    /// `Φ` in the model's dtype, on the CPU.
    pub(crate) mlp: Mlp,
    /// One latent tensor per component.
    pub(crate) latent: Vec<FloatVec>,
    pub(crate) dtype: Dtype,
    pub(crate) device: DeviceSpec,
    pub(crate) report: TrainReport,
    /// The family the model was trained on, when it can be rebuilt (the built-in generators; `None` for
    /// the user's samples after a load): [`NeuMatC::check`] and [`NeuMatC::refine`] evaluate `A(p)` with it.
    pub(crate) family: Option<Family>,
    /// [`Family::describe`] of the training family (kept in model files).
    pub(crate) family_info: serde_json::Value,
}

impl NeuMatC {
    /// The learned operation.
    pub fn operation(&self) -> Operation {
        self.spec.op
    }

    /// The operation with its settings (shape, SVD rank, `solve`'s right-hand side).
    pub fn spec(&self) -> &OpSpec {
        &self.spec
    }

    /// Whether the model was trained on complex matrices (its results are embedded: read them with
    /// [`crate::model::complex::complex_component`]).
    pub fn is_complex(&self) -> bool {
        self.spec.complex
    }

    /// Length of one parameter vector.
    pub fn param_dim(&self) -> usize {
        self.domain.dim()
    }

    /// The parameter box the model was trained on.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Layer widths of `Φ`, input first, `d` last (`[k, 64, 64, 64, d]` by default).
    pub fn mlp_widths(&self) -> Vec<usize> {
        self.mlp.widths()
    }

    /// Latent dimension `d`.
    pub fn latent_dim(&self) -> usize {
        self.latent_dim
    }

    /// `"f32"` or `"f64"`.
    pub fn dtype_name(&self) -> &'static str {
        self.dtype.name()
    }

    /// The model's dtype.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The device the model was trained for.
    pub fn device(&self) -> DeviceSpec {
        self.device
    }

    /// What training measured.
    pub fn report(&self) -> &TrainReport {
        &self.report
    }

    /// Shapes (rows, cols) of the result components.
    pub fn shapes(&self) -> &[(usize, usize)] {
        &self.shapes
    }

    /// The family the model was trained on, if it is known (see [`NeuMatC::check`]).
    pub fn family(&self) -> Option<&Family> {
        self.family.as_ref()
    }

    /// The JSON description of the training family ([`Family::describe`]).
    pub fn family_info(&self) -> &serde_json::Value {
        &self.family_info
    }

    /// The family to evaluate `A(p)` with: `given` (checked against the model's shape and parameter
    /// dimension) or the training family.
    pub(crate) fn family_for<'a>(&'a self, given: Option<&'a Family>, op: &'static str) -> Result<&'a Family> {
        match given.or(self.family.as_ref()) {
            Some(f) => {
                if (f.rows(), f.cols()) != (self.spec.rows, self.spec.cols) {
                    return Err(crate::error::Error::ShapeMismatch {
                        op,
                        expected: vec![self.spec.rows, self.spec.cols],
                        got: vec![f.rows(), f.cols()],
                    });
                }
                if f.param_dim() != self.param_dim() {
                    return Err(crate::error::Error::option(
                        "family",
                        format!("has {} parameter dimensions, the model {}", f.param_dim(), self.param_dim()),
                    ));
                }
                Ok(f)
            }
            None => Err(crate::error::Error::option(
                "family",
                format!(
                    "{op} needs A(p): this model was trained on {} and does not carry it; pass the family",
                    self.family_info.get("kind").and_then(|k| k.as_str()).unwrap_or("an unknown family")
                ),
            )),
        }
    }

    /// Checks `params` against the domain (outside points are an error unless `extrapolate`); returns the
    /// batch size and the warning to attach when some parameters lie outside.
    pub(crate) fn check_params(&self, params: &[f64], extrapolate: bool) -> Result<(usize, Option<String>)> {
        let (batch, outside) = self.domain.check_extrapolate(params, extrapolate)?;
        let warning = (outside > 0).then(|| {
            format!(
                "{outside} of {batch} parameters lie outside the trained domain [{:?}, {:?}]: the model was never fitted there \
                 and its error is unknown (check the answer with `check`)",
                self.domain.lo, self.domain.hi
            )
        });
        Ok((batch, warning))
    }

    /// `Φ(p)` for a batch of parameters (already checked against the domain). Returns `batch × d`.
    pub(crate) fn coefficients(&self, params: &[f64]) -> Result<Tensor> {
        let k = self.domain.dim();
        let x = self.domain.normalize(params);
        let batch = params.len() / k;
        if let Some(phi) = self.mlp.forward_host(&x, batch)? {
            return Ok(Tensor::from_vec(phi, (batch, self.latent_dim), &Device::Cpu)?.to_dtype(self.dtype.candle())?);
        }
        let x = Tensor::from_vec(x, (batch, k), &Device::Cpu)?.to_dtype(self.dtype.candle())?;
        self.mlp.forward(&x)
    }

    /// Predicts every result component at a batch of parameters (`params.len() = batch · param_dim`).
    ///
    /// Runs the MLP and one GEMM `Φ(P) · C` per component, writing straight into the returned buffer.
    pub fn predict(&self, params: &[f64]) -> Result<Prediction> {
        self.predict_with(params, &FreshBuffers)
    }

    /// [`NeuMatC::predict`] writing into buffers taken from `buffers`.
    pub fn predict_with(&self, params: &[f64], buffers: &dyn BufferSource) -> Result<Prediction> {
        self.predict_opts(params, PredictOptions::default(), buffers)
    }

    /// [`NeuMatC::predict_with`] with options (extrapolation outside the trained domain).
    pub fn predict_opts(&self, params: &[f64], opts: PredictOptions, buffers: &dyn BufferSource) -> Result<Prediction> {
        if opts.device != DeviceSpec::Cpu {
            return self.to_device(opts.device)?.predict(params, opts);
        }
        let (batch, warning) = self.check_params(params, opts.extrapolate)?;
        let out_len = self.shapes.iter().map(|&(r, c)| r * c).sum::<usize>();
        crate::matrix::check_alloc("prediction", batch, out_len, self.dtype.bytes())?;
        let phi = self.coefficients(params)?;
        let d = self.latent_dim;
        let mut components = Vec::with_capacity(self.shapes.len());
        for ((&(rows, cols), latent), &name) in self.shapes.iter().zip(&self.latent).zip(self.spec.op.components()) {
            let m = rows * cols;
            let data = match latent {
                FloatVec::F32(c) => {
                    let mut out = buffers.take_f32(batch * m);
                    gemm(&phi.flatten_all()?.to_vec1::<f32>()?, c, batch, d, m, &mut out);
                    ComponentData::F32(out)
                }
                FloatVec::F64(c) => {
                    let mut out = buffers.take_f64(batch * m);
                    gemm(&phi.flatten_all()?.to_vec1::<f64>()?, c, batch, d, m, &mut out);
                    ComponentData::F64(out)
                }
            };
            components.push(Component { name, batch, rows, cols, data });
        }
        Ok(Prediction { components, warnings: warning.into_iter().collect() })
    }
}

impl NeuMatC {
    /// `Ĝ(p) b` for an inverse model without forming `Ĝ(p)`: `C` is contracted with `b` once
    /// (`d × n`), then each parameter costs `O(d n)`. `b` holds `n` values (one right-hand side for every
    /// parameter). Returns (batch, n, 1) in the model's dtype.
    pub fn apply(&self, params: &[f64], b: &[f64]) -> Result<Component> {
        if self.spec.op != Operation::Inverse {
            return Err(crate::error::Error::option(
                "apply",
                format!("needs an `inverse` model, this one learned `{}`", self.spec.op.name()),
            ));
        }
        if self.spec.complex {
            return Err(crate::error::Error::option("apply", "is not available for complex models yet (predict the inverse and multiply)"));
        }
        let n = self.shapes[0].0;
        if b.len() != n {
            return Err(crate::error::Error::ShapeMismatch { op: "apply", expected: vec![n], got: vec![b.len()] });
        }
        crate::matrix::check_finite("apply b", b)?;
        let batch = self.domain.check(params)?;
        let phi = self.coefficients(params)?;
        let d = self.latent_dim;
        let data = match &self.latent[0] {
            FloatVec::F32(c) => {
                let bf: Vec<f32> = b.iter().map(|&v| v as f32).collect();
                let mut cb = vec![0f32; d * n];
                gemm(c, &bf, d * n, n, 1, &mut cb);
                let mut out = vec![0f32; batch * n];
                gemm(&phi.flatten_all()?.to_vec1::<f32>()?, &cb, batch, d, n, &mut out);
                ComponentData::F32(out)
            }
            FloatVec::F64(c) => {
                let mut cb = vec![0f64; d * n];
                gemm(c, b, d * n, n, 1, &mut cb);
                let mut out = vec![0f64; batch * n];
                gemm(&phi.flatten_all()?.to_vec1::<f64>()?, &cb, batch, d, n, &mut out);
                ComponentData::F64(out)
            }
        };
        Ok(Component { name: "x", batch, rows: n, cols: 1, data })
    }
}

/// Columns of `C` per parallel block of the prediction GEMM (measured flat from 2048 to 16384).
const GEMM_COLUMN_BLOCK: usize = 4096;

/// `out = phi (batch × d) · c (d × m)`, all row-major; every value of `out` is overwritten. This is the
/// product every prediction ends with (`Φ(P) · C`), public so benchmarks time the engine's own kernel.
///
/// ```
/// let (phi, c) = ([1.0f32, 2.0], [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0]); // 1 × 2 times 2 × 3
/// let mut out = [0.0f32; 3];
/// neumatc::model::gemm(&phi, &c, 1, 2, 3, &mut out);
/// assert_eq!(out, [3.0, 2.0, 2.0]);
/// ```
pub fn gemm<T: faer::traits::ComplexField + Copy>(phi: &[T], c: &[T], batch: usize, d: usize, m: usize, out: &mut [T]) {
    assert_eq!(out.len(), batch * m, "result buffer of the wrong length");
    if batch == 0 {
        return;
    }
    let lhs = MatRef::from_row_major_slice(phi, batch, d);
    let rhs = MatRef::from_row_major_slice(c, d, m);
    let dst = MatMut::from_row_major_slice_mut(out, batch, m);
    if batch * d * m < 1 << 18 || rayon::current_num_threads() == 1 {
        faer::linalg::matmul::matmul(dst, Accum::Replace, lhs, rhs, T::one_impl(), Par::Seq);
        return;
    }
    // The inner dimension d is small (tens), so this product is bound by writing `out`, not by FLOPs.
    // Splitting the columns into blocks, each one sequential GEMM on one thread, keeps a block of `C`
    // (d × 4096) and of `out` in that core's cache while all the batch's rows are written; faer's own
    // parallel split of this shape was measured 1.9× slower (100 × 24 × 1024², 2 cores).
    // The block count is a multiple of the thread count, so small outputs (a 20k-value SVD, a 10⁴-entry
    // solve) split evenly instead of leaving one thread a block behind.
    let threads = rayon::current_num_threads();
    let blocks = threads * m.div_ceil(threads * GEMM_COLUMN_BLOCK);
    let width = m.div_ceil(blocks).next_multiple_of(16).min(GEMM_COLUMN_BLOCK);
    dst.par_col_chunks_mut(width).enumerate().for_each(|(j, block)| {
        let cols = block.ncols();
        let rhs = rhs.subcols(j * width, cols);
        faer::linalg::matmul::matmul(block, Accum::Replace, lhs, rhs, T::one_impl(), Par::Seq);
    });
}
