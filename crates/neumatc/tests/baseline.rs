//! The exact LU inverse baseline: known inverses, the identity A·X ≈ I, an independent cross-check
//! (nalgebra), batching, and the error codes of bad input.

use faer::Par;
use nalgebra::DMatrix;
use neumatc::baseline::{self, Threads};
use neumatc::{Error, MatrixBatch};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn fro(m: &[f64]) -> f64 {
    m.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Row-major `a · b`, both `n × n`, by the textbook triple loop.
fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                c[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    c
}

fn identity(n: usize) -> Vec<f64> {
    (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 }).collect()
}

/// `‖A X − I‖_F`.
fn residual(a: &[f64], x: &[f64], n: usize) -> f64 {
    let ax = matmul(a, x, n);
    fro(&ax.iter().zip(identity(n)).map(|(u, v)| u - v).collect::<Vec<_>>())
}

/// A Gaussian matrix shifted by `3√n·I`: its eigenvalues stay away from 0 and its condition number is
/// small (a handful) at every size.
fn well_conditioned(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let shift = 3.0 * (n as f64).sqrt();
    (0..n * n)
        .map(|i| {
            let z: f64 = StandardNormal.sample(&mut rng);
            z + if i / n == i % n { shift } else { 0.0 }
        })
        .collect()
}

fn inv1(a: &[f64], n: usize) -> Vec<f64> {
    baseline::inverse(&MatrixBatch::new(1, n, n, a.to_vec()).unwrap()).unwrap().data
}

#[test]
fn diagonal_matrix_inverts_exactly() {
    // Powers of two: the inverse is exactly representable, so LU must reproduce it bit for bit.
    let d = [2.0, -0.25, 8.0, 1.0, 0.5, -4.0];
    let n = d.len();
    let a: Vec<f64> = (0..n * n).map(|i| if i / n == i % n { d[i / n] } else { 0.0 }).collect();
    let want: Vec<f64> = (0..n * n).map(|i| if i / n == i % n { 1.0 / d[i / n] } else { 0.0 }).collect();
    assert_eq!(inv1(&a, n), want);
}

#[test]
fn permutation_matrix_inverts_to_its_transpose() {
    let perm = [3usize, 0, 4, 1, 2, 6, 5];
    let n = perm.len();
    let mut a = vec![0.0; n * n];
    for (i, &j) in perm.iter().enumerate() {
        a[i * n + j] = 1.0;
    }
    let at: Vec<f64> = (0..n * n).map(|i| a[(i % n) * n + i / n]).collect();
    assert_eq!(inv1(&a, n), at);
}

/// `A = P·L·U` with `L` unit lower bidiagonal (−1 below the diagonal) and `U = Lᵀ`: `L⁻¹` is the lower
/// triangle of ones and `U⁻¹` the upper one, so `A⁻¹ = U⁻¹L⁻¹Pᵀ` with `(U⁻¹L⁻¹)_{ij} = n − max(i, j)`.
#[test]
fn plu_product_with_known_factors() {
    for n in [1usize, 2, 5, 17, 40] {
        let mut l = identity(n);
        for i in 1..n {
            l[i * n + i - 1] = -1.0;
        }
        let u: Vec<f64> = (0..n * n).map(|i| l[(i % n) * n + i / n]).collect();
        // P: a cyclic shift by 2 composed with a reversal, so pivoting has real work to do.
        let sigma = |i: usize| (n - 1 - i + 2) % n;
        let mut p = vec![0.0; n * n];
        for i in 0..n {
            p[i * n + sigma(i)] = 1.0;
        }
        let a = matmul(&p, &matmul(&l, &u, n), n);
        let m: Vec<f64> = (0..n * n).map(|idx| (n - (idx / n).max(idx % n)) as f64).collect();
        let pt: Vec<f64> = (0..n * n).map(|i| p[(i % n) * n + i / n]).collect();
        let want = matmul(&m, &pt, n);

        let got = inv1(&a, n);
        // Forward error of a backward-stable inverse: ‖X − A⁻¹‖ ≲ c·n·ε·κ(A)·‖A⁻¹‖, κ ≤ ‖A‖_F‖A⁻¹‖_F.
        let kappa = fro(&a) * fro(&want);
        let err = fro(&got.iter().zip(&want).map(|(x, y)| x - y).collect::<Vec<_>>());
        let tol = 8.0 * n as f64 * f64::EPSILON * kappa * fro(&want);
        assert!(err <= tol, "n = {n}: ‖X − A⁻¹‖_F = {err:e} > {tol:e}");
        assert!(residual(&a, &got, n) <= 8.0 * n as f64 * f64::EPSILON * fro(&a) * fro(&got));
    }
}

