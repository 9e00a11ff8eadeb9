//! Bench groups and what they share.

pub mod baseline;
pub mod inference;
pub mod training;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use criterion::Criterion;
use neumatc::{ComponentData, Family, NeuMatC, Operation, SyntheticConfig, TrainConfig, metrics, train};

/// Short measurements so the whole suite runs in a few minutes on a small machine.
pub fn config() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

/// The synthetic family the benches time: rank `n/8` (at least 4), seed 2 (cond(H(p)) ≤ 41 on [0, 1] at n = 64).
pub fn family(n: usize) -> Family {
    Family::synthetic(SyntheticConfig { n, rank: (n / 8).max(4), seed: 2, ..Default::default() }).expect("valid synthetic options")
}

/// Trains a model outside any timed loop and prints what it reached, so that every time has an error beside it.
pub fn trained(fam: &Family, steps: usize) -> NeuMatC {
    let cfg = TrainConfig { steps, ..Default::default() };
    let model = train(fam, Operation::Inverse, &cfg, &mut |_| {}, &AtomicBool::new(false)).expect("training succeeds");
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
