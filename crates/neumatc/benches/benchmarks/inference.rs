//! Inference: `predict` (MLP + one GEMM) and `apply` (`Ĝ(p) b`) at n = 64 and 256 for 1 and 100
//! parameters, the MLP alone, and the GEMM `Φ(P) · C` alone at n = 256, 512 and 1024.

use std::cell::OnceCell;
use std::hint::black_box;

use candle_core::{DType, Device, Tensor};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use neumatc::{Activation, ComponentData, Mlp, metrics};

fn predict(c: &mut Criterion) {
    let mut group = c.benchmark_group("inference");
    for n in [64usize, 256] {
        let fam = super::family(n);
        let trained = OnceCell::new();
        let model = || trained.get_or_init(|| super::trained(&fam, 50));
        let rhs: Vec<f64> = (0..n).map(|i| 1.0 + i as f64 / n as f64).collect();
        for batch in [1usize, 100] {
            let params = super::params(batch);
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(BenchmarkId::from_parameter(format!("cpu_predict_n{n}_b{batch}")), |b| {
                let model = model();
                b.iter(|| black_box(model.predict(black_box(&params)).expect("in domain")))
            });
            // `Ĝ(p) b` without forming `Ĝ(p)`; its error is `‖A x̂ − b‖ / ‖b‖`.
            let a = fam.at(&params).expect("in domain");
            super::timed(
                &mut group,
                &format!("cpu_apply_n{n}_b{batch}"),
                || model().apply(black_box(&params), &rhs).expect("in domain"),
                |x| {
                    let x = match &x.data {
                        ComponentData::F32(v) => v.iter().map(|&v| v as f64).collect(),
                        ComponentData::F64(v) => v.clone(),
                    };
                    let view = metrics::ComponentView::new(batch, n, 1, &x[..]);
                    let err = metrics::rel_err(neumatc::Operation::Solve, &a, &[view], Some(&rhs), None).expect("finite");
                    format!("mean ‖A x̂ − b‖/‖b‖ {err:.2e}")
                },
            );
        }
    }
    group.finish();
}

/// `Φ(p)` alone: the default MLP `[1, 64, 64, 64, d]` with `d = 40`, f32.
fn mlp_forward(c: &mut Criterion) {
    let mut group = c.benchmark_group("inference");
    let mlp = Mlp::init(&[1, 64, 64, 64, 40], 2.0, Activation::Sine, 0).expect("valid widths");
    let devices: Vec<(&str, Device)> = {
        #[allow(unused_mut)]
        let mut v = vec![("cpu", Device::Cpu)];
        #[cfg(feature = "cuda")]
        if let Ok(dev) = Device::new_cuda(0) {
            v.push(("cuda", dev));
        }
        v
    };
    for (name, dev) in devices {
        let mlp = mlp.to(&dev, DType::F32).expect("device copy");
        for batch in [1usize, 100] {
            let x: Vec<f32> = (0..batch).map(|i| 2.0 * (i as f32 + 0.5) / batch as f32 - 1.0).collect();
            let x = Tensor::from_vec(x, (batch, 1), &dev).expect("input");
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(BenchmarkId::from_parameter(format!("{name}_mlp_forward_b{batch}")), |b| {
                b.iter(|| {
                    let y = mlp.forward(black_box(&x)).expect("forward");
                    dev.synchronize().expect("synchronise");
                    black_box(y)
                })
            });
        }
    }
    group.finish();
}

/// Latent dimension of the GEMM benches: what the default `accuracy` gives at n = 256 (21–24).
const D: usize = 24;

/// The GEMM `Φ(P) · C` alone (`batch × d` times `d × n²`, f32), formed as `NeuMatC::predict` forms it
/// (`neumatc::model::gemm`), into a reused buffer. Throughput is the bytes that must move (`C` read once,
/// the result written once): the memory floor of the design's performance model.
fn gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("inference");
    for n in [256usize, 512, 1024] {
        let m = n * n;
        let filled = OnceCell::new();
        let latent = || filled.get_or_init(|| (0..D * m).map(|i| (i as f32 * 0.618).sin()).collect::<Vec<f32>>());
        for batch in [1usize, 100] {
            let phi: Vec<f32> = (0..batch * D).map(|i| (i as f32 * 0.377).cos()).collect();
            let mut out = Vec::new();
            group.throughput(Throughput::Bytes(((D + batch) * m * 4) as u64));
            group.bench_function(BenchmarkId::from_parameter(format!("cpu_gemm_n{n}_b{batch}_d{D}")), |b| {
                let latent = latent();
                out.resize(batch * m, 0.0);
                b.iter(|| {
                    neumatc::model::gemm(black_box(&phi), latent, batch, D, m, &mut out);
                    black_box(&out);
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = super::config();
    targets = predict, mlp_forward, gemm
}
