//! A-posteriori checks and iterative refinement: every operation's measures against independent
//! computations from the prediction, probe estimates against exact norms, the contraction estimate
//! against the SVD, refinement to round-off with and without the exact fallback, and coded errors.

mod common;

use std::sync::OnceLock;

use common::{matmul, transpose};
use neumatc::{
    CheckOptions, Family, MatrixBatch, Method, NeuMatC, Operation, RefineConfig, SamplingConfig, SyntheticConfig, TrainConfig, baseline,
    metrics, train,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A quick configuration for tests of the measures (accuracy does not matter there).
fn quick() -> TrainConfig {
    TrainConfig {
        steps: 150,
        hidden: vec![24, 24],
        sampling: SamplingConfig { supervised: 16, collocation: 16, candidates: 32, add_every: 75, add: 4, ..Default::default() },
        validation: 8,
        ..Default::default()
    }
}

/// The well-conditioned synthetic family of tests/train.rs (cond(H(p)) ≤ 7.3 on [0, 1]).
fn inverse_family() -> Family {
    Family::synthetic(SyntheticConfig { n: 16, rank: 4, seed: 2, ..Default::default() }).unwrap()
}

/// A well-trained inverse model on [`inverse_family`], trained once for every test.
fn good_inverse() -> &'static NeuMatC {
    static MODEL: OnceLock<NeuMatC> = OnceLock::new();
    MODEL.get_or_init(|| train(&inverse_family(), Operation::Inverse, &TrainConfig { steps: 500, ..Default::default() }).unwrap())
}

/// `count` parameters uniform in `[0, 1]` from `seed`.
fn params(count: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count).map(|_| rng.random::<f64>()).collect()
}

fn gaussian_vec(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random::<f64>() - 0.5).collect()
}

fn fro(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn diff(x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter().zip(y).map(|(a, b)| a - b).collect()
}

/// `X diag(s)` for row-major `X` with `s.len()` columns.
fn scale_cols(x: &[f64], s: &[f64]) -> Vec<f64> {
    x.iter().enumerate().map(|(i, v)| v * s[i % s.len()]).collect()
}

/// `‖XᵀX − I‖_F / √c` for row-major `X` (`rows × c`).
fn defect(x: &[f64], rows: usize, c: usize) -> f64 {
    let mut g = matmul(&transpose(x, rows, c), x, c, rows, c);
    (0..c).for_each(|i| g[i * c + i] -= 1.0);
    fro(&g) / (c as f64).sqrt()
}

fn close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 1e-10 * want.abs() + 1e-14, "{what}: {got:e} vs independent {want:e}");
}

/// Largest singular value by the SVD (nalgebra, independent of the engine's faer).
fn spectral_norm(m: &[f64], n: usize) -> f64 {
    nalgebra::DMatrix::from_row_slice(n, n, m).singular_values().max()
}

#[test]
fn inverse_check_matches_the_metric_the_svd_and_its_probe_estimates() {
    let model = good_inverse();
    let fam = inverse_family();
    let n = 16;
    let p = params(12, 1);
    let report = model.check(None, &p, &CheckOptions::default()).unwrap();
    assert_eq!(report.batch, 12);
    assert_eq!(report.measures.iter().map(|(m, _)| *m).collect::<Vec<_>>(), vec!["residual", "contraction"]);
    assert!(report.warnings.is_empty());
    let residual = report.get("residual").unwrap();
    let contraction = report.get("contraction").unwrap();

    // residual = √(‖AĜ − I‖²_F / n) = √ of the paper's per-matrix RelErr_inv.
    let a = fam.at(&p).unwrap();
    let g = model.predict(&p).unwrap().components[0].data.to_f64();
    let relerr = metrics::inverse_residuals(&a, &g).unwrap();
    for i in 0..12 {
        close(residual[i], relerr[i].sqrt(), "residual vs √RelErr_inv");
        // The contraction estimate against ‖I − AĜ‖₂ from the SVD: from below, within a few percent.
        let mut e = matmul(a.matrix(i), &g[i * n * n..(i + 1) * n * n], n, n, n);
        e.iter_mut().for_each(|v| *v = -*v);
        (0..n).for_each(|j| e[j * n + j] += 1.0);
        let exact = spectral_norm(&e, n);
        assert!(contraction[i] <= exact * (1.0 + 1e-9) && contraction[i] >= 0.9 * exact, "{} vs {exact}", contraction[i]);
        assert!(contraction[i] < 1e-2, "a good model is a strong contraction: {}", contraction[i]);
    }
    eprintln!("residual {residual:?}\ncontraction {contraction:?}");

    // Probe estimates: within a factor 2 of the exact norms, and the same contraction.
    let probed = model.check(None, &p, &CheckOptions { probes: Some(16), extrapolate: false }).unwrap();
    for (est, exact) in probed.get("residual").unwrap().iter().zip(residual) {
        assert!(*est > exact / 2.0 && *est < exact * 2.0, "probe {est:e} vs exact {exact:e}");
    }
    assert_eq!(probed.get("contraction").unwrap(), contraction);
    // Seeded: the same probes every time.
    assert_eq!(model.check(None, &p, &CheckOptions { probes: Some(16), extrapolate: false }).unwrap(), probed);
}

