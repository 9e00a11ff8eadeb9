//! The products the learned model is compared against: the randomized SVD, the paper's parametric
//! baselines (CRSVD, COI, NNI, ZNN) and, with `cuda`, the cuBLAS/cuSOLVER batched solvers. The exact
//! pointwise kernels (LU, SVD, QR, …) live in [`crate::linalg`] and are re-exported here, where users
//! of the baselines have always found them.

#[cfg(feature = "cuda")]
pub mod gpu;
mod parametric;
mod randomized;

pub use crate::linalg::{
    EighBatch, QrBatch, SingularMatrix, SvdBatch, Threads, cholesky, cholesky_matrix, cholesky_with, condition_estimate, condition_number,
    eigh, eigh_matrix, eigh_with, expm, expm_matrix, expm_with, inverse, inverse_into, inverse_matrix, inverse_with, qr, qr_matrix,
    qr_with, solve, solve_matrix, solve_with, spectral_norm, svd, svd_matrix, svd_with,
};
pub use parametric::{Coi, CoiConfig, NniConfig, ZnnConfig, newton_schulz_inverse, znn_inverse};
pub use randomized::{RsvdConfig, crsvd, rsvd};
