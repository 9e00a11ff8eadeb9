//! The parameter box `[lo, hi] ⊂ R^k` that families, models and samplers share: membership checks and the
//! map to `[-1, 1]^k` the MLP reads.

use crate::error::{Error, Result};
use crate::matrix::param_batch;

/// The box `[lo_i, hi_i]` a family's (and a model's) parameters live in.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Domain {
    /// Lower bound per parameter dimension.
    pub lo: Vec<f64>,
    /// Upper bound per parameter dimension.
    pub hi: Vec<f64>,
}

impl Domain {
    /// The unit box `[0, 1]^k`.
    pub fn unit(k: usize) -> Self {
        Self { lo: vec![0.0; k], hi: vec![1.0; k] }
    }

    /// Number of parameter dimensions.
    pub fn dim(&self) -> usize {
        self.lo.len()
    }

    /// Checks length, finiteness and that every parameter lies in the box (with a relative slack of 1e-9).
    /// Returns the batch size.
    pub fn check(&self, params: &[f64]) -> Result<usize> {
        self.check_extrapolate(params, false).map(|(batch, _)| batch)
    }

    /// [`Domain::check`], but with `extrapolate` parameters outside the box are allowed and counted.
    /// Returns the batch size and the number of parameters outside.
    pub fn check_extrapolate(&self, params: &[f64], extrapolate: bool) -> Result<(usize, usize)> {
        let k = self.dim();
        let batch = param_batch(params, k)?;
        let mut count = 0;
        for (i, p) in params.chunks_exact(k).enumerate() {
            let outside = p.iter().zip(self.lo.iter().zip(&self.hi)).any(|(&x, (&lo, &hi))| {
                let slack = 1e-9 * (hi - lo).abs().max(1e-300);
                x < lo - slack || x > hi + slack
            });
            if outside && !extrapolate {
                return Err(Error::OutOfDomain { index: i, p: p.to_vec(), lo: self.lo.clone(), hi: self.hi.clone() });
            }
            count += usize::from(outside);
        }
        Ok((batch, count))
    }

    /// Maps parameters to `[-1, 1]^k`, the input range of the MLP. Returns `batch * k` values.
    pub fn normalize(&self, params: &[f64]) -> Vec<f64> {
        let k = self.dim();
        params
            .chunks_exact(k)
            .flat_map(|p| {
                p.iter().zip(self.lo.iter().zip(&self.hi)).map(
                    |(&x, (&lo, &hi))| {
                        if hi > lo { 2.0 * (x - lo) / (hi - lo) - 1.0 } else { 0.0 }
                    },
                )
            })
            .collect()
    }
}
