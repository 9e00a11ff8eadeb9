//! Exact, pointwise baselines in f64 at LAPACK speed (faer). They make ground truth for training and
//! are the yardstick the learned model is timed against.

mod decomp;
#[cfg(feature = "cuda")]
pub mod gpu;
mod inverse;
mod parametric;
mod randomized;
mod types;

pub use decomp::{
    cholesky, cholesky_matrix, cholesky_with, eigh, eigh_matrix, eigh_with, expm, expm_matrix, expm_with, qr, qr_matrix, qr_with, solve,
    solve_matrix, solve_with, svd, svd_matrix, svd_with,
};
pub use inverse::{
    SingularMatrix, Threads, condition_estimate, condition_number, inverse, inverse_into, inverse_matrix, inverse_with, spectral_norm,
};
pub use parametric::{Coi, CoiConfig, NniConfig, ZnnConfig, newton_schulz_inverse, znn_inverse};
pub use randomized::{RsvdConfig, crsvd, rsvd};
pub use types::{EighBatch, QrBatch, SvdBatch};
