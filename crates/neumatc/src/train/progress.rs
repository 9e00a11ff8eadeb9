//! The progress events a training run sends on the way.

/// A progress event. Sent at phase changes, refinements and at most every ~100 ms while optimising.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// `sampling`, `exact`, `basis`, `collocation`, `optimize`, `refine`, `validate` or `done`.
    pub phase: &'static str,
    /// Adam steps done.
    pub step: usize,
    /// Adam steps planned.
    pub steps: usize,
    /// Total loss (data + λ·structure).
    pub loss: f64,
    /// Data-fidelity term: mean `‖Ĝ(p_j) − G(p_j)‖²_F` over the supervised samples.
    pub data_loss: f64,
    /// Structure term: mean `‖A(q)Ĝ(q) − I‖²_F` over the collocation points.
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
