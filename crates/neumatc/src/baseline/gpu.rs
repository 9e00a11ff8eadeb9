//! Exact GPU baselines on cuBLAS and cuSOLVER (feature `cuda`): batched LU inverse and batched
//! truncated SVD, the vendor-library yardstick of the paper's batched comparison (Table 13: 32 × 32 and
//! 512 × 512 matrices, batches of 128, 256 and 512).
//!
//! ```no_run
//! use neumatc::baseline::gpu::{GpuSolver, time_synced};
//! let solver = GpuSolver::new(0).unwrap();
//! let (batch, n) = (128, 32);
//! // 0.5 everywhere plus n - 0.5 on the diagonal: well conditioned.
//! let host: Vec<f32> = (0..batch * n * n).map(|i| if i % (n * n) % (n + 1) == 0 { n as f32 } else { 0.5 }).collect();
//! let a = solver.upload(&host, batch, n, n).unwrap();
//! let seconds = time_synced(&solver, 3, 10, || solver.inverse(&a).map(drop)).unwrap();
//! let inv = solver.inverse(&a).unwrap().download(&solver).unwrap(); // (batch, n, n) row-major
//! # let _ = (seconds, inv);
//! ```
//!
//! **Layout.** Buffers are row-major like the rest of the crate; the libraries are column-major. A
//! row-major `A` read column-major is `Aᵀ`. Inverting `Aᵀ` gives `(A⁻¹)ᵀ` column-major, which is `A⁻¹`
//! row-major, so the inverse needs no transpose. For the SVD, `Aᵀ = U_c Σ V_cᵀ` means `A = V_c Σ U_cᵀ`:
//! the library's right vectors are our `U` and its left vectors our `V`. They stay on the device as the
//! library wrote them (column-major, [`Layout::ColMajor`]), and [`GpuBatch::download`] transposes them to
//! row-major on the host.
//!
//! **What one call covers** (and so what [`time_synced`] measures around it): a device copy of the
//! input (the routines overwrite theirs), zero-filled stream-ordered allocations of the outputs and the
//! workspace, for the inverse the upload of its two arrays of matrix addresses (8 bytes per matrix),
//! the library calls, and one device-to-host copy of the `info` words (4 bytes per matrix), which waits
//! for the stream. Uploads, downloads and the row-major transposes in `download` are outside.
//!
//! **Errors.** A context that cannot be created is [`Error::DeviceUnavailable`]; a device allocation
//! that does not fit is [`Error::OutOfMemory`]; an exactly zero LU pivot is [`Error::Singular`] with the
//! batch index as `p`; a Jacobi SVD that misses its tolerance is [`Error::NoConvergence`]; any other
//! failing CUDA, cuBLAS or cuSOLVER status is [`Error::Internal`] naming the call.

use std::ffi::{c_int, c_longlong};
use std::sync::Arc;
use std::time::Instant;

use cudarc::cublas::CudaBlas;
use cudarc::cublas::sys as blas;
use cudarc::cusolver::DnHandle;
use cudarc::cusolver::sys as dn;
use cudarc::driver::{CudaContext, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, DeviceRepr, DriverError, ValidAsZeroBits};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::SvdBatch;
use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;
use crate::metrics::{ComponentView, Real};
use crate::op::Operation;

/// Largest order `cusolverDn<t>gesvdjBatched` accepts (cuSOLVER: `m, n ≤ 32`).
pub const JACOBI_BATCHED_MAX_N: usize = 32;

/// Sweeps the Jacobi SVDs may take (cuSOLVER's default); their tolerance is the unit roundoff of `T`.
const JACOBI_MAX_SWEEPS: c_int = 100;

// ---------------------------------------------------------------------------------------------------
// Element types
// ---------------------------------------------------------------------------------------------------

/// An element type the GPU baselines run in: `f32` (cuBLAS/cuSOLVER `S` routines) or `f64` (`D`).
pub trait GpuFloat: sealed::Sealed + Real + DeviceRepr + ValidAsZeroBits + Default + std::fmt::Debug + 'static {
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// The machine epsilon of the type, as f64.
    const EPSILON: f64;
    /// Rounds an f64 to this type.
    fn from_f64(v: f64) -> Self;
}

