//! A-posteriori checks of a model's answers and iterative refinement of its inverse (being written).

/// Options of [`super::NeuMatC::check`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckOptions {
    /// `None` (default): exact residual norms (`O(n³)` per parameter, one GEMM). `Some(k)`: unbiased
    /// Gaussian-probe estimates with `k` probe columns (`O(k n²)` per parameter).
    pub probes: Option<usize>,
    /// Allow parameters outside the trained domain.
    pub extrapolate: bool,
}

/// Per-parameter residual measures of [`super::NeuMatC::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Number of parameters checked.
    pub batch: usize,
    /// Named measures, each with one value per parameter.
    pub measures: Vec<(&'static str, Vec<f64>)>,
    /// Notes (extrapolated parameters, ...).
    pub warnings: Vec<String>,
}

/// Options of [`super::NeuMatC::refine`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct RefineConfig {
    /// Target relative residual `‖b − A x‖₂ / ‖b‖₂`. Default 1e-12.
    pub tol: f64,
    /// Most refinement iterations before falling back to the exact solver. Default 30.
    pub max_iter: usize,
    /// Allow parameters outside the trained domain.
    pub extrapolate: bool,
}

impl Default for RefineConfig {
    fn default() -> Self {
        Self { tol: 1e-12, max_iter: 30, extrapolate: false }
    }
}

/// What [`super::NeuMatC::refine`] returns, per parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Refined {
    /// Number of parameters.
    pub batch: usize,
    /// Length `n` of each solution.
    pub n: usize,
    /// `batch × n` solutions (f64).
    pub x: Vec<f64>,
    /// Refinement iterations used per parameter.
    pub iterations: Vec<u32>,
    /// Final relative residual `‖b − A x‖₂ / ‖b‖₂` per parameter.
    pub residual: Vec<f64>,
    /// Whether the exact solver was used (the learned inverse was not a contraction there, or the
    /// tolerance was not reached within `max_iter`).
    pub fell_back: Vec<bool>,
    /// Notes (extrapolated parameters, ...).
    pub warnings: Vec<String>,
}
