//! The sparse advection–diffusion–reaction family (Appendix H), its exact solver and the Krylov baseline.

use std::f64::consts::PI;
use std::time::Instant;

use faer::linalg::solvers::Solve;
use neumatc::sparse::{AdrConfig, AdrFamily, KrylovConfig, krylov_sequence};

fn family(grid: usize) -> AdrFamily {
    AdrFamily::new(AdrConfig { grid, ..Default::default() }).unwrap()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn discretisation_converges_at_second_order() {
    // u*(x, y) = sin(πx) sin(πy) vanishes on the boundary; f = −Δu* + v·∇u* + c u*.
    let p = 0.3;
    let [_, cos, sin] = AdrFamily::weights(p);
    let mut errors = Vec::new();
    for grid in [15, 31, 63, 127] {
        let fam = family(grid);
        let (d, c) = (fam.config().advection, fam.config().reaction);
        let f = |x: f64, y: f64| {
            let (sx, cx, sy, cy) = ((PI * x).sin(), (PI * x).cos(), (PI * y).sin(), (PI * y).cos());
            (2.0 * PI * PI + c) * sx * sy + d * cos * PI * cx * sy + d * sin * PI * sx * cy
        };
        let rhs = fam.rhs_from(f);
        let u = fam.solve_exact_with(p, &rhs).unwrap();
        let exact = fam.rhs_from(|x, y| (PI * x).sin() * (PI * y).sin());
        let err = max_abs(&u.iter().zip(&exact).map(|(a, b)| a - b).collect::<Vec<_>>());
        errors.push(err);
    }
    let orders: Vec<f64> = errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
    println!("max-norm errors {errors:?}, observed orders {orders:.3?}");
    for o in orders {
        assert!((1.8..=2.2).contains(&o), "observed order {o} (errors {errors:?})");
    }
}

#[test]
fn assembled_applied_dense_and_affine_sum_agree() {
    let fam = AdrFamily::new(AdrConfig { grid: 9, advection: 50.0, reaction: 1.0 }).unwrap();
    let n = fam.n();
    let x: Vec<f64> = (0..n).map(|i| (0.7 * i as f64).sin() + 0.1).collect();
    let terms: Vec<_> = fam.terms().iter().map(|t| t.to_dense()).collect();
    for p in [0.0, 0.13, 0.5, 0.77, 1.0] {
        let a = fam.assemble(p).unwrap().to_dense();
        let dense = fam.dense(p).unwrap();
        let w = AdrFamily::weights(p);
        let scale = max_abs(&dense);
        let mut ax = vec![0.0; n];
        fam.apply(p, &x, &mut ax);
        for i in 0..n {
            let mut dx = 0.0;
            for j in 0..n {
                let affine = w[0] * terms[0][(i, j)] + w[1] * terms[1][(i, j)] + w[2] * terms[2][(i, j)];
                assert!((a[(i, j)] - dense[i * n + j]).abs() <= 1e-13 * scale, "assembled vs dense ({i}, {j})");
                assert!((affine - dense[i * n + j]).abs() <= 1e-13 * scale, "affine vs dense ({i}, {j})");
                dx += dense[i * n + j] * x[j];
            }
            assert!((dx - ax[i]).abs() <= 1e-13 * scale * max_abs(&x) * 5.0, "apply row {i}");
        }
        // Same structure at every p (including p where cos or sin vanish).
        assert_eq!(fam.assemble(p).unwrap().compute_nnz(), fam.nnz());
    }
}

#[test]
fn apply_terms_block_matches_columnwise_apply() {
    let fam = family(23);
    let n = fam.n();
    let d = 5;
    let x: Vec<f64> = (0..n * d).map(|i| (0.31 * i as f64).cos()).collect();
    let y = fam.apply_terms_block(&x, d);
    let dense: Vec<_> = fam.terms().iter().map(|t| t.to_dense()).collect();
    for (k, yk) in y.iter().enumerate() {
        assert_eq!(yk.len(), n * d);
        for c in 0..d {
            let xc = faer::ColRef::from_slice(&x[c * n..(c + 1) * n]);
            let want = &dense[k] * xc;
            for i in 0..n {
                assert!((yk[c * n + i] - want[i]).abs() <= 1e-12 * (1.0 + want[i].abs()), "Y_{k}[{i}, {c}]");
            }
        }
    }
    // The weighted sum of the term products is A(p) X.
    let p = 0.41;
    let w = AdrFamily::weights(p);
    let mut ax = vec![0.0; n];
    fam.apply(p, &x[n..2 * n], &mut ax);
    for i in 0..n {
        let s = w[0] * y[0][n + i] + w[1] * y[1][n + i] + w[2] * y[2][n + i];
        assert!((s - ax[i]).abs() <= 1e-10, "row {i}");
    }
    // d = 1 takes the row-parallel path.
    let y1 = fam.apply_terms_block(&x[..n], 1);
    assert!(y1[2].iter().zip(&y[2][..n]).all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs())));
}

