//! The GPU benchmark: the device's ceilings, Table 13 (batched inversion and SVD, 32×32 and 512×512,
//! batch 128/256/512, against cuBLAS/cuSOLVER), Table 4 (inverse vs n, GPU vs CPU) and Table 5 (SVD
//! 512×512: training time and amortisation against cuSOLVER).

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use neumatc::baseline::gpu::{self, GpuBatch, GpuSolver, GpuSvd};
use neumatc::op::{OpSpec, Operation};
use neumatc::{
    DeviceModel, DeviceSpec, Family, MatrixBatch, NeuMatC, PredictOptions, Result, SamplingConfig, SyntheticConfig, TrainConfig, metrics,
    train,
};
use serde_json::{Value, json};

use crate::Args;
use crate::checks::{held_out, rel_err};
use crate::timing::median;

/// Median seconds of `f` on `dev`: `warmup` untimed runs, then `reps` runs each bracketed by a device
/// synchronisation.
fn synced<T>(dev: &Device, warmup: usize, reps: usize, mut f: impl FnMut() -> Result<T>) -> Result<f64> {
    for _ in 0..warmup {
        std::hint::black_box(f()?);
    }
    dev.synchronize()?;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        let out = f()?;
        dev.synchronize()?;
        times.push(t.elapsed().as_secs_f64());
        drop(out);
    }
    Ok(median(times))
}

fn ms(s: f64) -> f64 {
    s * 1e3
}

pub struct Bench<'a> {
    solver: &'a GpuSolver,
    spec: DeviceSpec,
    dev: Device,
    quick: bool,
    max_n: usize,
    /// Device copy bandwidth (bytes read + written per second) and GEMM peaks, once measured.
    copy_bw: f64,
    gemm_f32: f64,
}

/// `(data, batch)` of `a` narrowed to f32 for the f32 baselines.
fn to_f32(a: &MatrixBatch) -> Vec<f32> {
    a.data.iter().map(|&v| v as f32).collect()
}

/// The joint `[U, S, V]` results per matrix (the layout of [`OpSpec::exact`]) of a GPU SVD.
fn svd_joint(solver: &GpuSolver, svd: &GpuSvd<f32>) -> Result<Vec<f64>> {
    let (u, s, v) = (svd.u.download(solver)?, svd.s.download(solver)?, svd.v.download(solver)?);
    let (nu, ns, nv) = (u.len() / svd.u.batch, s.len() / svd.s.batch, v.len() / svd.v.batch);
    let mut out = Vec::with_capacity(u.len() + s.len() + v.len());
    for i in 0..svd.u.batch {
        out.extend(u[i * nu..(i + 1) * nu].iter().map(|&x| x as f64));
        out.extend(s[i * ns..(i + 1) * ns].iter().map(|&x| x as f64));
        out.extend(v[i * nv..(i + 1) * nv].iter().map(|&x| x as f64));
    }
    Ok(out)
}

impl<'a> Bench<'a> {
    pub fn new(solver: &'a GpuSolver, args: &Args) -> Self {
        let spec = DeviceSpec::Cuda(args.device);
        let dev = spec.device().expect("the device opened for the solver");
        Self { solver, spec, dev, quick: args.quick, max_n: args.max_n, copy_bw: f64::NAN, gemm_f32: f64::NAN }
    }

    fn reps(&self) -> usize {
        if self.quick { 3 } else { 7 }
    }

