//! The solver: one CUDA stream with its cuBLAS and cuSOLVER handles, the batched LU inverse and SVDs,
//! and device-synchronised timing.

use std::ffi::{c_int, c_longlong};
use std::sync::Arc;
use std::time::Instant;

use cudarc::cublas::CudaBlas;
use cudarc::cusolver::DnHandle;
use cudarc::cusolver::sys as dn;
use cudarc::driver::{CudaContext, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, DeviceRepr, DriverError, ValidAsZeroBits};

use crate::error::{Error, Result};
use crate::linalg::SvdBatch;
use crate::matrix::MatrixBatch;

use super::ffi::*;
use super::layout::*;
use super::*;

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
    /// [`Error::Singular`] with its batch index as `p`. Unlike the CPU [`crate::linalg::inverse`], nearly singular
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

/// The per-matrix `info` words of `getrfBatched` and `getriBatched`: `-j` (parameter `j` was wrong) is
/// a bug, `k > 0` (`U(k, k)` is exactly zero) a singular matrix, reported with its batch index.
pub(super) fn inverse_info(op: &'static str, getrf: &[c_int], getri: &[c_int]) -> Result<()> {
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
pub(super) fn svd_info(op: &'static str, info: &[c_int], sweeps: Option<usize>) -> Result<()> {
    if let Some(&v) = info.iter().find(|&&v| v < 0) {
        return Err(Error::Internal(format!("{op}: cuSOLVER rejected parameter {}", -v)));
    }
    match (info.iter().position(|&v| v > 0), sweeps) {
        (None, _) => Ok(()),
        (Some(_), Some(iters)) => Err(Error::NoConvergence { op, iters }),
        (Some(i), None) => Err(Error::Internal(format!("{op}: matrix {i} of the batch did not converge (info = {})", info[i]))),
    }
}

impl<T: GpuFloat> GpuBatch<T> {
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

impl<T: GpuFloat> GpuSvd<T> {
    /// The three factors on the host, row-major and widened to f64, as the CPU [`crate::linalg::svd`] returns them.
    pub fn download(&self, solver: &GpuSolver) -> Result<SvdBatch> {
        Ok(SvdBatch { u: self.u.to_matrix_batch(solver)?, s: self.s.to_matrix_batch(solver)?, v: self.v.to_matrix_batch(solver)? })
    }
}
