//! The exact kernels, in f64 at LAPACK speed (faer): ground truth for training, the residual formulas of
//! `op`, the metrics, the check/refine API and the pointwise baselines all call them. Also the small
//! shared dense helpers (row-major products, scaled rows/columns, seeded Gaussian probes).

pub mod complex;
mod decomp;
mod dense;
mod expm;
mod inverse;
mod types;

pub use decomp::{
    cholesky, cholesky_matrix, cholesky_with, eigh, eigh_matrix, eigh_with, expm, expm_matrix, expm_with, qr, qr_matrix, qr_with, solve,
    solve_matrix, solve_with, svd, svd_matrix, svd_with,
};
pub(crate) use dense::{gaussian, gemv, matmul, norm, residual, scale_cols, scale_rows, seeded_gaussian, sq, sub};
pub use inverse::{
    SingularMatrix, Threads, condition_estimate, condition_number, inverse, inverse_into, inverse_matrix, inverse_with, spectral_norm,
};
pub use types::{EighBatch, QrBatch, SvdBatch};
