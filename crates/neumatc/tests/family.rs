//! Matrix families: the paper's synthetic `H(p) = A(p)B(p)ᵀ + εI` (determinism, structure, continuity,
//! options) and the user's matrices on a parameter grid (`Family::from_samples`).

use nalgebra::DMatrix;
use neumatc::{Domain, Error, Family, MatrixBatch, SyntheticConfig};

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
    let direct = Family::synthetic(SyntheticConfig { n: 6, rank: 2, seed: 3, eps: 0.5, decay: 0.8, scale: Some(1.0) }).unwrap();
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
