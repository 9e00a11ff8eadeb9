//! `Φ_θ: R^k → R^d`, the MLP of NeuMatC: hidden layers `σ(ω (x W + b))`, a linear last layer.

use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;

/// Activation of the hidden layers. The paper uses `sin(ω·)`; the others are there for comparison (Table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `sin(ω x)` (default).
    #[default]
    Sine,
    /// `tanh(ω x)`.
    Tanh,
    /// `relu(ω x)`.
    Relu,
    /// `gelu(ω x)`.
    Gelu,
    /// `sigmoid(ω x)`.
    Sigmoid,
}

impl Activation {
    fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Sine => x.sin()?,
            Activation::Tanh => x.tanh()?,
            Activation::Relu => x.relu()?,
            Activation::Gelu => x.gelu_erf()?,
            Activation::Sigmoid => candle_nn::ops::sigmoid(x)?,
        })
    }
}

/// The MLP's weights: `layers[i] = (W_i: in × out, b_i: 1 × out)`; the last layer is linear. The hidden
/// layers' [`Activation`] is the model's (the paper's sine by default).
#[derive(Debug, Clone)]
pub struct Mlp {
    pub(crate) layers: Vec<(Tensor, Tensor)>,
    pub(crate) omega: f64,
    pub(crate) activation: Activation,
}

/// The name this type had while the MLP only ran sines.
#[deprecated(since = "0.1.0", note = "renamed `Mlp` (it runs any `Activation`)")]
pub type SineMlp = Mlp;

impl Mlp {
    /// Random weights, PyTorch's default `U(−1/√fan_in, 1/√fan_in)` for weights and biases, from `seed`.
    /// `widths = [k, hidden.., d]`. Weights are f64 on the CPU (training casts as needed).
    pub fn init(widths: &[usize], omega: f64, activation: Activation, seed: u64) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layers = Vec::with_capacity(widths.len() - 1);
        for w in widths.windows(2) {
            let (fan_in, fan_out) = (w[0], w[1]);
            let bound = 1.0 / (fan_in as f64).sqrt();
            let mut draw = |len: usize| -> Vec<f64> { (0..len).map(|_| rng.random_range(-bound..bound)).collect() };
            let weight = Tensor::from_vec(draw(fan_in * fan_out), (fan_in, fan_out), &Device::Cpu)?;
            let bias = Tensor::from_vec(draw(fan_out), (1, fan_out), &Device::Cpu)?;
            layers.push((weight, bias));
        }
        Ok(Self { layers, omega, activation })
    }

    /// `Φ(x)` for `x: batch × k`. Returns (batch, d).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        forward(&self.layers, self.omega, self.activation, x)
    }

    /// `Φ(x)` on the host in f64, for inference: `x` is `batch × k` row-major; returns `batch × d`
    /// row-major, or `None` for the GELU activation (no f64 `erf` here; the caller uses [`Self::forward`]).
    /// A handful of small products in plain loops and faer: candle's per-op allocations cost ~120 µs
    /// for the default `[1, 64, 64, 64, d]` network at batch 1 (measured), far more than its FLOPs.
    pub(crate) fn forward_host(&self, x: &[f64], batch: usize) -> Result<Option<Vec<f64>>> {
        let act: fn(f64) -> f64 = match self.activation {
            Activation::Sine => f64::sin,
            Activation::Tanh => f64::tanh,
            Activation::Relu => |v| v.max(0.0),
            Activation::Sigmoid => |v| 1.0 / (1.0 + (-v).exp()),
            Activation::Gelu => return Ok(None),
        };
        let mut h = x.to_vec();
        let last = self.layers.len() - 1;
        for (i, (w, b)) in self.layers.iter().enumerate() {
            let (fan_in, fan_out) = w.dims2()?;
            let w = w.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
            let b = b.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
            // Start from the bias in every row, then add h · W.
            let mut next: Vec<f64> = (0..batch).flat_map(|_| b.iter().copied()).collect();
            faer::linalg::matmul::matmul(
                faer::MatMut::from_row_major_slice_mut(&mut next, batch, fan_out),
                faer::Accum::Add,
                faer::MatRef::from_row_major_slice(&h, batch, fan_in),
                faer::MatRef::from_row_major_slice(&w, fan_in, fan_out),
                1.0,
                faer::Par::Seq,
            );
            if i < last {
                next.iter_mut().for_each(|v| *v = act(self.omega * *v));
            }
            h = next;
        }
        Ok(Some(h))
    }

    /// Same network on another device and dtype.
    pub fn to(&self, device: &Device, dtype: DType) -> Result<Self> {
        let layers = self
            .layers
            .iter()
            .map(|(w, b)| Ok((w.to_dtype(dtype)?.to_device(device)?, b.to_dtype(dtype)?.to_device(device)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { layers, ..self.clone() })
    }

    /// Trainable copies of the weights.
    pub fn vars(&self) -> Result<Vec<(Var, Var)>> {
        self.layers.iter().map(|(w, b)| Ok((Var::from_tensor(w)?, Var::from_tensor(b)?))).collect()
    }

    /// Number of scalar weights.
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(|(w, b)| w.elem_count() + b.elem_count()).sum()
    }

    /// Layer widths `[k, hidden.., d]`.
    pub fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.layers.iter().map(|(w, _)| w.dims()[0]).collect();
        w.push(self.layers.last().map_or(0, |(w, _)| w.dims()[1]));
        w
    }
}

/// Hidden layers only: `σ(ω(xW + b))` for every layer given.
pub(crate) fn hidden(layers: &[(Tensor, Tensor)], omega: f64, act: Activation, x: &Tensor) -> Result<Tensor> {
    let mut h = x.clone();
    for (w, b) in layers {
        h = act.apply(&(h.matmul(w)?.broadcast_add(b)? * omega)?)?;
    }
    Ok(h)
}

/// Hidden layers then the linear last one.
pub(crate) fn forward(layers: &[(Tensor, Tensor)], omega: f64, act: Activation, x: &Tensor) -> Result<Tensor> {
    let (last, body) = layers.split_last().expect("an MLP has at least one layer");
    let h = hidden(body, omega, act, x)?;
    Ok(h.matmul(&last.0)?.broadcast_add(&last.1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The host forward used for inference computes the same network as the candle one used in training.
    #[test]
    fn host_forward_matches_candle() {
        let x: Vec<f64> = (0..14).map(|i| -1.0 + i as f64 / 6.5).collect();
        for act in [Activation::Sine, Activation::Tanh, Activation::Relu, Activation::Sigmoid] {
            let mlp = Mlp::init(&[2, 16, 8, 5], 2.0, act, 3).unwrap();
            let host = mlp.forward_host(&x, 7).unwrap().expect("host path for this activation");
            let reference = mlp.forward(&Tensor::from_vec(x.clone(), (7, 2), &Device::Cpu).unwrap()).unwrap();
            let reference = reference.flatten_all().unwrap().to_vec1::<f64>().unwrap();
            assert_eq!(host.len(), reference.len());
            for (h, r) in host.iter().zip(&reference) {
                assert!((h - r).abs() <= 1e-12 * (1.0 + r.abs()), "{act:?}: {h} vs {r}");
            }
        }
        let gelu = Mlp::init(&[2, 4, 3], 2.0, Activation::Gelu, 3).unwrap();
        assert!(gelu.forward_host(&x, 7).unwrap().is_none(), "GELU falls back to candle");
    }
}
