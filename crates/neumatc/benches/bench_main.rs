//! Criterion benches of the engine: `cargo bench -p neumatc` (all), `cargo bench -p neumatc -- inference`
//! (one group: `inference`, `training`, `residual` or `baseline`). Names carry the device and the sizes
//! (`cpu_predict_n256_b100`); timings are of host-visible results, so on CUDA the device is synchronised
//! before the clock is read.

mod benchmarks;

criterion::criterion_main!(
    benchmarks::inference::benches,
    benchmarks::training::benches,
    benchmarks::residual::benches,
    benchmarks::baseline::benches
);
