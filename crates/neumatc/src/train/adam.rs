//! The optimizer both methods use: plain Adam on `Φ` (and, for the plain method, `C`).

use candle_core::{Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::config::TrainConfig;
use crate::error::Result;

/// Plain Adam on `params`: candle-nn's `AdamW` with `weight_decay` 0 (its default of 0.01 is not Adam),
/// β = (0.9, 0.999), ε = 1e-8, starting at `learningRate` (the schedule lowers it step by step).
pub(super) fn adam(params: Vec<Var>, cfg: &TrainConfig) -> Result<AdamW> {
    let params_adam = ParamsAdamW { lr: cfg.learning_rate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 };
    Ok(AdamW::new(params, params_adam)?)
}

/// `Φ`'s trainable layers as the flat list the optimizer takes (weights, then bias, layer by layer).
pub(super) fn flat(vars: &[(Var, Var)]) -> Vec<Var> {
    vars.iter().flat_map(|(w, b)| [w.clone(), b.clone()]).collect()
}

/// The current tensors of `Φ`'s trainable layers, for a forward pass.
pub(super) fn layer_tensors(vars: &[(Var, Var)]) -> Vec<(Tensor, Tensor)> {
    vars.iter().map(|(w, b)| (w.as_tensor().clone(), b.as_tensor().clone())).collect()
}