/// Checks every measure of `op` at `p` against textbook-loop computations from the prediction, and the
/// probe estimates against the exact values.
fn check_against_independent(model: &NeuMatC, fam: &Family, p: &[f64]) {
    let report = model.check(None, p, &CheckOptions::default()).unwrap();
    let probed = model.check(None, p, &CheckOptions { probes: Some(24), extrapolate: false }).unwrap();
    let spec = model.spec().clone();
    let (m, n) = (spec.rows, spec.cols);
    let a = fam.at(p).unwrap();
    let pred = model.predict(p).unwrap();
    let joint = pred.joint_f64();
    let len = spec.output_len();
    let names: Vec<&str> = report.measures.iter().map(|(m, _)| *m).collect();
    for i in 0..p.len() {
        let ai = a.matrix(i);
        let parts = spec.split(&joint[i * len..(i + 1) * len]);
        let anorm = fro(ai);
        let want: Vec<f64> = match spec.op {
            Operation::Solve => {
                let b = spec.rhs.as_deref().unwrap();
                vec![fro(&diff(&matmul(ai, parts[0], n, n, 1), b)) / fro(b)]
            }
            Operation::Svd => {
                let r = spec.rank;
                let (u, s, v) = (parts[0], parts[1], parts[2]);
                let r1 = diff(&matmul(ai, v, m, n, r), &scale_cols(u, s));
                let r2 = diff(&matmul(&transpose(ai, m, n), u, n, m, r), &scale_cols(v, s));
                let recon = diff(&matmul(&scale_cols(u, s), &transpose(v, n, r), m, r, n), ai);
                vec![(fro(&r1).powi(2) + fro(&r2).powi(2)).sqrt() / anorm, fro(&recon) / anorm, defect(u, m, r).max(defect(v, n, r))]
            }
            Operation::Qr => vec![fro(&diff(&matmul(parts[0], parts[1], m, n, n), ai)) / anorm, defect(parts[0], m, n)],
            Operation::Cholesky => vec![fro(&diff(&matmul(parts[0], &transpose(parts[0], n, n), n, n, n), ai)) / anorm],
            Operation::Eigh => {
                let (lam, v) = (parts[0], parts[1]);
                vec![fro(&diff(&matmul(ai, v, n, n, n), &scale_cols(v, lam))) / anorm, defect(v, n, n)]
            }
            Operation::Expm => {
                let e = parts[0];
                vec![fro(&diff(&matmul(ai, e, n, n, n), &matmul(e, ai, n, n, n))) / (anorm * fro(e))]
            }
            _ => unreachable!(),
        };
        assert_eq!(names.len(), want.len(), "{:?}", spec.op);
        for (j, w) in want.iter().enumerate() {
            close(report.measures[j].1[i], *w, &format!("{:?} {} at p = {}", spec.op, names[j], p[i]));
            let est = probed.measures[j].1[i];
            if spec.op != Operation::Solve {
                assert!(est > w / 2.5 && est < w * 2.5, "{:?} {}: probe {est:e} vs exact {w:e}", spec.op, names[j]);
            } else {
                assert_eq!(est, report.measures[j].1[i], "solve's residual is a vector norm, not probed");
            }
        }
    }
    eprintln!("{:?}: {:?}", spec.op, report.measures);
}

