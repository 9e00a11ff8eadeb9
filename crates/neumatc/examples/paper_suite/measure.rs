//! What every table of the suite measures with: medians after warm-up, recycled result buffers, the
//! machine's ceilings (memory bandwidth, GEMM peak), NumPy on the same matrices, and the analytic FLOP
//! and byte counts behind each floor.

use std::path::PathBuf;
use std::process::Command;

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use neumatc::{MatrixBatch, NeuMatC, Recycler, Result};

use crate::timing::time_reps;
use rayon::prelude::*;
use serde_json::{Value, json};

/// `{ mean, std, max }` of the per-dataset values (population std; NaN-free input expected).
pub fn stats(v: &[f64]) -> Value {
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    json!({ "mean": mean, "std": std, "max": v.iter().copied().fold(f64::NEG_INFINITY, f64::max), "n": v.len() })
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Median seconds of one `predict` of `params` (buffers recycled between calls).
/// Result buffers are handed back after each call (a [`Recycler`]), as the Node binding does when
/// JavaScript's GC frees a result: an application that predicts repeatedly pays no page faults for fresh
/// memory.
pub fn time_predict(model: &NeuMatC, params: &[f64], pool: &Recycler, reps: usize) -> f64 {
    let t = time_reps(reps, 2, || model.predict_with(params, pool).expect("in domain").recycle(pool));
    pool.clear();
    t
}

/// FLOPs of one prediction per parameter: the MLP layers plus one GEMM per component (`2·d·len`).
pub fn predict_flops(model: &NeuMatC) -> f64 {
    let d = model.latent_dim() as f64;
    let out: usize = model.shapes().iter().map(|&(r, c)| r * c).sum();
    let mlp: f64 = model.mlp_widths().windows(2).map(|w| 2.0 * (w[0] * w[1]) as f64).sum();
    mlp + 2.0 * d * out as f64
}

/// Bytes a batch of predictions must move: the output written once plus `C` read once.
pub fn predict_bytes(model: &NeuMatC, batch: usize) -> f64 {
    let out: usize = model.shapes().iter().map(|&(r, c)| r * c).sum();
    let bytes = match model.dtype_name() {
        "f64" => 8.0,
        _ => 4.0,
    };
    (batch * out + model.latent_dim() * out) as f64 * bytes
}

/// The machine's ceilings, measured once per run.
#[derive(Debug, Clone, Copy)]
pub struct Ceilings {
    /// GB/s (1e9 bytes) writing, reading and copying large buffers on all threads.
    pub write: f64,
    pub read: f64,
    pub copy: f64,
    /// GFLOP/s of a large f32 / f64 GEMM on all threads (faer).
    pub gemm_f32: f64,
    pub gemm_f64: f64,
}

impl Ceilings {
    pub fn measure() -> Self {
        // 512 MiB of f32 per buffer: far beyond every cache. Touched once before timing.
        let len = 128 << 20;
        let mut a = vec![1.0f32; len];
        let b = vec![2.0f32; len];
        let gb = (len * 4) as f64 / 1e9;
        let chunk = 1 << 16;
        let write = time_reps(5, 1, || a.par_chunks_mut(chunk).for_each(|c| c.fill(3.0)));
        // Sixteen independent sums, so the loop vectorises and memory, not the adder chain, bounds it.
        let sum16 = |c: &[f32]| {
            c.chunks_exact(16).fold([0f32; 16], |mut acc, x| {
                acc.iter_mut().zip(x).for_each(|(s, v)| *s += v);
                acc
            })
        };
        let read = time_reps(5, 1, || b.par_chunks(chunk).map(|c| sum16(c)[0]).sum::<f32>());
        let copy = time_reps(5, 1, || a.par_chunks_mut(chunk).zip(b.par_chunks(chunk)).for_each(|(x, y)| x.copy_from_slice(y)));
        drop((a, b));
        let gemm = |n: usize, f32_: bool| -> f64 {
            let flops = 2.0 * (n as f64).powi(3);
            let secs = if f32_ {
                let (x, y) =
                    (Mat::<f32>::from_fn(n, n, |i, j| ((i + j) % 7) as f32), Mat::<f32>::from_fn(n, n, |i, j| ((i * j) % 5) as f32));
                let mut z = Mat::<f32>::zeros(n, n);
                time_reps(5, 1, || matmul(z.as_mut(), Accum::Replace, x.as_ref(), y.as_ref(), 1.0, Par::rayon(0)))
            } else {
                let (x, y) =
                    (Mat::<f64>::from_fn(n, n, |i, j| ((i + j) % 7) as f64), Mat::<f64>::from_fn(n, n, |i, j| ((i * j) % 5) as f64));
                let mut z = Mat::<f64>::zeros(n, n);
                time_reps(5, 1, || matmul(z.as_mut(), Accum::Replace, x.as_ref(), y.as_ref(), 1.0, Par::rayon(0)))
            };
            flops / secs / 1e9
        };
        Self { write: gb / write, read: gb / read, copy: 2.0 * gb / copy, gemm_f32: gemm(2048, true), gemm_f64: gemm(2048, false) }
    }

    /// The inference floor in seconds: the larger of bytes ÷ bandwidth and FLOPs ÷ GEMM peak. Writing the
    /// output dominates the bytes, so the write bandwidth is the one that bounds it.
    pub fn floor(&self, model: &NeuMatC, batch: usize) -> f64 {
        let (bytes, flops) = self.floor_parts(model, batch);
        bytes.max(flops)
    }

    /// The two bounds behind [`Ceilings::floor`], seconds: (bytes ÷ write bandwidth, FLOPs ÷ GEMM peak).
    pub fn floor_parts(&self, model: &NeuMatC, batch: usize) -> (f64, f64) {
        let peak = if model.dtype_name() == "f64" { self.gemm_f64 } else { self.gemm_f32 };
        (predict_bytes(model, batch) / (self.write * 1e9), predict_flops(model) * batch as f64 / (peak * 1e9))
    }

    pub fn json(&self) -> Value {
        json!({
            "memBandwidthGBs": { "write": self.write, "read": self.read, "copy": self.copy },
            "gemmGflops": { "f32": self.gemm_f32, "f64": self.gemm_f64 },
            "note": "bandwidth: 512 MiB f32 buffers filled / summed / copied on all threads (rayon), median of 5 after a warm-up \
                     (copy counts read + write bytes); GEMM: faer matmul of 2048 × 2048 matrices on all threads, median of 5. \
                     A NeuMatC row's floor is max(bytes ÷ write bandwidth, FLOPs ÷ GEMM peak) with bytes = output + C."
        })
    }
}

/// NumPy (through `bench/numpy_ops.py`) on the same matrices, when a Python with NumPy was given.
pub struct Numpy {
    python: Option<String>,
    script: PathBuf,
    pub version: Option<String>,
}

impl Numpy {
    pub fn new(python: Option<String>) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/numpy_ops.py");
        Self { python, script, version: None }
    }

    pub fn available(&self) -> bool {
        self.python.is_some()
    }

    /// Seconds per matrix of NumPy's batched `op` on `a`, and the error of its answer; `None` without
    /// NumPy (or when the script fails: the message is printed, the row shows a dash).
    pub fn time(&mut self, op: &str, a: &MatrixBatch, extra: &[&str]) -> Option<(f64, f64)> {
        let python = self.python.clone()?;
        let file = std::env::temp_dir().join(format!("neumatc-suite-{}-{op}.f64", std::process::id()));
        let bytes: Vec<u8> = a.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        if let Err(e) = std::fs::write(&file, bytes) {
            eprintln!("numpy {op}: cannot write {}: {e}", file.display());
            return None;
        }
        let out = Command::new(&python)
            .arg(&self.script)
            .args([op, &file.to_string_lossy(), &a.batch.to_string(), &a.rows.to_string(), &a.cols.to_string()])
            .args(extra)
            // numpy_ops.py reads the file before any timing; the file goes as soon as it returns.
            .output();
        let _ = std::fs::remove_file(&file);
        let out = match out {
            Ok(o) if o.status.success() => o,
            Ok(o) => {
                eprintln!("numpy {op} failed: {}", String::from_utf8_lossy(&o.stderr));
                return None;
            }
            Err(e) => {
                eprintln!("numpy {op}: cannot run {python}: {e}");
                return None;
            }
        };
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        if self.version.is_none() {
            self.version = Some(format!(
                "{} / SciPy {} ({})",
                v["numpy"].as_str().unwrap_or("?"),
                v["scipy"].as_str().unwrap_or("?"),
                v["blas"].as_str().unwrap_or("?")
            ));
        }
        Some((v["secondsPerMatrix"].as_f64()?, v["relErr"].as_f64().unwrap_or(f64::NAN)))
    }
}

/// The first `count` matrices of a batch.
pub fn head(a: &MatrixBatch, count: usize) -> MatrixBatch {
    let count = count.min(a.batch);
    MatrixBatch { batch: count, rows: a.rows, cols: a.cols, data: a.data[..count * a.rows * a.cols].to_vec() }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a reader
/// never sees half a result file.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
