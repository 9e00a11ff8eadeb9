//! Correctness tests of the CUDA path, each one a JSON record `{name, passed, value, tolerance, seconds, detail}`.
//! A test that errors or panics is recorded as failed with its message; the others still run.

use std::time::Instant;

use neumatc::baseline::gpu::{self, GpuSolver};
use neumatc::{
    ComponentData, DeviceSpec, Family, Method, NeuMatC, Operation, PredictOptions, Prediction, Result, SamplingConfig, SyntheticConfig,
    TrainConfig, metrics, train,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// Name, memory and driver of the device.
pub fn device_info(solver: &GpuSolver, ordinal: usize) -> Value {
    let ctx = solver.context();
    json!({
        "ordinal": ordinal,
        "name": solver.name(),
        "memory_bytes": ctx.total_mem().ok(),
        "compute_capability": ctx
            .attribute(cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
            .ok()
            .zip(ctx.attribute(cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR).ok())
            .map(|(a, b)| format!("{a}.{b}")),
        "driver_cuda_version": driver_version(),
        "nvidia_smi": nvidia_smi(),
    })
}

/// The CUDA version the driver supports (`cuDriverGetVersion`), as `major.minor`.
fn driver_version() -> Option<String> {
    let mut v = 0i32;
    // SAFETY: cuDriverGetVersion writes one int through a valid pointer.
    let ok = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut v) } == cudarc::driver::sys::cudaError_enum::CUDA_SUCCESS;
    ok.then(|| format!("{}.{}", v / 1000, (v % 1000) / 10))
}

/// `nvidia-smi`'s name, driver and memory line, when the tool is there.
fn nvidia_smi() -> Option<String> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name,driver_version,memory.total,clocks.max.sm", "--format=csv,noheader"])
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `count` parameters uniform in the family's box, from `seed`.
pub fn held_out(fam: &Family, count: usize, seed: u64) -> Vec<f64> {
    let d = fam.domain();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count * d.dim()).map(|i| d.lo[i % d.dim()] + rng.random::<f64>() * (d.hi[i % d.dim()] - d.lo[i % d.dim()])).collect()
}

/// Mean held-out error of a prediction (the paper's metric of the model's operation, in f64).
pub fn rel_err(spec: &neumatc::op::OpSpec, fam: &Family, params: &[f64], pred: &Prediction) -> Result<f64> {
    let a = fam.at(params)?;
    let joint = pred.joint_f64();
    Ok(metrics::mean(&metrics::rel_err_op(spec, &a, &joint, None)?))
}

/// Largest entry-wise difference between two predictions, relative to the largest entry.
fn max_rel_diff(a: &Prediction, b: &Prediction) -> f64 {
    let (mut diff, mut scale) = (0f64, 0f64);
    for (x, y) in a.components.iter().zip(&b.components) {
        for (u, v) in x.data.to_f64().iter().zip(y.data.to_f64()) {
            diff = diff.max((u - v).abs());
            scale = scale.max(u.abs());
        }
    }
    diff / scale.max(f64::MIN_POSITIVE)
}

fn bits(p: &Prediction) -> Vec<u64> {
    p.components
        .iter()
        .flat_map(|c| match &c.data {
            ComponentData::F32(v) => v.iter().map(|x| x.to_bits() as u64).collect::<Vec<_>>(),
            ComponentData::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
        })
        .collect()
}

type Check<'a> = Box<dyn FnOnce() -> Result<(f64, f64, Value)> + 'a>;