#[test]
fn every_operation_measure_matches_an_independent_computation() {
    let p = [0.13, 0.52, 0.91];
    let fam = Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, ..Default::default() }).unwrap();
    let spd = Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, spd: true, ..Default::default() }).unwrap();
    let lowrank =
        Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, eps: 1e-3, scale: Some(1.0), ..Default::default() }).unwrap();
    let svd = train(&lowrank, Operation::Svd, &TrainConfig { rank: Some(2), ..quick() }).unwrap();
    assert_eq!(svd.shapes(), &[(12, 2), (2, 1), (12, 2)]);
    check_against_independent(&svd, &lowrank, &p);
    check_against_independent(&train(&fam, Operation::Qr, &quick()).unwrap(), &fam, &p);
    check_against_independent(&train(&spd, Operation::Cholesky, &quick()).unwrap(), &spd, &p);
    check_against_independent(&train(&spd, Operation::Eigh, &quick()).unwrap(), &spd, &p);
    check_against_independent(&train(&fam, Operation::Expm, &quick()).unwrap(), &fam, &p);
    let rhs: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin() + 0.5).collect();
    check_against_independent(&train(&fam, Operation::Solve, &TrainConfig { rhs: Some(rhs), ..quick() }).unwrap(), &fam, &p);
}

#[test]
fn refine_converges_to_round_off_without_the_fallback() {
    let model = good_inverse();
    let fam = inverse_family();
    let n = 16;
    let p = params(20, 3);
    let b = gaussian_vec(n, 4);
    let out = model.refine(None, &p, &b, &RefineConfig::default()).unwrap();
    assert_eq!((out.batch, out.n, out.x.len()), (20, n, 20 * n));
    let exact = baseline::solve(&fam.at(&p).unwrap(), &b).unwrap();
    for i in 0..20 {
        assert!(out.residual[i] <= 1e-12, "residual {:e}", out.residual[i]);
        assert!(!out.fell_back[i]);
        assert!(out.iterations[i] >= 1 && out.iterations[i] <= 6, "iterations {}", out.iterations[i]);
        let (x, xe) = (&out.x[i * n..(i + 1) * n], exact.matrix(i));
        assert!(fro(&diff(x, xe)) <= 1e-10 * fro(xe), "x vs LU");
    }
    eprintln!("iterations {:?}, residuals {:?}", out.iterations, out.residual);

    // An unreachable tolerance: the refinement stagnates at round-off and the LU answer is returned.
    let out = model.refine(None, &p, &b, &RefineConfig { tol: 1e-300, ..Default::default() }).unwrap();
    assert!(out.fell_back.iter().all(|&f| f));
    assert!(out.iterations.iter().all(|&k| k >= 1));
    assert!(out.residual.iter().all(|&r| r < 64.0 * n as f64 * f64::EPSILON), "{:?}", out.residual);
    for i in 0..20 {
        assert!(fro(&diff(&out.x[i * n..(i + 1) * n], exact.matrix(i))) <= 1e-12 * fro(exact.matrix(i)));
    }

    // Too few iterations for the tolerance: the fallback after max_iter.
    let out = model.refine(None, &p, &b, &RefineConfig { tol: 1e-14, max_iter: 1, ..Default::default() }).unwrap();
    assert!(out.fell_back.iter().all(|&f| f) && out.iterations.iter().all(|&k| k == 1), "{:?}", out.iterations);

    // One right-hand side per parameter, and b = 0 for one of them.
    let mut bs = gaussian_vec(20 * n, 5);
    bs[7 * n..8 * n].iter_mut().for_each(|v| *v = 0.0);
    let out = model.refine(None, &p, &bs, &RefineConfig::default()).unwrap();
    let exact = baseline::solve(&fam.at(&p).unwrap(), &bs).unwrap();
    for i in 0..20 {
        let (x, xe) = (&out.x[i * n..(i + 1) * n], exact.matrix(i));
        if i == 7 {
            assert!(x.iter().all(|&v| v == 0.0) && out.residual[i] == 0.0 && out.iterations[i] == 0 && !out.fell_back[i]);
        } else {
            assert!(out.residual[i] <= 1e-12 && !out.fell_back[i]);
            assert!(fro(&diff(x, xe)) <= 1e-10 * fro(xe));
        }
    }
}