#[test]
fn second_difference_matrix_matches_its_closed_form_inverse() {
    // K = tridiag(−1, 2, −1): (K⁻¹)_{ij} = i(n + 1 − j)/(n + 1) for i ≤ j (1-based), symmetric.
    let n = 33;
    let a: Vec<f64> = (0..n * n)
        .map(|idx| match (idx / n) as isize - (idx % n) as isize {
            0 => 2.0,
            1 | -1 => -1.0,
            _ => 0.0,
        })
        .collect();
    let want: Vec<f64> = (0..n * n)
        .map(|idx| {
            let (i, j) = ((idx / n).min(idx % n) + 1, (idx / n).max(idx % n) + 1);
            (i * (n + 1 - j)) as f64 / (n + 1) as f64
        })
        .collect();
    let got = inv1(&a, n);
    let kappa = fro(&a) * fro(&want);
    let err = fro(&got.iter().zip(&want).map(|(x, y)| x - y).collect::<Vec<_>>());
    assert!(err <= 8.0 * n as f64 * f64::EPSILON * kappa * fro(&want), "err = {err:e}");
}

#[test]
fn random_matrices_satisfy_ax_eq_i() {
    for (n, seed) in [(1usize, 1u64), (2, 2), (17, 3), (64, 4)] {
        let a = well_conditioned(n, seed);
        let x = inv1(&a, n);
        let r = residual(&a, &x, n);
        let tol = 8.0 * n as f64 * f64::EPSILON * fro(&a) * fro(&x);
        assert!(r <= tol, "n = {n}: ‖AX − I‖_F = {r:e} > {tol:e}");
        // And the other side: X is a two-sided inverse.
        let r = residual(&x, &a, n);
        assert!(r <= tol, "n = {n}: ‖XA − I‖_F = {r:e} > {tol:e}");
    }
}

#[test]
fn agrees_with_nalgebra() {
    for (n, seed) in [(1usize, 11u64), (2, 12), (17, 13), (64, 14)] {
        let a = well_conditioned(n, seed);
        let x = inv1(&a, n);
        let reference = DMatrix::from_row_slice(n, n, &a).try_inverse().expect("nalgebra inverts it");
        let y: Vec<f64> = (0..n * n).map(|i| reference[(i / n, i % n)]).collect();
        let kappa = fro(&a) * fro(&y);
        let err = fro(&x.iter().zip(&y).map(|(u, v)| u - v).collect::<Vec<_>>());
        // Two backward-stable inverses each within c·n·ε·κ·‖A⁻¹‖ of the truth.
        let tol = 16.0 * n as f64 * f64::EPSILON * kappa * fro(&y);
        assert!(err <= tol, "n = {n}: ‖X − X_nalgebra‖_F = {err:e} > {tol:e}");
    }
}

#[test]
fn batched_equals_per_matrix() {
    let (n, batch) = (17, 6);
    let data: Vec<f64> = (0..batch).flat_map(|b| well_conditioned(n, 100 + b as u64)).collect();
    let a = MatrixBatch::new(batch, n, n, data).unwrap();
    for threads in [Threads::All, Threads::Single] {
        let all = baseline::inverse_with(&a, threads).unwrap();
        assert_eq!((all.batch, all.rows, all.cols), (batch, n, n));
        for i in 0..batch {
            let one = baseline::inverse_with(&MatrixBatch::new(1, n, n, a.matrix(i).to_vec()).unwrap(), Threads::Single).unwrap();
            if threads == Threads::Single {
                // Same code path, same order of operations: bit for bit.
                assert_eq!(all.matrix(i), one.data.as_slice(), "matrix {i}");
            } else {
                let err = fro(&all.matrix(i).iter().zip(&one.data).map(|(u, v)| u - v).collect::<Vec<_>>());
                let tol = 16.0 * n as f64 * f64::EPSILON * fro(a.matrix(i)) * fro(&one.data) * fro(&one.data);
                assert!(err <= tol, "matrix {i}: {err:e} > {tol:e}");
            }
            // The single-matrix entry point gives the same matrix as a sequential batch.
            let mut out = vec![0.0; n * n];
            baseline::inverse_matrix(a.matrix(i), n, &mut out, Par::Seq).unwrap();
            assert_eq!(out, one.data);
        }
    }
}