    /// Device-to-device copy bandwidth on 1 GiB and cuBLAS GEMM peaks (f32, f64) at 8192³.
    pub fn ceilings(&mut self) -> Value {
        let mut run = || -> Result<Value> {
            let len = if self.quick { 1 << 26 } else { 1 << 28 };
            let t = Tensor::ones(len, DType::F32, &self.dev)?;
            let copy_s = synced(&self.dev, 2, self.reps(), || Ok(t.copy()?))?;
            self.copy_bw = 2.0 * 4.0 * len as f64 / copy_s;
            let g = if self.quick { 4096 } else { 8192 };
            let mut peaks = Vec::new();
            for dt in [DType::F32, DType::F64] {
                let a = Tensor::randn(0f32, 1.0, (g, g), &self.dev)?.to_dtype(dt)?;
                let s = synced(&self.dev, 2, self.reps(), || Ok(a.matmul(&a)?))?;
                peaks.push(2.0 * (g as f64).powi(3) / s);
            }
            self.gemm_f32 = peaks[0];
            Ok(json!({
                "copy_bytes": 4 * len, "copy_gb_s": self.copy_bw / 1e9,
                "gemm_n": g, "gemm_f32_tflop_s": peaks[0] / 1e12, "gemm_f64_tflop_s": peaks[1] / 1e12,
                "note": "copy bandwidth counts bytes read + written; the floor of a prediction is max((output + C) bytes ÷ copy bandwidth, FLOPs ÷ f32 GEMM peak)",
            }))
        };
        run().unwrap_or_else(|e| json!({ "error": e.to_string() }))
    }

    /// The floor of one resident prediction, seconds.
    fn floor(&self, model: &DeviceModel, batch: usize) -> f64 {
        let m: usize = model.shapes().iter().map(|&(r, c)| r * c).sum();
        let d = model.latent_dim();
        let bytes = (batch * m + d * m) as f64 * model.dtype().bytes() as f64;
        let flops = 2.0 * (d * m * batch) as f64;
        (bytes / self.copy_bw).max(flops / self.gemm_f32)
    }

    /// NeuMatC on the device: resident time, download time, held-out error, floor.
    fn neumatc_row(&self, dm: &DeviceModel, fam: &Family, params: &[f64]) -> Result<Value> {
        let batch = params.len() / fam.param_dim();
        let opts = PredictOptions::default();
        let t = synced(&self.dev, 3, self.reps(), || dm.predict_resident(params, opts))?;
        let resident = dm.predict_resident(params, opts)?;
        let download = synced(&self.dev, 1, 3, || {
            resident.tensors.iter().map(|t| Ok(t.flatten_all()?.to_vec1::<f32>()?.len())).sum::<Result<usize>>()
        })?;
        let err = rel_err(dm.spec(), fam, params, &dm.predict(params, opts)?)?;
        let floor = self.floor(dm, batch);
        Ok(json!({
            "ms": ms(t), "ms_per_matrix": ms(t) / batch as f64, "download_ms": ms(download),
            "relerr": err, "floor_ms": ms(floor), "x_floor": t / floor,
        }))
    }

    /// cuBLAS batched LU inverse (getrf + getri) of matrices resident on the device.
    fn cublas_inverse(&self, a: &MatrixBatch) -> Result<Value> {
        let up = Instant::now();
        let a_dev: GpuBatch<f32> = self.solver.upload(&to_f32(a), a.batch, a.rows, a.cols)?;
        self.solver.synchronize()?;
        let upload = up.elapsed().as_secs_f64();
        let times = gpu::time_synced(self.solver, 2, self.reps(), || self.solver.inverse(&a_dev).map(|_| ()))?;
        let g = self.solver.inverse(&a_dev)?.download(self.solver)?;
        let err = metrics::rel_err_inverse(a, &g)?;
        Ok(
            json!({ "ms": ms(median(times)), "upload_ms": ms(upload), "relerr": err, "method": "cublasSgetrfBatched + cublasSgetriBatched" }),
        )
    }

