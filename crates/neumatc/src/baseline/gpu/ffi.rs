//! The FFI side: the element types and the cuBLAS/cuSOLVER entry points of each (function-pointer
//! tables), status and error conversion, and the Jacobi parameter handle.

use std::ffi::c_int;

use cudarc::cublas::sys as blas;
use cudarc::cusolver::sys as dn;
use cudarc::driver::{DeviceRepr, DriverError, ValidAsZeroBits};

use crate::error::{Error, Result};
use crate::metrics::Real;

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

/// The `lwork` a buffer-size query returned, as an allocation length (at least 1).
pub(super) fn workspace_len(op: &'static str, lwork: c_int) -> Result<usize> {
    usize::try_from(lwork).map(|l| l.max(1)).map_err(|_| Error::Internal(format!("{op}: the workspace query returned lwork = {lwork}")))
}

pub(super) fn to_c_int(op: &'static str, v: usize) -> Result<c_int> {
    c_int::try_from(v).map_err(|_| Error::input(op, format!("{v} exceeds the 32-bit sizes cuBLAS and cuSOLVER take")))
}

/// `cublas<t>getrfBatched` → `cublasSgetrfBatched` for `letter = 'S'`.
pub(super) fn routine(template: &str, letter: char) -> String {
    template.replacen("<t>", &letter.to_string(), 1)
}

pub(super) fn blas_ok(status: blas::cublasStatus_t, template: &str, letter: char) -> Result<()> {
    status.result().map_err(|e| Error::Internal(format!("{}: {e}", routine(template, letter))))
}

pub(super) fn solver_ok(status: dn::cusolverStatus_t, template: &str, letter: char) -> Result<()> {
    status.result().map_err(|e| Error::Internal(format!("{}: {e}", routine(template, letter))))
}

pub(super) fn driver_error(what: &str, e: DriverError) -> Error {
    Error::Internal(format!("{what}: {e}"))
}

/// A `gesvdjInfo_t` (tolerance, sweep limit, sorting) destroyed on drop.
pub(super) struct JacobiParams(pub(super) dn::gesvdjInfo_t);

impl JacobiParams {
    pub(super) fn new(tolerance: f64, max_sweeps: c_int, sort: bool) -> Result<Self> {
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
