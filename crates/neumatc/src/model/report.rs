//! What a training run measured, kept in the model (and its file).

/// The record of a training run, kept in the model.
///
/// Fields missing from a model file read back as their defaults.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TrainReport {
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Seconds in exact solves of the supervised samples.
    pub exact_seconds: f64,
    /// Seconds building the structure terms of collocation points and candidates.
    pub collocation_seconds: f64,
    /// Seconds in the optimiser (Adam and closed-form solves).
    pub optimize_seconds: f64,
    /// Adam steps taken.
    pub steps: usize,
    /// `pod` or `plain`.
    pub method: String,
    /// Latent dimension `d`.
    pub latent_dim: usize,
    /// POD tail energy `Σ_{l>d} σ_l² / Σ σ_l²` of the supervised solutions.
    pub basis_tail: f64,
    /// Mean over the collocation points of the smallest `‖A(q)G − I‖²_F / n` any `G` in the span of the
    /// basis reaches: the accuracy floor of the latent dimension away from the samples.
    pub basis_floor: Option<f64>,
    /// Number of supervised samples (exact solves), including those added by basis refinement.
    pub supervised: usize,
    /// Exact solves added by basis refinement (`sampling.enrich`).
    pub supervised_added: usize,
    /// Collocation points at the start.
    pub collocation_initial: usize,
    /// Collocation points at the end.
    pub collocation_final: usize,
    /// Collocation points added by refinement.
    pub collocation_added: usize,
    /// Whether Algorithm 1 stopped early (`P̂_F < ε_p`).
    pub converged: bool,
    /// Final total loss.
    pub loss: f64,
    /// Final data-fidelity term.
    pub data_loss: f64,
    /// Final structure term.
    pub structure_loss: f64,
    /// Last failure probability over the candidates.
    pub failure_prob: Option<f64>,
    /// Held-out `RelErr` (the paper's metric) over `heldOutCount` parameters never used in training.
    pub held_out_rel_err: Option<f64>,
    /// Largest per-point held-out error.
    pub held_out_max: Option<f64>,
    /// Number of held-out parameters.
    pub held_out_count: usize,
    /// Largest held-out orthogonality defect `‖XᵀX − I‖_F/√r` of the orthonormal factors (svd, qr, eigh).
    pub held_out_orthogonality: Option<f64>,
    /// The learned operation (`inverse`, `svd`, ...).
    pub operation: String,
    /// Smallest 2-norm condition number of `A(p)` over the supervised samples.
    pub condition_min: f64,
    /// Largest 2-norm condition number of `A(p)` over the supervised samples.
    pub condition_max: f64,
    /// Largest condition estimate of `A(p)` over the candidate parameters (a uniform cover of the domain).
    pub condition_candidates_max: Option<f64>,
    /// `cpu`, `cuda:N`.
    pub device: String,
    /// `f32` or `f64`.
    pub dtype: String,
    /// Warnings raised during training (conditioning, extrapolation, ...).
    pub warnings: Vec<String>,
    /// Singular values of the supervised snapshot matrix (the exact results at the supervised samples,
    /// the POD basis' source), relative to the largest: how much low-rank structure the family has along
    /// `p`. Empty for the plain method.
    pub snapshot_decay: Vec<f64>,
}