    /// cuSOLVER batched SVD truncated to `rank`; with `full_loop`, the per-matrix Jacobi SVD on at most
    /// `loop_cap` matrices, scaled to the batch (it is a sequential loop on one stream).
    fn cusolver_svd(&self, a: &MatrixBatch, rank: usize, full_loop: bool, loop_cap: usize) -> Result<Value> {
        let spec = OpSpec::new(Operation::Svd, a.rows, a.cols, Some(rank), None)?;
        let a_dev: GpuBatch<f32> = self.solver.upload(&to_f32(a), a.batch, a.rows, a.cols)?;
        let reps = if a.rows > 64 { 3 } else { self.reps() };
        let times = gpu::time_synced(self.solver, 1, reps, || self.solver.svd(&a_dev, rank).map(|_| ()))?;
        let joint = svd_joint(self.solver, &self.solver.svd(&a_dev, rank)?)?;
        let err = metrics::mean(&metrics::rel_err_op(&spec, a, &joint, None)?);
        let method = if a.rows <= 32 {
            "cusolverDnSgesvdjBatched (all singular triplets, truncated)"
        } else {
            "cusolverDnSgesvdaStridedBatched (top `rank` triplets)"
        };
        let mut row = json!({ "ms": ms(median(times)), "relerr": err, "method": method });
        if full_loop {
            let count = a.batch.min(loop_cap);
            let sub = MatrixBatch::new(count, a.rows, a.cols, a.data[..count * a.rows * a.cols].to_vec())?;
            let sub_dev: GpuBatch<f32> = self.solver.upload(&to_f32(&sub), count, a.rows, a.cols)?;
            let t = gpu::time_synced(self.solver, 1, 1, || self.solver.svd_full_loop(&sub_dev, rank).map(|_| ()))?;
            let sub_spec = OpSpec::new(Operation::Svd, a.rows, a.cols, Some(rank), None)?;
            let joint = svd_joint(self.solver, &self.solver.svd_full_loop(&sub_dev, rank)?)?;
            let err = metrics::mean(&metrics::rel_err_op(&sub_spec, &sub, &joint, None)?);
            row["full_loop"] = json!({
                "ms": ms(median(t)) * a.batch as f64 / count as f64, "measured_matrices": count,
                "relerr": err, "method": "cusolverDnSgesvdj per matrix (full SVD, the paper's cuSOLVER column)",
            });
        }
        Ok(row)
    }

    fn train_on_device(&self, fam: &Family, op: Operation, cfg: TrainConfig) -> Result<(NeuMatC, f64)> {
        let cfg = TrainConfig { device: self.spec, ..cfg };
        let t = Instant::now();
        let model = train(fam, op, &cfg)?;
        Ok((model, t.elapsed().as_secs_f64()))
    }

    fn svd_family(n: usize, rank: usize, seed: u64) -> Result<Family> {
        Family::synthetic(SyntheticConfig { n, rank, eps: 1e-3, scale: Some(1.0), seed, ..Default::default() })
    }

