//! Inference: `predict` (MLP + one GEMM) at n = 64 and 256 for 1 and 100 parameters, and the MLP alone.

use std::hint::black_box;

use candle_core::{DType, Device, Tensor};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use neumatc::{Activation, SineMlp};

fn predict(c: &mut Criterion) {
    let mut group = c.benchmark_group("inference");
    for n in [64usize, 256] {
        let model = super::trained(&super::family(n), 50);
        for batch in [1usize, 100] {
            let params: Vec<f64> = (0..batch).map(|i| (i as f64 + 0.5) / batch as f64).collect();
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(BenchmarkId::from_parameter(format!("cpu_predict_n{n}_b{batch}")), |b| {
                b.iter(|| black_box(model.predict(black_box(&params)).expect("in domain")))
            });
        }
    }
    group.finish();
}

/// `Φ(p)` alone: the default MLP `[1, 64, 64, 64, d]` with `d = 40`, f32.
fn mlp_forward(c: &mut Criterion) {
    let mut group = c.benchmark_group("inference");
    let mlp = SineMlp::init(&[1, 64, 64, 64, 40], 2.0, Activation::Sine, 0).expect("valid widths");
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

criterion_group! {
    name = benches;
    config = super::config();
    targets = predict, mlp_forward
}
