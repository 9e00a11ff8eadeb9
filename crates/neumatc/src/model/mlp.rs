//! `Φ_θ: R^k → R^d`, the MLP of NeuMatC: hidden layers `σ(ω (x W + b))`, a linear last layer.

use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Result;

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

/// The MLP's weights: `layers[i] = (W_i: in × out, b_i: 1 × out)`; the last layer is linear.
#[derive(Debug, Clone)]
pub struct SineMlp {
    pub(crate) layers: Vec<(Tensor, Tensor)>,
    pub(crate) omega: f64,
    pub(crate) activation: Activation,
}

impl SineMlp {
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