    /// Table 13: batched inversion and SVD on the GPU, NeuMatC vs cuBLAS/cuSOLVER.
    pub fn table13(&mut self) -> Value {
        let mut rows = Vec::new();
        let batches = if self.quick { vec![128, 512] } else { vec![128, 256, 512] };
        for n in [32usize, 512] {
            let mut row = json!({ "n": n });
            let res = (|| -> Result<()> {
                let rank = 20.min(n / 2);
                let fam = Family::synthetic(SyntheticConfig { n, rank, seed: 0, ..Default::default() })?;
                let (inv, inv_train) = self.train_on_device(&fam, Operation::Inverse, TrainConfig::default())?;
                let sfam = Self::svd_family(n, rank, 0)?;
                let cfg = TrainConfig {
                    rank: Some(rank),
                    sampling: SamplingConfig { supervised: 120, ..Default::default() },
                    ..Default::default()
                };
                let (svd, svd_train) = self.train_on_device(&sfam, Operation::Svd, cfg)?;
                row["inverse_train_s"] = json!(inv_train);
                row["svd_train_s"] = json!(svd_train);
                row["svd_rank"] = json!(rank);
                row["latent_dim"] = json!({ "inverse": inv.latent_dim(), "svd": svd.latent_dim() });
                let (dinv, dsvd) = (inv.to_device(self.spec)?, svd.to_device(self.spec)?);
                let mut per_batch = Vec::new();
                for &b in &batches {
                    let p = held_out(&fam, b, 1000 + b as u64);
                    let a = fam.at(&p)?;
                    let ours = self.neumatc_row(&dinv, &fam, &p)?;
                    let base = self.cublas_inverse(&a)?;
                    let sp = held_out(&sfam, b, 2000 + b as u64);
                    let sa = sfam.at(&sp)?;
                    let ours_svd = self.neumatc_row(&dsvd, &sfam, &sp)?;
                    let base_svd = self.cusolver_svd(&sa, rank, n > 32, 64)?;
                    let speed = |x: &Value, y: &Value| y["ms"].as_f64().zip(x["ms"].as_f64()).map(|(y, x)| y / x);
                    let full_speed =
                        base_svd.get("full_loop").and_then(|f| f["ms"].as_f64()).zip(ours_svd["ms"].as_f64()).map(|(y, x)| y / x);
                    println!(
                        "  n = {n:4} batch {b:4}: inverse {:.3} ms vs cuBLAS {:.3} ms ({:.1}×, RelErr {:.1e}); svd {:.3} ms vs cuSOLVER {:.3} ms ({:.1}×, RelErr {:.1e})",
                        ours["ms"].as_f64().unwrap_or(f64::NAN),
                        base["ms"].as_f64().unwrap_or(f64::NAN),
                        speed(&ours, &base).unwrap_or(f64::NAN),
                        ours["relerr"].as_f64().unwrap_or(f64::NAN),
                        ours_svd["ms"].as_f64().unwrap_or(f64::NAN),
                        base_svd["ms"].as_f64().unwrap_or(f64::NAN),
                        speed(&ours_svd, &base_svd).unwrap_or(f64::NAN),
                        ours_svd["relerr"].as_f64().unwrap_or(f64::NAN),
                    );
                    per_batch.push(json!({
                        "batch": b,
                        "inverse": { "neumatc": ours, "cublas": base, "speedup": speed(&ours, &base) },
                        "svd": { "neumatc": ours_svd, "cusolver": base_svd, "speedup": speed(&ours_svd, &base_svd), "speedup_vs_full_loop": full_speed },
                    }));
                }
                row["batches"] = Value::Array(per_batch);
                Ok(())
            })();
            if let Err(e) = res {
                row["error"] = json!(format!("{e} (code {})", e.code()));
            }
            rows.push(row);
        }
        json!({
            "setup": "Synthetic family §3.1 (inverse: default scale, ε = 1; SVD: unscaled factors, ε = 1e-3, rank min(20, n/2), 120 supervised), \
                      models trained on this GPU (f32), held-out parameters, f32 baselines on matrices resident on the device",
            "paper": { "inverse_ms": { "32": [0.23, 0.20, 0.26], "512": [0.78, 1.22, 2.28] }, "svd_ms": { "32": [0.53, 0.55, 0.59], "512": [1.44, 2.80, 4.69] },
                       "cusolver_inverse_ms": { "32": [0.27, 0.29, 0.42], "512": [24.7, 54.8, 115.0] }, "cusolver_svd_ms": { "32": [0.93, 1.29, 2.33], "512": [3310.0, 6640.0, 13500.0] },
                       "batches": [128, 256, 512], "gpu": "RTX 3060 Ti" },
            "rows": rows,
        })
    }

