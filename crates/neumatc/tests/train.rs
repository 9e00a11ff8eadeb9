//! Training end to end: accuracy on held-out parameters, seeded reproducibility, the report, progress
//! events and cancellation, both methods and sampling strategies, sampled (grid) families in 1-D and
//! 2-D, and the refusal of ill-conditioned families.

#[macro_use]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use neumatc::{
    ComponentData, DeviceSpec, Dtype, Error, Family, MatrixBatch, Method, NeuMatC, Operation, Progress, Result, SamplingConfig, Strategy,
    SyntheticConfig, TrainConfig, metrics, train, train_with,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `count` parameters uniform in the family's box, from `seed` (never the training plan's draws).
fn fresh_params(fam: &Family, count: usize, seed: u64) -> Vec<f64> {
    let d = fam.domain();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count * d.dim()).map(|i| d.lo[i % d.dim()] + rng.random::<f64>() * (d.hi[i % d.dim()] - d.lo[i % d.dim()])).collect()
}

/// Held-out `RelErr_inv` of `model` against the exact `truth` family at `params`.
fn rel_err(model: &NeuMatC, truth: &Family, params: &[f64]) -> f64 {
    let a = truth.at(params).unwrap();
    let pred = model.predict(params).unwrap();
    match &pred.components[0].data {
        ComponentData::F32(g) => metrics::rel_err_inverse(&a, g).unwrap(),
        ComponentData::F64(g) => metrics::rel_err_inverse(&a, g).unwrap(),
    }
}

fn small_sampling() -> SamplingConfig {
    SamplingConfig { supervised: 12, collocation: 16, candidates: 32, add_every: 40, add: 4, ..Default::default() }
}

/// A tiny, fast configuration for tests that check behaviour rather than accuracy.
fn tiny_cfg(steps: usize, seed: u64) -> TrainConfig {
    TrainConfig { steps, seed, hidden: vec![16, 16], sampling: small_sampling(), validation: 8, ..Default::default() }
}

fn tiny_family() -> Family {
    Family::synthetic(SyntheticConfig { n: 8, rank: 2, seed: 3, ..Default::default() }).unwrap()
}

/// The synthetic family of the accuracy tests. Family seed 2 is well-conditioned: cond(H(p)) ≤ 7.3 on a
/// 2001-point grid of [0, 1]. (Seed 1 — the lib.rs example's — is not: cond reaches 1.1e5 at p ≈ 0.94,
/// ‖H⁻¹‖_F spikes to 663 at p ≈ 0.79, and 500 steps reach only RelErr_inv ≈ 4e-2 there.)
fn accuracy_family() -> Family {
    Family::synthetic(SyntheticConfig { n: 16, rank: 4, seed: 2, ..Default::default() }).unwrap()
}

