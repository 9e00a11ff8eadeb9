//! The exact decomposition baselines (SVD, QR, Cholesky, symmetric eigen, expm, solve): their defining
//! identities, independent cross-checks (nalgebra, Taylor series, closed forms), batching, and the error
//! codes of bad input.

mod common;
use common::{matmul, transpose};
use nalgebra::DMatrix;
use neumatc::baseline::{self, Threads};
use neumatc::{Error, MatrixBatch};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const EPS: f64 = f64::EPSILON;

fn fro(m: &[f64]) -> f64 {
    m.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    fro(&a.iter().zip(b).map(|(x, y)| x - y).collect::<Vec<_>>())
}

fn identity(n: usize) -> Vec<f64> {
    (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 }).collect()
}

fn gaussian(m: usize, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..m * n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// `(G + Gᵀ)/2`.
fn symmetric(n: usize, seed: u64) -> Vec<f64> {
    let g = gaussian(n, n, seed);
    (0..n * n).map(|i| 0.5 * (g[i] + g[(i % n) * n + i / n])).collect()
}

/// `G Gᵀ + n I`: symmetric positive definite and well conditioned.
fn spd(n: usize, seed: u64) -> Vec<f64> {
    let g = gaussian(n, n, seed);
    let mut a = matmul(&g, &transpose(&g, n, n), n, n, n);
    (0..n).for_each(|i| a[i * n + i] += n as f64);
    a
}

/// `‖QᵀQ − I‖_F` for a row-major `m × r` matrix with (supposedly) orthonormal columns.
fn orthogonality_defect(q: &[f64], m: usize, r: usize) -> f64 {
    diff(&matmul(&transpose(q, m, r), q, r, m, r), &identity(r))
}

fn one(m: usize, n: usize, data: &[f64]) -> MatrixBatch {
    MatrixBatch::new(1, m, n, data.to_vec()).unwrap()
}

fn stack(m: usize, n: usize, mats: &[Vec<f64>]) -> MatrixBatch {
    MatrixBatch::new(mats.len(), m, n, mats.concat()).unwrap()
}

/// A batch that skips `MatrixBatch::new`'s own finiteness check, to reach the baselines' check.
fn raw(batch: usize, m: usize, n: usize, data: Vec<f64>) -> MatrixBatch {
    MatrixBatch { batch, rows: m, cols: n, data }
}

fn nalgebra(a: &[f64], m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_row_slice(m, n, a)
}

fn row_major(m: &DMatrix<f64>) -> Vec<f64> {
    m.transpose().as_slice().to_vec()
}

// ---------------------------------------------------------------------------------------------------
// SVD
// ---------------------------------------------------------------------------------------------------

#[test]
fn svd_reconstructs_with_orthonormal_factors() {
    for (seed, (m, n)) in [(8, 5), (5, 8), (16, 16), (40, 12), (1, 6)].into_iter().enumerate() {
        let a = gaussian(m, n, seed as u64);
        let k = m.min(n);
        let (u, s, v) = baseline::svd_matrix(&a, m, n, k).unwrap();
        assert_eq!((u.len(), s.len(), v.len()), (m * k, k, n * k));
        let us: Vec<f64> = (0..m * k).map(|i| u[i] * s[i % k]).collect();
        let rec = matmul(&us, &transpose(&v, n, k), m, k, n);
        let tol = 16.0 * m.max(n) as f64 * EPS;
        assert!(diff(&rec, &a) <= tol * fro(&a), "{m}×{n}: ‖UΣVᵀ − A‖ = {:e}", diff(&rec, &a));
        assert!(orthogonality_defect(&u, m, k) <= tol, "{m}×{n}: UᵀU defect");
        assert!(orthogonality_defect(&v, n, k) <= tol, "{m}×{n}: VᵀV defect");
        assert!(s.windows(2).all(|w| w[0] >= w[1]) && s[k - 1] >= 0.0, "{m}×{n}: S = {s:?}");
        let reference = nalgebra(&a, m, n).singular_values();
        let mut reference: Vec<f64> = reference.iter().copied().collect();
        reference.sort_by(|x, y| y.total_cmp(x));
        assert!(diff(&s, &reference) <= tol * s[0], "{m}×{n}: S {s:?} vs nalgebra {reference:?}");
    }
}

#[test]
fn truncated_svd_error_is_the_tail_energy() {
    let (m, n, r) = (12, 9, 4);
    let a = gaussian(m, n, 11);
    let (_, s_full, _) = baseline::svd_matrix(&a, m, n, n).unwrap();
    let (u, s, v) = baseline::svd_matrix(&a, m, n, r).unwrap();
    assert_eq!((u.len(), s.len(), v.len()), (m * r, r, n * r));
    assert_eq!(s[..], s_full[..r]);
    let us: Vec<f64> = (0..m * r).map(|i| u[i] * s[i % r]).collect();
    let rec = matmul(&us, &transpose(&v, n, r), m, r, n);
    let err2 = diff(&rec, &a).powi(2);
    let tail: f64 = s_full[r..].iter().map(|x| x * x).sum();
    assert!((err2 - tail).abs() <= 1e-12 * fro(&a).powi(2), "‖A − A_r‖² = {err2}, tail energy {tail}");
    assert!(orthogonality_defect(&u, m, r) < 1e-13 && orthogonality_defect(&v, n, r) < 1e-13);

    let batched = baseline::svd(&stack(m, n, &[a.clone(), a.clone()]), Some(r)).unwrap();
    assert_eq!((batched.u.rows, batched.u.cols, batched.s.rows, batched.s.cols, batched.v.rows, batched.v.cols), (m, r, r, 1, n, r));
    assert_eq!(batched.s.data, [s.clone(), s].concat());
}

#[test]
fn svd_rank_outside_one_to_min_is_invalid_option() {
    let a = gaussian(6, 4, 1);
    for rank in [0, 5] {
        assert_eq!(baseline::svd_matrix(&a, 6, 4, rank).unwrap_err().code(), "INVALID_OPTION");
        let e = baseline::svd(&one(6, 4, &a), Some(rank)).unwrap_err();
        assert!(matches!(e, Error::InvalidOption { name: "rank", .. }), "{e}");
    }
}

// ---------------------------------------------------------------------------------------------------
// QR
// ---------------------------------------------------------------------------------------------------

#[test]
fn qr_reconstructs_with_orthonormal_q_and_nonnegative_diagonal() {
    for (seed, (m, n)) in [(8, 8), (20, 7), (5, 1), (33, 32), (64, 64)].into_iter().enumerate() {
        let a = gaussian(m, n, 100 + seed as u64);
        let (q, r) = baseline::qr_matrix(&a, m, n).unwrap();
        assert_eq!((q.len(), r.len()), (m * n, n * n));
        let tol = 16.0 * m as f64 * EPS;
        assert!(diff(&matmul(&q, &r, m, n, n), &a) <= tol * fro(&a), "{m}×{n}: ‖QR − A‖");
        assert!(orthogonality_defect(&q, m, n) <= tol, "{m}×{n}: QᵀQ defect");
        for i in 0..n {
            assert!(r[i * n + i] >= 0.0, "{m}×{n}: R[{i},{i}] = {}", r[i * n + i]);
            assert!((0..i).all(|j| r[i * n + j] == 0.0), "{m}×{n}: R not upper triangular in row {i}");
        }
        // With diag(R) > 0 the thin QR is unique: nalgebra's, after the same sign fix, must agree.
        let nq = nalgebra(&a, m, n).qr();
        let (nqq, nr) = (nq.q(), nq.r());
        let sign: Vec<f64> = (0..n).map(|i| nr[(i, i)].signum()).collect();
        let nr: Vec<f64> = (0..n * n).map(|idx| sign[idx / n] * nr[(idx / n, idx % n)]).collect();
        let nqq: Vec<f64> = (0..m * n).map(|idx| sign[idx % n] * nqq[(idx / n, idx % n)]).collect();
        assert!(diff(&r, &nr) <= 1e-12 * fro(&a), "{m}×{n}: R vs nalgebra");
        assert!(diff(&q, &nqq) <= 1e-12 * (n as f64).sqrt(), "{m}×{n}: Q vs nalgebra");
    }
}

#[test]
fn qr_of_a_wide_matrix_is_a_shape_mismatch() {
    let a = gaussian(3, 5, 2);
    assert_eq!(baseline::qr_matrix(&a, 3, 5).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(baseline::qr(&one(3, 5, &a)).unwrap_err().code(), "SHAPE_MISMATCH");
}

#[test]
fn qr_of_a_rank_deficient_matrix_stays_orthonormal() {
    let (m, n) = (10, 4);
    let mut a = gaussian(m, n, 5);
    for i in 0..m {
        a[i * n + 2] = a[i * n] + a[i * n + 1];
    }
    let (q, r) = baseline::qr_matrix(&a, m, n).unwrap();
    assert!(diff(&matmul(&q, &r, m, n, n), &a) <= 1e-13 * fro(&a));
    assert!(orthogonality_defect(&q, m, n) <= 1e-13);
    assert!(r[2 * n + 2].abs() <= 1e-13 * fro(&a));
}

// ---------------------------------------------------------------------------------------------------
// Cholesky
// ---------------------------------------------------------------------------------------------------

#[test]
fn cholesky_reconstructs_and_matches_nalgebra() {
    for (seed, n) in [1usize, 2, 7, 32, 64].into_iter().enumerate() {
        let a = spd(n, 200 + seed as u64);
        let l = baseline::cholesky_matrix(&a, n).unwrap();
        for i in 0..n {
            assert!(l[i * n + i] > 0.0, "n = {n}: L[{i},{i}] = {}", l[i * n + i]);
            assert!((i + 1..n).all(|j| l[i * n + j] == 0.0), "n = {n}: L has entries above the diagonal");
        }
        let llt = matmul(&l, &transpose(&l, n, n), n, n, n);
        assert!(diff(&llt, &a) <= 16.0 * n as f64 * EPS * fro(&a), "n = {n}: ‖LLᵀ − A‖ = {:e}", diff(&llt, &a));
        let reference = row_major(&nalgebra(&a, n, n).cholesky().unwrap().l());
        assert!(diff(&l, &reference) <= 1e-12 * fro(&l), "n = {n}: L vs nalgebra");
    }
}

#[test]
fn cholesky_of_an_indefinite_matrix_is_not_positive_definite() {
    let indefinite = vec![2.0, 1.0, 0.0, 1.0, -1.0, 0.5, 0.0, 0.5, 3.0];
    let e = baseline::cholesky_matrix(&indefinite, 3).unwrap_err();
    assert!(matches!(&e, Error::NotPositiveDefinite { op: "cholesky", p } if p.is_empty()), "{e}");
    assert_eq!(e.code(), "NOT_POSITIVE_DEFINITE");
    // In a batch the failing matrix is named by its index.
    let e = baseline::cholesky(&stack(3, 3, &[spd(3, 1), indefinite, spd(3, 2)])).unwrap_err();
    assert!(matches!(&e, Error::NotPositiveDefinite { p, .. } if p == &[1.0]), "{e}");
}

#[test]
fn cholesky_and_eigh_reject_non_symmetric_input() {
    let mut a = spd(4, 3);
    a[1] += 1e-6;
    for e in [
        baseline::cholesky_matrix(&a, 4).unwrap_err(),
        baseline::cholesky(&one(4, 4, &a)).unwrap_err(),
        baseline::eigh_matrix(&a, 4).unwrap_err(),
        baseline::eigh(&one(4, 4, &a)).unwrap_err(),
    ] {
        assert!(matches!(&e, Error::InvalidInput { what: "cholesky" | "eigh", reason } if reason.contains("symmetric")), "{e}");
    }
    // Asymmetry at rounding level (1e-13 relative) is accepted.
    let mut b = spd(4, 3);
    b[1] *= 1.0 + 1e-13;
    assert!(baseline::cholesky_matrix(&b, 4).is_ok() && baseline::eigh_matrix(&b, 4).is_ok());
}

// ---------------------------------------------------------------------------------------------------
// Symmetric eigendecomposition
// ---------------------------------------------------------------------------------------------------

#[test]
fn eigh_diagonalises_with_orthonormal_vectors() {
    for (seed, n) in [1usize, 2, 9, 40, 64].into_iter().enumerate() {
        let a = symmetric(n, 300 + seed as u64);
        let (w, v) = baseline::eigh_matrix(&a, n).unwrap();
        assert!(w.windows(2).all(|p| p[0] <= p[1]), "n = {n}: not ascending {w:?}");
        let av = matmul(&a, &v, n, n, n);
        let vw: Vec<f64> = (0..n * n).map(|i| v[i] * w[i % n]).collect();
        let tol = 16.0 * n as f64 * EPS;
        assert!(diff(&av, &vw) <= tol * fro(&a), "n = {n}: ‖AV − VΛ‖ = {:e}", diff(&av, &vw));
        assert!(orthogonality_defect(&v, n, n) <= tol, "n = {n}: VᵀV defect");
        let mut reference: Vec<f64> = nalgebra(&a, n, n).symmetric_eigen().eigenvalues.iter().copied().collect();
        reference.sort_by(f64::total_cmp);
        assert!(diff(&w, &reference) <= tol * fro(&a), "n = {n}: λ vs nalgebra");
    }
}

// ---------------------------------------------------------------------------------------------------
// Matrix exponential
// ---------------------------------------------------------------------------------------------------

/// `Σ_{k ≤ 60} Aᵏ/k!` (fine for ‖A‖ ≲ 2, where no term is large enough to cancel badly).
fn taylor_exp(a: &[f64], n: usize) -> Vec<f64> {
    let mut sum = identity(n);
    let mut term = identity(n);
    for k in 1..=60 {
        term = matmul(&term, a, n, n, n).into_iter().map(|x| x / k as f64).collect();
        sum.iter_mut().zip(&term).for_each(|(s, t)| *s += t);
    }
    sum
}

/// A Gaussian matrix scaled to the given ∞-norm (largest absolute row sum).
fn with_norm(n: usize, norm: f64, seed: u64) -> Vec<f64> {
    let g = gaussian(n, n, seed);
    let inf = (0..n).map(|i| g[i * n..(i + 1) * n].iter().map(|x| x.abs()).sum::<f64>()).fold(0.0, f64::max);
    g.iter().map(|x| x * norm / inf).collect()
}

fn expm1(a: &[f64], n: usize) -> Vec<f64> {
    baseline::expm_matrix(a, n).unwrap()
}

#[test]
fn expm_matches_the_taylor_series_at_small_norm() {
    // The norms straddle the θ bounds of every Padé degree (3, 5, 7, 9, 13 without squaring).
    for (seed, norm) in [0.005, 0.1, 0.2, 0.5, 0.9, 1.5, 2.0, 3.0].into_iter().enumerate() {
        let n = 8;
        let a = with_norm(n, norm, 400 + seed as u64);
        let (e, t) = (expm1(&a, n), taylor_exp(&a, n));
        let rel = diff(&e, &t) / fro(&t);
        assert!(rel < 1e-14, "‖A‖ = {norm}: relative error {rel:e} against the Taylor series");
    }
}

#[test]
fn expm_of_a_diagonal_matrix_is_elementwise() {
    let d = [-30.0, -2.5, 0.0, 1e-3, 0.7, 3.0, 12.0, 40.0];
    let n = d.len();
    let a: Vec<f64> = (0..n * n).map(|i| if i / n == i % n { d[i / n] } else { 0.0 }).collect();
    let e = expm1(&a, n);
    for i in 0..n {
        for j in 0..n {
            let want = if i == j { d[i].exp() } else { 0.0 };
            assert!((e[i * n + j] - want).abs() <= 1e-14 * want.abs(), "exp(diag)[{i},{j}] = {} vs {want}", e[i * n + j]);
        }
    }
}

#[test]
fn expm_of_a_rotation_generator_is_the_rotation() {
    for t in [0.3, 5.0, 50.0] {
        let a = [0.0, t, -t, 0.0];
        let e = expm1(&a, 2);
        let want = [t.cos(), t.sin(), -t.sin(), t.cos()];
        assert!(diff(&e, &want) <= 1e-14 * t.max(1.0), "t = {t}: {e:?} vs {want:?}");
    }
}

#[test]
fn expm_times_expm_of_minus_a_is_the_identity() {
    let n = 12;
    // ‖A‖ ≈ 5: a general matrix; the tolerance scales with ‖e^A‖ ‖e^−A‖.
    let a = with_norm(n, 5.0, 7);
    let minus: Vec<f64> = a.iter().map(|x| -x).collect();
    let (e, f) = (expm1(&a, n), expm1(&minus, n));
    let scale = fro(&e) * fro(&f);
    let defect = diff(&matmul(&e, &f, n, n, n), &identity(n));
    assert!(defect <= 8.0 * n as f64 * EPS * scale, "‖A‖ = 5: defect {defect:e}, scale {scale:e}");
    // ‖A‖ ≈ 50 (several squarings): a large skew part plus a small symmetric part keeps e^A well conditioned.
    let g = gaussian(n, n, 8);
    let skew: Vec<f64> = (0..n * n).map(|i| g[i] - g[(i % n) * n + i / n]).collect();
    let skew = with_norm_of(&skew, n, 50.0);
    let sym = with_norm_of(&symmetric(n, 9), n, 0.5);
    let a: Vec<f64> = skew.iter().zip(&sym).map(|(x, y)| x + y).collect();
    let minus: Vec<f64> = a.iter().map(|x| -x).collect();
    let (e, f) = (expm1(&a, n), expm1(&minus, n));
    let defect = diff(&matmul(&e, &f, n, n, n), &identity(n));
    assert!(defect <= 1e-13 * fro(&e) * fro(&f), "‖A‖ = 50: defect {defect:e}");
    // Pure skew-symmetric: e^A is orthogonal.
    let e = expm1(&skew, n);
    assert!(orthogonality_defect(&e, n, n) < 1e-13, "skew ‖A‖ = 50: e^A not orthogonal");
}

fn with_norm_of(a: &[f64], n: usize, norm: f64) -> Vec<f64> {
    let inf = (0..n).map(|i| a[i * n..(i + 1) * n].iter().map(|x| x.abs()).sum::<f64>()).fold(0.0, f64::max);
    a.iter().map(|x| x * norm / inf).collect()
}

#[test]
fn expm_of_a_nilpotent_matrix_is_its_finite_series() {
    // N strictly upper triangular, N⁵ = 0: exp(N) = I + N + N²/2 + N³/6 + N⁴/24 exactly.
    let n = 5;
    let nil: Vec<f64> = (0..n * n).map(|i| if i % n > i / n { ((i * 7) % 11) as f64 - 5.0 } else { 0.0 }).collect();
    let mut want = identity(n);
    let mut power = identity(n);
    for k in 1..n {
        power = matmul(&power, &nil, n, n, n);
        let fact: f64 = (1..=k).map(|x| x as f64).product();
        want.iter_mut().zip(&power).for_each(|(w, p)| *w += p / fact);
    }
    let e = expm1(&nil, n);
    assert!(diff(&e, &want) <= 1e-14 * fro(&want), "nilpotent: {:e}", diff(&e, &want) / fro(&want));
    // A² = 0 with a large norm: e^A = I + A (exercises the ℓ correction against overscaling).
    let big = [1e4, 1e4, -1e4, -1e4];
    let e = expm1(&big, 2);
    let want = [1.0 + 1e4, 1e4, -1e4, 1.0 - 1e4];
    assert!(diff(&e, &want) <= 1e-12 * fro(&want), "A² = 0: {e:?}");
}

#[test]
fn expm_matches_nalgebra_and_handles_edge_cases() {
    for (seed, norm) in [0.05, 1.0, 8.0].into_iter().enumerate() {
        let n = 10;
        let a = with_norm(n, norm, 500 + seed as u64);
        let reference = row_major(&nalgebra(&a, n, n).exp());
        let e = expm1(&a, n);
        assert!(diff(&e, &reference) <= 1e-13 * fro(&reference), "‖A‖ = {norm}: vs nalgebra {:e}", diff(&e, &reference));
    }
    assert_eq!(expm1(&[0.0; 9], 3), identity(3));
    assert!((expm1(&[2.0], 1)[0] - 2f64.exp()).abs() <= 2.0 * EPS * 2f64.exp());
    let e = baseline::expm_matrix(&[1000.0, 0.0, 0.0, 1.0], 2).unwrap_err();
    assert_eq!(e.code(), "INVALID_INPUT", "{e}");
}

// ---------------------------------------------------------------------------------------------------
// Linear solve
// ---------------------------------------------------------------------------------------------------

#[test]
fn solve_satisfies_a_x_equals_b() {
    for (seed, n) in [1usize, 3, 17, 64].into_iter().enumerate() {
        let mut a = gaussian(n, n, 600 + seed as u64);
        (0..n).for_each(|i| a[i * n + i] += 3.0 * (n as f64).sqrt());
        let b = gaussian(n, 1, 700 + seed as u64);
        let x = baseline::solve_matrix(&a, n, &b).unwrap();
        let ax = matmul(&a, &x, n, n, 1);
        assert!(diff(&ax, &b) <= 16.0 * n as f64 * EPS * fro(&a) * fro(&x), "n = {n}: residual {:e}", diff(&ax, &b));
        let reference: Vec<f64> = nalgebra(&a, n, n).lu().solve(&DMatrix::from_column_slice(n, 1, &b)).unwrap().as_slice().to_vec();
        assert!(diff(&x, &reference) <= 1e-12 * fro(&x), "n = {n}: vs nalgebra");
    }
}

#[test]
fn solve_of_a_singular_matrix_is_singular() {
    let singular = vec![1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 0.0, 1.0, 1.0];
    let e = baseline::solve_matrix(&singular, 3, &[1.0, 2.0, 3.0]).unwrap_err();
    assert!(matches!(&e, Error::Singular { op: "solve", p } if p.is_empty()), "{e}");
    assert_eq!(e.code(), "SINGULAR");
    let fine = identity(3);
    let e = baseline::solve(&stack(3, 3, &[fine.clone(), fine, singular]), &[1.0, 2.0, 3.0]).unwrap_err();
    assert!(matches!(&e, Error::Singular { p, .. } if p == &[2.0]), "{e}");
}

#[test]
fn solve_takes_a_shared_or_a_per_matrix_right_hand_side() {
    let n = 6;
    let mats: Vec<Vec<f64>> = (0..3).map(|s| spd(n, 800 + s)).collect();
    let batch = stack(n, n, &mats);
    let b = gaussian(3 * n, 1, 9);
    let x = baseline::solve(&batch, &b).unwrap();
    assert_eq!((x.batch, x.rows, x.cols), (3, n, 1));
    let shared = baseline::solve(&batch, &b[..n]).unwrap();
    for (i, a) in mats.iter().enumerate() {
        assert_eq!(x.data[i * n..(i + 1) * n], baseline::solve_matrix(a, n, &b[i * n..(i + 1) * n]).unwrap()[..]);
        assert_eq!(shared.data[i * n..(i + 1) * n], baseline::solve_matrix(a, n, &b[..n]).unwrap()[..]);
    }
    assert_eq!(baseline::solve(&batch, &b[..2 * n]).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(baseline::solve_matrix(&mats[0], n, &b[..n - 1]).unwrap_err().code(), "SHAPE_MISMATCH");
    let mut nan_b = b[..n].to_vec();
    nan_b[2] = f64::NAN;
    assert_eq!(baseline::solve(&batch, &nan_b).unwrap_err().code(), "INVALID_INPUT");
}

// ---------------------------------------------------------------------------------------------------
// Batching and bad input
// ---------------------------------------------------------------------------------------------------

#[test]
fn batched_results_equal_per_matrix_results() {
    let (m, n) = (9, 6);
    let rect: Vec<Vec<f64>> = (0..4).map(|s| gaussian(m, n, 900 + s)).collect();
    let sq: Vec<Vec<f64>> = (0..4).map(|s| spd(n, 950 + s)).collect();
    let small: Vec<Vec<f64>> = sq.iter().map(|a| a.iter().map(|x| x / 10.0).collect()).collect();
    for threads in [Threads::All, Threads::Single] {
        let svd = baseline::svd_with(&stack(m, n, &rect), Some(4), threads).unwrap();
        let qr = baseline::qr_with(&stack(m, n, &rect), threads).unwrap();
        let chol = baseline::cholesky_with(&stack(n, n, &sq), threads).unwrap();
        let eigh = baseline::eigh_with(&stack(n, n, &sq), threads).unwrap();
        let expm = baseline::expm_with(&stack(n, n, &small), threads).unwrap();
        for i in 0..4 {
            let (u, s, v) = baseline::svd_matrix(&rect[i], m, n, 4).unwrap();
            assert_eq!((svd.u.matrix(i), svd.s.matrix(i), svd.v.matrix(i)), (&u[..], &s[..], &v[..]));
            let (q, r) = baseline::qr_matrix(&rect[i], m, n).unwrap();
            assert_eq!((qr.q.matrix(i), qr.r.matrix(i)), (&q[..], &r[..]));
            assert_eq!(chol.matrix(i), &baseline::cholesky_matrix(&sq[i], n).unwrap()[..]);
            let (w, vecs) = baseline::eigh_matrix(&sq[i], n).unwrap();
            assert_eq!((eigh.values.matrix(i), eigh.vectors.matrix(i)), (&w[..], &vecs[..]));
            assert_eq!(expm.matrix(i), &baseline::expm_matrix(&small[i], n).unwrap()[..]);
        }
    }
    // A single matrix takes faer's parallel path: same identities, not necessarily the same bits.
    let big = spd(64, 3);
    let chol = baseline::cholesky(&one(64, 64, &big)).unwrap();
    let llt = matmul(&chol.data, &transpose(&chol.data, 64, 64), 64, 64, 64);
    assert!(diff(&llt, &big) <= 1e-13 * fro(&big));
}

#[test]
fn nan_input_is_invalid_input() {
    let mut a = spd(4, 1);
    a[5] = f64::NAN;
    let batch = raw(1, 4, 4, a.clone());
    let codes = [
        baseline::svd(&batch, None).map(|_| ()),
        baseline::qr(&batch).map(|_| ()),
        baseline::cholesky(&batch).map(|_| ()),
        baseline::eigh(&batch).map(|_| ()),
        baseline::expm(&batch).map(|_| ()),
        baseline::solve(&batch, &[1.0; 4]).map(|_| ()),
        baseline::svd_matrix(&a, 4, 4, 4).map(|_| ()),
        baseline::qr_matrix(&a, 4, 4).map(|_| ()),
        baseline::cholesky_matrix(&a, 4).map(|_| ()),
        baseline::eigh_matrix(&a, 4).map(|_| ()),
        baseline::expm_matrix(&a, 4).map(|_| ()),
        baseline::solve_matrix(&a, 4, &[1.0; 4]).map(|_| ()),
    ];
    for (k, r) in codes.into_iter().enumerate() {
        assert_eq!(r.unwrap_err().code(), "INVALID_INPUT", "call {k}");
    }
}

#[test]
fn wrong_lengths_and_shapes_are_shape_mismatches() {
    let a = spd(4, 1);
    assert_eq!(baseline::svd_matrix(&a, 4, 3, 3).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(baseline::cholesky_matrix(&a[..15], 4).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(baseline::cholesky(&raw(1, 4, 4, a[..15].to_vec())).unwrap_err().code(), "SHAPE_MISMATCH");
    let rect = one(2, 8, &a);
    for e in [baseline::cholesky(&rect).unwrap_err(), baseline::eigh(&rect).unwrap_err(), baseline::expm(&rect).unwrap_err()] {
        assert_eq!(e.code(), "SHAPE_MISMATCH");
    }
}

/// Rough single-thread timings at n = 256: `cargo test -p neumatc --release --test decomp -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing_256() {
    let n = 256;
    let g = gaussian(n, n, 1);
    let sym = symmetric(n, 2);
    let scaled = with_norm(n, 5.0, 3);
    let pd = spd(n, 4);
    let time = |name: &str, f: &dyn Fn()| {
        f();
        let reps = 5;
        let t = std::time::Instant::now();
        (0..reps).for_each(|_| f());
        println!("{name:>10} n = {n}: {:8.2} ms", t.elapsed().as_secs_f64() * 1e3 / reps as f64);
    };
    let single = |a: &[f64]| one(n, n, a);
    time("svd", &|| drop(baseline::svd_with(&single(&g), None, Threads::Single).unwrap()));
    time("qr", &|| drop(baseline::qr_with(&single(&g), Threads::Single).unwrap()));
    time("eigh", &|| drop(baseline::eigh_with(&single(&sym), Threads::Single).unwrap()));
    time("expm", &|| drop(baseline::expm_with(&single(&scaled), Threads::Single).unwrap()));
    time("cholesky", &|| drop(baseline::cholesky_with(&single(&pd), Threads::Single).unwrap()));
    time("solve", &|| drop(baseline::solve_with(&single(&g), &g[..n], Threads::Single).unwrap()));
    time("inverse", &|| drop(baseline::inverse_with(&single(&g), Threads::Single).unwrap()));
}