impl GpuFloat for f32 {
    const NAME: &'static str = "f32";
    const EPSILON: f64 = f32::EPSILON as f64;
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl GpuFloat for f64 {
    const NAME: &'static str = "f64";
    const EPSILON: f64 = f64::EPSILON;
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// The library entry points of each element type, as function pointers (private: only this module calls them).
mod sealed {
    use std::ffi::{c_int, c_longlong};

    use cudarc::cublas::sys as blas;
    use cudarc::cusolver::sys as dn;

    pub type GetrfBatched<T> =
        unsafe fn(blas::cublasHandle_t, c_int, *const *mut T, c_int, *mut c_int, *mut c_int, c_int) -> blas::cublasStatus_t;
    pub type GetriBatched<T> = unsafe fn(
        blas::cublasHandle_t,
        c_int,
        *const *const T,
        c_int,
        *const c_int,
        *const *mut T,
        c_int,
        *mut c_int,
        c_int,
    ) -> blas::cublasStatus_t;
    pub type GesvdjBatchedBufferSize<T> = unsafe fn(
        dn::cusolverDnHandle_t,
        dn::cusolverEigMode_t,
        c_int,
        c_int,
        *const T,
        c_int,
        *const T,
        *const T,
        c_int,
        *const T,
        c_int,
        *mut c_int,
        dn::gesvdjInfo_t,
        c_int,
    ) -> dn::cusolverStatus_t;
    pub type GesvdjBatched<T> = unsafe fn(
        dn::cusolverDnHandle_t,
        dn::cusolverEigMode_t,
        c_int,
        c_int,
        *mut T,
        c_int,
        *mut T,
        *mut T,
        c_int,
        *mut T,
        c_int,
        *mut T,
        c_int,
        *mut c_int,
        dn::gesvdjInfo_t,
        c_int,
    ) -> dn::cusolverStatus_t;
    pub type GesvdjBufferSize<T> = unsafe fn(
        dn::cusolverDnHandle_t,
        dn::cusolverEigMode_t,
        c_int,
        c_int,
        c_int,
        *const T,
        c_int,
        *const T,
        *const T,
        c_int,
        *const T,
        c_int,
        *mut c_int,
        dn::gesvdjInfo_t,
    ) -> dn::cusolverStatus_t;
    pub type Gesvdj<T> = unsafe fn(
        dn::cusolverDnHandle_t,
        dn::cusolverEigMode_t,
        c_int,
        c_int,
        c_int,
        *mut T,
        c_int,
        *mut T,
        *mut T,
        c_int,
        *mut T,
        c_int,
        *mut T,
        c_int,
        *mut c_int,
        dn::gesvdjInfo_t,
    ) -> dn::cusolverStatus_t;
    pub type GesvdaBufferSize<T> = unsafe fn(
        dn::cusolverDnHandle_t,
        dn::cusolverEigMode_t,
        c_int,
        c_int,
        c_int,
        *const T,
        c_int,
        c_longlong,
        *const T,
        c_longlong,
        *const T,
        c_int,
        c_longlong,
        *const T,
        c_int,
        c_longlong,
        *mut c_int,
        c_int,
    ) -> dn::cusolverStatus_t;
    pub type Gesvda<T> = unsafe fn(
        dn::cusolverDnHandle_t,
        dn::cusolverEigMode_t,
        c_int,
        c_int,
        c_int,
        *const T,
        c_int,
        c_longlong,
        *mut T,
        c_longlong,
        *mut T,
        c_int,
        c_longlong,
        *mut T,
        c_int,
        c_longlong,
        *mut T,
        c_int,
        *mut c_int,
        *mut f64,
        c_int,
    ) -> dn::cusolverStatus_t;

    /// Seals [`super::GpuFloat`] and carries its cuBLAS/cuSOLVER routines.
    pub trait Sealed: Sized {
        /// `'S'` or `'D'`: the letter `<t>` stands for in the routine names.
        const LETTER: char;
        const GETRF_BATCHED: GetrfBatched<Self>;
        const GETRI_BATCHED: GetriBatched<Self>;
        const GESVDJ_BATCHED_BUFFER_SIZE: GesvdjBatchedBufferSize<Self>;
        const GESVDJ_BATCHED: GesvdjBatched<Self>;
        const GESVDJ_BUFFER_SIZE: GesvdjBufferSize<Self>;
        const GESVDJ: Gesvdj<Self>;
        const GESVDA_BUFFER_SIZE: GesvdaBufferSize<Self>;
        const GESVDA: Gesvda<Self>;
    }

    impl Sealed for f32 {
        const LETTER: char = 'S';
        const GETRF_BATCHED: GetrfBatched<f32> = blas::cublasSgetrfBatched;
        const GETRI_BATCHED: GetriBatched<f32> = blas::cublasSgetriBatched;
        const GESVDJ_BATCHED_BUFFER_SIZE: GesvdjBatchedBufferSize<f32> = dn::cusolverDnSgesvdjBatched_bufferSize;
        const GESVDJ_BATCHED: GesvdjBatched<f32> = dn::cusolverDnSgesvdjBatched;
        const GESVDJ_BUFFER_SIZE: GesvdjBufferSize<f32> = dn::cusolverDnSgesvdj_bufferSize;
        const GESVDJ: Gesvdj<f32> = dn::cusolverDnSgesvdj;
        const GESVDA_BUFFER_SIZE: GesvdaBufferSize<f32> = dn::cusolverDnSgesvdaStridedBatched_bufferSize;
        const GESVDA: Gesvda<f32> = dn::cusolverDnSgesvdaStridedBatched;
    }

    impl Sealed for f64 {
        const LETTER: char = 'D';
        const GETRF_BATCHED: GetrfBatched<f64> = blas::cublasDgetrfBatched;
        const GETRI_BATCHED: GetriBatched<f64> = blas::cublasDgetriBatched;
        const GESVDJ_BATCHED_BUFFER_SIZE: GesvdjBatchedBufferSize<f64> = dn::cusolverDnDgesvdjBatched_bufferSize;
        const GESVDJ_BATCHED: GesvdjBatched<f64> = dn::cusolverDnDgesvdjBatched;
        const GESVDJ_BUFFER_SIZE: GesvdjBufferSize<f64> = dn::cusolverDnDgesvdj_bufferSize;
        const GESVDJ: Gesvdj<f64> = dn::cusolverDnDgesvdj;
        const GESVDA_BUFFER_SIZE: GesvdaBufferSize<f64> = dn::cusolverDnDgesvdaStridedBatched_bufferSize;
        const GESVDA: Gesvda<f64> = dn::cusolverDnDgesvdaStridedBatched;
    }
}

// ---------------------------------------------------------------------------------------------------
// Device batches
// ---------------------------------------------------------------------------------------------------

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
    data: CudaSlice<T>,
    layout: Layout,
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

    /// Copies the batch to the host as (batch, rows, cols) row-major values, transposing a column-major
    /// batch on the host. Waits for the solver's stream.
    pub fn download(&self, solver: &GpuSolver) -> Result<Vec<T>> {
        let need = required_len(self.batch, self.rows, self.cols, self.layout);
        if need.is_none_or(|need| self.data.len() < need) {
            return Err(Error::ShapeMismatch {
                op: "gpu download",
                expected: vec![self.batch, self.rows, self.cols],
                got: vec![self.data.len()],
            });
        }
        solver.check_context("gpu download", &self.data)?;
        solver.bind()?;
        let raw = solver.to_host(&self.data)?;
        Ok(to_row_major(&raw, self.batch, self.rows, self.cols, self.layout))
    }

    /// [`GpuBatch::download`] widened to an f64 [`MatrixBatch`], for the CPU metrics.
    pub fn to_matrix_batch(&self, solver: &GpuSolver) -> Result<MatrixBatch> {
        let data = self.download(solver)?.into_iter().map(Into::into).collect();
        Ok(MatrixBatch { batch: self.batch, rows: self.rows, cols: self.cols, data })
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

impl<T: GpuFloat> GpuSvd<T> {
    /// The three factors on the host, row-major and widened to f64, as the CPU [`super::svd`] returns them.
    pub fn download(&self, solver: &GpuSolver) -> Result<SvdBatch> {
        Ok(SvdBatch { u: self.u.to_matrix_batch(solver)?, s: self.s.to_matrix_batch(solver)?, v: self.v.to_matrix_batch(solver)? })
    }
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

// ---------------------------------------------------------------------------------------------------
// The solver
// ---------------------------------------------------------------------------------------------------

/// cuBLAS + cuSOLVER handles on one CUDA device and one stream. Every call is ordered on that stream.
///
/// ```no_run
/// let solver = neumatc::baseline::gpu::GpuSolver::new(0).unwrap();
/// println!("{}", solver.name());
/// ```
#[derive(Debug)]
pub struct GpuSolver {
    // Field order is drop order: the handles go before the stream they are bound to.
    blas: CudaBlas,
    dn: DnHandle,
    stream: Arc<CudaStream>,
    ctx: Arc<CudaContext>,
}

impl Drop for GpuSolver {
    fn drop(&mut self) {
        // The handles are destroyed next, from whatever thread drops the solver: make the context current.
        let _ = self.ctx.bind_to_thread();
    }
}

impl GpuSolver {
    /// Handles on CUDA device `ordinal` (its primary context, shared with candle) and a new stream.
    /// Fails with [`Error::DeviceUnavailable`] when there is no such device or driver.
    pub fn new(ordinal: usize) -> Result<Self> {
        let ctx = CudaContext::new(ordinal).map_err(|_| Error::DeviceUnavailable(ordinal))?;
        let stream = ctx.new_stream().map_err(|e| driver_error("cuStreamCreate", e))?;
        let blas = CudaBlas::new(stream.clone()).map_err(|e| Error::Internal(format!("cublasCreate: {e}")))?;
        // `DnHandle::new` does not make the context current itself.
        ctx.bind_to_thread().map_err(|e| driver_error("cuCtxSetCurrent", e))?;
        let dn = DnHandle::new(stream.clone()).map_err(|e| Error::Internal(format!("cusolverDnCreate: {e}")))?;
        Ok(GpuSolver { blas, dn, stream, ctx })
    }

    /// The device's name (`cuDeviceGetName`), or `cuda:N` if the driver cannot tell.
    pub fn name(&self) -> String {
        self.ctx.name().unwrap_or_else(|_| format!("cuda:{}", self.ctx.ordinal()))
    }

    /// The CUDA context.
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    /// The stream every call of this solver is ordered on.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// Waits until all work queued on the solver's stream has finished.
    pub fn synchronize(&self) -> Result<()> {
        self.stream.synchronize().map_err(|e| driver_error("cuStreamSynchronize", e))
    }

    /// Uploads (batch, rows, cols) row-major matrices. Fails with `ShapeMismatch` when `data` does not
    /// hold `batch * rows * cols` values, `InvalidInput` for NaN/Inf or an empty batch.
    pub fn upload<T: GpuFloat>(&self, data: &[T], batch: usize, rows: usize, cols: usize) -> Result<GpuBatch<T>> {
        const OP: &str = "gpu upload";
        crate::matrix::check_len(OP, data, batch, rows, cols)?;
        if data.is_empty() {
            return Err(Error::input(OP, "the batch is empty"));
        }
        if let Some(i) = data.iter().position(|&v| !v.into().is_finite()) {
            return Err(Error::input(OP, format!("value at index {i} is {:?} (NaN and Inf are not allowed)", data[i])));
        }
        self.bind()?;
        let data = self.stream.clone_htod(data).map_err(|e| self.alloc_error(OP, std::mem::size_of_val(data), e))?;
        Ok(GpuBatch { batch, rows, cols, data, layout: Layout::RowMajor })
    }

    /// Inverts every matrix of a row-major (batch, n, n) batch on the device by LU with partial
    /// pivoting: `cublas<t>getrfBatched` on a copy of `a`, then `cublas<t>getriBatched` (out of place).
    /// Returns (batch, n, n) row-major.
    ///
    /// Both calls report per matrix; a matrix with an exactly zero pivot fails the call with
    /// [`Error::Singular`] with its batch index as `p`. Unlike the CPU [`super::inverse`], nearly singular
    /// matrices are not detected (cuBLAS tests pivots against zero only).
    ///
    /// ```no_run
    /// let solver = neumatc::baseline::gpu::GpuSolver::new(0).unwrap();
    /// let a = solver.upload(&[2.0f64, 0.0, 0.0, 4.0], 1, 2, 2).unwrap();
    /// assert_eq!(solver.inverse(&a).unwrap().download(&solver).unwrap(), vec![0.5, 0.0, 0.0, 0.25]);
    /// ```
    pub fn inverse<T: GpuFloat>(&self, a: &GpuBatch<T>) -> Result<GpuBatch<T>> {
        const OP: &str = "gpu inverse";
        let n = self.check_input(OP, a)?;
        let (batch, size) = (a.batch, n * n);
        let (n_c, batch_c) = (to_c_int(OP, n)?, to_c_int(OP, batch)?);
        let mut lu = self.copy_of(OP, &a.data)?;
        let mut inv = self.zeros::<T>(OP, batch * size)?;
        let mut pivots = self.zeros::<c_int>(OP, batch * n)?;
        // getrf's info words, then getri's.
        let mut info = self.zeros::<c_int>(OP, 2 * batch)?;
        let lu_ptrs = self.pointer_array(OP, &lu, batch, size)?;
        let inv_ptrs = self.pointer_array(OP, &inv, batch, size)?;
        {
            // The routines reach `lu` and `inv` through the pointer arrays; these guards order them on the stream.
            let (_, _lu) = lu.device_ptr_mut(&self.stream);
            let (_, _inv) = inv.device_ptr_mut(&self.stream);
            let (pivots, _pivots) = pivots.device_ptr_mut(&self.stream);
            let (info, _info) = info.device_ptr_mut(&self.stream);
            let (lu_ptrs, _lu_ptrs) = lu_ptrs.device_ptr(&self.stream);
            let (inv_ptrs, _inv_ptrs) = inv_ptrs.device_ptr(&self.stream);
            let info_getri = info + (batch * std::mem::size_of::<c_int>()) as u64;
            let handle = *self.blas.handle();
            // SAFETY: `lu_ptrs` holds `batch` device addresses of n × n matrices (ld n) inside `lu`; `pivots`
            // holds n·batch ints, `info` 2·batch; all live on this stream's context until the guards drop.
            let status = unsafe {
                (T::GETRF_BATCHED)(handle, n_c, lu_ptrs as *const *mut T, n_c, pivots as *mut c_int, info as *mut c_int, batch_c)
            };
            blas_ok(status, "cublas<t>getrfBatched", T::LETTER)?;
            // SAFETY: as above; `inv_ptrs` holds the addresses of `batch` n × n matrices (ld n) inside `inv`,
            // which does not overlap `lu`; getri's info words are the second half of `info`.
            let status = unsafe {
                (T::GETRI_BATCHED)(
                    handle,
                    n_c,
                    lu_ptrs as *const *const T,
                    n_c,
                    pivots as *const c_int,
                    inv_ptrs as *const *mut T,
                    n_c,
                    info_getri as *mut c_int,
                    batch_c,
                )
            };
            blas_ok(status, "cublas<t>getriBatched", T::LETTER)?;
        }
        let info = self.to_host(&info)?;
        inverse_info(OP, &info[..batch], &info[batch..])?;
        Ok(GpuBatch { batch, rows: n, cols: n, data: inv, layout: Layout::RowMajor })
    }

    /// Truncated SVD of every matrix of a row-major (batch, n, n) batch, all on the device: returns U
    /// (batch, n, rank), S (batch, rank, 1) descending and V (batch, n, rank), `A ≈ U diag(S) Vᵀ`.
    ///
    /// `n ≤ 32` runs `cusolverDn<t>gesvdjBatched` (exact Jacobi, all `n` triplets, truncated); larger `n`
    /// runs `cusolverDn<t>gesvdaStridedBatched` with `rank` (approximate: see [`SvdMethod::Approximate`]
    /// for its accuracy contract). [`GpuSolver::svd_full_loop`] is the exact reference at any `n`.
    /// Fails with `InvalidOption` unless `1 ≤ rank ≤ n`.
    ///
    /// ```no_run
    /// let solver = neumatc::baseline::gpu::GpuSolver::new(0).unwrap();
    /// let a = solver.upload(&[0.0f32, 2.0, 3.0, 0.0], 1, 2, 2).unwrap();
    /// let s = solver.svd(&a, 1).unwrap().s.download(&solver).unwrap();
    /// assert!((s[0] - 3.0).abs() < 1e-6);
    /// ```
    pub fn svd<T: GpuFloat>(&self, a: &GpuBatch<T>, rank: usize) -> Result<GpuSvd<T>> {
        self.svd_with(a, rank, SvdMethod::Auto)
    }

    /// [`GpuSolver::svd`] by `cusolverDn<t>gesvdj` once per matrix (same stream, shared workspace): the
    /// exact reference where `gesvdaStridedBatched` is not appropriate.
    pub fn svd_full_loop<T: GpuFloat>(&self, a: &GpuBatch<T>, rank: usize) -> Result<GpuSvd<T>> {
        self.svd_with(a, rank, SvdMethod::JacobiLoop)
    }

    /// [`GpuSolver::svd`] by an explicit method. `JacobiBatched` fails with `InvalidOption` for `n > 32`.
    pub fn svd_with<T: GpuFloat>(&self, a: &GpuBatch<T>, rank: usize, method: SvdMethod) -> Result<GpuSvd<T>> {
        const OP: &str = "gpu svd";
        let n = self.check_input(OP, a)?;
        if rank == 0 || rank > n {
            return Err(Error::option("rank", format!("must be in 1..={n} for {n} × {n} matrices, got {rank}")));
        }
        match method.resolve(n) {
            SvdMethod::JacobiBatched if n > JACOBI_BATCHED_MAX_N => Err(Error::option(
                "method",
                format!("gesvdjBatched takes matrices up to {JACOBI_BATCHED_MAX_N} × {JACOBI_BATCHED_MAX_N}, got {n} × {n}"),
            )),
            SvdMethod::JacobiBatched => self.svd_jacobi(a, n, rank, true),
            SvdMethod::JacobiLoop => self.svd_jacobi(a, n, rank, false),
            SvdMethod::Approximate | SvdMethod::Auto => self.svd_approximate(a, n, rank),
        }
    }

    /// `gesvdjBatched` (`batched`) or one `gesvdj` per matrix: full SVDs of the library's `Aᵀ` into
    /// column-major `U_c`, `V_c` (n × n, ld n) and `S` (n per matrix), returned truncated to `rank`.
    fn svd_jacobi<T: GpuFloat>(&self, a: &GpuBatch<T>, n: usize, rank: usize, batched: bool) -> Result<GpuSvd<T>> {
        let op = if batched { "gpu svd (gesvdjBatched)" } else { "gpu svd (gesvdj)" };
        let (batch, size) = (a.batch, n * n);
        let (n_c, batch_c) = (to_c_int(op, n)?, to_c_int(op, batch)?);
        // Both routines overwrite their input.
        let mut work_a = self.copy_of(op, &a.data)?;
        let mut s = self.zeros::<T>(op, batch * n)?;
        let mut u_c = self.zeros::<T>(op, batch * size)?;
        let mut v_c = self.zeros::<T>(op, batch * size)?;
        let mut info = self.zeros::<c_int>(op, batch)?;
        // Kept until `info` has been read back (the stream is idle by then).
        let params = JacobiParams::new(T::EPSILON, JACOBI_MAX_SWEEPS, batched)?;
        let jobz = dn::cusolverEigMode_t::CUSOLVER_EIG_MODE_VECTOR;
        let handle = self.dn.cu();
        // On an early error, wait for what was queued before `params` goes.
        let launched = (|| -> Result<()> {
            let (a_p, _a) = work_a.device_ptr_mut(&self.stream);
            let (s_p, _s) = s.device_ptr_mut(&self.stream);
            let (u_p, _u) = u_c.device_ptr_mut(&self.stream);
            let (v_p, _v) = v_c.device_ptr_mut(&self.stream);
            let (info_p, _info) = info.device_ptr_mut(&self.stream);
            let mut lwork: c_int = 0;
            let status = if batched {
                // SAFETY: every pointer is a live device buffer of this context sized for `batch` n × n
                // matrices (ld n), `n` singular values each; `lwork` and `params` are valid for writing.
                unsafe {
                    (T::GESVDJ_BATCHED_BUFFER_SIZE)(
                        handle,
                        jobz,
                        n_c,
                        n_c,
                        a_p as *const T,
                        n_c,
                        s_p as *const T,
                        u_p as *const T,
                        n_c,
                        v_p as *const T,
                        n_c,
                        &mut lwork,
                        params.0,
                        batch_c,
                    )
                }
            } else {
                // SAFETY: as above, for the first matrix of the batch (the others have the same shape).
                unsafe {
                    (T::GESVDJ_BUFFER_SIZE)(
                        handle,
                        jobz,
                        0,
                        n_c,
                        n_c,
                        a_p as *const T,
                        n_c,
                        s_p as *const T,
                        u_p as *const T,
                        n_c,
                        v_p as *const T,
                        n_c,
                        &mut lwork,
                        params.0,
                    )
                }
            };
            let name = if batched { "cusolverDn<t>gesvdjBatched_bufferSize" } else { "cusolverDn<t>gesvdj_bufferSize" };
            solver_ok(status, name, T::LETTER)?;
            let mut work = self.zeros::<T>(op, workspace_len(op, lwork)?)?;
            let (work_p, _work) = work.device_ptr_mut(&self.stream);
            if batched {
                // SAFETY: as for the buffer size, plus `work` holding the `lwork` values it asked for and
                // `info` holding `batch` ints.
                let status = unsafe {
                    (T::GESVDJ_BATCHED)(
                        handle,
                        jobz,
                        n_c,
                        n_c,
                        a_p as *mut T,
                        n_c,
                        s_p as *mut T,
                        u_p as *mut T,
                        n_c,
                        v_p as *mut T,
                        n_c,
                        work_p as *mut T,
                        lwork,
                        info_p as *mut c_int,
                        params.0,
                        batch_c,
                    )
                };
                solver_ok(status, "cusolverDn<t>gesvdjBatched", T::LETTER)?;
            } else {
                let bytes = |values: usize| (values * std::mem::size_of::<T>()) as u64;
                for k in 0..batch {
                    let (a_k, s_k, u_k, v_k) = (a_p + bytes(k * size), s_p + bytes(k * n), u_p + bytes(k * size), v_p + bytes(k * size));
                    let info_k = info_p + (k * std::mem::size_of::<c_int>()) as u64;
                    // SAFETY: matrix `k` of each buffer (k < batch) as above; the calls are serialised on
                    // the stream, so they can share `work`.
                    let status = unsafe {
                        (T::GESVDJ)(
                            handle,
                            jobz,
                            0,
                            n_c,
                            n_c,
                            a_k as *mut T,
                            n_c,
                            s_k as *mut T,
                            u_k as *mut T,
                            n_c,
                            v_k as *mut T,
                            n_c,
                            work_p as *mut T,
                            lwork,
                            info_k as *mut c_int,
                            params.0,
                        )
                    };
                    solver_ok(status, "cusolverDn<t>gesvdj", T::LETTER)?;
                }
            }
            Ok(())
        })();
        if launched.is_err() {
            let _ = self.synchronize();
        }
        launched?;
        let info = self.to_host(&info)?;
        drop(params);
        svd_info(op, &info, Some(JACOBI_MAX_SWEEPS as usize))?;
        // Aᵀ = U_c S V_cᵀ: our U is V_c, our V is U_c, both n × rank column-major (ld n) inside n × n.
        let vectors = Layout::ColMajor { ld: n, stride: size };
        Ok(GpuSvd {
            u: GpuBatch { batch, rows: n, cols: rank, data: v_c, layout: vectors },
            s: GpuBatch { batch, rows: rank, cols: 1, data: s, layout: Layout::ColMajor { ld: n, stride: n } },
            v: GpuBatch { batch, rows: n, cols: rank, data: u_c, layout: vectors },
        })
    }

    /// `gesvdaStridedBatched` with `rank`: the top `rank` triplets of the library's `Aᵀ` into column-major
    /// `U_c`, `V_c` (n × rank, ld n) and `S` (rank per matrix).
    fn svd_approximate<T: GpuFloat>(&self, a: &GpuBatch<T>, n: usize, rank: usize) -> Result<GpuSvd<T>> {
        const OP: &str = "gpu svd (gesvdaStridedBatched)";
        let batch = a.batch;
        let (n_c, rank_c, batch_c) = (to_c_int(OP, n)?, to_c_int(OP, rank)?, to_c_int(OP, batch)?);
        let (stride_a, stride_s, stride_uv) = ((n * n) as c_longlong, rank as c_longlong, (n * rank) as c_longlong);
        // `d_A` is declared const, but PyTorch passes a copy because it is overwritten; so do we.
        let work_a = self.copy_of(OP, &a.data)?;
        let mut s = self.zeros::<T>(OP, batch * rank)?;
        let mut u_c = self.zeros::<T>(OP, batch * n * rank)?;
        let mut v_c = self.zeros::<T>(OP, batch * n * rank)?;
        let mut info = self.zeros::<c_int>(OP, batch)?;
        let jobz = dn::cusolverEigMode_t::CUSOLVER_EIG_MODE_VECTOR;
        let handle = self.dn.cu();
        {
            let (a_p, _a) = work_a.device_ptr(&self.stream);
            let (s_p, _s) = s.device_ptr_mut(&self.stream);
            let (u_p, _u) = u_c.device_ptr_mut(&self.stream);
            let (v_p, _v) = v_c.device_ptr_mut(&self.stream);
            let (info_p, _info) = info.device_ptr_mut(&self.stream);
            let mut lwork: c_int = 0;
            // SAFETY: `work_a` holds `batch` n × n matrices (ld n, stride n²), `s` rank values per matrix,
            // `u_c`/`v_c` `batch` n × rank matrices (ld n, stride n·rank), all live on this context.
            let status = unsafe {
                (T::GESVDA_BUFFER_SIZE)(
                    handle,
                    jobz,
                    rank_c,
                    n_c,
                    n_c,
                    a_p as *const T,
                    n_c,
                    stride_a,
                    s_p as *const T,
                    stride_s,
                    u_p as *const T,
                    n_c,
                    stride_uv,
                    v_p as *const T,
                    n_c,
                    stride_uv,
                    &mut lwork,
                    batch_c,
                )
            };
            solver_ok(status, "cusolverDn<t>gesvdaStridedBatched_bufferSize", T::LETTER)?;
            let mut work = self.zeros::<T>(OP, workspace_len(OP, lwork)?)?;
            let (work_p, _work) = work.device_ptr_mut(&self.stream);
            // SAFETY: as above, plus `work` with the `lwork` values it asked for and `info` with `batch`
            // ints. `h_R_nrmF` is null: no residual norms (cuSOLVER: faster, and the call stays asynchronous).
            let status = unsafe {
                (T::GESVDA)(
                    handle,
                    jobz,
                    rank_c,
                    n_c,
                    n_c,
                    a_p as *const T,
                    n_c,
                    stride_a,
                    s_p as *mut T,
                    stride_s,
                    u_p as *mut T,
                    n_c,
                    stride_uv,
                    v_p as *mut T,
                    n_c,
                    stride_uv,
                    work_p as *mut T,
                    lwork,
                    info_p as *mut c_int,
                    std::ptr::null_mut(),
                    batch_c,
                )
            };
            solver_ok(status, "cusolverDn<t>gesvdaStridedBatched", T::LETTER)?;
        }
        let info = self.to_host(&info)?;
        svd_info(OP, &info, None)?;
        // Aᵀ ≈ U_c S V_cᵀ: our U is V_c, our V is U_c, both n × rank column-major (ld n).
        let vectors = Layout::ColMajor { ld: n, stride: n * rank };
        Ok(GpuSvd {
            u: GpuBatch { batch, rows: n, cols: rank, data: v_c, layout: vectors },
            s: GpuBatch { batch, rows: rank, cols: 1, data: s, layout: Layout::RowMajor },
            v: GpuBatch { batch, rows: n, cols: rank, data: u_c, layout: vectors },
        })
    }

    // --- helpers -----------------------------------------------------------------------------------

    /// Makes the context current on the calling thread (the raw library calls need it).
    fn bind(&self) -> Result<()> {
        self.ctx.bind_to_thread().map_err(|e| driver_error("cuCtxSetCurrent", e))
    }

    /// A solver input must be a row-major, non-empty batch of square matrices on this context. Returns `n`.
    fn check_input<T: GpuFloat>(&self, op: &'static str, a: &GpuBatch<T>) -> Result<usize> {
        if a.layout != Layout::RowMajor {
            return Err(Error::input(op, "expects a row-major batch (as uploaded), not column-major singular vectors"));
        }
        if a.rows != a.cols {
            return Err(Error::ShapeMismatch { op, expected: vec![a.batch, a.rows, a.rows], got: vec![a.batch, a.rows, a.cols] });
        }
        if required_len(a.batch, a.rows, a.cols, a.layout) != Some(a.data.len()) {
            return Err(Error::ShapeMismatch { op, expected: vec![a.batch, a.rows, a.cols], got: vec![a.data.len()] });
        }
        if a.data.is_empty() {
            return Err(Error::input(op, "the batch is empty"));
        }
        self.check_context(op, &a.data)?;
        self.bind()?;
        Ok(a.rows)
    }

    fn check_context<T>(&self, op: &'static str, data: &CudaSlice<T>) -> Result<()> {
        if **data.context() != *self.ctx {
            return Err(Error::input(
                op,
                format!("the batch lives on CUDA device {}, the solver on {}", data.ordinal(), self.ctx.ordinal()),
            ));
        }
        Ok(())
    }

    /// `len` zeroed values on the stream (stream-ordered allocation where the device supports it).
    fn zeros<U: DeviceRepr + ValidAsZeroBits>(&self, op: &'static str, len: usize) -> Result<CudaSlice<U>> {
        self.stream.alloc_zeros::<U>(len).map_err(|e| self.alloc_error(op, len * std::mem::size_of::<U>(), e))
    }

    /// A device copy of `src` (for the routines that overwrite their input).
    fn copy_of<U: DeviceRepr>(&self, op: &'static str, src: &CudaSlice<U>) -> Result<CudaSlice<U>> {
        self.stream.clone_dtod(src).map_err(|e| self.alloc_error(op, src.num_bytes(), e))
    }

    /// The device array of `count` device pointers `stride` values apart from the start of `buf`: the
    /// `Aarray`/`Carray` arguments of cuBLAS's pointer-array batched routines.
    fn pointer_array<U>(&self, op: &'static str, buf: &CudaSlice<U>, count: usize, stride: usize) -> Result<CudaSlice<u64>> {
        let base = {
            let (base, _guard) = buf.device_ptr(&self.stream);
            base
        };
        let addresses = pointer_addresses(base, count, stride * std::mem::size_of::<U>());
        // From pageable memory, the copy has taken the values when it returns: `addresses` may go.
        self.stream.clone_htod(&addresses).map_err(|e| self.alloc_error(op, count * 8, e))
    }

    /// Copies a device buffer to the host and waits for it.
    fn to_host<U: DeviceRepr>(&self, src: &CudaSlice<U>) -> Result<Vec<U>> {
        let out = self.stream.clone_dtoh(src).map_err(|e| driver_error("cuMemcpyDtoHAsync", e))?;
        self.synchronize()?;
        Ok(out)
    }

    /// `OutOfMemory` for a device allocation that does not fit, `Internal` for other driver failures.
    fn alloc_error(&self, what: &'static str, bytes: usize, e: DriverError) -> Error {
        if e.0 == cudarc::driver::sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
            let available = self.ctx.mem_get_info().map_or(0, |(free, _)| free);
            return Error::OutOfMemory { what, need_mib: (bytes as u64).div_ceil(1 << 20), available_mib: available as u64 >> 20 };
        }
        driver_error(what, e)
    }
}

/// Times `f` on the device: `warmup` untimed calls, then `reps` calls each bracketed by synchronisations
/// of the solver's stream (so work queued before a call is not charged to it and the call's own work is).
/// Returns the wall-clock seconds of each rep.
///
/// ```no_run
/// use neumatc::baseline::gpu::{GpuSolver, time_synced};
/// let solver = GpuSolver::new(0).unwrap();
/// let a = solver.upload(&vec![1.0f32; 4 * 32 * 32], 4, 32, 32).unwrap();
/// let t = time_synced(&solver, 2, 5, || solver.svd(&a, 8).map(drop)).unwrap();
/// assert_eq!(t.len(), 5);
/// ```
pub fn time_synced(solver: &GpuSolver, warmup: usize, reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    for _ in 0..warmup {
        f()?;
    }
    let mut seconds = Vec::with_capacity(reps);
    for _ in 0..reps {
        solver.synchronize()?;
        let start = Instant::now();
        f()?;
        solver.synchronize()?;
        seconds.push(start.elapsed().as_secs_f64());
    }
    Ok(seconds)
}

// ---------------------------------------------------------------------------------------------------
// Self-check against the CPU baselines
// ---------------------------------------------------------------------------------------------------

/// One measurement of [`self_check`]: passed when `value` is finite and at most `tolerance`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckResult {
    /// What was measured, e.g. `"svd/gesvdjBatched/f32/n=32/rank=16/reconstruction-vs-cpu"`. A failing
    /// call appends its error: `"... (error: ...)"`, with `value` NaN.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// The largest value that passes.
    pub tolerance: f64,
    /// `value <= tolerance` (and finite).
    pub passed: bool,
}

impl CheckResult {
    fn new(name: String, value: f64, tolerance: f64) -> Self {
        CheckResult { name, value, tolerance, passed: value.is_finite() && value <= tolerance }
    }
}

/// Checks the GPU baselines against the CPU (faer) ones on seeded random batches of 3 matrices at
/// n = 8, 32 and 64, in f32 and f64. Per case:
/// - inverse of `G + n·I` (`G` standard normal, condition number about 2): the residual
///   `max ‖A·Â⁻¹ − I‖_F/‖I‖_F` and the distance `‖Â⁻¹ − A⁻¹_cpu‖_F/‖A⁻¹_cpu‖_F`, both within `100·n·ε`;
///   and a batch whose second matrix is zero must fail with `Singular` at index 1;
/// - truncated SVD (rank n/2) of `Q₁ diag(n, n−1, …, 1) Q₂ᵀ` (`Qᵢ` random orthogonal) by every method
///   that applies (`gesvdjBatched` for n ≤ 32, `gesvdaStridedBatched`, the `gesvdj` loop): the gap between
///   its reconstruction error `‖A − U diag(S) Vᵀ‖_F/‖A‖_F` and the CPU truncation's, the largest
///   singular-value error relative to `σ₁`, and the orthogonality defect of U and V
///   ([`crate::metrics::orthogonality_defect`]), within `100·n·ε` (`ε` of f32 for `gesvdaStridedBatched`,
///   whose contract is single precision).
///
/// The inputs are rounded to the element type first and the CPU reference runs on the rounded values,
/// so the checks measure the solvers, not the rounding. A failing call is reported as a failed result,
/// not an error; the function itself fails only when a CPU reference cannot be computed.
///
/// ```no_run
/// let solver = neumatc::baseline::gpu::GpuSolver::new(0).unwrap();
/// let results = neumatc::baseline::gpu::self_check(&solver).unwrap();
/// println!("{}", serde_json::to_string_pretty(&results).unwrap());
/// assert!(results.iter().all(|r| r.passed));
/// ```
pub fn self_check(solver: &GpuSolver) -> Result<Vec<CheckResult>> {
    let mut out = Vec::new();
    for (i, n) in [8usize, 32, 64].into_iter().enumerate() {
        let seed = 1000 + i as u64;
        check_inverse::<f32>(solver, n, seed, &mut out)?;
        check_inverse::<f64>(solver, n, seed, &mut out)?;
        check_svd::<f32>(solver, n, seed, &mut out)?;
        check_svd::<f64>(solver, n, seed, &mut out)?;
    }
    Ok(out)
}

const CHECK_BATCH: usize = 3;

fn check_inverse<T: GpuFloat>(solver: &GpuSolver, n: usize, seed: u64, out: &mut Vec<CheckResult>) -> Result<()> {
    let name = format!("inverse/{}/n={n}", T::NAME);
    let tol = 100.0 * n as f64 * T::EPSILON;
    let (host, a) = rounded::<T>(&well_conditioned(CHECK_BATCH, n, seed))?;
    let exact = super::inverse(&a)?;
    let gpu = solver.upload(&host, CHECK_BATCH, n, n).and_then(|g| solver.inverse(&g)).and_then(|inv| inv.download(solver));
    match gpu {
        Ok(inv) => {
            let residual = crate::metrics::inverse_residuals(&a, &inv).map(|r| r.into_iter().fold(0.0, f64::max).sqrt());
            out.push(CheckResult::new(format!("{name}/residual"), residual.unwrap_or(f64::NAN), tol));
            out.push(CheckResult::new(format!("{name}/vs-cpu"), crate::metrics::rel_fro_error(&inv, &exact.data).sqrt(), tol));
        }
        Err(e) => out.push(failed(&name, tol, &e)),
    }
    // Matrix 1 of the batch zeroed: an exactly zero pivot.
    let mut singular = host.clone();
    singular[n * n..2 * n * n].iter_mut().for_each(|v| *v = T::default());
    let check = format!("{name}/singular-reported-at-index-1");
    out.push(match solver.upload(&singular, CHECK_BATCH, n, n).and_then(|g| solver.inverse(&g)) {
        Err(Error::Singular { p, .. }) if p == [1.0] => CheckResult::new(check, 0.0, 0.0),
        Err(e) => CheckResult::new(format!("{check} (error: {e})"), 1.0, 0.0),
        Ok(_) => CheckResult::new(format!("{check} (no error)"), 1.0, 0.0),
    });
    Ok(())
}

fn check_svd<T: GpuFloat>(solver: &GpuSolver, n: usize, seed: u64, out: &mut Vec<CheckResult>) -> Result<()> {
    let rank = n / 2;
    let (host, a) = rounded::<T>(&with_spectrum(CHECK_BATCH, n, seed)?)?;
    let cpu = super::svd(&a, Some(rank))?;
    let cpu_err = reconstruction_errors(&a, &cpu)?;
    let methods = [SvdMethod::JacobiBatched, SvdMethod::Approximate, SvdMethod::JacobiLoop];
    for method in methods.into_iter().filter(|&m| m != SvdMethod::JacobiBatched || n <= JACOBI_BATCHED_MAX_N) {
        let name = format!("svd/{}/{}/n={n}/rank={rank}", method.name(), T::NAME);
        let eps = if method == SvdMethod::Approximate { f64::from(f32::EPSILON).max(T::EPSILON) } else { T::EPSILON };
        let tol = 100.0 * n as f64 * eps;
        let gpu = solver.upload(&host, CHECK_BATCH, n, n).and_then(|g| solver.svd_with(&g, rank, method)).and_then(|f| f.download(solver));
        let gpu = match gpu {
            Ok(f) => f,
            Err(e) => {
                out.push(failed(&name, tol, &e));
                continue;
            }
        };
        let gap = reconstruction_errors(&a, &gpu).map(|e| e.iter().zip(&cpu_err).map(|(g, c)| (g - c).abs()).fold(0.0, f64::max));
        out.push(CheckResult::new(format!("{name}/reconstruction-vs-cpu"), gap.unwrap_or(f64::NAN), tol));
        let s_err = (0..CHECK_BATCH)
            .map(|k| {
                let (g, c) = (gpu.s.matrix(k), cpu.s.matrix(k));
                g.iter().zip(c).map(|(g, c)| (g - c).abs()).fold(0.0, f64::max) / c[0]
            })
            .fold(0.0, f64::max);
        out.push(CheckResult::new(format!("{name}/singular-values-vs-cpu"), s_err, tol));
        let defect = crate::metrics::orthogonality_defect(Operation::Svd, &svd_views(&gpu));
        out.push(CheckResult::new(format!("{name}/orthogonality-u-v"), defect.unwrap_or(f64::NAN), tol));
    }
    Ok(())
}

fn failed(name: &str, tolerance: f64, e: &Error) -> CheckResult {
    CheckResult { name: format!("{name} (error: {e})"), value: f64::NAN, tolerance, passed: false }
}

fn svd_views(f: &SvdBatch) -> [ComponentView<'_>; 3] {
    fn view(m: &MatrixBatch) -> ComponentView<'_> {
        ComponentView::new(m.batch, m.rows, m.cols, &m.data[..])
    }
    [view(&f.u), view(&f.s), view(&f.v)]
}

/// `‖A − U diag(S) Vᵀ‖_F/‖A‖_F` per matrix (the square root of the paper's `RelErr_svd`).
fn reconstruction_errors(a: &MatrixBatch, f: &SvdBatch) -> Result<Vec<f64>> {
    Ok(crate::metrics::rel_errs(Operation::Svd, a, &svd_views(f), None, None)?.into_iter().map(f64::sqrt).collect())
}

/// The batch rounded to `T` (for the device) and back to f64 (for the CPU reference).
fn rounded<T: GpuFloat>(a: &MatrixBatch) -> Result<(Vec<T>, MatrixBatch)> {
    let host: Vec<T> = a.data.iter().map(|&v| T::from_f64(v)).collect();
    let back = MatrixBatch::new(a.batch, a.rows, a.cols, host.iter().map(|&v| v.into()).collect())?;
    Ok((host, back))
}

/// `batch` matrices `G + n·I` with standard normal `G`: `‖G‖₂ ≈ 2√n`, so the condition number is about
/// `(n + 2√n)/(n − 2√n)` (≤ 3 for n ≥ 8).
fn well_conditioned(batch: usize, n: usize, seed: u64) -> MatrixBatch {
    let mut data = gaussian(batch * n * n, seed);
    for k in 0..batch {
        (0..n).for_each(|i| data[k * n * n + i * n + i] += n as f64);
    }
    MatrixBatch { batch, rows: n, cols: n, data }
}

/// `batch` matrices `Q₁ diag(n, n−1, …, 1) Q₂ᵀ` with random orthogonal `Qᵢ` (QR of Gaussian matrices):
/// distinct singular values one apart.
fn with_spectrum(batch: usize, n: usize, seed: u64) -> Result<MatrixBatch> {
    let mut data = Vec::with_capacity(batch * n * n);
    for k in 0..batch {
        let (q1, _) = super::qr_matrix(&gaussian(n * n, seed ^ ((2 * k as u64 + 1) << 32)), n, n)?;
        let (q2, _) = super::qr_matrix(&gaussian(n * n, seed ^ ((2 * k as u64 + 2) << 32)), n, n)?;
        for i in 0..n {
            for j in 0..n {
                data.push((0..n).map(|l| q1[i * n + l] * (n - l) as f64 * q2[j * n + l]).sum());
            }
        }
    }
    Ok(MatrixBatch { batch, rows: n, cols: n, data })
}

fn gaussian(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| StandardNormal.sample(&mut rng)).collect()
}