fn end_to_end_synthetic(dev: DeviceSpec) -> Result<()> {
    let fam = accuracy_family();
    let cfg = TrainConfig { steps: 500, device: dev, ..Default::default() };
    let model = train(&fam, Operation::Inverse, &cfg)?;
    let params = fresh_params(&fam, 50, 2024);
    let err = rel_err(&model, &fam, &params);
    let r = model.report();
    eprintln!(
        "end_to_end_synthetic: 50 fresh {err:e}, report {:?} (max {:?}), d = {}, {:.2} s",
        r.held_out_rel_err, r.held_out_max, r.latent_dim, r.seconds
    );
    // Measured (CPU, f32 model, engine at 6dc2e2a): 7.6e-8 on these 50 fresh parameters, report 9.4e-8
    // (max 7.4e-7), d = 20, basis floor 4.0e-8, 0.9 s. Training seed 1 instead of 0: 3.2e-8.
    assert!(err < 1e-5, "held-out RelErr_inv = {err:e}");

    // The model.
    assert_eq!(model.operation(), Operation::Inverse);
    assert_eq!(model.param_dim(), 1);
    assert_eq!(model.domain(), fam.domain());
    assert_eq!(model.shapes(), &[(16, 16)]);
    assert_eq!(model.dtype(), Dtype::F32);
    assert_eq!(model.dtype_name(), "f32");
    assert_eq!(model.device(), dev);
    let pred = model.predict(&params)?;
    let c = pred.get("inverse").expect("an inverse component");
    assert_eq!((c.name, c.batch, c.rows, c.cols, c.data.len()), ("inverse", 50, 16, 16, 50 * 256));
    assert!(matches!(c.data, ComponentData::F32(_)));
    assert!(pred.get("u").is_none());

    // The report.
    assert!(r.steps >= 1 && r.steps <= 500, "steps {}", r.steps);
    assert!(r.steps == 500 || r.converged, "stopped at {} without converging", r.steps);
    assert!(r.latent_dim >= 1 && r.latent_dim == model.latent_dim());
    assert!(r.latent_dim <= r.supervised);
    // 40 supervised samples, plus any exact solves basis refinement added.
    assert!(r.supervised >= 40, "supervised {}", r.supervised);
    assert_eq!(r.held_out_count, 20);
    let held = r.held_out_rel_err.expect("a held-out error");
    assert!(held.is_finite() && held < 1e-5, "report held-out {held:e}");
    assert!(r.held_out_max.unwrap() >= held);
    assert!(r.condition_min >= 1.0 && r.condition_min <= r.condition_max, "{} {}", r.condition_min, r.condition_max);
    assert!(r.condition_max < cfg.warn_condition, "cond {}", r.condition_max);
    assert_eq!(r.collocation_initial, 80);
    assert!(r.collocation_final >= r.collocation_initial);
    assert_eq!(r.collocation_final, r.collocation_initial + r.collocation_added);
    assert!(r.basis_floor.is_some());
    assert!(r.loss.is_finite() && r.data_loss >= 0.0 && r.structure_loss >= 0.0);
    assert!(r.seconds > 0.0 && r.seconds >= r.optimize_seconds);
    assert_eq!((r.method.as_str(), r.dtype.as_str(), r.device.clone()), ("pod", "f32", dev.name()));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    Ok(())
}
device_test!(end_to_end_synthetic);

#[test]
fn seeded_training_reproduces_bit_for_bit() {
    let fam = tiny_family();
    let params = fresh_params(&fam, 16, 5);
    let bits = |seed: u64| -> Vec<u32> {
        let model = train(&fam, Operation::Inverse, &tiny_cfg(120, seed)).unwrap();
        match &model.predict(&params).unwrap().components[0].data {
            ComponentData::F32(v) => v.iter().map(|x| x.to_bits()).collect(),
            ComponentData::F64(_) => panic!("f32 model expected"),
        }
    };
    let a = bits(7);
    assert_eq!(a, bits(7), "same seed, different predictions");
    assert_ne!(a, bits(8), "different seeds, same predictions");
}

#[test]
fn seeded_training_reproduces_the_report() {
    let fam = tiny_family();
    let run = || train(&fam, Operation::Inverse, &tiny_cfg(80, 3)).unwrap().report().clone();
    let (mut a, mut b) = (run(), run());
    for r in [&mut a, &mut b] {
        (r.seconds, r.exact_seconds, r.collocation_seconds, r.optimize_seconds) = (0.0, 0.0, 0.0, 0.0);
    }
    assert_eq!(a, b);
}

#[test]
fn f64_model_predicts_f64() {
    let fam = tiny_family();
    let cfg = TrainConfig { dtype: Dtype::F64, ..tiny_cfg(60, 1) };
    let model = train(&fam, Operation::Inverse, &cfg).unwrap();
    assert_eq!(model.dtype_name(), "f64");
    let pred = model.predict(&[0.2, 0.9]).unwrap();
    match &pred.components[0].data {
        ComponentData::F64(v) => assert!(v.len() == 128 && v.iter().all(|x| x.is_finite())),
        ComponentData::F32(_) => panic!("f64 model gave f32"),
    }
    assert_eq!(model.report().dtype, "f64");
}

#[test]
fn fixed_latent_dimension_is_used() {
    let fam = tiny_family();
    let model = train(&fam, Operation::Inverse, &TrainConfig { latent_dim: Some(3), ..tiny_cfg(30, 1) }).unwrap();
    assert_eq!(model.latent_dim(), 3);
    assert_eq!(model.report().latent_dim, 3);
}

