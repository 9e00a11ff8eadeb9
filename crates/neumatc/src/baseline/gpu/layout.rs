//! Device batches and their layouts: row-major inputs, the column-major factors the libraries write,
//! and the host-side conversions between them. (Their downloads, which need the solver's stream, are
//! in `solver.rs`.)

use cudarc::driver::CudaSlice;

use super::JACOBI_BATCHED_MAX_N;
use super::ffi::GpuFloat;

/// How a [`GpuBatch`] lies in device memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row-major within a matrix, matrices `rows * cols` values apart: what [`GpuSolver::upload`] and
    /// [`GpuSolver::inverse`] make, and what the solvers take.
    RowMajor,
    /// Column-major within a matrix with leading dimension `ld ≥ rows`, matrix `k` starting at value
    /// `k * stride`: the singular vectors as cuSOLVER wrote them.
    ColMajor {
        /// Distance between consecutive columns, in values.
        ld: usize,
        /// Distance between consecutive matrices, in values.
        stride: usize,
    },
}

/// A batch of `batch` matrices of `rows × cols` values of `T` on one CUDA device.
///
/// ```no_run
/// use neumatc::baseline::gpu::{GpuSolver, Layout};
/// let solver = GpuSolver::new(0).unwrap();
/// let a = solver.upload(&[2.0f64, 0.0, 0.0, 4.0], 1, 2, 2).unwrap();
/// assert_eq!(a.layout(), Layout::RowMajor);
/// assert_eq!(a.download(&solver).unwrap(), vec![2.0, 0.0, 0.0, 4.0]);
/// ```
#[derive(Debug)]
pub struct GpuBatch<T> {
    /// Number of matrices.
    pub batch: usize,
    /// Rows of each matrix.
    pub rows: usize,
    /// Columns of each matrix (1 for the singular values).
    pub cols: usize,
    pub(super) data: CudaSlice<T>,
    pub(super) layout: Layout,
}

impl<T: GpuFloat> GpuBatch<T> {
    /// How the values lie on the device.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The device buffer, laid out as [`GpuBatch::layout`] says (it may hold more than
    /// `batch * rows * cols` values when column-major).
    pub fn data(&self) -> &CudaSlice<T> {
        &self.data
    }
}

/// A batch of truncated SVDs `A ≈ U diag(S) Vᵀ` on the device.
#[derive(Debug)]
pub struct GpuSvd<T> {
    /// Left singular vectors, (batch, n, rank).
    pub u: GpuBatch<T>,
    /// Singular values in descending order, (batch, rank, 1).
    pub s: GpuBatch<T>,
    /// Right singular vectors, (batch, n, rank).
    pub v: GpuBatch<T>,
}

/// Which cuSOLVER routine [`GpuSolver::svd_with`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SvdMethod {
    /// [`SvdMethod::JacobiBatched`] for `n ≤ 32`, else [`SvdMethod::Approximate`]. Default.
    #[default]
    Auto,
    /// `cusolverDn<t>gesvdjBatched`: one-sided Jacobi on the whole batch in one call, all `n` singular
    /// triplets (then truncated to `rank`), accurate to the unit roundoff of `T`. Only `n ≤ 32`.
    JacobiBatched,
    /// `cusolverDn<t>gesvdaStridedBatched` with `rank`: the top `rank` triplets, approximated from the
    /// eigen-decomposition of `AᵀA`. Its accuracy contract is weaker than the Jacobi routines': cuSOLVER's
    /// documentation (shared by the `S` and `D` routines) speaks of accuracy "up to machine zero of single
    /// precision" under certain conditions, with its `V` orthonormal and `S` more accurate than its `U`,
    /// which is accurate only for singular values far from zero. The library factors `Aᵀ`, so its `V` is
    /// our `U` and its less reliable `U` is our `V`. Squaring the matrix suggests relative errors of
    /// order `ε·(σ₁/σᵢ)²` in `σᵢ` (our estimate, not cuSOLVER's). Right for leading singular values that
    /// are well separated and not small against `σ₁`; [`SvdMethod::JacobiLoop`] is the exact reference.
    Approximate,
    /// `cusolverDn<t>gesvdj` once per matrix on the same stream: exact (Jacobi to the unit roundoff of `T`)
    /// at any `n`, but one library call per matrix, so slow for large batches.
    JacobiLoop,
}

impl SvdMethod {
    /// The routine's name: `"gesvdjBatched"`, `"gesvdaStridedBatched"`, `"gesvdj"` (`"auto"` for `Auto`).
    pub fn name(self) -> &'static str {
        match self {
            SvdMethod::Auto => "auto",
            SvdMethod::JacobiBatched => "gesvdjBatched",
            SvdMethod::Approximate => "gesvdaStridedBatched",
            SvdMethod::JacobiLoop => "gesvdj",
        }
    }

    /// The method `Auto` stands for at order `n` (other methods are returned as they are).
    pub fn resolve(self, n: usize) -> SvdMethod {
        match self {
            SvdMethod::Auto if n <= JACOBI_BATCHED_MAX_N => SvdMethod::JacobiBatched,
            SvdMethod::Auto => SvdMethod::Approximate,
            other => other,
        }
    }
}

/// Device addresses of `count` matrices `stride_bytes` apart from `base`.
pub(super) fn pointer_addresses(base: u64, count: usize, stride_bytes: usize) -> Vec<u64> {
    (0..count).map(|k| base + (k * stride_bytes) as u64).collect()
}

/// The number of values a (batch, rows, cols) batch spans in `layout` (`None` for an inconsistent
/// column-major layout: `ld < rows`, or matrices that overlap).
pub(super) fn required_len(batch: usize, rows: usize, cols: usize, layout: Layout) -> Option<usize> {
    match layout {
        Layout::RowMajor => batch.checked_mul(rows)?.checked_mul(cols),
        Layout::ColMajor { ld, stride } => {
            if ld < rows || stride < ld.checked_mul(cols)? {
                return None;
            }
            if batch == 0 || rows == 0 || cols == 0 {
                return Some(0);
            }
            (batch - 1).checked_mul(stride)?.checked_add((cols - 1).checked_mul(ld)?)?.checked_add(rows)
        }
    }
}

/// (batch, rows, cols) row-major values from a buffer laid out as `layout` (at least
/// [`required_len`] long).
pub(super) fn to_row_major<T: Copy>(raw: &[T], batch: usize, rows: usize, cols: usize, layout: Layout) -> Vec<T> {
    match layout {
        Layout::RowMajor => raw[..batch * rows * cols].to_vec(),
        Layout::ColMajor { ld, stride } => {
            let mut out = Vec::with_capacity(batch * rows * cols);
            for k in 0..batch {
                let m = &raw[k * stride..];
                for i in 0..rows {
                    out.extend((0..cols).map(|j| m[i + j * ld]));
                }
            }
            out
        }
    }
}
