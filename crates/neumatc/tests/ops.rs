//! Every operation end to end: training on small families reaches a stated held-out error, the
//! alignment makes singular vectors continuous, `apply` contracts `C` with `b`, and bad requests get
//! typed errors.

use neumatc::op::OpSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use neumatc::{
    DeviceSpec, Error, Family, MatrixBatch, Method, NeuMatC, Operation, Result, SamplingConfig, SyntheticConfig, TrainConfig, train,
};

#[macro_use]
mod common;

fn cfg(dev: DeviceSpec) -> TrainConfig {
    TrainConfig {
        device: dev,
        steps: 600,
        sampling: SamplingConfig { supervised: 24, collocation: 24, candidates: 64, add_every: 150, ..Default::default() },
        validation: 16,
        ..Default::default()
    }
}

/// The synthetic family of the training tests (well-conditioned, see tests/train.rs).
fn family() -> Family {
    Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, ..Default::default() }).unwrap()
}

/// `A(p) = D + 0.3 (cos(2πp) S₁ + sin(2πp) S₂)` with `D = diag(1, …, n)` and `S₁, S₂` symmetric
/// Gaussian (entries N(0, 1/n)), on a 401-point grid: symmetric positive definite with well separated
/// eigenvalues, so its Cholesky factor, eigenvectors and (thin) SVD are all smooth in `p`. (The synthetic
/// family's `H Hᵀ` is not suitable for eigh/thin SVD: `εI` leaves a degenerate cluster whose vectors are
/// not continuous in `p`.)
fn spd_family() -> Family {
    let n = 12;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut sym = || {
        let g: Vec<f64> = (0..n * n).map(|_| rng.random::<f64>() - 0.5).collect();
        (0..n * n).map(|i| (g[i] + g[(i % n) * n + i / n]) * (6.0 / n as f64).sqrt() / 2.0).collect::<Vec<f64>>()
    };
    let (s1, s2) = (sym(), sym());
    let grid: Vec<f64> = (0..401).map(|i| i as f64 / 400.0).collect();
    let mut data = Vec::new();
    for &p in &grid {
        let (c, s) = ((std::f64::consts::TAU * p).cos(), (std::f64::consts::TAU * p).sin());
        for i in 0..n * n {
            let diag = if i / n == i % n { (i / n + 1) as f64 } else { 0.0 };
            data.push(diag + 0.3 * (c * s1[i] + s * s2[i]));
        }
    }
    Family::from_samples(1, grid.clone(), MatrixBatch::new(grid.len(), n, n, data).unwrap()).unwrap()
}

fn held_out(model: &NeuMatC) -> f64 {
    let r = model.report();
    eprintln!(
        "{}: held-out {:?} (max {:?}), orthogonality {:?}, d = {}, floor {:?}, {:.2} s, warnings {:?}",
        r.operation, r.held_out_rel_err, r.held_out_max, r.held_out_orthogonality, r.latent_dim, r.basis_floor, r.seconds, r.warnings
    );
    r.held_out_rel_err.unwrap()
}

fn svd_thin_and_truncated_train_accurately(dev: DeviceSpec) -> Result<()> {
    let thin = train(&spd_family(), Operation::Svd, &cfg(dev)).unwrap();
    assert!(held_out(&thin) < 1e-3);
    let shapes: Vec<(usize, usize)> = thin.shapes().to_vec();
    assert_eq!(shapes, vec![(12, 12), (12, 1), (12, 12)]);
    // Unscaled factors and small ε put the energy in the leading singular values (see the issue).
    let lowrank =
        Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, eps: 1e-3, scale: Some(1.0), ..Default::default() }).unwrap();
    let sampling = SamplingConfig { supervised: 48, ..cfg(dev).sampling };
    let trunc = train(&lowrank, Operation::Svd, &TrainConfig { rank: Some(3), sampling, ..cfg(dev) }).unwrap();
    assert!(held_out(&trunc) < 1e-3);
    assert!(trunc.report().held_out_orthogonality.unwrap() < 0.15, "a norm, not squared like RelErr");
    assert_eq!(trunc.shapes().to_vec(), vec![(12, 3), (3, 1), (12, 3)]);
    Ok(())
}
device_test!(svd_thin_and_truncated_train_accurately);