#[test]
fn empty_batch_is_empty() {
    let a = MatrixBatch::new(0, 4, 4, vec![]).unwrap();
    let x = baseline::inverse(&a).unwrap();
    assert_eq!((x.batch, x.rows, x.cols, x.data.len()), (0, 4, 4, 0));
}

#[test]
fn singular_matrix_is_reported_with_its_batch_index() {
    // Rank one.
    let a = MatrixBatch::new(1, 2, 2, vec![1.0, 2.0, 2.0, 4.0]).unwrap();
    let e = baseline::inverse(&a).unwrap_err();
    assert_eq!(e.code(), "SINGULAR");

    let zero = MatrixBatch::new(1, 3, 3, vec![0.0; 9]).unwrap();
    assert_eq!(baseline::inverse(&zero).unwrap_err().code(), "SINGULAR");

    // Third matrix of a batch has two equal rows.
    let n = 5;
    let mut data: Vec<f64> = (0..4).flat_map(|b| well_conditioned(n, 200 + b)).collect();
    let (r0, r3) = (2 * n * n, 2 * n * n + 3 * n);
    let row: Vec<f64> = data[r0..r0 + n].to_vec();
    data[r3..r3 + n].copy_from_slice(&row);
    let a = MatrixBatch::new(4, n, n, data).unwrap();
    for threads in [Threads::All, Threads::Single] {
        match baseline::inverse_with(&a, threads).unwrap_err() {
            Error::Singular { p, .. } => assert_eq!(p, vec![2.0]),
            e => panic!("expected Singular, got {e:?}"),
        }
    }
    let mut out = vec![0.0; n * n];
    assert!(baseline::inverse_matrix(&a.data[2 * n * n..3 * n * n], n, &mut out, Par::Seq).is_err());
}

#[test]
fn nan_input_is_invalid() {
    let e = MatrixBatch::new(1, 2, 2, vec![1.0, f64::NAN, 0.0, 1.0]).unwrap_err();
    assert_eq!(e.code(), "INVALID_INPUT");
    let e = MatrixBatch::new(1, 2, 2, vec![1.0, 0.0, f64::INFINITY, 1.0]).unwrap_err();
    assert_eq!(e.code(), "INVALID_INPUT");
    // The fields are public: a batch built by hand is checked again by the baseline.
    let a = MatrixBatch { batch: 1, rows: 2, cols: 2, data: vec![1.0, f64::NAN, 0.0, 1.0] };
    assert_eq!(baseline::inverse(&a).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn non_square_or_wrong_length_is_a_shape_mismatch() {
    let a = MatrixBatch::new(1, 2, 3, vec![1.0; 6]).unwrap();
    assert_eq!(baseline::inverse(&a).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(MatrixBatch::new(2, 2, 2, vec![1.0; 7]).unwrap_err().code(), "SHAPE_MISMATCH");
    let a = MatrixBatch { batch: 2, rows: 2, cols: 2, data: vec![1.0; 4] };
    assert_eq!(baseline::inverse(&a).unwrap_err().code(), "SHAPE_MISMATCH");
}

#[test]
fn condition_number_of_a_diagonal_is_max_over_min() {
    let d = [3.0, -0.5, 12.0, 1.5];
    let n = d.len();
    let a: Vec<f64> = (0..n * n).map(|i| if i / n == i % n { d[i / n] } else { 0.0 }).collect();
    let c = baseline::condition_number(&a, n);
    assert!((c - 24.0).abs() <= 24.0 * 1e-14, "cond = {c}");
    assert_eq!(baseline::condition_number(&identity(7), 7), 1.0);
    let singular = [1.0, 2.0, 2.0, 4.0];
    let c = baseline::condition_number(&singular, 2);
    assert!(c.is_infinite() || c > 1e15, "cond of a rank-one matrix = {c}");
}

#[test]
fn condition_number_agrees_with_nalgebra_svd() {
    let n = 12;
    let a = well_conditioned(n, 7);
    let sv = DMatrix::from_row_slice(n, n, &a).singular_values();
    let want = sv.max() / sv.min();
    let got = baseline::condition_number(&a, n);
    assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
}

#[test]
fn error_codes_are_listed() {
    for code in ["SHAPE_MISMATCH", "INVALID_INPUT", "SINGULAR", "INVALID_OPTION", "OUT_OF_DOMAIN", "ILL_CONDITIONED", "CANCELLED"] {
        assert!(Error::CODES.contains(&code), "{code}");
    }
    assert_eq!(Error::Cancelled.code(), "CANCELLED");
}
