//! Whole training runs (default `pod` method, default sampling) at n = 32 and 128, each at two step
//! counts. A single Adam step is not reachable from outside the crate (`train::pod` is private), so the
//! throughput is per step of a whole run (which includes the exact solves, the POD basis, adaptive
//! sampling and the held-out check); the difference between the two step counts of one `n` is the
//! marginal cost of a step.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use neumatc::{Operation, TrainConfig, train};

fn train_runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("training");
    for (n, steps) in [(32usize, [100usize, 300]), (128, [100, 300])] {
        let fam = super::family(n);
        for steps in steps {
            let cfg = TrainConfig { steps, ..Default::default() };
            let mut first = true;
            group.throughput(Throughput::Elements(steps as u64));
            group.bench_function(BenchmarkId::from_parameter(format!("cpu_train_n{n}_s{steps}")), |b| {
                if std::mem::take(&mut first) {
                    super::trained(&fam, steps);
                }
                b.iter(|| black_box(train(&fam, Operation::Inverse, black_box(&cfg)).expect("training succeeds")))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = super::config();
    targets = train_runs
}