// ---------------------------------------------------------------------------------------------------
// Host-side helpers
// ---------------------------------------------------------------------------------------------------

/// Device addresses of `count` matrices `stride_bytes` apart from `base`.
fn pointer_addresses(base: u64, count: usize, stride_bytes: usize) -> Vec<u64> {
    (0..count).map(|k| base + (k * stride_bytes) as u64).collect()
}

/// The number of values a (batch, rows, cols) batch spans in `layout` (`None` for an inconsistent
/// column-major layout: `ld < rows`, or matrices that overlap).
fn required_len(batch: usize, rows: usize, cols: usize, layout: Layout) -> Option<usize> {
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
fn to_row_major<T: Copy>(raw: &[T], batch: usize, rows: usize, cols: usize, layout: Layout) -> Vec<T> {
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

/// The `lwork` a buffer-size query returned, as an allocation length (at least 1).
fn workspace_len(op: &'static str, lwork: c_int) -> Result<usize> {
    usize::try_from(lwork).map(|l| l.max(1)).map_err(|_| Error::Internal(format!("{op}: the workspace query returned lwork = {lwork}")))
}

fn to_c_int(op: &'static str, v: usize) -> Result<c_int> {
    c_int::try_from(v).map_err(|_| Error::input(op, format!("{v} exceeds the 32-bit sizes cuBLAS and cuSOLVER take")))
}

/// The per-matrix `info` words of `getrfBatched` and `getriBatched`: `-j` (parameter `j` was wrong) is
/// a bug, `k > 0` (`U(k, k)` is exactly zero) a singular matrix, reported with its batch index.
fn inverse_info(op: &'static str, getrf: &[c_int], getri: &[c_int]) -> Result<()> {
    if let Some(&v) = getrf.iter().chain(getri).find(|&&v| v < 0) {
        return Err(Error::Internal(format!("{op}: cuBLAS rejected parameter {}", -v)));
    }
    match getrf.iter().zip(getri).position(|(&f, &r)| f > 0 || r > 0) {
        Some(i) => Err(Error::Singular { op, p: vec![i as f64] }),
        None => Ok(()),
    }
}

/// The per-matrix `info` words of the SVD routines: `-j` is a bug, `k > 0` no convergence (Jacobi:
/// after `sweeps` sweeps).
fn svd_info(op: &'static str, info: &[c_int], sweeps: Option<usize>) -> Result<()> {
    if let Some(&v) = info.iter().find(|&&v| v < 0) {
        return Err(Error::Internal(format!("{op}: cuSOLVER rejected parameter {}", -v)));
    }
    match (info.iter().position(|&v| v > 0), sweeps) {
        (None, _) => Ok(()),
        (Some(_), Some(iters)) => Err(Error::NoConvergence { op, iters }),
        (Some(i), None) => Err(Error::Internal(format!("{op}: matrix {i} of the batch did not converge (info = {})", info[i]))),
    }
}

/// `cublas<t>getrfBatched` → `cublasSgetrfBatched` for `letter = 'S'`.
fn routine(template: &str, letter: char) -> String {
    template.replacen("<t>", &letter.to_string(), 1)
}

fn blas_ok(status: blas::cublasStatus_t, template: &str, letter: char) -> Result<()> {
    status.result().map_err(|e| Error::Internal(format!("{}: {e}", routine(template, letter))))
}

fn solver_ok(status: dn::cusolverStatus_t, template: &str, letter: char) -> Result<()> {
    status.result().map_err(|e| Error::Internal(format!("{}: {e}", routine(template, letter))))
}

fn driver_error(what: &str, e: DriverError) -> Error {
    Error::Internal(format!("{what}: {e}"))
}

/// A `gesvdjInfo_t` (tolerance, sweep limit, sorting) destroyed on drop.
struct JacobiParams(dn::gesvdjInfo_t);

impl JacobiParams {
    fn new(tolerance: f64, max_sweeps: c_int, sort: bool) -> Result<Self> {
        let mut raw = std::ptr::null_mut();
        // SAFETY: `raw` is a valid out-pointer.
        solver_ok(unsafe { dn::cusolverDnCreateGesvdjInfo(&mut raw) }, "cusolverDnCreateGesvdjInfo", ' ')?;
        let params = JacobiParams(raw);
        // SAFETY: `params.0` was just created and is destroyed only by `Drop`.
        solver_ok(unsafe { dn::cusolverDnXgesvdjSetTolerance(params.0, tolerance) }, "cusolverDnXgesvdjSetTolerance", ' ')?;
        // SAFETY: as above.
        solver_ok(unsafe { dn::cusolverDnXgesvdjSetMaxSweeps(params.0, max_sweeps) }, "cusolverDnXgesvdjSetMaxSweeps", ' ')?;
        if sort {
            // Descending singular values (the default, made explicit: truncation relies on it). gesvdj always sorts.
            // SAFETY: as above.
            solver_ok(unsafe { dn::cusolverDnXgesvdjSetSortEig(params.0, 1) }, "cusolverDnXgesvdjSetSortEig", ' ')?;
        }
        Ok(params)
    }
}

impl Drop for JacobiParams {
    fn drop(&mut self) {
        // SAFETY: created by `cusolverDnCreateGesvdjInfo`, destroyed once; nothing on the device refers to it.
        let _ = unsafe { dn::cusolverDnDestroyGesvdjInfo(self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_addresses_step_by_the_matrix_size() {
        assert_eq!(pointer_addresses(0x1000, 3, 64), vec![0x1000, 0x1040, 0x1080]);
        assert!(pointer_addresses(0x1000, 0, 64).is_empty());
    }

    #[test]
    fn column_major_truncated_vectors_come_back_row_major() {
        // Two 3 × 3 column-major matrices (ld 3, stride 9); keep 3 × 2 of each.
        let raw: Vec<u32> = (0..18).collect();
        let layout = Layout::ColMajor { ld: 3, stride: 9 };
        assert_eq!(required_len(2, 3, 2, layout), Some(9 + 3 + 3));
        let rows = to_row_major(&raw, 2, 3, 2, layout);
        assert_eq!(rows, vec![0, 3, 1, 4, 2, 5, 9, 12, 10, 13, 11, 14]);
        // Singular values: `rank` of `n` per matrix.
        let s = to_row_major(&[5, 4, 3, 9, 8, 7], 2, 2, 1, Layout::ColMajor { ld: 3, stride: 3 });
        assert_eq!(s, vec![5, 4, 9, 8]);
        assert_eq!(to_row_major(&raw, 2, 3, 3, Layout::RowMajor), raw);
    }

    #[test]
    fn inconsistent_layouts_are_refused() {
        assert_eq!(required_len(2, 3, 2, Layout::ColMajor { ld: 2, stride: 9 }), None);
        assert_eq!(required_len(2, 3, 2, Layout::ColMajor { ld: 3, stride: 5 }), None);
        assert_eq!(required_len(usize::MAX, 2, 2, Layout::RowMajor), None);
    }

    #[test]
    fn info_words_name_the_failing_matrix() {
        assert!(inverse_info("t", &[0, 0], &[0, 0]).is_ok());
        assert!(matches!(inverse_info("t", &[0, 3, 0], &[0, 3, 0]), Err(Error::Singular { p, .. }) if p == [1.0]));
        assert!(matches!(inverse_info("t", &[0, 0], &[0, 2]), Err(Error::Singular { p, .. }) if p == [1.0]));
        assert!(matches!(inverse_info("t", &[-4, 0], &[0, 0]), Err(Error::Internal(_))));
        assert!(matches!(svd_info("t", &[0, 9], Some(100)), Err(Error::NoConvergence { iters: 100, .. })));
        assert!(matches!(svd_info("t", &[0, 9], None), Err(Error::Internal(m)) if m.contains("matrix 1")));
        assert!(svd_info("t", &[0, 0], None).is_ok());
    }

    #[test]
    fn routine_names_fill_in_the_type_letter() {
        assert_eq!(routine("cublas<t>getrfBatched", 'D'), "cublasDgetrfBatched");
        assert_eq!(routine("cusolverDn<t>gesvdj", 'S'), "cusolverDnSgesvdj");
    }

    /// The transpose of a row-major `n × n` matrix; equally, the column-major buffer of `m` (as a
    /// column-major library writes it).
    fn transpose(m: &[f64], n: usize) -> Vec<f64> {
        (0..n * n).map(|idx| m[(idx % n) * n + idx / n]).collect()
    }

    #[test]
    fn the_libraries_factors_of_the_transpose_are_ours_swapped() {
        // Simulate cuSOLVER on the CPU: it reads our row-major A as Aᵀ, factors Aᵀ = U_c S V_cᵀ and
        // writes U_c, V_c column-major (ld n) and S (n per matrix).
        let (n, rank) = (6, 3);
        let a = with_spectrum(1, n, 5).unwrap();
        let lib = crate::linalg::svd(&MatrixBatch::new(1, n, n, transpose(&a.data, n)).unwrap(), None).unwrap();
        let (u_c, v_c) = (transpose(&lib.u.data, n), transpose(&lib.v.data, n));
        let vectors = Layout::ColMajor { ld: n, stride: n * n };
        for r in [rank, n] {
            let ours = SvdBatch {
                u: MatrixBatch::new(1, n, r, to_row_major(&v_c, 1, n, r, vectors)).unwrap(),
                s: MatrixBatch::new(1, r, 1, to_row_major(&lib.s.data, 1, r, 1, Layout::ColMajor { ld: n, stride: n })).unwrap(),
                v: MatrixBatch::new(1, n, r, to_row_major(&u_c, 1, n, r, vectors)).unwrap(),
            };
            let cpu = crate::linalg::svd(&a, Some(r)).unwrap();
            let (ours, cpu) = (reconstruction_errors(&a, &ours).unwrap()[0], reconstruction_errors(&a, &cpu).unwrap()[0]);
            assert!((ours - cpu).abs() < 1e-12, "rank {r}: {ours} vs {cpu}");
        }
    }

    #[test]
    fn the_libraries_inverse_of_the_transpose_is_ours_as_is() {
        // The library inverts Aᵀ and writes (Aᵀ)⁻¹ column-major: read row-major, that buffer is A⁻¹.
        let n = 5;
        let a = well_conditioned(1, n, 3);
        let lib = crate::linalg::inverse(&MatrixBatch::new(1, n, n, transpose(&a.data, n)).unwrap()).unwrap();
        let raw = transpose(&lib.data, n);
        let exact = crate::linalg::inverse(&a).unwrap();
        assert!(crate::metrics::rel_fro_error(&raw, &exact.data) < 1e-28);
    }

    #[test]
    fn a_missing_device_is_unavailable() {
        assert!(matches!(GpuSolver::new(4096), Err(Error::DeviceUnavailable(4096))));
    }

    #[test]
    fn check_inputs_are_what_they_claim() {
        let a = well_conditioned(2, 8, 1);
        assert!(a.data.iter().all(|v| v.is_finite()));
        // Diagonally dominant enough to invert comfortably.
        assert!(crate::linalg::condition_number(a.matrix(0), 8) < 5.0);
        let b = with_spectrum(2, 8, 1).unwrap();
        let svd = crate::linalg::svd(&b, None).unwrap();
        for (i, s) in svd.s.matrix(1).iter().enumerate() {
            assert!((s - (8 - i) as f64).abs() < 1e-12, "{i}: {s}");
        }
    }
}
