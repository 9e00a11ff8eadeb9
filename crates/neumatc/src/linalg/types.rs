//! Result types shared by the decomposition baselines.

use crate::matrix::MatrixBatch;

/// A batch of (thin or truncated) SVDs `A = U diag(S) Vᵀ`.
#[derive(Debug, Clone, PartialEq)]
pub struct SvdBatch {
    /// Left singular vectors, (batch, m, r).
    pub u: MatrixBatch,
    /// Singular values in descending order, (batch, r, 1).
    pub s: MatrixBatch,
    /// Right singular vectors, (batch, n, r).
    pub v: MatrixBatch,
}

/// A batch of symmetric eigendecompositions `A = V diag(λ) Vᵀ`.
#[derive(Debug, Clone, PartialEq)]
pub struct EighBatch {
    /// Eigenvalues in ascending order, (batch, n, 1).
    pub values: MatrixBatch,
    /// Orthonormal eigenvectors as columns, (batch, n, n).
    pub vectors: MatrixBatch,
}

/// A batch of thin QR factorisations `A = QR`.
#[derive(Debug, Clone, PartialEq)]
pub struct QrBatch {
    /// Orthonormal columns, (batch, m, n).
    pub q: MatrixBatch,
    /// Upper triangular with non-negative diagonal, (batch, n, n).
    pub r: MatrixBatch,
}