fn qr_trains_with_an_exactly_upper_triangular_r(dev: DeviceSpec) -> Result<()> {
    let fam = family();
    let model = train(&fam, Operation::Qr, &cfg(dev)).unwrap();
    assert!(held_out(&model) < 1e-3);
    let pred = model.predict(&[0.37, 0.81]).unwrap();
    let r = pred.get("R").unwrap().data.to_f64();
    for b in 0..2 {
        for i in 0..12 {
            for j in 0..i {
                assert_eq!(r[b * 144 + i * 12 + j], 0.0, "R below the diagonal");
            }
        }
    }
    Ok(())
}
device_test!(qr_trains_with_an_exactly_upper_triangular_r);

fn cholesky_trains_with_an_exactly_lower_triangular_l(dev: DeviceSpec) -> Result<()> {
    let model = train(&spd_family(), Operation::Cholesky, &cfg(dev)).unwrap();
    assert!(held_out(&model) < 1e-3);
    let l = model.predict(&[0.5]).unwrap().get("L").unwrap().data.to_f64();
    assert!((0..12).all(|i| (i + 1..12).all(|j| l[i * 12 + j] == 0.0)));
    Ok(())
}
device_test!(cholesky_trains_with_an_exactly_lower_triangular_l);

fn eigh_trains_accurately(dev: DeviceSpec) -> Result<()> {
    let model = train(&spd_family(), Operation::Eigh, &cfg(dev)).unwrap();
    assert!(held_out(&model) < 1e-3);
    Ok(())
}
device_test!(eigh_trains_accurately);

fn expm_trains_accurately(dev: DeviceSpec) -> Result<()> {
    let model = train(&family(), Operation::Expm, &cfg(dev)).unwrap();
    assert!(held_out(&model) < 1e-3);
    Ok(())
}
device_test!(expm_trains_accurately);

fn solve_trains_accurately_and_apply_matches_the_inverse(dev: DeviceSpec) -> Result<()> {
    let fam = family();
    let b: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin() + 0.5).collect();
    let model = train(&fam, Operation::Solve, &TrainConfig { rhs: Some(b.clone()), ..cfg(dev) }).unwrap();
    assert!(held_out(&model) < 3e-2, "‖Ax − b‖/‖b‖");
    assert_eq!(model.shapes().to_vec(), vec![(12, 1)]);

    let inv = train(&fam, Operation::Inverse, &TrainConfig { dtype: neumatc::Dtype::F64, ..cfg(dev) }).unwrap();
    let p = [0.2, 0.55, 0.9];
    let g = inv.predict(&p).unwrap().components[0].data.to_f64();
    let x = inv.apply(&p, &b).unwrap().data.to_f64();
    for i in 0..3 {
        for r in 0..12 {
            let gb: f64 = (0..12).map(|c| g[i * 144 + r * 12 + c] * b[c]).sum();
            assert!((gb - x[i * 12 + r]).abs() <= 1e-10 * gb.abs().max(1.0));
        }
    }
    assert_eq!(inv.apply(&p, &b[..5]).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(model.apply(&p, &b).unwrap_err().code(), "INVALID_OPTION");
    Ok(())
}
device_test!(solve_trains_accurately_and_apply_matches_the_inverse);

