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

impl SvdBatch {
    /// The batch from its row-major buffers: `u` (batch, m, r), `s` (batch, r), `v` (batch, n, r).
    pub(crate) fn from_parts(batch: usize, (m, n, r): (usize, usize, usize), u: Vec<f64>, s: Vec<f64>, v: Vec<f64>) -> Self {
        SvdBatch {
            u: MatrixBatch { batch, rows: m, cols: r, data: u },
            s: MatrixBatch { batch, rows: r, cols: 1, data: s },
            v: MatrixBatch { batch, rows: n, cols: r, data: v },
        }
    }
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