    /// Table 4: inverse at n = 256 … max_n, batch 100, the same model on the GPU and on the CPU.
    pub fn table4(&mut self) -> Value {
        let mut rows = Vec::new();
        for n in [256usize, 512, 1024, 2048, 4096].into_iter().filter(|&n| n <= self.max_n) {
            let mut row = json!({ "n": n, "batch": 100 });
            let res = (|| -> Result<()> {
                let fam = Family::synthetic(SyntheticConfig { n, seed: 0, ..Default::default() })?;
                let (model, train_s) = self.train_on_device(&fam, Operation::Inverse, TrainConfig::default())?;
                let p = held_out(&fam, 100, 4000 + n as u64);
                let dm = model.to_device(self.spec)?;
                let gpu_row = self.neumatc_row(&dm, &fam, &p)?;
                let cpu_s = crate::timing::time(|| model.predict(&p).map(|o| o.components.len()));
                let a = fam.at(&p)?;
                let base = self.cublas_inverse(&a)?;
                let gpu_ms = gpu_row["ms"].as_f64().unwrap_or(f64::NAN);
                println!(
                    "  n = {n:4}: GPU {gpu_ms:.3} ms, CPU {:.3} ms, cuBLAS {:.3} ms (batch 100), RelErr {:.1e}",
                    ms(cpu_s),
                    base["ms"].as_f64().unwrap_or(f64::NAN),
                    gpu_row["relerr"].as_f64().unwrap_or(f64::NAN)
                );
                row["train_s"] = json!(train_s);
                row["latent_dim"] = json!(model.latent_dim());
                row["gpu"] = gpu_row;
                row["cpu_ms"] = json!(ms(cpu_s));
                row["cpu_threads"] = json!(rayon::current_num_threads());
                row["cublas"] = base;
                row["speedup_gpu_vs_cpu"] = json!(ms(cpu_s) / gpu_ms);
                Ok(())
            })();
            if let Err(e) = res {
                row["error"] = json!(format!("{e} (code {})", e.code()));
            }
            rows.push(row);
        }
        json!({
            "setup": "Synthetic family §3.1 (default scale, ε = 1), inverse model trained on this GPU, 100 held-out parameters; \
                      times for the whole batch of 100 (GPU: resident result; CPU: the same model's host path on every host thread)",
            "paper": { "n": [256, 512, 1024, 2048, 4096], "cpu_ms": [2.6, 7.8, 4.1, 16.0, 63.0], "gpu_ms": [2.4, 3.3, 0.6, 1.8, 6.3] },
            "rows": rows,
        })
    }

    /// Table 5: SVD of 512 × 512 matrices, rank 20 — training time on the GPU and amortisation.
    pub fn table5(&mut self) -> Value {
        let (n, rank) = (512usize, 20usize);
        let mut out = json!({
            "setup": "Synthetic SVD family (unscaled factors, ε = 1e-3, rank 20), n = 512, 120 supervised, trained on this GPU; \
                      cuSOLVER: gesvda (top 20 triplets, batched) and the full per-matrix gesvdj loop (measured on 64, scaled)",
            "paper": { "train_ms": 6220.0, "batches": [512, 1024, 2048], "cusolver_ms": [13300.0, 26200.0, 179000.0], "inference_ms": [1.30, 1.97, 3.41] },
        });
        let res = (|| -> Result<()> {
            let fam = Self::svd_family(n, rank, 1)?;
            let cfg =
                TrainConfig { rank: Some(rank), sampling: SamplingConfig { supervised: 120, ..Default::default() }, ..Default::default() };
            let (model, train_s) = self.train_on_device(&fam, Operation::Svd, cfg)?;
            let test = held_out(&fam, 100, 5000);
            let err = rel_err(model.spec(), &fam, &test, &model.predict(&test)?)?;
            println!("  trained in {train_s:.2} s, held-out RelErr_svd {err:.2e} (d = {})", model.latent_dim());
            out["train_s"] = json!(train_s);
            out["relerr"] = json!(err);
            out["latent_dim"] = json!(model.latent_dim());
            out["report"] = serde_json::to_value(model.report()).unwrap_or(Value::Null);
            let dm = model.to_device(self.spec)?;
            let mut rows = Vec::new();
            for b in if self.quick { vec![512] } else { vec![512, 1024, 2048] } {
                let p = held_out(&fam, b, 6000 + b as u64);
                let a = fam.at(&p)?;
                let ours = self.neumatc_row(&dm, &fam, &p)?;
                let base = self.cusolver_svd(&a, rank, true, 64)?;
                let total = ours["ms"].as_f64().unwrap_or(f64::NAN) + ms(train_s);
                rows.push(json!({
                    "batch": b, "neumatc": ours, "cusolver": base, "neumatc_total_ms": total,
                    "speedup_total_vs_gesvda": base["ms"].as_f64().map(|c| c / total),
                    "speedup_total_vs_full_loop": base.get("full_loop").and_then(|f| f["ms"].as_f64()).map(|c| c / total),
                }));
            }
            out["rows"] = Value::Array(rows);
            Ok(())
        })();
        if let Err(e) = res {
            out["error"] = json!(format!("{e} (code {})", e.code()));
        }
        out
    }
}