#[test]
fn sparse_lu_residuals_at_machine_precision() {
    let params = [0.0, 0.1, 0.25, 0.5, 0.63, 0.9];
    for grid in [50, 100] {
        let fam = family(grid);
        let t = Instant::now();
        let x = fam.solve_exact(&params).unwrap();
        let secs = t.elapsed().as_secs_f64();
        for (k, &p) in params.iter().enumerate() {
            let r = fam.relative_residual(p, &x[k * fam.n()..(k + 1) * fam.n()]);
            println!("grid {grid}, p = {p}: residual {r:.2e}");
            assert!(r <= 1e-12, "grid {grid}, p = {p}: residual {r:e}");
        }
        println!("grid {grid}: {} solves in {secs:.3} s", params.len());
    }
}

#[test]
fn sparse_lu_agrees_with_dense_lu() {
    let fam = family(20);
    let n = fam.n();
    for p in [0.05, 0.37, 0.8] {
        let x = fam.solve_exact(&[p]).unwrap();
        let a = faer::Mat::from_fn(n, n, |i, j| fam.dense(p).map(|d| d[i * n + j]).unwrap_or(f64::NAN));
        let mut xd = faer::Mat::from_fn(n, 1, |i, _| fam.rhs()[i]);
        a.partial_piv_lu().solve_in_place(xd.as_mut());
        let scale = (0..n).fold(0.0f64, |m, i| m.max(xd[(i, 0)].abs()));
        for i in 0..n {
            assert!((x[i] - xd[(i, 0)]).abs() <= 1e-12 * scale, "p = {p}, x[{i}]: {} vs {}", x[i], xd[(i, 0)]);
        }
    }
}

fn sequence(count: usize) -> Vec<f64> {
    (0..count).map(|k| k as f64 / (count - 1) as f64).collect()
}

#[test]
fn gmres_ilu_sequence_reaches_tol_and_warm_start_helps() {
    let fam = family(60);
    let params = sequence(20);
    let warm = krylov_sequence(&fam, &params, &KrylovConfig::default()).unwrap();
    let cold = krylov_sequence(&fam, &params, &KrylovConfig { warm_start: false, ..Default::default() }).unwrap();
    let recycled = krylov_sequence(&fam, &params, &KrylovConfig { recycle_preconditioner: true, ..Default::default() }).unwrap();
    for sol in [&warm, &cold, &recycled] {
        assert_eq!(sol.iterations.len(), params.len());
        for (k, &p) in params.iter().enumerate() {
            let r = fam.relative_residual(p, &sol.x[k * fam.n()..(k + 1) * fam.n()]);
            assert!(r <= 1e-3, "p = {p}: residual {r:e}");
            assert!((r - sol.residuals[k]).abs() <= 1e-9, "reported residual {} vs {r}", sol.residuals[k]);
            assert!(sol.iterations[k] > 0 || k > 0);
        }
    }
    let total = |s: &neumatc::sparse::KrylovSolve| s.iterations.iter().sum::<usize>();
    println!(
        "m = 60, 20 systems: warm {} iterations ({:.3} s), cold {} ({:.3} s), warm + recycled ILU(0) {} ({:.3} s)",
        total(&warm),
        warm.seconds,
        total(&cold),
        cold.seconds,
        total(&recycled),
        recycled.seconds
    );
    println!("warm per system {:?}\ncold per system {:?}", warm.iterations, cold.iterations);
    assert!(total(&warm) < total(&cold), "warm {} vs cold {}", total(&warm), total(&cold));
    // Close to the exact solution too (the residual bound is relative to ‖b‖).
    let exact = fam.solve_exact(&params[7..8]).unwrap();
    let x = &warm.x[7 * fam.n()..8 * fam.n()];
    let err = max_abs(&x.iter().zip(&exact).map(|(a, b)| a - b).collect::<Vec<_>>()) / max_abs(&exact);
    assert!(err < 0.05, "relative max error vs exact {err}");
}