/// Every test; a failing one does not stop the others.
pub fn run_all(solver: &GpuSolver, ordinal: usize) -> Vec<Value> {
    let dev = DeviceSpec::Cuda(ordinal);
    let opts = PredictOptions { device: dev, ..Default::default() };
    let small = |n: usize| Family::synthetic(SyntheticConfig { n, seed: 3, ..Default::default() });
    let cpu_cfg = TrainConfig { seed: 1, ..Default::default() };
    let cuda_cfg = TrainConfig { device: dev, ..cpu_cfg.clone() };
    let mut out = Vec::new();

    // The baselines against faer.
    match gpu::self_check(solver) {
        Ok(results) => {
            for r in results {
                out.push(json!({ "name": format!("cusolver/{}", r.name), "passed": r.passed, "value": r.value, "tolerance": r.tolerance }));
            }
        }
        Err(e) => out.push(json!({ "name": "cusolver/self_check", "passed": false, "error": e.to_string() })),
    }

    let checks: Vec<(&str, Check)> = vec![
        (
            "device/open-and-refuse-a-missing-ordinal",
            Box::new(|| {
                dev.device()?;
                let missing = DeviceSpec::Cuda(ordinal + 64).device().map(|_| ()).unwrap_err();
                let ok = missing.code() == "DEVICE_UNAVAILABLE";
                Ok((if ok { 0.0 } else { 1.0 }, 0.0, json!({ "missing_ordinal_error": missing.to_string() })))
            }),
        ),
        (
            "inference/resident-matches-host (inverse f32, n = 128)",
            Box::new(|| {
                let fam = small(128)?;
                let model = train(&fam, Operation::Inverse, &cpu_cfg)?;
                let p = held_out(&fam, 64, 11);
                let d = max_rel_diff(&model.predict(&p)?, &model.predict_opts(&p, opts, &neumatc::FreshBuffers)?);
                Ok((d, 1e-5, json!({})))
            }),
        ),
        (
            "inference/resident-matches-host (svd rank 8 f64, n = 96)",
            Box::new(|| {
                let fam = small(96)?;
                let cfg = TrainConfig { rank: Some(8), dtype: neumatc::Dtype::F64, ..cpu_cfg.clone() };
                let model = train(&fam, Operation::Svd, &cfg)?;
                let p = held_out(&fam, 32, 12);
                let dm = model.to_device(dev)?;
                let d = max_rel_diff(&model.predict(&p)?, &dm.predict(&p, PredictOptions::default())?);
                Ok((d, 1e-9, json!({ "resident_bytes": dm.resident_bytes() })))
            }),
        ),
        (
            "training/inverse on cuda reaches the CPU's held-out accuracy (n = 256)",
            Box::new(|| {
                let fam = small(256)?;
                let p = held_out(&fam, 100, 13);
                let t = Instant::now();
                let gpu_model = train(&fam, Operation::Inverse, &cuda_cfg)?;
                let gpu_s = t.elapsed().as_secs_f64();
                let t = Instant::now();
                let cpu_model = train(&fam, Operation::Inverse, &cpu_cfg)?;
                let cpu_s = t.elapsed().as_secs_f64();
                let e_gpu = rel_err(gpu_model.spec(), &fam, &p, &gpu_model.predict(&p)?)?;
                let e_cpu = rel_err(cpu_model.spec(), &fam, &p, &cpu_model.predict(&p)?)?;
                // Passes when the GPU-trained model is accurate in absolute terms and within 3× of the CPU's.
                let value = e_gpu / (3.0 * e_cpu.max(1e-7));
                Ok((
                    value.max(e_gpu / 1e-4),
                    1.0,
                    json!({ "relerr_gpu": e_gpu, "relerr_cpu": e_cpu, "train_s_gpu": gpu_s, "train_s_cpu": cpu_s,
                            "report_device": gpu_model.report().device, "latent_dim": gpu_model.latent_dim() }),
                ))
            }),
        ),
        (
            "training/svd rank 10 on cuda (n = 128)",
            Box::new(|| {
                let fam =
                    Family::synthetic(SyntheticConfig { n: 128, rank: 10, eps: 1e-3, scale: Some(1.0), seed: 4, ..Default::default() })?;
                let cfg =
                    TrainConfig { rank: Some(10), sampling: SamplingConfig { supervised: 60, ..Default::default() }, ..cuda_cfg.clone() };
                let model = train(&fam, Operation::Svd, &cfg)?;
                let p = held_out(&fam, 64, 14);
                let e = rel_err(model.spec(), &fam, &p, &model.predict_opts(&p, opts, &neumatc::FreshBuffers)?)?;
                Ok((e, 1e-3, json!({ "train_s": model.report().seconds })))
            }),
        ),
        (
            "training/plain method on cuda (n = 32, 300 steps)",
            Box::new(|| {
                let fam = small(32)?;
                let cfg = TrainConfig { method: Method::Plain, steps: 300, ..cuda_cfg.clone() };
                let model = train(&fam, Operation::Inverse, &cfg)?;
                let p = held_out(&fam, 32, 15);
                let e = rel_err(model.spec(), &fam, &p, &model.predict(&p)?)?;
                // The plain method is the paper's slow baseline: only a finite, improving answer is asked.
                Ok((if e.is_finite() && e < 1.0 { 0.0 } else { 1.0 }, 0.0, json!({ "relerr": e })))
            }),
        ),
        (
            "io/cuda-trained model saves, loads and runs on the CPU and back on the GPU",
            Box::new(|| {
                let fam = small(64)?;
                let model = train(&fam, Operation::Inverse, &cuda_cfg)?;
                let again = NeuMatC::from_bytes(&model.to_bytes()?, std::path::Path::new("memory"))?;
                let p = held_out(&fam, 16, 16);
                let same = bits(&model.predict(&p)?) == bits(&again.predict(&p)?);
                let d = max_rel_diff(&again.predict(&p)?, &again.predict_opts(&p, opts, &neumatc::FreshBuffers)?);
                let device_kept = again.device() == dev;
                Ok((if same && device_kept { d } else { f64::INFINITY }, 1e-5, json!({ "bitwise_cpu": same, "device_kept": device_kept })))
            }),
        ),
    ];
    for (name, check) in checks {
        let t = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check));
        let seconds = t.elapsed().as_secs_f64();
        let record = match result {
            Ok(Ok((value, tol, detail))) => {
                json!({ "name": name, "passed": value <= tol, "value": value, "tolerance": tol, "seconds": seconds, "detail": detail })
            }
            Ok(Err(e)) => json!({ "name": name, "passed": false, "error": format!("{e} (code {})", e.code()), "seconds": seconds }),
            Err(p) => {
                let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
                json!({ "name": name, "passed": false, "error": format!("panic: {}", msg.unwrap_or_default()), "seconds": seconds })
            }
        };
        println!("  {} {name} ({seconds:.1} s)", if record["passed"] == Value::Bool(true) { "ok  " } else { "FAIL" });
        out.push(record);
    }
    out
}
