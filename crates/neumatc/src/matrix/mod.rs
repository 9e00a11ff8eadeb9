//! Batches of dense matrices and the checks every entry point runs on them.

pub mod complex;

use crate::error::{Error, Result};

/// A batch of dense real matrices, row-major within a matrix and batch-major across matrices.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixBatch {
    /// Number of matrices.
    pub batch: usize,
    /// Rows of each matrix.
    pub rows: usize,
    /// Columns of each matrix.
    pub cols: usize,
    /// `batch * rows * cols` values.
    pub data: Vec<f64>,
}

impl MatrixBatch {
    /// Wraps `data`, checking its length and that every value is finite.
    ///
    /// ```
    /// let m = neumatc::MatrixBatch::new(1, 2, 2, vec![1.0, 0.0, 0.0, 1.0]).unwrap();
    /// assert_eq!(m.matrix(0), &[1.0, 0.0, 0.0, 1.0]);
    /// ```
    pub fn new(batch: usize, rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        check_len("matrix batch", &data, batch, rows, cols)?;
        check_finite("matrix batch", &data)?;
        Ok(Self { batch, rows, cols, data })
    }

    /// Matrix `i` as a row-major slice of `rows * cols` values.
    pub fn matrix(&self, i: usize) -> &[f64] {
        let sz = self.rows * self.cols;
        &self.data[i * sz..(i + 1) * sz]
    }

    /// Fails unless the matrices are square.
    pub fn require_square(&self, op: &'static str) -> Result<usize> {
        if self.rows != self.cols {
            return Err(Error::ShapeMismatch {
                op,
                expected: vec![self.batch, self.rows, self.rows],
                got: vec![self.batch, self.rows, self.cols],
            });
        }
        Ok(self.rows)
    }
}

/// Checks that a buffer holds exactly `batch * rows * cols` values.
pub(crate) fn check_len<T>(op: &'static str, data: &[T], batch: usize, rows: usize, cols: usize) -> Result<()> {
    let want = batch.checked_mul(rows).and_then(|v| v.checked_mul(cols));
    if want != Some(data.len()) {
        return Err(Error::ShapeMismatch { op, expected: vec![batch, rows, cols], got: vec![data.len()] });
    }
    Ok(())
}

/// Fails with `InvalidInput` naming the first NaN or infinite value.
pub(crate) fn check_finite(what: &'static str, data: &[f64]) -> Result<()> {
    match data.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::input(what, format!("value at index {i} is {} (NaN and Inf are not allowed)", data[i]))),
        None => Ok(()),
    }
}

/// Fails with `OUT_OF_MEMORY` before an allocation of `count × per_item` values of `bytes` each that
/// the machine cannot hold (more than its available memory, or an overflowing size), instead of letting
/// the allocator abort the process or the kernel's OOM killer end it.
pub fn check_alloc(what: &'static str, count: usize, per_item: usize, bytes: usize) -> Result<()> {
    let need = (count as u128) * (per_item as u128) * (bytes as u128);
    let available = available_memory();
    if need > available as u128 {
        let mib = |b: u128| u64::try_from(b >> 20).unwrap_or(u64::MAX);
        return Err(Error::OutOfMemory { what, need_mib: mib(need), available_mib: mib(available as u128) });
    }
    Ok(())
}

/// Memory available to this process in bytes: `MemAvailable` of `/proc/meminfo` (Linux), else `u64::MAX`
/// (no check). Read at most once a second.
pub fn available_memory() -> u64 {
    use std::sync::Mutex;
    use std::time::Instant;
    static CACHE: Mutex<Option<(Instant, u64)>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((at, v)) = *cache
        && at.elapsed().as_secs() < 1
    {
        return v;
    }
    let v = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("MemAvailable:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(u64::MAX, |kib| kib.saturating_mul(1024));
    *cache = Some((Instant::now(), v));
    v
}

/// Splits a flat parameter buffer into its batch size, checking length and finiteness.
pub(crate) fn param_batch(params: &[f64], param_dim: usize) -> Result<usize> {
    if param_dim == 0 || !params.len().is_multiple_of(param_dim) {
        return Err(Error::input("params", format!("length {} is not a multiple of the parameter dimension {param_dim}", params.len())));
    }
    check_finite("params", params)?;
    Ok(params.len() / param_dim)
}

/// Where result buffers come from. [`FreshBuffers`] allocates new memory; a caller that recycles the
/// buffers of earlier results (the Node binding returns them when JavaScript's GC frees them) saves the
/// kernel's page faulting and zeroing of fresh memory, which at n = 256 costs as much as the GEMM itself.
/// Every value of a buffer taken here is overwritten by the call that takes it.
pub trait BufferSource: Sync {
    /// A buffer of exactly `len` f32 values (any contents).
    fn take_f32(&self, len: usize) -> Vec<f32>;
    /// A buffer of exactly `len` f64 values (any contents).
    fn take_f64(&self, len: usize) -> Vec<f64>;
}

/// Fresh zeroed allocations (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct FreshBuffers;

impl BufferSource for FreshBuffers {
    fn take_f32(&self, len: usize) -> Vec<f32> {
        vec![0.0; len]
    }

    fn take_f64(&self, len: usize) -> Vec<f64> {
        vec![0.0; len]
    }
}

/// An owned buffer of `f32` or `f64` values: a prediction's components, a model's latent tensors, a
/// decoded model file, all in the model's dtype.
#[derive(Debug, Clone, PartialEq)]
pub enum FloatVec {
    /// Single precision (the default model dtype).
    F32(Vec<f32>),
    /// Double precision.
    F64(Vec<f64>),
}

impl FloatVec {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values widened to f64 (a copy).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            FloatVec::F32(v) => v.iter().map(|&x| x as f64).collect(),
            FloatVec::F64(v) => v.clone(),
        }
    }

    /// The borrowed view.
    pub fn as_slice(&self) -> FloatSlice<'_> {
        match self {
            FloatVec::F32(v) => FloatSlice::F32(v),
            FloatVec::F64(v) => FloatSlice::F64(v),
        }
    }
}

