//! A model's weights resident on a device (`cuda:N`, or the CPU through candle): inference without
//! host round-trips. The MLP runs as candle ops and every component is one `Φ(P) · C` matmul (cuBLAS on
//! CUDA); results stay on the device until [`DeviceModel::predict`] copies them back.

use candle_core::{Device, Tensor};

use super::{Component, ComponentData, Dtype, Mlp, NeuMatC, PredictOptions, Prediction};
use crate::device::DeviceSpec;
use crate::error::Result;
use crate::matrix::FloatVec;

/// A [`NeuMatC`] model with `Φ` and every latent tensor `C` uploaded to one device.
///
/// Build it once ([`NeuMatC::to_device`]) and predict many batches: the upload of `C` (`d × rows·cols`
/// per component) is paid once. Keep it on the thread that made it (CUDA contexts are per thread).
#[derive(Debug)]
pub struct DeviceModel {
    /// The host model's description: everything but the latent tensors, which live only on the device
    /// (a model at n = 4096 holds gigabytes of `C`: no second host copy).
    model: NeuMatC,
    spec: DeviceSpec,
    device: Device,
    mlp: Mlp,
    /// One `d × rows·cols` tensor per component, in the model's dtype.
    latent: Vec<Tensor>,
}

/// Predicted components still on the device: one `(batch, rows·cols)` tensor per component, in
/// [`crate::op::Operation::components`] order.
#[derive(Debug)]
pub struct DevicePrediction {
    /// The tensors.
    pub tensors: Vec<Tensor>,
    /// Notes about this prediction (extrapolated parameters, ...).
    pub warnings: Vec<String>,
}

