//! Recycled result buffers. No numerics: only memory handed back and forth.
//!
//! A result's buffer goes to JavaScript as an external ArrayBuffer; when the GC frees it, the buffer
//! comes back here instead of to the allocator, and the next call of the same size writes into it.
//! Fresh memory would be faulted in and zeroed by the kernel on every call, which at n = 256 costs
//! as much as the GEMM itself (measured with `perf`: half of `predictSync`'s time in `clear_page`).

use std::sync::Mutex;

use napi::bindgen_prelude::{Float32Array, Float64Array};

/// Keep at most this many bytes of idle buffers.
const MAX_IDLE_BYTES: usize = 512 << 20;

#[derive(Default)]
struct Idle {
    f32s: Vec<Vec<f32>>,
    f64s: Vec<Vec<f64>>,
    bytes: usize,
}

static IDLE: Mutex<Idle> = Mutex::new(Idle { f32s: Vec::new(), f64s: Vec::new(), bytes: 0 });

/// The engine's buffer source backed by the idle buffers.
pub struct Pool;

/// A buffer of exactly `len` values: an idle one of that length if there is one, else a fresh one.
fn take<T: Copy + Default>(len: usize, list: fn(&mut Idle) -> &mut Vec<Vec<T>>) -> Vec<T> {
    let Ok(mut idle) = IDLE.lock() else { return vec![T::default(); len] };
    let found = list(&mut idle).iter().position(|v| v.len() == len);
    match found {
        Some(i) => {
            let v = list(&mut idle).swap_remove(i);
            idle.bytes -= v.capacity() * size_of::<T>();
            v
        }
        None => vec![T::default(); len],
    }
}

/// Keeps `v` for reuse while the pool is under its byte limit; drops it otherwise.
fn give_back<T>(v: Vec<T>, list: fn(&mut Idle) -> &mut Vec<Vec<T>>) {
    let size = v.capacity() * size_of::<T>();
    if let Ok(mut idle) = IDLE.lock()
        && idle.bytes + size <= MAX_IDLE_BYTES
    {
        idle.bytes += size;
        list(&mut idle).push(v);
    }
}

fn f32s(idle: &mut Idle) -> &mut Vec<Vec<f32>> {
    &mut idle.f32s
}

fn f64s(idle: &mut Idle) -> &mut Vec<Vec<f64>> {
    &mut idle.f64s
}

impl neumatc::BufferSource for Pool {
    fn take_f32(&self, len: usize) -> Vec<f32> {
        take(len, f32s)
    }

    fn take_f64(&self, len: usize) -> Vec<f64> {
        take(len, f64s)
    }
}

/// Hands `v` to JS without a copy; the buffer returns to the pool when JS frees it.
pub fn f32_array(v: Vec<f32>) -> Float32Array {
    if v.is_empty() {
        return Float32Array::new(v);
    }
    let mut v = std::mem::ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: ptr/len/cap come from a live Vec that is never dropped here; the finalizer rebuilds it
    // exactly once, when JS no longer references the buffer.
    unsafe { Float32Array::with_external_data(ptr, len, move |p, l| give_back(Vec::from_raw_parts(p, l, cap), f32s)) }
}

/// Hands `v` to JS without a copy; the buffer returns to the pool when JS frees it.
pub fn f64_array(v: Vec<f64>) -> Float64Array {
    if v.is_empty() {
        return Float64Array::new(v);
    }
    let mut v = std::mem::ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: as in `f32_array`.
    unsafe { Float64Array::with_external_data(ptr, len, move |p, l| give_back(Vec::from_raw_parts(p, l, cap), f64s)) }
}