/// A borrowed buffer of `f32` or `f64` values (a prediction's dtype), widened to f64 by the metrics.
#[derive(Debug, Clone, Copy)]
pub enum FloatSlice<'a> {
    /// Single precision (the default model dtype).
    F32(&'a [f32]),
    /// Double precision.
    F64(&'a [f64]),
}

impl FloatSlice<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            FloatSlice::F32(v) => v.len(),
            FloatSlice::F64(v) => v.len(),
        }
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends values `start..end`, widened to f64, to `out`.
    pub(crate) fn extend_f64(&self, start: usize, end: usize, out: &mut Vec<f64>) {
        match self {
            FloatSlice::F32(v) => out.extend(v[start..end].iter().map(|&x| f64::from(x))),
            FloatSlice::F64(v) => out.extend_from_slice(&v[start..end]),
        }
    }
}

impl<'a> From<&'a [f32]> for FloatSlice<'a> {
    fn from(v: &'a [f32]) -> Self {
        FloatSlice::F32(v)
    }
}

impl<'a> From<&'a [f64]> for FloatSlice<'a> {
    fn from(v: &'a [f64]) -> Self {
        FloatSlice::F64(v)
    }
}

/// Idle result buffers handed out again: a [`BufferSource`] whose `take_*` returns an idle buffer of the
/// exact length when there is one (else a fresh zeroed one), and whose `give_back_*` keeps a buffer
/// while the idle bytes stay under a limit. Fresh memory costs the kernel's page faulting and zeroing,
/// which at n = 256 is about as much as the GEMM that fills it (measured with `perf`). No numerics: only
/// memory handed back and forth. The Node binding keeps one for buffers JavaScript's GC frees; `check`,
/// `refine` and the benchmarks keep one per call.
#[derive(Debug)]
pub struct Recycler {
    idle: std::sync::Mutex<Idle>,
    max_bytes: usize,
}

#[derive(Debug)]
struct Idle {
    f32s: Vec<Vec<f32>>,
    f64s: Vec<Vec<f64>>,
    bytes: usize,
}

impl Default for Recycler {
    fn default() -> Self {
        Self::with_limit(usize::MAX)
    }
}

impl Recycler {
    /// A recycler that keeps at most `max_bytes` of idle buffers (usable in a `static`).
    pub const fn with_limit(max_bytes: usize) -> Self {
        Self { idle: std::sync::Mutex::new(Idle { f32s: Vec::new(), f64s: Vec::new(), bytes: 0 }), max_bytes }
    }

    /// Keeps `v` for reuse while the idle bytes stay under the limit; drops it otherwise.
    pub fn give_back_f32(&self, v: Vec<f32>) {
        self.give_back(v, |idle| &mut idle.f32s);
    }

    /// Keeps `v` for reuse while the idle bytes stay under the limit; drops it otherwise.
    pub fn give_back_f64(&self, v: Vec<f64>) {
        self.give_back(v, |idle| &mut idle.f64s);
    }

    /// Drops every idle buffer.
    pub fn clear(&self) {
        let mut idle = self.lock();
        *idle = Idle { f32s: Vec::new(), f64s: Vec::new(), bytes: 0 };
    }

    /// Bytes held by idle buffers.
    pub fn idle_bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Idle> {
        // A panic while holding the lock leaves only a list of buffers behind: still usable.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take<T: Copy + Default>(&self, len: usize, list: fn(&mut Idle) -> &mut Vec<Vec<T>>) -> Vec<T> {
        let mut idle = self.lock();
        match list(&mut idle).iter().position(|v| v.len() == len) {
            Some(i) => {
                let v = list(&mut idle).swap_remove(i);
                idle.bytes -= v.capacity() * size_of::<T>();
                v
            }
            None => vec![T::default(); len],
        }
    }

    fn give_back<T>(&self, v: Vec<T>, list: fn(&mut Idle) -> &mut Vec<Vec<T>>) {
        let size = v.capacity() * size_of::<T>();
        let mut idle = self.lock();
        if idle.bytes.saturating_add(size) <= self.max_bytes {
            idle.bytes += size;
            list(&mut idle).push(v);
        }
    }
}

impl BufferSource for Recycler {
    fn take_f32(&self, len: usize) -> Vec<f32> {
        self.take(len, |idle| &mut idle.f32s)
    }

    fn take_f64(&self, len: usize) -> Vec<f64> {
        self.take(len, |idle| &mut idle.f64s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycler_hands_back_buffers_of_the_same_length_within_its_limit() {
        let r = Recycler::with_limit(10 * 8);
        let v = r.take_f64(4);
        assert_eq!(v, vec![0.0; 4]);
        let ptr = v.as_ptr();
        r.give_back_f64(v);
        assert_eq!(r.idle_bytes(), 32);
        assert_eq!(r.take_f64(3).len(), 3, "no idle buffer of length 3: a fresh one");
        let again = r.take_f64(4);
        assert_eq!(again.as_ptr(), ptr, "the idle buffer of length 4 comes back");
        assert_eq!(r.idle_bytes(), 0);
        r.give_back_f64(vec![1.0; 8]);
        r.give_back_f64(vec![1.0; 8]); // over the limit of 80 bytes: dropped
        assert_eq!(r.idle_bytes(), 64);
        r.give_back_f32(vec![1.0; 4]);
        assert_eq!(r.idle_bytes(), 80);
        r.clear();
        assert_eq!(r.idle_bytes(), 0);
    }
}