/// A family whose two singular values cross at p = 0.5: `A(p) = Q diag(1 + p, 2 − p, 0.5) Rᵀ` (fixed
/// orthogonal Q, R). The exact SVD sorts the values, so its U swaps columns at the crossing and its signs
/// are arbitrary; after alignment each singular triplet must be continuous in `p`.
#[test]
fn alignment_makes_factors_continuous_through_a_crossing() {
    let n = 3;
    let (c, s) = (0.6f64, 0.8f64);
    let q = [c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0];
    let r = [1.0, 0.0, 0.0, 0.0, c, -s, 0.0, s, c];
    let grid: Vec<f64> = (0..40).map(|i| (i as f64 + 0.5) / 40.0).collect();
    let mut data = Vec::new();
    for &p in &grid {
        let sv = [1.0 + p, 2.0 - p, 0.5];
        for i in 0..n {
            for j in 0..n {
                data.push((0..n).map(|t| q[i * n + t] * sv[t] * r[j * n + t]).sum::<f64>());
            }
        }
    }
    let fam = Family::from_samples(1, grid.clone(), MatrixBatch::new(grid.len(), n, n, data).unwrap()).unwrap();
    let spec = OpSpec::new(Operation::Svd, n, n, None, None).unwrap();
    let a = fam.at(&grid).unwrap();
    let mut g: Vec<f64> = (0..grid.len()).flat_map(|i| spec.exact(a.matrix(i), &grid[i..i + 1]).unwrap()).collect();
    // Scramble signs to make sure alignment, not luck, fixes them.
    for (i, chunk) in g.chunks_mut(spec.output_len()).enumerate() {
        if i % 3 == 1 {
            for v in &mut chunk[..9] {
                *v = -*v;
            }
            for v in &mut chunk[12..] {
                *v = -*v;
            }
        }
    }
    let aligned = neumatc::train::align_samples(&spec, &grid, g, fam.domain());
    let m = spec.output_len();
    for i in 1..grid.len() {
        let (prev, cur) = (&aligned[(i - 1) * m..i * m], &aligned[i * m..(i + 1) * m]);
        let jump = prev.iter().zip(cur).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(jump < 0.1, "jump {jump} between p = {} and {}", grid[i - 1], grid[i]);
    }
    // The first singular value follows 2 − p through the crossing (not max(1 + p, 2 − p)).
    assert!((aligned[(grid.len() - 1) * m + 9] - (2.0 - grid[grid.len() - 1])).abs() < 1e-12);
}

fn bad_requests_get_typed_errors(dev: DeviceSpec) -> Result<()> {
    let fam = family();
    let code = |op, cfg: TrainConfig| train(&fam, op, &cfg).unwrap_err().code();
    assert_eq!(code(Operation::Svd, TrainConfig { rank: Some(13), ..cfg(dev) }), "INVALID_OPTION");
    assert_eq!(code(Operation::Qr, TrainConfig { rank: Some(2), ..cfg(dev) }), "INVALID_OPTION");
    assert_eq!(code(Operation::Solve, cfg(dev)), "INVALID_OPTION");
    assert_eq!(code(Operation::Solve, TrainConfig { rhs: Some(vec![1.0; 5]), ..cfg(dev) }), "SHAPE_MISMATCH");
    assert_eq!(code(Operation::Svd, TrainConfig { method: Method::Plain, ..cfg(dev) }), "INVALID_OPTION");
    // The synthetic family is not symmetric: cholesky refuses it, naming the problem.
    let e = train(&fam, Operation::Cholesky, &cfg(dev)).unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    assert!(e.to_string().contains("symmetric"), "{e}");
    // Symmetric but indefinite: A(p) − 3I.
    let spd = spd_family();
    let grid: Vec<f64> = spd.pool().unwrap().to_vec();
    let mut a = spd.at(&grid).unwrap();
    let n = a.rows;
    for i in 0..a.batch {
        for r in 0..n {
            a.data[i * n * n + r * n + r] -= 3.0;
        }
    }
    let indefinite = Family::from_samples(1, grid, a).unwrap();
    let e = train(&indefinite, Operation::Cholesky, &cfg(dev)).unwrap_err();
    assert_eq!(e.code(), "NOT_POSITIVE_DEFINITE", "{e}");
    // Non-square input.
    let rect = Family::from_samples(1, vec![0.0, 1.0], MatrixBatch::new(2, 4, 3, vec![1.0; 24]).unwrap()).unwrap();
    assert_eq!(train(&rect, Operation::Inverse, &cfg(dev)).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(train(&rect, Operation::Cholesky, &cfg(dev)).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(Operation::parse("lu").unwrap_err().code(), "INVALID_OPTION");
    Ok(())
}
device_test!(bad_requests_get_typed_errors);