/// The targets, met or missed, from the measured document.
pub fn targets(doc: &Value) -> Value {
    let at512 = doc["table13"]["rows"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["n"] == 512))
        .and_then(|r| r["batches"].as_array().and_then(|b| b.iter().find(|x| x["batch"] == 512)).cloned());
    let get = |v: &Option<Value>, path: &[&str]| -> Option<f64> {
        let mut cur = v.as_ref()?;
        for p in path {
            cur = cur.get(*p)?;
        }
        cur.as_f64()
    };
    let inv_speed = get(&at512, &["inverse", "speedup"]);
    let inv_err = get(&at512, &["inverse", "neumatc", "relerr"]);
    let svd_speed = get(&at512, &["svd", "speedup_vs_full_loop"]);
    let svd_speed_gesvda = get(&at512, &["svd", "speedup"]);
    let svd_err = get(&at512, &["svd", "neumatc", "relerr"]);
    let train_s = doc["table5"]["train_s"].as_f64();
    let train_err = doc["table5"]["relerr"].as_f64();
    let mut floors: Vec<f64> = Vec::new();
    if let Some(rows) = doc["table13"]["rows"].as_array() {
        for r in rows {
            for b in r["batches"].as_array().into_iter().flatten().filter(|b| b["batch"].as_u64() >= Some(512)) {
                floors.extend(["inverse", "svd"].iter().filter_map(|op| b[*op]["neumatc"]["x_floor"].as_f64()));
            }
        }
    }
    for r in doc["table5"]["rows"].as_array().into_iter().flatten() {
        floors.extend(r["neumatc"]["x_floor"].as_f64());
    }
    let worst_floor = floors.iter().copied().fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let met = |ok: Option<bool>| match ok {
        Some(true) => "met",
        Some(false) => "missed",
        None => "not measured",
    };
    json!([
        { "target": "batched inverse 512×512, batch 512: ≥ 50× cuBLAS/cuSOLVER at RelErr_inv ≤ 1e-4",
          "speedup": inv_speed, "relerr": inv_err, "status": met(inv_speed.zip(inv_err).map(|(s, e)| s >= 50.0 && e <= 1e-4)) },
        { "target": "batched SVD 512×512, batch 512: ≥ 1000× cuSOLVER (full SVD, the paper's baseline) at RelErr_svd ≤ 1e-4",
          "speedup": svd_speed, "speedup_vs_rank_r_gesvda": svd_speed_gesvda, "relerr": svd_err,
          "status": met(svd_speed.zip(svd_err).map(|(s, e)| s >= 1000.0 && e <= 1e-4)) },
        { "target": "training an SVD model of 512×512 to RelErr_svd ≤ 1e-3 in ≤ 3 s",
          "train_s": train_s, "relerr": train_err, "status": met(train_s.zip(train_err).map(|(s, e)| s <= 3.0 && e <= 1e-3)) },
        { "target": "GPU inference within 2× of the memory-bandwidth floor at batch ≥ 512",
          "worst_x_floor": worst_floor, "rows": floors.len(), "status": met(worst_floor.map(|w| w <= 2.0)) },
    ])
}
