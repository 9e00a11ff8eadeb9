//! Bench groups and what they share.
//!
//! Every group can run alone (`cargo bench -p neumatc -- baseline`): anything costly to set up (a
//! trained model, a COI grid) is built on the first call of the bench that needs it, so a filtered-out
//! bench costs nothing. Every bench whose result has an error prints it (stderr) before it is timed.

pub mod baseline;
pub mod inference;
pub mod residual;
pub mod training;

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
use neumatc::{ComponentData, Family, NeuMatC, Operation, SyntheticConfig, TrainConfig, metrics, train};

/// Short measurements so the whole suite runs in a few minutes on a small machine.
pub fn config() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

/// The synthetic family the benches time: rank `n/8` (at least 4), seed 2 (cond(H(p)) ≤ 41 on [0, 1] at n = 64).
pub fn family(n: usize) -> Family {
    Family::synthetic(synthetic(n)).expect("valid synthetic options")
}

/// The SPD variant `H(p)H(p)ᵀ` of [`family`] (condition number squared), for cholesky and eigh.
pub fn spd_family(n: usize) -> Family {
    Family::synthetic(SyntheticConfig { spd: true, ..synthetic(n) }).expect("valid synthetic options")
}

fn synthetic(n: usize) -> SyntheticConfig {
    SyntheticConfig { n, rank: (n / 8).max(4), seed: 2, ..Default::default() }
}

/// `batch` parameters at the midpoints of `batch` equal cells of [0, 1], ascending.
pub fn params(batch: usize) -> Vec<f64> {
    (0..batch).map(|i| (i as f64 + 0.5) / batch as f64).collect()
}

/// Times `run` as `name`. On the first call (criterion calls a bench's closure once per sample, and not
/// at all when the name is filtered out) it runs `run` once more outside the clock and prints
/// `describe` of its result, so that every time has its error beside it.
pub fn timed<R>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, mut run: impl FnMut() -> R, describe: impl Fn(&R) -> String) {
    let mut first = true;
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        if std::mem::take(&mut first) {
            let r = run();
            eprintln!("{name}: {}", describe(&r));
        }
        b.iter(|| black_box(run()))
    });
}

/// Trains a model outside any timed loop and prints what it reached, so that every time has an error beside it.
pub fn trained(fam: &Family, steps: usize) -> NeuMatC {
    let cfg = TrainConfig { steps, ..Default::default() };
    let model = train(fam, Operation::Inverse, &cfg).expect("training succeeds");
    let params: Vec<f64> = (0..20).map(|i| (i as f64 + 0.37) / 20.0).collect();
    let a = fam.at(&params).expect("in domain");
    let err = match &model.predict(&params).expect("in domain").components[0].data {
        ComponentData::F32(g) => metrics::rel_err_inverse(&a, g),
        ComponentData::F64(g) => metrics::rel_err_inverse(&a, g),
    }
    .expect("finite prediction");
    eprintln!(
        "model n = {}: {steps} steps, d = {}, {:.2} s to train, RelErr_inv on 20 parameters {err:.2e}",
        fam.rows(),
        model.latent_dim(),
        model.report().seconds
    );
    model
}
