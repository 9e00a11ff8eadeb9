//! A whole training run (default `pod` method, default sampling) of 300 steps at n = 32.

use std::hint::black_box;
use std::sync::atomic::AtomicBool;

use criterion::{BenchmarkId, Criterion, criterion_group};
use neumatc::{Operation, TrainConfig, train};

fn train_n32(c: &mut Criterion) {
    let mut group = c.benchmark_group("training");
    let fam = super::family(32);
    let steps = 300;
    super::trained(&fam, steps);
    let cfg = TrainConfig { steps, ..Default::default() };
    group.bench_function(BenchmarkId::from_parameter(format!("cpu_train_n32_s{steps}")), |b| {
        b.iter(|| {
            black_box(train(&fam, Operation::Inverse, black_box(&cfg), &mut |_| {}, &AtomicBool::new(false)).expect("training succeeds"))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = super::config();
    targets = train_n32
}