#[test]
fn a_bad_model_is_not_a_contraction_and_refine_falls_back() {
    // One latent dimension, plain method, one step: Ĝ(p) is far from A(p)⁻¹.
    let fam = inverse_family();
    let cfg = TrainConfig { method: Method::Plain, latent_dim: Some(1), steps: 1, ..quick() };
    let model = train(&fam, Operation::Inverse, &cfg).unwrap();
    let p = params(10, 6);
    let report = model.check(None, &p, &CheckOptions::default()).unwrap();
    let contraction = report.get("contraction").unwrap();
    eprintln!("bad model: contraction {contraction:?}, residual {:?}", report.get("residual").unwrap());
    assert!(contraction.iter().all(|&c| c >= 1.0), "{contraction:?}");
    let b = gaussian_vec(16, 7);
    let out = model.refine(None, &p, &b, &RefineConfig::default()).unwrap();
    let exact = baseline::solve(&fam.at(&p).unwrap(), &b).unwrap();
    for i in 0..10 {
        assert!(out.fell_back[i] && out.residual[i] <= 1e-13, "{:?}", out);
        assert!(fro(&diff(&out.x[i * 16..(i + 1) * 16], exact.matrix(i))) <= 1e-12 * fro(exact.matrix(i)));
    }
}

#[test]
fn a_solve_model_refines_its_own_right_hand_side_only() {
    let fam = Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, ..Default::default() }).unwrap();
    let rhs: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin() + 0.5).collect();
    let model = train(&fam, Operation::Solve, &TrainConfig { rhs: Some(rhs.clone()), ..quick() }).unwrap();
    let p = [0.2, 0.6];
    let exact = baseline::solve(&fam.at(&p).unwrap(), &rhs).unwrap();
    let out = model.refine(None, &p, &rhs, &RefineConfig::default()).unwrap();
    for i in 0..2 {
        assert!(out.fell_back[i] && out.iterations[i] == 0 && out.residual[i] <= 1e-13, "{out:?}");
        assert!(fro(&diff(&out.x[i * 12..(i + 1) * 12], exact.matrix(i))) <= 1e-12 * fro(exact.matrix(i)));
    }
    // A loose tolerance keeps the model's answer.
    let loose = model.refine(None, &p, &rhs, &RefineConfig { tol: 1.0, ..Default::default() }).unwrap();
    assert_eq!(loose.fell_back, vec![false, false]);
    assert_eq!(loose.x, model.predict(&p).unwrap().joint_f64());
    let res = model.check(None, &p, &CheckOptions::default()).unwrap();
    for i in 0..2 {
        close(loose.residual[i], res.get("residual").unwrap()[i], "refine residual vs check");
    }
    // Per parameter: the rhs and a zero right-hand side.
    let mut bs = rhs.clone();
    bs.extend(std::iter::repeat_n(0.0, 12));
    let out = model.refine(None, &p, &bs, &RefineConfig::default()).unwrap();
    assert!(out.x[12..].iter().all(|&v| v == 0.0) && out.residual[1] == 0.0);
    // Any other right-hand side.
    let other: Vec<f64> = rhs.iter().map(|v| v * 2.0).collect();
    let e = model.refine(None, &p, &other, &RefineConfig::default()).unwrap_err();
    assert_eq!(e.code(), "INVALID_OPTION", "{e}");
    assert!(e.to_string().contains("inverse model"), "{e}");
    let mut bs = rhs.clone();
    bs.extend_from_slice(&other);
    assert_eq!(model.refine(None, &p, &bs, &RefineConfig::default()).unwrap_err().code(), "INVALID_OPTION");
}

#[test]
fn refine_rejects_bad_requests_with_codes() {
    let model = good_inverse();
    let p = [0.3, 0.7];
    let b = vec![1.0; 16];
    let code = |b: &[f64], cfg: RefineConfig| model.refine(None, &p, b, &cfg).unwrap_err().code();
    assert_eq!(code(&b[..15], RefineConfig::default()), "SHAPE_MISMATCH");
    assert_eq!(code(&vec![1.0; 48], RefineConfig::default()), "SHAPE_MISMATCH");
    let mut nan = b.clone();
    nan[3] = f64::NAN;
    assert_eq!(code(&nan, RefineConfig::default()), "INVALID_INPUT");
    assert_eq!(code(&b, RefineConfig { tol: 0.0, ..Default::default() }), "INVALID_OPTION");
    assert_eq!(code(&b, RefineConfig { tol: f64::INFINITY, ..Default::default() }), "INVALID_OPTION");
    assert_eq!(code(&b, RefineConfig { max_iter: 0, ..Default::default() }), "INVALID_OPTION");
    assert_eq!(code(&b, RefineConfig { max_iter: 10_001, ..Default::default() }), "INVALID_OPTION");
    assert_eq!(model.refine(None, &[1.5], &b, &RefineConfig::default()).unwrap_err().code(), "OUT_OF_DOMAIN");
    let e = model.check(None, &p, &CheckOptions { probes: Some(0), extrapolate: false }).unwrap_err();
    assert_eq!(e.code(), "INVALID_OPTION");

    // A family of another shape or parameter dimension.
    let other = Family::synthetic(SyntheticConfig { n: 12, rank: 3, ..Default::default() }).unwrap();
    assert_eq!(model.check(Some(&other), &p, &CheckOptions::default()).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(model.refine(Some(&other), &p, &b, &RefineConfig::default()).unwrap_err().code(), "SHAPE_MISMATCH");
    let two_d = Family::spd_fourier(neumatc::SpdFourierConfig { n: 16, ..Default::default() }).unwrap();
    assert_eq!(model.check(Some(&two_d), &p, &CheckOptions::default()).unwrap_err().code(), "INVALID_OPTION");

    // refine needs an inverse or solve model.
    let fam = Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, ..Default::default() }).unwrap();
    let qr = train(&fam, Operation::Qr, &TrainConfig { steps: 20, ..quick() }).unwrap();
    let e = qr.refine(None, &p, &[1.0; 12], &RefineConfig::default()).unwrap_err();
    assert_eq!(e.code(), "INVALID_OPTION");
    assert!(e.to_string().contains("refine needs an inverse or solve model"), "{e}");
}