#[test]
fn bad_options_name_the_option() {
    let bad = |cfg: AdrConfig, name: &str| {
        let err = AdrFamily::new(cfg).unwrap_err();
        assert_eq!(err.code(), "INVALID_OPTION", "{err}");
        assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
    };
    bad(AdrConfig { grid: 1, ..Default::default() }, "grid");
    bad(AdrConfig { grid: 1001, ..Default::default() }, "grid");
    bad(AdrConfig { advection: f64::NAN, ..Default::default() }, "advection");
    bad(AdrConfig { reaction: f64::INFINITY, ..Default::default() }, "reaction");
    let fam = family(10);
    let kbad = |cfg: KrylovConfig, name: &str| {
        let err = krylov_sequence(&fam, &[0.5], &cfg).unwrap_err();
        assert_eq!(err.code(), "INVALID_OPTION", "{err}");
        assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
    };
    kbad(KrylovConfig { tol: 0.0, ..Default::default() }, "tol");
    kbad(KrylovConfig { tol: f64::NAN, ..Default::default() }, "tol");
    kbad(KrylovConfig { restart: 0, ..Default::default() }, "restart");
    kbad(KrylovConfig { max_iter: 0, ..Default::default() }, "maxIter");
    // JSON: camelCase, defaults, unknown fields refused.
    let cfg: AdrConfig = serde_json::from_str(r#"{"grid": 316}"#).unwrap();
    assert_eq!(cfg, AdrConfig { grid: 316, ..Default::default() });
    assert!(serde_json::from_str::<AdrConfig>(r#"{"grids": 3}"#).is_err());
    let k: KrylovConfig = serde_json::from_str(r#"{"maxIter": 7, "recyclePreconditioner": true}"#).unwrap();
    assert_eq!((k.max_iter, k.recycle_preconditioner, k.restart), (7, true, 50));
}

#[test]
fn parameters_outside_the_domain_and_oversized_dense() {
    let fam = family(10);
    for p in [-0.1, 1.5, f64::NAN] {
        let codes = [
            fam.assemble(p).unwrap_err().code(),
            fam.dense(p).unwrap_err().code(),
            fam.solve_exact(&[0.5, p]).unwrap_err().code(),
            fam.solve_exact_with(p, fam.rhs()).unwrap_err().code(),
            krylov_sequence(&fam, &[0.2, p], &KrylovConfig::default()).unwrap_err().code(),
        ];
        let want = if p.is_nan() { "INVALID_INPUT" } else { "OUT_OF_DOMAIN" };
        assert!(codes.iter().all(|&c| c == want), "p = {p}: {codes:?}");
    }
    assert_eq!(fam.solve_exact_with(0.5, &[1.0; 3]).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(family(65).dense(0.5).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(family(64).dense(0.5).unwrap().len(), 4096 * 4096);
    assert_eq!(fam.domain().lo, vec![0.0]);
    assert_eq!(fam.domain().hi, vec![1.0]);
}

/// Timings for the report: `cargo test -p neumatc --release --test sparse -- --ignored --nocapture`.
#[test]
#[ignore = "timing run, minutes at grid 316"]
fn timings() {
    let grids: Vec<usize> = std::env::var("ADR_GRIDS")
        .ok()
        .map(|s| s.split(',').filter_map(|g| g.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100, 316]);
    let seq: usize = std::env::var("ADR_SEQ").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    for grid in grids {
        let t = Instant::now();
        let fam = family(grid);
        let build = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let reps = 20;
        for k in 0..reps {
            std::hint::black_box(fam.assemble(k as f64 / reps as f64).unwrap());
        }
        let assemble = t.elapsed().as_secs_f64() / reps as f64;
        let n = fam.n();
        let x: Vec<f64> = vec![1.0; n];
        let mut y = vec![0.0; n];
        let t = Instant::now();
        for _ in 0..reps {
            fam.apply(0.3, &x, &mut y);
        }
        let apply = t.elapsed().as_secs_f64() / reps as f64;
        let t = Instant::now();
        let x0 = fam.solve_exact(&[0.3]).unwrap();
        let first = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let x1 = fam.solve_exact(&[0.31]).unwrap();
        let lu = t.elapsed().as_secs_f64();
        println!(
            "grid {grid} (n = {n}, nnz = {}): new {build:.3} s, assemble {:.2} ms, apply {:.3} ms, exact LU solve first (with symbolic) {first:.3} s, \
             later {lu:.3} s, residuals {:.1e} {:.1e}",
            fam.nnz(),
            assemble * 1e3,
            apply * 1e3,
            fam.relative_residual(0.3, &x0),
            fam.relative_residual(0.31, &x1)
        );
        for recycle in [false, true] {
            let cfg = KrylovConfig { recycle_preconditioner: recycle, ..Default::default() };
            let one = krylov_sequence(&fam, &[0.3], &cfg).unwrap();
            println!(
                "  GMRES+ILU(0) one cold solve: {} iterations, {:.3} s (residual {:.2e})",
                one.iterations[0], one.seconds, one.residuals[0]
            );
            let params = sequence(seq);
            let s = krylov_sequence(&fam, &params, &cfg).unwrap();
            let iters: usize = s.iterations.iter().sum();
            let worst = s.residuals.iter().fold(0.0f64, |m, &r| m.max(r));
            println!(
                "  sequence of {seq}, warm start, recycle_preconditioner = {recycle}: {:.3} s total, {iters} iterations ({:.1}/system), worst residual {worst:.2e}",
                s.seconds,
                iters as f64 / seq as f64
            );
        }
    }
}

/// `solve` on the sparse family trains without forming any `n × n` matrix and reaches a stated held-out
/// residual; its predictions are checked with sparse products on parameters it never saw.
#[test]
fn solve_model_on_the_sparse_family_reaches_the_stated_residual() {
    use neumatc::{Family, Operation, TrainConfig, train};
    let fam = Family::adr(AdrConfig { grid: 40, ..Default::default() }).unwrap();
    let cfg =
        TrainConfig::from_json(r#"{"steps": 3000, "omega": 3.0, "accuracy": 1e-8, "seed": 3, "sampling": {"supervised": 80}}"#).unwrap();
    let model = train(&fam, Operation::Solve, &cfg).unwrap();
    let op = fam.sparse().unwrap();
    let params: Vec<f64> = (0..50).map(|i| (i as f64 + 0.37) / 50.0).collect();
    let x = model.predict(&params).unwrap().components[0].data.to_f64();
    let n = op.n();
    let worst = params.iter().enumerate().map(|(i, &p)| op.relative_residual(p, &x[i * n..(i + 1) * n])).fold(0.0, f64::max);
    let r = model.report();
    println!(
        "sparse solve n = {n}: d = {}, supervised {} (+{}), floor {:?}, held-out mean {:?}, worst of 50 {worst:.2e}, {:.1} s",
        r.latent_dim, r.supervised, r.supervised_added, r.basis_floor, r.held_out_rel_err, r.seconds
    );
    assert!(worst < 1e-3, "worst held-out relative residual {worst}");
    // The latent tensor is d × n, never n × n.
    assert_eq!(model.shapes(), &[(n, 1)]);
    assert!(model.latent_dim() < 100);
    // Operations other than solve are refused.
    let err = train(&fam, Operation::Inverse, &cfg).unwrap_err();
    assert_eq!(err.code(), "INVALID_OPTION");
}
