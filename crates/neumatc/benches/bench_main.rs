//! Criterion benches of the engine: `cargo bench -p neumatc` (all), `cargo bench -p neumatc -- inference`
//! (one group). Names carry the device (`cpu_predict_n256_b100`); timings are of host-visible results, so
//! on CUDA the device is synchronised before the clock is read.

mod benchmarks;

criterion::criterion_main!(benchmarks::inference::benches, benchmarks::training::benches, benchmarks::baseline::benches);