#[test]
fn progress_events_arrive_in_order() {
    let fam = tiny_family();
    let cfg = tiny_cfg(200, 2);
    let mut events: Vec<Progress> = Vec::new();
    let model = train_with(&fam, Operation::Inverse, &cfg, &mut |p| events.push(p.clone()), &AtomicBool::new(false)).unwrap();
    assert!(!events.is_empty());
    // Steps never go back, and every event knows the planned total.
    for w in events.windows(2) {
        assert!(w[1].step >= w[0].step, "step went back: {} -> {}", w[0].step, w[1].step);
        assert!(w[1].elapsed >= w[0].elapsed);
    }
    assert!(events.iter().all(|e| e.steps == 200));
    // Phases in order: refinements interleave with optimisation, and basis refinement (extra exact solves,
    // `sampling.enrich`) may repeat basis + collocation.
    let mut phases: Vec<&str> = events.iter().map(|e| e.phase.as_str()).filter(|&p| p != "refine").collect();
    phases.dedup();
    let n = phases.len();
    assert!(n >= 7, "{phases:?}");
    assert_eq!(phases[..2], ["sampling", "exact"], "{phases:?}");
    assert_eq!(phases[n - 3..], ["optimize", "validate", "done"], "{phases:?}");
    assert!(phases[2..n - 3].chunks(2).all(|c| c == ["basis", "collocation"]), "{phases:?}");
    // The first refinement happens before any step, on an untrained model: it adds points.
    let refines: Vec<&Progress> = events.iter().filter(|e| e.phase == "refine").collect();
    assert!(!refines.is_empty(), "no refinement event");
    assert!(refines.iter().all(|e| e.failure_prob.is_some()));
    assert!(refines.windows(2).all(|w| w[1].collocation > w[0].collocation && w[1].step > w[0].step));
    let last = events.last().unwrap();
    assert_eq!(last.phase, "done");
    assert_eq!(last.step, model.report().steps);
    assert_eq!(events.iter().filter(|e| e.phase == "done").count(), 1);
}

#[test]
fn plain_method_phases() {
    let fam = tiny_family();
    let cfg = TrainConfig { method: Method::Plain, ..tiny_cfg(20, 2) };
    let mut phases: Vec<&'static str> = Vec::new();
    train_with(&fam, Operation::Inverse, &cfg, &mut |p| phases.push(p.phase.as_str()), &AtomicBool::new(false)).unwrap();
    phases.retain(|&p| p != "refine");
    phases.dedup();
    assert_eq!(phases, ["sampling", "exact", "collocation", "optimize", "validate", "done"]);
}

#[test]
fn cancel_from_the_progress_callback() {
    let fam = tiny_family();
    for method in [Method::Pod, Method::Plain] {
        let cancel = AtomicBool::new(false);
        let mut after = 0usize;
        let cfg = TrainConfig { method, ..tiny_cfg(100_000, 1) };
        let t = std::time::Instant::now();
        let res = train_with(
            &fam,
            Operation::Inverse,
            &cfg,
            &mut |p| {
                if cancel.load(Ordering::Relaxed) {
                    after += 1;
                }
                if p.phase == "optimize" {
                    cancel.store(true, Ordering::Relaxed);
                }
            },
            &cancel,
        );
        match res {
            Err(Error::Cancelled) => {}
            other => panic!("{method:?}: expected Cancelled, got {:?}", other.map(|m| m.report().clone())),
        }
        assert_eq!(Error::Cancelled.code(), "CANCELLED");
        assert_eq!(after, 0, "{method:?}: {after} events after cancelling");
        assert!(t.elapsed().as_secs_f64() < 30.0, "{method:?}: cancelling took {:?}", t.elapsed());
    }
    // Cancelled before it starts.
    let res = train_with(&fam, Operation::Inverse, &tiny_cfg(10, 1), &mut |_| {}, &AtomicBool::new(true));
    assert!(matches!(res, Err(Error::Cancelled)));
}

