//! The exact baseline: batched LU inverse (faer, partial pivoting) at n = 64, 256, 512, batches of 1 and 16.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use neumatc::baseline;

fn lu_inverse(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline");
    for n in [64usize, 256, 512] {
        let fam = super::family(n);
        for batch in [1usize, 16] {
            let params: Vec<f64> = (0..batch).map(|i| (i as f64 + 0.5) / batch as f64).collect();
            let a = fam.at(&params).expect("in domain");
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(BenchmarkId::from_parameter(format!("cpu_lu_inverse_n{n}_b{batch}")), |b| {
                b.iter(|| black_box(baseline::inverse(black_box(&a)).expect("invertible")))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = super::config();
    targets = lu_inverse
}
