//! Recycled result buffers. No numerics: only memory handed back and forth.
//!
//! A result's buffer goes to JavaScript as an external ArrayBuffer; when the GC frees it, the buffer
//! comes back here instead of to the allocator, and the next call of the same size writes into it.
//! Fresh memory would be faulted in and zeroed by the kernel on every call, which at n = 256 costs
//! as much as the GEMM itself (measured with `perf`: half of `predictSync`'s time in `clear_page`).

use napi::bindgen_prelude::{Float32Array, Float64Array};
use neumatc::Recycler;

/// Keep at most this many bytes of idle buffers.
const MAX_IDLE_BYTES: usize = 512 << 20;

/// The idle buffers, shared by every call (JS frees results on its own schedule): the engine's buffer
/// source for every result that goes to JavaScript.
pub static POOL: Recycler = Recycler::with_limit(MAX_IDLE_BYTES);

/// Hands `v` to JS without a copy; the buffer returns to the pool when JS frees it.
pub fn f32_array(v: Vec<f32>) -> Float32Array {
    if v.is_empty() {
        return Float32Array::new(v);
    }
    let mut v = std::mem::ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: ptr/len/cap come from a live Vec that is never dropped here; the finalizer rebuilds it
    // exactly once, when JS no longer references the buffer.
    unsafe { Float32Array::with_external_data(ptr, len, move |p, l| POOL.give_back_f32(Vec::from_raw_parts(p, l, cap))) }
}

/// Hands `v` to JS without a copy; the buffer returns to the pool when JS frees it.
pub fn f64_array(v: Vec<f64>) -> Float64Array {
    if v.is_empty() {
        return Float64Array::new(v);
    }
    let mut v = std::mem::ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: as in `f32_array`.
    unsafe { Float64Array::with_external_data(ptr, len, move |p, l| POOL.give_back_f64(Vec::from_raw_parts(p, l, cap))) }
}
