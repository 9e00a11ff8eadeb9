//! Training options. Defaults live here and only here (the TS layer passes `undefined` through).

use crate::device::DeviceSpec;
use crate::error::parse_options;
use crate::error::{Error, Result};
use crate::model::{Activation, Dtype};
use crate::sampling::SamplingConfig;

/// How `C` and `Φ` are fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Default. `C` is the POD basis of the supervised solutions (orthonormal rows); `Φ` is trained with
    /// Adam on eq. (3) written exactly in the basis' coordinates (data term plus the structure residual
    /// at every collocation point as a precomputed quadratic form), and its last layer is solved in
    /// closed form (least squares) at the end.
    #[default]
    Pod,
    /// The paper's plain method: `C` and `Φ` from random values, Adam on both, residual in full.
    Plain,
}

/// How the structure residual `‖R(G(q))‖²` (the inverse's `‖A(q)G(q) − I‖²_F`, and the residual of each
/// other operation) is evaluated at collocation points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StructureLoss {
    /// The whole residual: `O(n³ d)` per collocation point for the `pod` method.
    Full,
    /// Default. An unbiased random-probe sketch `‖(A G − I) Ω‖²_F / k`, `Ω` with `probes` Gaussian
    /// columns: `O(n² d k)` per point. Measured at n = 256 (default options otherwise): held-out
    /// RelErr_inv 1.24e-7 in 4.9 s against 1.11e-7 in 9.1 s for `full`, so it is the default.
    #[default]
    Sketch,
}

/// Options of [`crate::train()`]. JSON names are camelCase; every field is optional.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainConfig {
    /// Latent dimension `d`. Default `None`: from the data — the POD basis of the supervised solutions,
    /// cut where its tail energy falls below `latentTol`, then cut to the smallest `d` whose structure
    /// residual floor at the collocation points is below `accuracy / 10` (the `pod` method).
    pub latent_dim: Option<usize>,
    /// The held-out `RelErr` the automatic latent dimension aims for (it keeps the basis floor ten times
    /// below it). Default 1e-5. Measured at n = 256 (seeds 0–2): 1e-5 → d = 21–24, held-out 7.4e-7,
    /// 0.043 ms/matrix at batch 100; 1e-6 → d = 25–29, 5.5e-8, 0.053 ms/matrix.
    pub accuracy: f64,
    /// Relative tail energy `Σ_{l>d} σ_l² / Σ σ_l²` the automatic `d` must reach. Default 1e-14.
    pub latent_tol: f64,
    /// Hidden layer widths of `Φ`. Default `[64, 64, 64]`.
    pub hidden: Vec<usize>,
    /// Frequency `ω` of the activation `σ(ω·)`. Default 2.0 (measured on the synthetic family with
    /// PyTorch-style initialisation; the paper's 0.05–0.25 assumes another initialisation).
    pub omega: f64,
    /// Hidden activation. Default `sine`.
    pub activation: Activation,
    /// Weight `λ` of the structure loss. Default 1.0.
    pub lambda: f64,
    /// Adam steps `K_max`. Default 2000.
    pub steps: usize,
    /// Adam step size at the start of the cosine schedule. Default 3e-3.
    pub learning_rate: f64,
    /// Final step size as a fraction of `learningRate` (cosine decay). Default 0.01.
    pub final_learning_rate: f64,
    /// Model dtype. Default `f32`. (The `pod` method trains `Φ` in f64 whatever this says.)
    pub dtype: Dtype,
    /// Where to train (`"cpu"`, `"cuda"` or `"cuda:N"` in JSON). Default the CPU.
    pub device: DeviceSpec,
    /// Seed of every random choice. Default 0.
    pub seed: u64,
    /// Fitting method. Default `pod`.
    pub method: Method,
    /// Form of the structure residual. Default `sketch`.
    pub structure_loss: StructureLoss,
    /// Probe columns of the sketched residual (candidate scoring, and `structureLoss: sketch`). Default 8.
    pub probes: usize,
    /// Sampling options.
    pub sampling: SamplingConfig,
    /// Held-out parameters used to measure the report's RelErr (never used in training). Default 20.
    pub validation: usize,
    /// Condition number above which training refuses the family (`ILL_CONDITIONED`). Default 1e12.
    pub max_condition: f64,
    /// Condition number above which training warns. Default 1e4.
    pub warn_condition: f64,
    /// Rank `r` of a truncated SVD (`svd` only). Default `None`: the thin SVD, `r = min(rows, cols)`.
    pub rank: Option<usize>,
    /// The fixed right-hand side `b` of `solve` (`solve` only, required there), `n` values.
    pub rhs: Option<Vec<f64>>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            latent_dim: None,
            accuracy: 1e-5,
            latent_tol: 1e-14,
            hidden: vec![64, 64, 64],
            omega: 2.0,
            activation: Activation::Sine,
            lambda: 1.0,
            steps: 2000,
            learning_rate: 3e-3,
            final_learning_rate: 0.01,
            dtype: Dtype::F32,
            device: DeviceSpec::Cpu,
            seed: 0,
            method: Method::Pod,
            structure_loss: StructureLoss::Sketch,
            probes: 8,
            sampling: SamplingConfig::default(),
            validation: 20,
            max_condition: 1e12,
            warn_condition: 1e4,
            rank: None,
            rhs: None,
        }
    }
}

