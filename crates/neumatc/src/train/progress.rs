//! The progress events a training run sends on the way, and its phases.

/// A phase of a training run, in the order a run goes through them (`Basis`/`Collocation` once per
/// basis refinement, `Refine` at each adaptive-sampling round of `Optimize`). Serialised in lowercase, the
/// strings the TypeScript API shows (`'sampling'`, `'exact'`, …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Choosing the supervised samples and the collocation and candidate points.
    #[default]
    Sampling,
    /// Exact solves at the supervised samples (ground truth, f64).
    Exact,
    /// Building the basis `C` (and refining it with exact solves where it is too coarse).
    Basis,
    /// Building the structure terms at the collocation points.
    Collocation,
    /// Adam on eq. (3).
    Optimize,
    /// A failure-informed refinement of the collocation set (Algorithm 1).
    Refine,
    /// Measuring the model on held-out parameters.
    Validate,
    /// Finished.
    Done,
}

impl Phase {
    /// The phase's name as the TypeScript API and the CLI show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Sampling => "sampling",
            Phase::Exact => "exact",
            Phase::Basis => "basis",
            Phase::Collocation => "collocation",
            Phase::Optimize => "optimize",
            Phase::Refine => "refine",
            Phase::Validate => "validate",
            Phase::Done => "done",
        }
    }
}

/// `phase == "optimize"`: compares with the name the TypeScript API shows.
impl PartialEq<&str> for Phase {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A progress event. Sent at phase changes, refinements and at most every ~100 ms while optimising.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The phase the run is in.
    pub phase: Phase,
    /// Adam steps done.
    pub step: usize,
    /// Adam steps planned.
    pub steps: usize,
    /// Total loss (data + λ·structure).
    pub loss: f64,
    /// Data-fidelity term: mean `‖Ĝ(p_j) − G(p_j)‖²_F` over the supervised samples.
    pub data_loss: f64,
    /// Structure term: mean squared structure residual `‖R(Ĝ(q))‖²` over the collocation points (`A(q)Ĝ(q) − I`
    /// for the inverse, `A(q)x̂ − b` for a solve, the factorisation identities for the decompositions; see
    /// `op::residual`).
    pub structure_loss: f64,
    /// Last failure probability `P̂_F` (adaptive sampling), if one was estimated.
    pub failure_prob: Option<f64>,
    /// Current number of collocation points.
    pub collocation: usize,
    /// Seconds since training started.
    pub elapsed: f64,
    /// A warning or note, if any.
    pub message: Option<String>,
}
