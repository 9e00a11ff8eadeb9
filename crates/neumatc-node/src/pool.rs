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

fn take<T: Copy + Default>(list: &mut Vec<Vec<T>>, bytes: &mut usize, len: usize) -> Vec<T> {
    match list.iter().position(|v| v.len() == len) {
        Some(i) => {
            let v = list.swap_remove(i);
            *bytes -= v.capacity() * size_of::<T>();
            v
        }
        None => vec![T::default(); len],
    }
}

impl neumatc::BufferSource for Pool {
    fn take_f32(&self, len: usize) -> Vec<f32> {
        match IDLE.lock() {
            Ok(mut idle) => {
                let Idle { f32s, bytes, .. } = &mut *idle;
                take(f32s, bytes, len)
            }
            Err(_) => vec![0.0; len],
        }
    }

    fn take_f64(&self, len: usize) -> Vec<f64> {
        match IDLE.lock() {
            Ok(mut idle) => {
                let Idle { f64s, bytes, .. } = &mut *idle;
                take(f64s, bytes, len)
            }
            Err(_) => vec![0.0; len],
        }
    }
}

fn give_back<T>(v: Vec<T>, pick: impl FnOnce(&mut Idle) -> &mut Vec<Vec<T>>) {
    let size = v.capacity() * size_of::<T>();
    if let Ok(mut idle) = IDLE.lock()
        && idle.bytes + size <= MAX_IDLE_BYTES
    {
        idle.bytes += size;
        pick(&mut idle).push(v);
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
    unsafe { Float32Array::with_external_data(ptr, len, move |p, l| give_back(Vec::from_raw_parts(p, l, cap), |i| &mut i.f32s)) }
}

/// Hands `v` to JS without a copy; the buffer returns to the pool when JS frees it.
pub fn f64_array(v: Vec<f64>) -> Float64Array {
    if v.is_empty() {
        return Float64Array::new(v);
    }
    let mut v = std::mem::ManuallyDrop::new(v);
    let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
    // SAFETY: as in `f32_array`.
    unsafe { Float64Array::with_external_data(ptr, len, move |p, l| give_back(Vec::from_raw_parts(p, l, cap), |i| &mut i.f64s)) }
}