impl TrainConfig {
    /// Parses a JSON object of options; absent fields keep their defaults, unknown fields are errors.
    ///
    /// ```
    /// let cfg = neumatc::TrainConfig::from_json(r#"{"steps": 10, "sampling": {"supervised": 8}}"#).unwrap();
    /// assert_eq!((cfg.steps, cfg.sampling.supervised, cfg.lambda), (10, 8, 1.0));
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: Self = parse_options("options", json)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Range checks on every option.
    pub fn validate(&self) -> Result<()> {
        let positive = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 { Ok(()) } else { Err(Error::option(name, format!("must be a positive number, got {v}"))) }
        };
        positive("omega", self.omega)?;
        positive("learningRate", self.learning_rate)?;
        positive("latentTol", self.latent_tol)?;
        positive("accuracy", self.accuracy)?;
        positive("maxCondition", self.max_condition)?;
        positive("warnCondition", self.warn_condition)?;
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(Error::option("lambda", format!("must be a finite number ≥ 0, got {}", self.lambda)));
        }
        if !(self.final_learning_rate.is_finite() && self.final_learning_rate > 0.0 && self.final_learning_rate <= 1.0) {
            return Err(Error::option("finalLearningRate", format!("must be in (0, 1], got {}", self.final_learning_rate)));
        }
        if self.latent_dim == Some(0) {
            return Err(Error::option("latentDim", "must be at least 1"));
        }
        if self.hidden.is_empty() || self.hidden.iter().any(|&w| w == 0 || w > 4096) {
            return Err(Error::option("hidden", format!("needs 1 or more widths in 1..=4096, got {:?}", self.hidden)));
        }
        if self.probes == 0 || self.probes > 1024 {
            return Err(Error::option("probes", format!("must be in 1..=1024, got {}", self.probes)));
        }
        if self.steps > 10_000_000 {
            return Err(Error::option("steps", format!("must be at most 1e7, got {}", self.steps)));
        }
        self.sampling.validate()
    }

    /// Step size at `step` of the cosine schedule.
    pub(crate) fn learning_rate_at(&self, step: usize) -> f64 {
        let t = if self.steps > 1 { step as f64 / (self.steps - 1) as f64 } else { 1.0 };
        let lo = self.learning_rate * self.final_learning_rate;
        lo + 0.5 * (self.learning_rate - lo) * (1.0 + (std::f64::consts::PI * t).cos())
    }
}