impl NeuMatC {
    /// Uploads the model to `spec` ([`crate::error::Error::DeviceUnavailable`] without CUDA support or hardware).
    /// A model trained on one device runs on any other: the weights are plain host arrays until here.
    pub fn to_device(&self, spec: DeviceSpec) -> Result<DeviceModel> {
        let device = spec.device()?;
        // Φ runs in f64 whatever the model's dtype, as on the host: the coefficients carry the output
        // scaling and cancel in `Φ·C`, so an f32 MLP costs accuracy (measured 2.8e-5 relative on a small
        // inverse model, against 1e-7 from the f32 GEMM alone); its FLOPs are negligible next to the GEMM.
        let mlp = self.mlp.to(&device, candle_core::DType::F64)?;
        let latent = self
            .latent
            .iter()
            .zip(&self.shapes)
            .map(|(c, &(rows, cols))| {
                let shape = (self.latent_dim, rows * cols);
                Ok(match c {
                    FloatVec::F32(v) => Tensor::from_slice(v, shape, &device)?,
                    FloatVec::F64(v) => Tensor::from_slice(v, shape, &device)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let model = NeuMatC {
            spec: self.spec.clone(),
            domain: self.domain.clone(),
            shapes: self.shapes.clone(),
            latent_dim: self.latent_dim,
            mlp: self.mlp.clone(),
            latent: Vec::new(),
            dtype: self.dtype,
            device: self.device,
            report: self.report.clone(),
            family: self.family.clone(),
            family_info: self.family_info.clone(),
        };
        Ok(DeviceModel { model, spec, device, mlp, latent })
    }
}

impl DeviceModel {
    /// The device the weights live on.
    pub fn device_spec(&self) -> DeviceSpec {
        self.spec
    }

    /// The candle device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The operation with its settings (the metrics take it).
    pub fn spec(&self) -> &crate::op::OpSpec {
        &self.model.spec
    }

    /// Shapes (rows, cols) of the result components.
    pub fn shapes(&self) -> &[(usize, usize)] {
        &self.model.shapes
    }

    /// Latent dimension `d`.
    pub fn latent_dim(&self) -> usize {
        self.model.latent_dim
    }

    /// The dtype of the latent tensors and of the results.
    pub fn dtype(&self) -> Dtype {
        self.model.dtype
    }

    /// Bytes of weights resident on the device (`Φ` and every `C`).
    pub fn resident_bytes(&self) -> usize {
        8 * self.mlp.parameter_count() + self.model.dtype.bytes() * self.latent.iter().map(Tensor::elem_count).sum::<usize>()
    }

    /// `Φ(P)` on the device, `batch × d`, in the model's dtype.
    pub fn coefficients(&self, params: &[f64]) -> Result<Tensor> {
        let k = self.model.domain.dim();
        let x = self.model.domain.normalize(params);
        let batch = params.len() / k;
        let x = Tensor::from_vec(x, (batch, k), &self.device)?;
        Ok(self.mlp.forward(&x)?.to_dtype(self.model.dtype.candle())?)
    }

    /// Every component at a batch of parameters, left on the device (no synchronisation: reading a
    /// tensor, or [`DeviceModel::synchronize`], waits for the work).
    pub fn predict_resident(&self, params: &[f64], opts: PredictOptions) -> Result<DevicePrediction> {
        let (batch, warning) = self.model.check_params(params, opts.extrapolate)?;
        let out_len = self.model.shapes.iter().map(|&(r, c)| r * c).sum::<usize>();
        crate::matrix::check_alloc("prediction", batch, out_len, self.model.dtype.bytes())?;
        let phi = self.coefficients(params)?;
        let tensors = self.latent.iter().map(|c| Ok(phi.matmul(c)?)).collect::<Result<Vec<_>>>()?;
        Ok(DevicePrediction { tensors, warnings: warning.into_iter().collect() })
    }

    /// Waits until every queued operation on the device has finished.
    pub fn synchronize(&self) -> Result<()> {
        Ok(self.device.synchronize()?)
    }

    /// [`DeviceModel::predict_resident`] copied back to host memory, in the layout of [`NeuMatC::predict`].
    pub fn predict(&self, params: &[f64], opts: PredictOptions) -> Result<Prediction> {
        let DevicePrediction { tensors, warnings } = self.predict_resident(params, opts)?;
        let batch = params.len() / self.model.domain.dim();
        let components = tensors
            .iter()
            .zip(&self.model.shapes)
            .zip(self.model.spec.op.components())
            .map(|((t, &(rows, cols)), &name)| {
                let t = t.flatten_all()?;
                let data = match self.model.dtype {
                    Dtype::F32 => ComponentData::F32(t.to_vec1::<f32>()?),
                    Dtype::F64 => ComponentData::F64(t.to_vec1::<f64>()?),
                };
                Ok(Component { name, batch, rows, cols, data })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Prediction { components, warnings })
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::family::{Family, SyntheticConfig};
    use crate::op::Operation;
    use crate::train::TrainConfig;

    fn model(dtype: &str, op: Operation) -> NeuMatC {
        let fam = Family::synthetic(SyntheticConfig { n: 12, rank: 3, ..Default::default() }).unwrap();
        let rank = if op == Operation::Svd { r#""rank": 3,"# } else { "" };
        let cfg = TrainConfig::from_json(&format!(
            r#"{{"steps": 60, "dtype": "{dtype}", {rank} "sampling": {{"supervised": 12, "collocation": 12, "candidates": 24}}}}"#
        ))
        .unwrap();
        crate::train(&fam, op, &cfg).unwrap()
    }

    #[test]
    fn resident_prediction_matches_the_host_path() {
        let params = [0.05, 0.4, 0.77, 0.99];
        for (dtype, tol) in [("f32", 1e-5), ("f64", 1e-9)] {
            for op in [Operation::Inverse, Operation::Svd] {
                let m = model(dtype, op);
                let host = m.predict(&params).unwrap();
                let dev = m.to_device(DeviceSpec::Cpu).unwrap().predict(&params, PredictOptions::default()).unwrap();
                assert_eq!(host.components.len(), dev.components.len());
                for (a, b) in host.components.iter().zip(&dev.components) {
                    assert_eq!((a.name, a.batch, a.rows, a.cols), (b.name, b.batch, b.rows, b.cols));
                    let (a, b) = (a.data.to_f64(), b.data.to_f64());
                    let scale = a.iter().fold(0f64, |s, v| s.max(v.abs()));
                    let worst = a.iter().zip(&b).fold(0f64, |s, (x, y)| s.max((x - y).abs()));
                    assert!(worst <= tol * scale, "{dtype} {op:?}: {worst} vs scale {scale}");
                }
            }
        }
    }

    #[test]
    fn resident_prediction_checks_the_domain_and_reports_bytes() {
        let m = model("f32", Operation::Inverse);
        let dm = m.to_device(DeviceSpec::Cpu).unwrap();
        assert_eq!(dm.predict(&[1.5], PredictOptions::default()).unwrap_err().code(), "OUT_OF_DOMAIN");
        let out = dm.predict(&[1.5], PredictOptions { extrapolate: true, ..Default::default() }).unwrap();
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(dm.resident_bytes(), 8 * m.mlp.parameter_count() + 4 * m.latent_dim() * 144);
    }

    #[test]
    #[cfg(not(feature = "cuda"))]
    fn cuda_without_the_feature_is_device_unavailable() {
        let m = model("f32", Operation::Inverse);
        assert_eq!(m.to_device(DeviceSpec::Cuda(0)).unwrap_err().code(), "DEVICE_UNAVAILABLE");
        let opts = PredictOptions { device: DeviceSpec::Cuda(0), ..Default::default() };
        assert_eq!(m.predict_opts(&[0.5], opts, &crate::matrix::FreshBuffers).unwrap_err().code(), "DEVICE_UNAVAILABLE");
    }
}