#[test]
fn predict_rejects_bad_parameters() {
    let fam = tiny_family();
    let model = train(&fam, Operation::Inverse, &tiny_cfg(20, 1)).unwrap();
    assert_eq!(model.predict(&[1.5]).unwrap_err().code(), "OUT_OF_DOMAIN");
    assert_eq!(model.predict(&[0.5, -0.2]).unwrap_err().code(), "OUT_OF_DOMAIN");
    assert_eq!(model.predict(&[f64::NAN]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(model.predict(&[0.1, f64::NEG_INFINITY]).unwrap_err().code(), "INVALID_INPUT");
    let empty = model.predict(&[]).unwrap();
    assert_eq!((empty.components[0].batch, empty.components[0].data.len()), (0, 0));
    // Batch prediction equals one-by-one prediction.
    let ps = [0.0, 0.37, 1.0];
    let all = model.predict(&ps).unwrap().components[0].data.to_f64();
    for (i, &p) in ps.iter().enumerate() {
        assert_eq!(model.predict(&[p]).unwrap().components[0].data.to_f64(), all[i * 64..(i + 1) * 64]);
    }
}

#[test]
fn bad_options_are_refused() {
    let fam = tiny_family();
    let bad = [
        TrainConfig { hidden: vec![], ..tiny_cfg(10, 1) },
        TrainConfig { omega: 0.0, ..tiny_cfg(10, 1) },
        TrainConfig { latent_dim: Some(0), ..tiny_cfg(10, 1) },
        TrainConfig { lambda: -1.0, ..tiny_cfg(10, 1) },
        TrainConfig { sampling: SamplingConfig { supervised: 1, ..small_sampling() }, ..tiny_cfg(10, 1) },
    ];
    for cfg in bad {
        assert_eq!(train(&fam, Operation::Inverse, &cfg).unwrap_err().code(), "INVALID_OPTION", "{cfg:?}");
    }
    assert_eq!(TrainConfig::from_json(r#"{"stpes": 10}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(TrainConfig::from_json(r#"{"device": "gpu"}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(TrainConfig::from_json(r#"{"device": "cuda:1"}"#).unwrap().device, DeviceSpec::Cuda(1));
    #[cfg(not(feature = "cuda"))]
    assert_eq!(
        train(&fam, Operation::Inverse, &TrainConfig { device: DeviceSpec::Cuda(0), ..tiny_cfg(10, 1) }).unwrap_err().code(),
        "DEVICE_UNAVAILABLE"
    );
    // A grid with fewer points than the supervised samples asked for.
    let params: Vec<f64> = (0..10).map(|i| i as f64).collect();
    let grid = Family::from_samples(1, params.clone(), tiny_family_on(&params)).unwrap();
    assert_eq!(train(&grid, Operation::Inverse, &tiny_cfg(10, 1)).unwrap_err().code(), "INVALID_OPTION");
    // A non-square family has no inverse.
    let rect = Family::from_samples(1, vec![0.0, 1.0], MatrixBatch::new(2, 2, 3, vec![1.0; 12]).unwrap()).unwrap();
    assert_eq!(train(&rect, Operation::Inverse, &tiny_cfg(10, 1)).unwrap_err().code(), "SHAPE_MISMATCH");
}

/// The tiny synthetic family evaluated at `params` mapped into [0, 1].
fn tiny_family_on(params: &[f64]) -> MatrixBatch {
    let (lo, hi) = params.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &p| (l.min(p), h.max(p)));
    let unit: Vec<f64> = params.iter().map(|p| (p - lo) / (hi - lo)).collect();
    tiny_family().at(&unit).unwrap()
}

fn plain_method_runs(dev: DeviceSpec) -> Result<()> {
    let fam = Family::synthetic(SyntheticConfig { n: 8, rank: 2, seed: 4, ..Default::default() })?;
    let cfg = TrainConfig { method: Method::Plain, steps: 500, device: dev, ..tiny_cfg(500, 1) };
    let model = train(&fam, Operation::Inverse, &cfg)?;
    let r = model.report();
    assert_eq!(r.method, "plain");
    assert_eq!(r.device, dev.name());
    assert!(r.steps <= 500);
    // Default latent dimension of the plain method: min(N_s, 40).
    assert_eq!(model.latent_dim(), 12);
    let params = fresh_params(&fam, 10, 9);
    let g = model.predict(&params)?.components[0].data.to_f64();
    assert!(g.iter().all(|v| v.is_finite()));
    let err = rel_err(&model, &fam, &params);
    eprintln!("plain_method_runs: held-out {err:e}, report {:?}", r.held_out_rel_err);
    // Measured 3.1e-2 after 500 steps (1.9e-1 after 50); predicting zero scores 1. The report's own
    // held-out estimate (other parameters) agrees within a factor of 2.
    assert!(err < 0.1, "held-out RelErr_inv {err:e}");
    let reported = r.held_out_rel_err.unwrap();
    assert!(reported < 2.0 * err && err < 2.0 * reported, "report {reported:e} vs measured {err:e}");
    Ok(())
}
device_test!(plain_method_runs);

#[test]
fn random_sampling_strategy_runs() {
    let fam = tiny_family();
    let sampling = SamplingConfig { strategy: Strategy::Random, ..small_sampling() };
    let model = train(&fam, Operation::Inverse, &TrainConfig { sampling, ..tiny_cfg(200, 1) }).unwrap();
    let r = model.report();
    // The first refinement (untrained model) always finds failures and adds `add` random ones.
    assert!(r.collocation_added >= 4, "added {}", r.collocation_added);
    assert_eq!(r.collocation_final, r.collocation_initial + r.collocation_added);
    let err = rel_err(&model, &fam, &fresh_params(&fam, 20, 3));
    eprintln!("random_sampling_strategy_runs: held-out {err:e}");
    // Measured 8e-6 to 6e-5 across engine revisions (1.5e-5 at 6dc2e2a); the bound asks that random refinement learns.
    assert!(err.is_finite() && err < 1e-3, "held-out {err:e}");
}

#[test]
fn from_samples_1d_grid() {
    // 200 grid points of the synthetic family (n = 16) handed over as plain matrices.
    let synth = accuracy_family();
    let params: Vec<f64> = (0..200).map(|i| i as f64 / 199.0).collect();
    let fam = Family::from_samples(1, params.clone(), synth.at(&params).unwrap()).unwrap();
    let model = train(&fam, Operation::Inverse, &TrainConfig { steps: 500, ..Default::default() }).unwrap();
    let r = model.report();
    // Off the grid, against the exact family.
    let off = rel_err(&model, &synth, &fresh_params(&synth, 50, 77));
    eprintln!(
        "from_samples_1d_grid: report held-out {:?} (count {}), fresh off-grid {off:e}, d = {}",
        r.held_out_rel_err, r.held_out_count, r.latent_dim
    );
    // Measured (6dc2e2a): 1.0e-7 on the 20 unused grid points, 1.2e-7 on 50 fresh off-grid parameters, d = 20.
    assert_eq!(r.held_out_count, 20);
    let held = r.held_out_rel_err.unwrap();
    assert!(held < 1e-5, "grid held-out {held:e}");
    assert!(off < 1e-5, "off-grid held-out {off:e}");
}

#[test]
fn from_samples_2d_grid() {
    // A(p1, p2) = H(p1) + p2·I on a 15 × 15 grid of [0, 1]²: a genuinely two-parameter family.
    let h = accuracy_family();
    let n = 16;
    let at = |ps: &[f64]| -> MatrixBatch {
        let p1: Vec<f64> = ps.chunks(2).map(|p| p[0]).collect();
        let mut m = h.at(&p1).unwrap();
        for (b, p) in ps.chunks(2).enumerate() {
            for i in 0..n {
                m.data[b * n * n + i * n + i] += p[1];
            }
        }
        m
    };
    let mut params = Vec::new();
    for i in 0..15 {
        for j in 0..15 {
            params.extend([i as f64 / 14.0, j as f64 / 14.0]);
        }
    }
    let fam = Family::from_samples(2, params.clone(), at(&params)).unwrap();
    let model = train(&fam, Operation::Inverse, &TrainConfig { steps: 500, ..Default::default() }).unwrap();
    let r = model.report();
    // Fresh points off the grid, against the exact A(p1, p2).
    let fresh = fresh_params(&fam, 50, 99);
    let pred = model.predict(&fresh).unwrap().components[0].data.to_f64();
    let off = metrics::rel_err_inverse(&at(&fresh), &pred).unwrap();
    eprintln!(
        "from_samples_2d_grid: report held-out {:?} (count {}), fresh off-grid {off:e}, d = {}",
        r.held_out_rel_err, r.held_out_count, r.latent_dim
    );
    // Measured: 1.2e-4 on the 20 unused grid points, 1.1e-4 on 50 fresh off-grid parameters (6dc2e2a; an
    // earlier revision 2.9e-4 / 1.5e-4), d = 38, basis floor 6e-8: the MLP fit, not the basis, limits a
    // 2-parameter family at 500 steps (1500 steps: 7e-5; 80 supervised samples: 9e-5 off-grid).
    assert_eq!(model.param_dim(), 2);
    assert_eq!(model.domain().dim(), 2);
    let held = r.held_out_rel_err.unwrap();
    assert!(held < 3e-3, "grid held-out {held:e}");
    assert!(off < 3e-3, "off-grid held-out {off:e}");
}

#[test]
fn ill_conditioned_synthetic_family_is_refused() {
    // Unscaled factors and a tiny shift: H(p) = A(p)B(p)ᵀ + εI has 12 singular values of order ε·‖H‖-ish.
    // ε = 1e-10 measured ILL_CONDITIONED (cond ≈ 1e13 > maxCondition 1e12); ε = 1e-14 SINGULAR (pivots
    // under n·ε_mach·max pivot). Either code is right; both must name a parameter of the family.
    for eps in [1e-10, 1e-14] {
        let fam = Family::synthetic(SyntheticConfig { n: 16, rank: 4, seed: 1, eps, scale: Some(1.0), ..Default::default() }).unwrap();
        let err = train(&fam, Operation::Inverse, &tiny_cfg(20, 1)).unwrap_err();
        eprintln!("eps {eps:e}: {err}");
        match err {
            Error::IllConditioned { p, cond, .. } => {
                assert!(p.len() == 1 && (0.0..=1.0).contains(&p[0]), "named p = {p:?}");
                assert!(cond > 1e12, "cond = {cond:e}");
                let exact = neumatc::baseline::condition_number(&fam.at(&p).unwrap().data, 16);
                assert!(exact > 1e11, "cond(A({p:?})) = {exact:e}");
            }
            Error::Singular { p, .. } => assert!(p.len() == 1 && (0.0..=1.0).contains(&p[0]), "named p = {p:?}"),
            e => panic!("eps {eps:e}: expected ILL_CONDITIONED or SINGULAR, got {e:?}"),
        }
    }
}

#[test]
fn max_condition_is_the_refusal_threshold() {
    let fam = Family::synthetic(SyntheticConfig { n: 16, rank: 4, seed: 1, eps: 1e-4, scale: Some(1.0), ..Default::default() }).unwrap();
    // Accepted with a warning under the defaults (refuse above 1e12, warn above 1e6)...
    let mut messages = Vec::new();
    let model =
        train_with(&fam, Operation::Inverse, &tiny_cfg(20, 1), &mut |p| messages.extend(p.message.clone()), &AtomicBool::new(false))
            .unwrap();
    let r = model.report();
    eprintln!("eps 1e-4: cond {:e}..{:e}, warnings {:?}", r.condition_min, r.condition_max, r.warnings);
    assert!(r.condition_max > 1e6 && r.condition_max < 1e12, "cond max {:e}", r.condition_max);
    assert!(r.warnings.iter().any(|w| w.contains("ill-conditioned")), "{:?}", r.warnings);
    // Every warning also went out as a progress message, in order.
    let mut it = messages.iter();
    assert!(r.warnings.iter().all(|w| it.any(|m| m == w)), "warnings {:?} not among messages {messages:?}", r.warnings);
    // ... and refused once maxCondition is below its condition number.
    let cfg = TrainConfig { max_condition: r.condition_max / 2.0, ..tiny_cfg(20, 1) };
    match train(&fam, Operation::Inverse, &cfg).unwrap_err() {
        Error::IllConditioned { cond, .. } => assert!(cond > cfg.max_condition),
        e => panic!("expected ILL_CONDITIONED, got {e:?}"),
    }
}

#[test]
fn singular_sample_is_refused_naming_its_parameter() {
    // A(p) = I except A₀₀ = 4p(1 − p): singular at both ends of the grid. Farthest-point selection of
    // 4 supervised samples out of 5 grid points always takes an end, whose exact solve fails.
    let n = 4;
    let params = vec![0.0, 0.25, 0.5, 0.75, 1.0];
    let data: Vec<f64> = params
        .iter()
        .flat_map(|&p| {
            (0..n * n).map(move |i| {
                if i == 0 {
                    4.0 * p * (1.0 - p)
                } else if i / n == i % n {
                    1.0
                } else {
                    0.0
                }
            })
        })
        .collect();
    let fam = Family::from_samples(1, params, MatrixBatch::new(5, n, n, data).unwrap()).unwrap();
    let cfg = TrainConfig { sampling: SamplingConfig { supervised: 4, ..small_sampling() }, ..tiny_cfg(10, 1) };
    for seed in 0..4 {
        match train(&fam, Operation::Inverse, &TrainConfig { seed, ..cfg.clone() }).unwrap_err() {
            Error::Singular { p, .. } => assert!(p == vec![0.0] || p == vec![1.0], "named p = {p:?}"),
            e => panic!("seed {seed}: expected SINGULAR, got {e:?}"),
        }
    }
}
