//! Matrix families: the paper's synthetic `H(p) = A(p)B(p)ᵀ + εI` (determinism, structure, continuity,
//! options), the user's matrices on a parameter grid (`Family::from_samples`), the 2-D SPD Fourier family
//! `A(p) = B(p)B(p)ᵀ + εI` and the controlled-parametric-rank family `H(p) = U(p)S(p)V(p)ᵀ`.

use nalgebra::DMatrix;
use neumatc::{
    ControlledRankConfig, ControlledRankFamily, Domain, Error, Family, MatrixBatch, SpdFourierConfig, SpdFourierFamily, SyntheticConfig,
};

fn synthetic(n: usize, rank: usize, seed: u64) -> Family {
    Family::synthetic(SyntheticConfig { n, rank, seed, ..Default::default() }).unwrap()
}

fn fro(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn sub_eps(m: &[f64], n: usize, eps: f64) -> Vec<f64> {
    m.iter().enumerate().map(|(i, &v)| if i / n == i % n { v - eps } else { v }).collect()
}

#[test]
fn synthetic_is_deterministic_for_a_seed() {
    let params = [0.0, 0.13, 0.5, 0.77, 1.0];
    let a = synthetic(12, 3, 42).at(&params).unwrap();
    let b = synthetic(12, 3, 42).at(&params).unwrap();
    assert_eq!((a.batch, a.rows, a.cols), (5, 12, 12));
    let bits = |m: &MatrixBatch| m.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
    // A batch is the same as its matrices one by one.
    let fam = synthetic(12, 3, 42);
    for (i, &p) in params.iter().enumerate() {
        assert_eq!(fam.at(&[p]).unwrap().data, a.matrix(i), "p = {p}");
    }
}

#[test]
fn synthetic_differs_across_seeds() {
    let a = synthetic(12, 3, 1).at(&[0.4]).unwrap();
    let b = synthetic(12, 3, 2).at(&[0.4]).unwrap();
    let diff: Vec<f64> = a.data.iter().zip(&b.data).map(|(x, y)| x - y).collect();
    assert!(fro(&diff) > 0.1 * fro(&a.data), "seeds 1 and 2 give nearly the same matrix");
}

#[test]
fn low_rank_part_has_the_configured_rank() {
    // H(p) − εI = A(p)B(p)ᵀ with A, B of n × rank: exactly `rank` non-zero singular values.
    for (n, rank, seed) in [(16usize, 4usize, 0u64), (20, 7, 5), (9, 1, 3)] {
        let cfg = SyntheticConfig { n, rank, seed, eps: 0.75, ..Default::default() };
        let fam = Family::synthetic(cfg).unwrap();
        for p in [0.0, 0.21, 0.5, 0.93] {
            let h = fam.at(&[p]).unwrap();
            let low = sub_eps(&h.data, n, 0.75);
            let mut s: Vec<f64> = DMatrix::from_row_slice(n, n, &low).singular_values().iter().copied().collect();
            s.sort_by(|a, b| b.total_cmp(a));
            assert!(s[rank - 1] > 1e-8 * s[0], "n = {n}, p = {p}: rank below {rank}: {s:?}");
            if rank < n {
                assert!(s[rank] <= 1e-12 * s[0], "n = {n}, p = {p}: rank above {rank}: σ_{} = {:e}, σ_1 = {:e}", rank + 1, s[rank], s[0]);
            }
        }
    }
}

#[test]
fn eps_is_a_diagonal_shift() {
    let base = SyntheticConfig { n: 10, rank: 3, seed: 9, eps: 1.0, ..Default::default() };
    let h1 = Family::synthetic(base.clone()).unwrap().at(&[0.3, 0.8]).unwrap();
    let h3 = Family::synthetic(SyntheticConfig { eps: 3.0, ..base }).unwrap().at(&[0.3, 0.8]).unwrap();
    for (i, (x, y)) in h1.data.iter().zip(&h3.data).enumerate() {
        let r = i % 100;
        if r / 10 == r % 10 {
            assert!((y - x - 2.0).abs() <= 4.0 * f64::EPSILON * y.abs().max(1.0), "diagonal {i}: {x} {y}");
        } else {
            assert_eq!(x.to_bits(), y.to_bits(), "off-diagonal {i}");
        }
    }
}

#[test]
fn scale_multiplies_both_factors() {
    // Doubling the scale of A0 and B0 multiplies A Bᵀ by exactly 4 (powers of two round exactly).
    let base = SyntheticConfig { n: 10, rank: 4, seed: 2, eps: 0.5, scale: Some(0.75), ..Default::default() };
    let h1 = Family::synthetic(base.clone()).unwrap().at(&[0.1, 0.6]).unwrap();
    let h2 = Family::synthetic(SyntheticConfig { scale: Some(1.5), ..base }).unwrap().at(&[0.1, 0.6]).unwrap();
    for (i, (x, y)) in h1.data.iter().zip(&h2.data).enumerate() {
        let r = i % 100;
        if r / 10 != r % 10 {
            assert_eq!(4.0 * x, *y, "off-diagonal {i}");
        } else {
            assert!((y - 0.5 - 4.0 * (x - 0.5)).abs() <= 1e-14 * y.abs().max(1.0), "diagonal {i}");
        }
    }
}

#[test]
fn default_scale_keeps_the_family_well_conditioned() {
    // The documented default: cond(H(p)) of order 10–10² (measured 25–186 at n = 256).
    let fam = synthetic(32, 8, 0);
    let ps: Vec<f64> = (0..=20).map(|i| i as f64 / 20.0).collect();
    let h = fam.at(&ps).unwrap();
    for (i, p) in ps.iter().enumerate() {
        let c = neumatc::baseline::condition_number(h.matrix(i), 32);
        assert!(c.is_finite() && c < 1e4, "p = {p}: cond = {c:e}");
    }
}

#[test]
fn synthetic_is_continuous_in_p() {
    // H is smooth in p: ‖H(p + h) − H(p)‖_F is O(h), and shrinks tenfold with h (first order).
    let fam = synthetic(16, 4, 7);
    for p in [0.1, 0.45, 0.8] {
        let diff = |h: f64| -> f64 {
            let a = fam.at(&[p, p + h]).unwrap();
            fro(&a.matrix(0).iter().zip(a.matrix(1)).map(|(x, y)| y - x).collect::<Vec<_>>())
        };
        let (d1, d2, d3) = (diff(1e-3), diff(1e-4), diff(1e-5));
        assert!(d1 > 0.0, "H does not move with p");
        // |d/dp H| ≤ 2π · 1.5 · 2 ‖A0‖‖B0‖: bounded; here just ask for a sane slope.
        assert!(d1 / 1e-3 < 1e3 * fro(&fam.at(&[p]).unwrap().data), "slope {}", d1 / 1e-3);
        for (big, small) in [(d1, d2), (d2, d3)] {
            let ratio = small / big;
            assert!((0.09..0.11).contains(&ratio), "p = {p}: not O(h): ratio {ratio}");
        }
    }
}

#[test]
fn out_of_domain_and_nan_parameters() {
    let fam = synthetic(8, 2, 0);
    assert_eq!(fam.domain(), &Domain::unit(1));
    assert_eq!((fam.rows(), fam.cols(), fam.param_dim()), (8, 8, 1));
    assert!(fam.pool().is_none());
    for p in [-0.01, 1.01, 5.0] {
        match fam.at(&[0.5, p]).unwrap_err() {
            Error::OutOfDomain { index, p: got, .. } => {
                assert_eq!(index, 1);
                assert_eq!(got, vec![p]);
            }
            e => panic!("p = {p}: expected OUT_OF_DOMAIN, got {e:?}"),
        }
    }
    // The documented slack of 1e-9 of the width accepts round-off at the ends.
    assert!(fam.at(&[1.0 + 1e-12, -1e-12]).is_ok());
    assert_eq!(fam.at(&[f64::NAN]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(fam.at(&[0.2, f64::INFINITY]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(fam.at(&[]).unwrap().batch, 0);
}

#[test]
fn bad_synthetic_options() {
    let bad = [
        SyntheticConfig { n: 0, rank: 1, ..Default::default() },
        SyntheticConfig { n: 4, rank: 5, ..Default::default() },
        SyntheticConfig { n: 4, rank: 0, ..Default::default() },
        SyntheticConfig { n: 4, rank: 2, decay: -0.5, ..Default::default() },
        SyntheticConfig { n: 4, rank: 2, decay: 0.0, ..Default::default() },
        SyntheticConfig { n: 4, rank: 2, decay: f64::NAN, ..Default::default() },
        SyntheticConfig { n: 4, rank: 2, eps: f64::NAN, ..Default::default() },
        SyntheticConfig { n: 4, rank: 2, scale: Some(0.0), ..Default::default() },
        SyntheticConfig { n: 4, rank: 2, scale: Some(-1.0), ..Default::default() },
    ];
    for cfg in bad {
        let e = Family::synthetic(cfg.clone()).unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTION", "{cfg:?}");
    }
    assert!(Family::synthetic(SyntheticConfig { n: 4, rank: 4, ..Default::default() }).is_ok());
}

#[test]
fn synthetic_from_json() {
    let fam = Family::synthetic_from_json(r#"{"n": 6, "rank": 2, "seed": 3, "eps": 0.5, "decay": 0.8, "scale": 1.0}"#).unwrap();
    let direct = Family::synthetic(SyntheticConfig { n: 6, rank: 2, seed: 3, eps: 0.5, decay: 0.8, scale: Some(1.0), spd: false }).unwrap();
    assert_eq!(fam.at(&[0.3]).unwrap(), direct.at(&[0.3]).unwrap());
    assert_eq!(fam.describe()["kind"], "synthetic");
    assert_eq!(fam.describe()["options"]["n"], 6);
    assert_eq!(Family::synthetic_from_json(r#"{"n": 6, "rnak": 2}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(Family::synthetic_from_json(r#"{"n": 3, "rank": 4}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(Family::synthetic_from_json("[").unwrap_err().code(), "INVALID_OPTION");
}

/// Matrix `i` of a sampled family: distinct, recognisable values.
fn sample_matrix(i: usize, rows: usize, cols: usize) -> Vec<f64> {
    (0..rows * cols).map(|j| (i * 1000 + j) as f64 + 0.5).collect()
}

fn grid_1d(count: usize) -> (Vec<f64>, MatrixBatch) {
    // p_i = -1 + 0.1 i, computed by multiplication so that lookups with p = -1.0 + 0.1 * i round-trip.
    let params: Vec<f64> = (0..count).map(|i| -1.0 + 0.1 * i as f64).collect();
    let data: Vec<f64> = (0..count).flat_map(|i| sample_matrix(i, 3, 3)).collect();
    (params, MatrixBatch::new(count, 3, 3, data).unwrap())
}

#[test]
fn from_samples_1d_returns_the_stored_matrices() {
    let (params, m) = grid_1d(21);
    let fam = Family::from_samples(1, params.clone(), m.clone()).unwrap();
    assert_eq!((fam.rows(), fam.cols(), fam.param_dim()), (3, 3, 1));
    assert_eq!(fam.pool().unwrap(), params.as_slice());
    let d = fam.domain();
    assert!((d.lo[0] + 1.0).abs() < 1e-15 && (d.hi[0] - 1.0).abs() < 1e-12, "{d:?}");
    // Every grid point, in a shuffled order, exactly and with round-off either way.
    let order = [7usize, 0, 20, 13, 1, 19, 10];
    for off in [0.0, 1e-13, -1e-13] {
        let q: Vec<f64> = order.iter().map(|&i| params[i] + off).collect();
        let a = fam.at(&q).unwrap();
        assert_eq!((a.batch, a.rows, a.cols), (order.len(), 3, 3));
        for (b, &i) in order.iter().enumerate() {
            assert_eq!(a.matrix(b), m.matrix(i), "grid point {i}, offset {off:e}");
        }
    }
    assert_eq!(fam.describe()["kind"], "samples");
    assert_eq!(fam.describe()["samples"], 21);
}

#[test]
fn from_samples_1d_rejects_off_grid_parameters() {
    let (params, m) = grid_1d(21);
    let fam = Family::from_samples(1, params, m).unwrap();
    // Inside the box but between grid points: A(p) is unknown there.
    for p in [0.05, -0.95, 0.1 + 1e-6] {
        assert_eq!(fam.at(&[p]).unwrap_err().code(), "INVALID_INPUT", "p = {p}");
    }
    assert_eq!(fam.at(&[1.5]).unwrap_err().code(), "OUT_OF_DOMAIN");
    assert_eq!(fam.at(&[-1.2]).unwrap_err().code(), "OUT_OF_DOMAIN");
    assert_eq!(fam.at(&[f64::NAN]).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn from_samples_2d_returns_the_stored_matrices() {
    // A 5 × 4 grid on [0, 2] × [10, 13], stored in row order of p2 then p1.
    let (n1, n2) = (5, 4);
    let mut params = Vec::new();
    for j in 0..n2 {
        for i in 0..n1 {
            params.extend([0.5 * i as f64, 10.0 + j as f64]);
        }
    }
    let count = n1 * n2;
    let data: Vec<f64> = (0..count).flat_map(|i| sample_matrix(i, 2, 3)).collect();
    let m = MatrixBatch::new(count, 2, 3, data).unwrap();
    let fam = Family::from_samples(2, params.clone(), m.clone()).unwrap();
    assert_eq!((fam.rows(), fam.cols(), fam.param_dim()), (2, 3, 2));
    assert_eq!(fam.domain(), &Domain { lo: vec![0.0, 10.0], hi: vec![2.0, 13.0] });
    for off in [0.0, 1e-13, -1e-13] {
        for idx in [0usize, 4, 7, 12, 19] {
            let q = [params[2 * idx] + off, params[2 * idx + 1] - off];
            assert_eq!(fam.at(&q).unwrap().data, m.matrix(idx), "sample {idx}, offset {off:e}");
        }
    }
    let q = [params[6], params[7], params[0], params[1]];
    let a = fam.at(&q).unwrap();
    assert_eq!(a.matrix(0), m.matrix(3));
    assert_eq!(a.matrix(1), m.matrix(0));
    // Off-grid in one coordinate only.
    assert_eq!(fam.at(&[0.25, 11.0]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(fam.at(&[0.5, 11.5]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(fam.at(&[0.5, 14.0]).unwrap_err().code(), "OUT_OF_DOMAIN");
    // A parameter buffer that is not a whole number of 2-vectors.
    assert_eq!(fam.at(&[0.5, 11.0, 1.0]).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn from_samples_rejects_bad_input() {
    let (params, m) = grid_1d(6);
    // Duplicated parameter (also after round-off).
    let mut dup = params.clone();
    dup[4] = dup[1];
    assert_eq!(Family::from_samples(1, dup, m.clone()).unwrap_err().code(), "INVALID_INPUT");
    let mut dup = params.clone();
    dup[4] = dup[1] + 1e-14;
    assert_eq!(Family::from_samples(1, dup, m.clone()).unwrap_err().code(), "INVALID_INPUT");
    // Batch does not match the number of parameters.
    assert_eq!(Family::from_samples(1, params[..5].to_vec(), m.clone()).unwrap_err().code(), "SHAPE_MISMATCH");
    let (_, m7) = grid_1d(7);
    assert_eq!(Family::from_samples(1, params.clone(), m7).unwrap_err().code(), "SHAPE_MISMATCH");
    // NaN in the parameters or (through the public fields) in the matrices.
    let mut nan = params.clone();
    nan[2] = f64::NAN;
    assert_eq!(Family::from_samples(1, nan, m.clone()).unwrap_err().code(), "INVALID_INPUT");
    let mut bad = m.clone();
    bad.data[10] = f64::NAN;
    assert_eq!(Family::from_samples(1, params.clone(), bad).unwrap_err().code(), "INVALID_INPUT");
    // Parameter buffer not a multiple of the dimension, zero dimension, a single sample.
    assert_eq!(Family::from_samples(4, params.clone(), m.clone()).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(Family::from_samples(0, params.clone(), m.clone()).unwrap_err().code(), "INVALID_INPUT");
    let one = MatrixBatch::new(1, 3, 3, sample_matrix(0, 3, 3)).unwrap();
    assert_eq!(Family::from_samples(1, vec![0.0], one).unwrap_err().code(), "INVALID_INPUT");
    // Inconsistent matrix buffer built by hand.
    let short = MatrixBatch { batch: 6, rows: 3, cols: 3, data: vec![1.0; 50] };
    assert_eq!(Family::from_samples(1, params, short).unwrap_err().code(), "SHAPE_MISMATCH");
}

// ---------------------------------------------------------------------------------------------------------
// SPD Fourier family (Table 6).

fn spd(n: usize, rank: Option<usize>, seed: u64) -> Family {
    Family::spd_fourier(SpdFourierConfig { n, rank, seed, ..Default::default() }).unwrap()
}

/// A grid of `k × k` points of `[0, 1]²`, as `(p1, p2)` pairs.
fn grid_2d(k: usize) -> Vec<f64> {
    let t = |i: usize| i as f64 / (k - 1) as f64;
    (0..k).flat_map(|i| (0..k).flat_map(move |j| [t(i), t(j)])).collect()
}

/// Singular values, largest first.
fn singular_values(m: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut s: Vec<f64> = DMatrix::from_row_slice(rows, cols, m).singular_values().iter().copied().collect();
    s.sort_by(|a, b| b.total_cmp(a));
    s
}

#[test]
fn spd_fourier_shapes_and_description() {
    let fam = spd(12, None, 0);
    assert_eq!((fam.rows(), fam.cols(), fam.param_dim()), (12, 12, 2));
    assert_eq!(fam.domain(), &Domain::unit(2));
    assert!(fam.pool().is_none());
    let a = fam.at(&[0.1, 0.2, 0.3, 0.4, 1.0, 0.0]).unwrap();
    assert_eq!((a.batch, a.rows, a.cols, a.data.len()), (3, 12, 12, 3 * 144));
    assert!(a.data.iter().all(|v| v.is_finite()));
    assert_eq!(fam.at(&[]).unwrap().batch, 0);
    let d = fam.describe();
    assert_eq!(d["kind"], "spdFourier");
    assert_eq!(d["options"]["n"], 12);
    assert_eq!(d["options"]["maxFreq"], 1);
    assert_eq!(d["options"]["eps"], 1.0);
    // Defaults: n = 128, B square, 9 basis functions at max frequency 1, 25 at 2.
    let def = SpdFourierFamily::new(SpdFourierConfig::default()).unwrap();
    assert_eq!((def.n(), def.rank(), def.basis_len()), (128, 128, 9));
    let f2 = SpdFourierFamily::new(SpdFourierConfig { n: 4, rank: Some(7), max_freq: 2, ..Default::default() }).unwrap();
    assert_eq!((f2.rank(), f2.basis_len()), (7, 25));
}

#[test]
fn spd_fourier_is_symmetric_positive_definite() {
    for (n, rank, eps, seed) in [(16usize, None, 1.0, 0u64), (20, Some(5), 0.5, 3), (9, Some(30), 2.0, 8)] {
        let cfg = SpdFourierConfig { n, rank, eps, seed, max_freq: 2, ..Default::default() };
        let fam = Family::spd_fourier(cfg).unwrap();
        let params = grid_2d(5);
        let a = fam.at(&params).unwrap();
        for (b, p) in params.chunks_exact(2).enumerate() {
            let m = a.matrix(b);
            for i in 0..n {
                for j in 0..i {
                    assert_eq!(m[i * n + j].to_bits(), m[j * n + i].to_bits(), "p = {p:?}: not symmetric at ({i}, {j})");
                }
            }
            let dm = DMatrix::from_row_slice(n, n, m);
            assert!(dm.clone().cholesky().is_some(), "p = {p:?}: Cholesky fails");
            let mut ev: Vec<f64> = dm.symmetric_eigenvalues().iter().copied().collect();
            ev.sort_by(f64::total_cmp);
            let tol = 8.0 * n as f64 * f64::EPSILON * ev[n - 1];
            assert!(ev[0] >= eps - tol, "n = {n}, p = {p:?}: λ_min = {} < ε = {eps}", ev[0]);
            // A − εI = BBᵀ has rank min(n, rank): the other eigenvalues of A equal ε.
            let r = rank.unwrap_or(n).min(n);
            // (A square B has a small smallest singular value, so only ask for a clear gap above round-off.)
            assert!(ev[n - r] - eps > 100.0 * tol, "n = {n}, p = {p:?}: BBᵀ rank below {r}: {ev:?}");
            if r < n {
                assert!((ev[n - r - 1] - eps).abs() <= tol, "n = {n}, p = {p:?}: BBᵀ rank above {r}: {ev:?}");
            }
        }
    }
}

#[test]
fn spd_fourier_is_deterministic_for_a_seed() {
    let params = grid_2d(3);
    let a = spd(10, None, 42).at(&params).unwrap();
    let b = spd(10, None, 42).at(&params).unwrap();
    let bits = |m: &MatrixBatch| m.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
    let fam = spd(10, None, 42);
    for (i, p) in params.chunks_exact(2).enumerate() {
        assert_eq!(fam.at(p).unwrap().data, a.matrix(i), "p = {p:?}");
    }
    let c = spd(10, None, 43).at(&params[..2]).unwrap();
    let diff: Vec<f64> = c.data.iter().zip(a.matrix(0)).map(|(x, y)| x - y).collect();
    assert!(fro(&diff) > 0.1 * fro(&c.data), "seeds 42 and 43 give nearly the same matrix");
}

#[test]
fn spd_fourier_depends_on_both_parameters_and_is_periodic() {
    let fam = spd(10, None, 1);
    let norm_diff = |p: [f64; 2], q: [f64; 2]| -> f64 {
        let a = fam.at(&[p[0], p[1], q[0], q[1]]).unwrap();
        fro(&a.matrix(0).iter().zip(a.matrix(1)).map(|(x, y)| x - y).collect::<Vec<_>>()) / fro(a.matrix(0))
    };
    assert!(norm_diff([0.3, 0.6], [0.55, 0.6]) > 0.05, "A does not move with p1");
    assert!(norm_diff([0.3, 0.6], [0.3, 0.85]) > 0.05, "A does not move with p2");
    // Integer frequencies: A is 1-periodic in each parameter, so opposite edges of the square agree.
    for t in [0.0, 0.37, 0.8] {
        assert!(norm_diff([0.0, t], [1.0, t]) < 1e-13);
        assert!(norm_diff([t, 0.0], [t, 1.0]) < 1e-13);
    }
    // Max frequency 0 keeps only the constant basis function: a constant family.
    let flat = Family::spd_fourier(SpdFourierConfig { n: 6, max_freq: 0, ..Default::default() }).unwrap();
    let a = flat.at(&[0.1, 0.9, 0.7, 0.2]).unwrap();
    assert_eq!(a.matrix(0), a.matrix(1));
}

#[test]
fn spd_fourier_is_continuous_in_p() {
    // A is smooth in p: ‖A(p + h·e) − A(p)‖_F is O(h) in every direction e (first order: tenfold per decade).
    let fam = spd(16, None, 7);
    for p in [[0.1, 0.2], [0.45, 0.9], [0.8, 0.5]] {
        for e in [[1.0, 0.0], [0.0, 1.0], [0.6, -0.8]] {
            let diff = |h: f64| -> f64 {
                let a = fam.at(&[p[0], p[1], p[0] + h * e[0], p[1] + h * e[1]]).unwrap();
                fro(&a.matrix(0).iter().zip(a.matrix(1)).map(|(x, y)| y - x).collect::<Vec<_>>())
            };
            let (d1, d2, d3) = (diff(1e-3), diff(1e-4), diff(1e-5));
            assert!(d1 > 0.0, "A does not move with p along {e:?}");
            assert!(d1 / 1e-3 < 1e3 * fro(&fam.at(&p).unwrap().data), "slope {}", d1 / 1e-3);
            for (big, small) in [(d1, d2), (d2, d3)] {
                let ratio = small / big;
                assert!((0.09..0.11).contains(&ratio), "p = {p:?}, e = {e:?}: not O(h): ratio {ratio}");
            }
        }
    }
}

#[test]
fn spd_fourier_default_scale_keeps_the_family_well_conditioned() {
    // The documented default: cond(A(p)) ≲ 1 + 9/ε (measured 8.5–10.3 at n = 128, ε = 1); at n = 32 the
    // Marchenko–Pastur edge is less sharp, so allow some slack.
    for seed in [0, 1] {
        let fam = spd(32, None, seed);
        let params = grid_2d(6);
        let a = fam.at(&params).unwrap();
        for (i, p) in params.chunks_exact(2).enumerate() {
            let c = neumatc::baseline::condition_number(a.matrix(i), 32);
            assert!((3.0..20.0).contains(&c), "seed {seed}, p = {p:?}: cond = {c:e}");
        }
    }
}

#[test]
fn spd_fourier_out_of_domain_and_bad_parameters() {
    let fam = spd(6, None, 0);
    for (q, index) in [([0.5, 0.5, 0.5, 1.5], 1), ([-0.01, 0.5, 0.5, 0.5], 0), ([0.2, 0.3, 2.0, -1.0], 1)] {
        match fam.at(&q).unwrap_err() {
            Error::OutOfDomain { index: got, p, .. } => {
                assert_eq!(got, index);
                assert_eq!(p, q[2 * index..2 * index + 2].to_vec());
            }
            e => panic!("{q:?}: expected OUT_OF_DOMAIN, got {e:?}"),
        }
    }
    assert!(fam.at(&[1.0 + 1e-12, -1e-12]).is_ok());
    // Not a whole number of (p1, p2) pairs, NaN, infinity.
    assert_eq!(fam.at(&[0.5]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(fam.at(&[0.5, 0.5, 0.5]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(fam.at(&[f64::NAN, 0.5]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(fam.at(&[0.5, f64::INFINITY]).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn bad_spd_fourier_options() {
    let base = SpdFourierConfig { n: 4, ..Default::default() };
    let bad = [
        SpdFourierConfig { n: 0, ..base.clone() },
        SpdFourierConfig { n: 20000, ..base.clone() },
        SpdFourierConfig { rank: Some(0), ..base.clone() },
        SpdFourierConfig { max_freq: 17, ..base.clone() },
        SpdFourierConfig { eps: 0.0, ..base.clone() },
        SpdFourierConfig { eps: -1.0, ..base.clone() },
        SpdFourierConfig { eps: f64::NAN, ..base.clone() },
        SpdFourierConfig { eps: f64::INFINITY, ..base.clone() },
        SpdFourierConfig { scale: Some(0.0), ..base.clone() },
        SpdFourierConfig { scale: Some(-2.0), ..base.clone() },
        SpdFourierConfig { scale: Some(f64::NAN), ..base.clone() },
        // n · rank · basis = 16384 · 16384 · 9 coefficients: over the cap, refused before allocating.
        SpdFourierConfig { n: 16384, ..base.clone() },
    ];
    for cfg in bad {
        let e = Family::spd_fourier(cfg.clone()).unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTION", "{cfg:?}");
    }
    assert!(Family::spd_fourier(SpdFourierConfig { rank: Some(9), max_freq: 0, ..base }).is_ok());
}

#[test]
fn spd_fourier_from_json() {
    let json = r#"{"n": 6, "rank": 3, "maxFreq": 2, "eps": 0.5, "seed": 3, "scale": 0.7}"#;
    let fam = Family::spd_fourier_from_json(json).unwrap();
    let cfg = SpdFourierConfig { n: 6, rank: Some(3), max_freq: 2, eps: 0.5, seed: 3, scale: Some(0.7) };
    let direct = Family::spd_fourier(cfg).unwrap();
    assert_eq!(fam.at(&[0.3, 0.9]).unwrap(), direct.at(&[0.3, 0.9]).unwrap());
    assert_eq!(fam.describe()["kind"], "spdFourier");
    assert_eq!(fam.describe()["options"]["rank"], 3);
    // The description's options rebuild the same family.
    let again = Family::spd_fourier_from_json(&fam.describe()["options"].to_string()).unwrap();
    assert_eq!(again.at(&[0.3, 0.9]).unwrap(), direct.at(&[0.3, 0.9]).unwrap());
    assert_eq!(Family::spd_fourier_from_json("{}").unwrap().rows(), 128);
    assert_eq!(Family::spd_fourier_from_json(r#"{"n": 6, "max_freq": 2}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(Family::spd_fourier_from_json(r#"{"n": 6, "eps": 0}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(Family::spd_fourier_from_json(r#"{"n": -6}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(Family::spd_fourier_from_json("[").unwrap_err().code(), "INVALID_OPTION");
}

// ---------------------------------------------------------------------------------------------------------
// Controlled-parametric-rank family (Appendix I).

fn controlled(rows: usize, cols: usize, rank: usize, param_rank: usize, seed: u64) -> ControlledRankConfig {
    ControlledRankConfig { rows, cols, rank, param_rank, seed, ..Default::default() }
}

/// Numerical rank of a row-major matrix: singular values above `rel · σ_1`.
fn numerical_rank(m: &[f64], rows: usize, cols: usize, rel: f64) -> (usize, Vec<f64>) {
    let s = singular_values(m, rows, cols);
    (s.iter().filter(|&&x| x > rel * s[0]).count(), s)
}

#[test]
fn controlled_rank_shapes_and_description() {
    let fam = Family::controlled_rank(controlled(30, 20, 5, 4, 0)).unwrap();
    assert_eq!((fam.rows(), fam.cols(), fam.param_dim()), (30, 20, 1));
    assert_eq!(fam.domain(), &Domain::unit(1));
    assert!(fam.pool().is_none());
    let h = fam.at(&[0.0, 0.5, 1.0]).unwrap();
    assert_eq!((h.batch, h.rows, h.cols, h.data.len()), (3, 30, 20, 3 * 600));
    assert!(h.data.iter().all(|v| v.is_finite()));
    let d = fam.describe();
    assert_eq!(d["kind"], "controlledRank");
    assert_eq!(d["options"]["paramRank"], 4);
    assert_eq!(d["options"]["rows"], 30);
    let def = ControlledRankConfig::default();
    assert_eq!((def.rows, def.cols, def.rank, def.param_rank, def.decay), (512, 512, 100, 10, 0.95));
}

#[test]
fn controlled_rank_matrices_have_the_truncation_rank() {
    for (m, n, r, d, seed) in [(40usize, 30usize, 8usize, 5usize, 0u64), (25, 36, 12, 3, 4), (16, 16, 16, 2, 1), (10, 12, 1, 1, 2)] {
        let fam = Family::controlled_rank(controlled(m, n, r, d, seed)).unwrap();
        for p in [0.0, 0.31, 0.5, 1.0] {
            let (rank, s) = numerical_rank(&fam.at(&[p]).unwrap().data, m, n, 1e-12);
            assert_eq!(rank, r, "{m}×{n}, p = {p}: rank {rank} ≠ {r}: {s:?}");
            assert!(s[r - 1] > 1e-6 * s[0], "{m}×{n}, p = {p}: σ_r = {:e} nearly 0", s[r - 1]);
        }
    }
}

#[test]
fn controlled_rank_factors_reproduce_h_with_positive_decaying_s() {
    let cfg = controlled(24, 18, 6, 5, 3);
    let fam = ControlledRankFamily::new(cfg.clone()).unwrap();
    let (m, n, r) = (24, 18, 6);
    for p in [0.0, 0.2, 0.73, 1.0] {
        let f = fam.factors(p).unwrap();
        assert_eq!((f.u.len(), f.s.len(), f.v.len()), (m * r, r, n * r));
        let h = fam.at(&[p]).unwrap();
        let u = DMatrix::from_row_slice(m, r, &f.u);
        let v = DMatrix::from_row_slice(n, r, &f.v);
        let usv = u * DMatrix::from_diagonal(&nalgebra::DVector::from_vec(f.s.clone())) * v.transpose();
        let want = DMatrix::from_row_slice(m, n, &h.data);
        assert!((usv - &want).norm() <= 1e-13 * want.norm(), "p = {p}: H ≠ U S Vᵀ");
        // s_i(p) lies in the documented envelope [0.5, 1.5·√d] · decay^i.
        for (i, &s) in f.s.iter().enumerate() {
            let env = cfg.decay.powi(i as i32);
            assert!(s >= 0.5 * env && s <= 1.5 * (cfg.param_rank as f64).sqrt() * env, "p = {p}: s_{i} = {s}");
        }
        let phi = fam.basis(p);
        assert!(phi.iter().all(|&x| x >= 0.0));
        assert!((phi.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-14);
    }
    assert_eq!(fam.factors(1.5).unwrap_err().code(), "OUT_OF_DOMAIN");
    assert_eq!(fam.factors(f64::NAN).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn controlled_rank_factors_have_parametric_rank_d() {
    // Snapshot matrices over 40 parameters: [vec U(p_1); …; vec U(p_40)] has rank d (exactly: the d
    // radial basis functions are linearly independent on 40 points), likewise V and s; H, trilinear in φ,
    // has rank at most d(d + 1)(d + 2)/6.
    for (d, seed) in [(3usize, 0u64), (5, 1), (10, 2)] {
        let (m, n, r) = (20, 15, 4);
        let fam = ControlledRankFamily::new(controlled(m, n, r, d, seed)).unwrap();
        let ps: Vec<f64> = (0..40).map(|j| j as f64 / 39.0).collect();
        let fs: Vec<_> = ps.iter().map(|&p| fam.factors(p).unwrap()).collect();
        let snap = |pick: &dyn Fn(&neumatc::ControlledRankFactors) -> &Vec<f64>| -> (usize, Vec<f64>) {
            let cols = pick(&fs[0]).len();
            let data: Vec<f64> = fs.iter().flat_map(|f| pick(f).iter().copied()).collect();
            numerical_rank(&data, 40, cols, 1e-10)
        };
        for (name, (rank, s)) in [("U", snap(&|f| &f.u)), ("V", snap(&|f| &f.v)), ("s", snap(&|f| &f.s))] {
            let want = if name == "s" { d.min(r) } else { d };
            assert_eq!(rank, want, "d = {d}: snapshot rank of {name} is {rank}: {s:?}");
        }
        if d <= 5 {
            let h = fam.at(&ps).unwrap();
            let (rank, s) = numerical_rank(&h.data, 40, m * n, 1e-10);
            assert!(rank <= d * (d + 1) * (d + 2) / 6 && rank >= d, "d = {d}: snapshot rank of H is {rank}: {s:?}");
        }
    }
}

#[test]
fn controlled_rank_is_deterministic_and_continuous() {
    let cfg = controlled(14, 12, 4, 6, 9);
    let ps = [0.0, 0.13, 0.5, 0.77, 1.0];
    let a = Family::controlled_rank(cfg.clone()).unwrap().at(&ps).unwrap();
    let b = Family::controlled_rank(cfg.clone()).unwrap().at(&ps).unwrap();
    assert_eq!(a, b);
    let fam = Family::controlled_rank(cfg.clone()).unwrap();
    for (i, &p) in ps.iter().enumerate() {
        assert_eq!(fam.at(&[p]).unwrap().data, a.matrix(i), "p = {p}");
    }
    let c = Family::controlled_rank(ControlledRankConfig { seed: 10, ..cfg }).unwrap().at(&[0.5]).unwrap();
    let diff: Vec<f64> = c.data.iter().zip(a.matrix(2)).map(|(x, y)| x - y).collect();
    assert!(fro(&diff) > 0.1 * fro(&c.data), "seeds 9 and 10 give nearly the same matrix");
    for p in [0.1, 0.45, 0.8] {
        let diff = |h: f64| -> f64 {
            let a = fam.at(&[p, p + h]).unwrap();
            fro(&a.matrix(0).iter().zip(a.matrix(1)).map(|(x, y)| y - x).collect::<Vec<_>>())
        };
        let (d1, d2, d3) = (diff(1e-3), diff(1e-4), diff(1e-5));
        assert!(d1 > 0.0, "H does not move with p");
        for (big, small) in [(d1, d2), (d2, d3)] {
            let ratio = small / big;
            assert!((0.09..0.11).contains(&ratio), "p = {p}: not O(h): ratio {ratio}");
        }
    }
}

#[test]
fn controlled_rank_out_of_domain_and_bad_options() {
    let fam = Family::controlled_rank(controlled(6, 5, 2, 3, 0)).unwrap();
    match fam.at(&[0.5, 1.2]).unwrap_err() {
        Error::OutOfDomain { index, p, .. } => assert_eq!((index, p), (1, vec![1.2])),
        e => panic!("expected OUT_OF_DOMAIN, got {e:?}"),
    }
    assert_eq!(fam.at(&[-0.1]).unwrap_err().code(), "OUT_OF_DOMAIN");
    assert_eq!(fam.at(&[f64::NAN]).unwrap_err().code(), "INVALID_INPUT");
    let bad = [
        controlled(0, 5, 1, 3, 0),
        controlled(5, 0, 1, 3, 0),
        controlled(20000, 5, 1, 3, 0),
        controlled(6, 5, 0, 3, 0),
        controlled(6, 5, 6, 3, 0),
        controlled(4, 9, 5, 3, 0),
        controlled(6, 5, 2, 0, 0),
        controlled(6, 5, 2, 2000, 0),
        ControlledRankConfig { decay: 0.0, ..controlled(6, 5, 2, 3, 0) },
        ControlledRankConfig { decay: -0.9, ..controlled(6, 5, 2, 3, 0) },
        ControlledRankConfig { decay: f64::NAN, ..controlled(6, 5, 2, 3, 0) },
        // (rows + cols) · rank · d = 32768 · 16384 · 1: over the cap, refused before allocating.
        controlled(16384, 16384, 16384, 1, 0),
    ];
    for cfg in bad {
        assert_eq!(Family::controlled_rank(cfg.clone()).unwrap_err().code(), "INVALID_OPTION", "{cfg:?}");
    }
    assert!(Family::controlled_rank(controlled(5, 5, 5, 1, 0)).is_ok());
}

#[test]
fn controlled_rank_from_json() {
    let json = r#"{"rows": 9, "cols": 7, "rank": 3, "paramRank": 4, "decay": 0.8, "seed": 5}"#;
    let fam = Family::controlled_rank_from_json(json).unwrap();
    let direct = Family::controlled_rank(ControlledRankConfig { decay: 0.8, ..controlled(9, 7, 3, 4, 5) }).unwrap();
    assert_eq!(fam.at(&[0.6]).unwrap(), direct.at(&[0.6]).unwrap());
    assert_eq!(fam.describe()["kind"], "controlledRank");
    let again = Family::controlled_rank_from_json(&fam.describe()["options"].to_string()).unwrap();
    assert_eq!(again.at(&[0.6]).unwrap(), direct.at(&[0.6]).unwrap());
    assert_eq!(Family::controlled_rank_from_json(r#"{"rows": 9, "param_rank": 4}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(Family::controlled_rank_from_json(r#"{"rows": 2, "cols": 2}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(Family::controlled_rank_from_json("[").unwrap_err().code(), "INVALID_OPTION");
}

/// `spd: true` gives exactly `H Hᵀ` of the same family, symmetric to the last bit.
#[test]
fn synthetic_spd_variant_is_h_times_h_transposed() {
    let base = SyntheticConfig { n: 9, rank: 3, seed: 4, ..Default::default() };
    let h = Family::synthetic(base.clone()).unwrap().at(&[0.3]).unwrap();
    let s = Family::synthetic(SyntheticConfig { spd: true, ..base }).unwrap().at(&[0.3]).unwrap();
    let n = 9;
    for i in 0..n {
        for j in 0..n {
            let want: f64 = (0..n).map(|t| h.data[i * n + t] * h.data[j * n + t]).sum();
            assert!((s.data[i * n + j] - want).abs() <= 1e-12 * want.abs().max(1.0));
            assert_eq!(s.data[i * n + j], s.data[j * n + i]);
        }
    }
}