/// `A(p) = D + 0.3 (cos(2πp) S₁ + sin(2πp) S₂)` (symmetric, well-conditioned for every p) on a grid.
fn periodic_family(grid: &[f64]) -> Family {
    let n = 10;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut sym = || {
        let g: Vec<f64> = (0..n * n).map(|_| rng.random::<f64>() - 0.5).collect();
        (0..n * n).map(|i| (g[i] + g[(i % n) * n + i / n]) * (6.0 / n as f64).sqrt() / 2.0).collect::<Vec<f64>>()
    };
    let (s1, s2) = (sym(), sym());
    let mut data = Vec::new();
    for &p in grid {
        let (c, s) = ((std::f64::consts::TAU * p).cos(), (std::f64::consts::TAU * p).sin());
        for i in 0..n * n {
            let diag = if i / n == i % n { (i / n + 1) as f64 } else { 0.0 };
            data.push(diag + 0.3 * (c * s1[i] + s * s2[i]));
        }
    }
    Family::from_samples(1, grid.to_vec(), MatrixBatch::new(grid.len(), n, n, data).unwrap()).unwrap()
}

#[test]
fn outside_the_domain_is_an_error_unless_extrapolating_with_a_family_that_reaches() {
    let train_grid: Vec<f64> = (0..=200).map(|i| i as f64 / 200.0).collect();
    let wide_grid: Vec<f64> = (0..=280).map(|i| -0.2 + i as f64 / 200.0).collect();
    let model = train(&periodic_family(&train_grid), Operation::Inverse, &TrainConfig { steps: 300, ..Default::default() }).unwrap();
    let wide = periodic_family(&wide_grid);
    let p = [0.5, 1.1];
    for e in [
        model.check(Some(&wide), &p, &CheckOptions::default()).unwrap_err(),
        model.refine(Some(&wide), &p, &[1.0; 10], &RefineConfig::default()).unwrap_err(),
    ] {
        assert_eq!(e.code(), "OUT_OF_DOMAIN", "{e}");
    }
    let report = model.check(Some(&wide), &p, &CheckOptions { probes: None, extrapolate: true }).unwrap();
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("1 of 2 parameters lie outside"), "{:?}", report.warnings);
    let residual = report.get("residual").unwrap();
    eprintln!("extrapolated: residual {residual:?}, contraction {:?}", report.get("contraction").unwrap());
    assert!(residual[1] > residual[0], "outside the trained domain the model is worse: {residual:?}");
    let out = model.refine(Some(&wide), &p, &[1.0; 10], &RefineConfig { extrapolate: true, ..Default::default() }).unwrap();
    assert_eq!(out.warnings.len(), 1);
    assert!(out.residual.iter().all(|&r| r <= 1e-12), "{:?}", out.residual);
    // Not a contraction at p = 1.1 (measured ‖I − AĜ‖₂ ≈ 1.6): the exact solver answers there.
    assert_eq!(out.fell_back, vec![false, report.get("contraction").unwrap()[1] >= 1.0]);
    // The training family knows A(p) on its grid only.
    let e = model.check(None, &p, &CheckOptions { probes: None, extrapolate: true }).unwrap_err();
    assert_eq!(e.code(), "OUT_OF_DOMAIN", "{e}");
}
