//! Exact, pointwise baselines in f64 at LAPACK speed (faer). They make ground truth for training and
//! are the yardstick the learned model is timed against.

mod inverse;
mod types;

pub use inverse::{
    SingularMatrix, Threads, condition_estimate, condition_number, inverse, inverse_into, inverse_matrix, inverse_with, spectral_norm,
};
pub use types::{EighBatch, QrBatch, SvdBatch};
