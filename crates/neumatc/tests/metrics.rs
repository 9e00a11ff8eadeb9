//! The paper's error metrics: `RelErr_inv = mean_p ‖A(p)G(p) − I‖²_F / n` and the relative Frobenius error.

use neumatc::{MatrixBatch, metrics};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn diag(d: &[f64]) -> Vec<f64> {
    let n = d.len();
    (0..n * n).map(|i| if i / n == i % n { d[i / n] } else { 0.0 }).collect()
}

/// `‖A G − I‖²_F / n` by hand: triple loop, then the squared entries.
fn by_hand(a: &[f64], g: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            let mut v = 0.0;
            for k in 0..n {
                v += a[i * n + k] * g[k * n + j];
            }
            if i == j {
                v -= 1.0;
            }
            s += v * v;
        }
    }
    s / n as f64
}

fn random(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| StandardNormal.sample(&mut rng)).collect()
}

#[test]
fn exact_inverse_of_a_diagonal_scores_zero() {
    let d = [2.0, 0.5, -4.0, 8.0, 0.25];
    let a = MatrixBatch::new(1, 5, 5, diag(&d)).unwrap();
    let g = diag(&d.map(|x| 1.0 / x));
    assert_eq!(metrics::rel_err_inverse(&a, &g).unwrap(), 0.0);
    assert_eq!(metrics::inverse_residuals(&a, &g).unwrap(), vec![0.0]);
}

#[test]
fn perturbed_inverse_matches_the_hand_computed_residual() {
    let n = 6;
    // A diagonally dominant, G = A⁻¹ + δE for a random E: the residual is δ²‖AE‖²_F / n, computed by hand.
    let mut a = random(n * n, 1);
    for i in 0..n {
        a[i * n + i] += 10.0;
    }
    let exact = {
        let m = nalgebra::DMatrix::from_row_slice(n, n, &a).try_inverse().unwrap();
        (0..n * n).map(|i| m[(i / n, i % n)]).collect::<Vec<_>>()
    };
    let e = random(n * n, 2);
    for delta in [1e-1, 1e-3, 1e-6] {
        let g: Vec<f64> = exact.iter().zip(&e).map(|(x, y)| x + delta * y).collect();
        let batch = MatrixBatch::new(1, n, n, a.clone()).unwrap();
        let got = metrics::rel_err_inverse(&batch, &g).unwrap();
        let want = by_hand(&a, &g, n);
        assert!((got - want).abs() <= 1e-10 * want + 1e-28, "δ = {delta}: {got:e} vs {want:e}");
        // and it scales like δ² (the exact part contributes round-off only).
        let ae: f64 = {
            let mut s = 0.0;
            for i in 0..n {
                for j in 0..n {
                    let v: f64 = (0..n).map(|k| a[i * n + k] * e[k * n + j]).sum();
                    s += v * v;
                }
            }
            s / n as f64
        };
        assert!((got / (delta * delta * ae) - 1.0).abs() < 1e-6, "δ = {delta}");
    }
}

#[test]
fn batch_metric_is_the_mean_of_the_residuals() {
    let (n, batch) = (4, 3);
    let a = random(batch * n * n, 3);
    let g = random(batch * n * n, 4);
    let mb = MatrixBatch::new(batch, n, n, a.clone()).unwrap();
    let per = metrics::inverse_residuals(&mb, &g).unwrap();
    assert_eq!(per.len(), batch);
    for i in 0..batch {
        let sz = n * n;
        let want = by_hand(&a[i * sz..(i + 1) * sz], &g[i * sz..(i + 1) * sz], n);
        assert!((per[i] - want).abs() <= 1e-12 * want, "matrix {i}");
    }
    let mean = metrics::rel_err_inverse(&mb, &g).unwrap();
    assert!((mean - per.iter().sum::<f64>() / batch as f64).abs() <= 1e-15 * mean);
    assert_eq!(metrics::mean(&[]), 0.0);
    assert_eq!(metrics::mean(&[1.0, 2.0, 6.0]), 3.0);
}

#[test]
fn f32_and_f64_predictions_agree() {
    let n = 8;
    let mut a = random(n * n, 5);
    for i in 0..n {
        a[i * n + i] += 6.0;
    }
    let g64 = random(n * n, 6).iter().map(|v| v * 0.1).collect::<Vec<_>>();
    let g32: Vec<f32> = g64.iter().map(|&v| v as f32).collect();
    let widened: Vec<f64> = g32.iter().map(|&v| v as f64).collect();
    let mb = MatrixBatch::new(1, n, n, a).unwrap();
    // The metric widens f32 to f64 before any arithmetic: the same values give the same bits.
    assert_eq!(metrics::rel_err_inverse(&mb, &g32).unwrap().to_bits(), metrics::rel_err_inverse(&mb, &widened).unwrap().to_bits());
    // And rounding G to f32 changes the metric only at the f32 level.
    let (e32, e64) = (metrics::rel_err_inverse(&mb, &g32).unwrap(), metrics::rel_err_inverse(&mb, &g64).unwrap());
    assert!((e32 - e64).abs() <= 1e-5 * e64, "{e32} vs {e64}");

    let d = [2.0f64, 4.0, 0.5];
    let a = MatrixBatch::new(1, 3, 3, diag(&d)).unwrap();
    let inv32: Vec<f32> = diag(&d.map(|x| 1.0 / x)).iter().map(|&v| v as f32).collect();
    assert_eq!(metrics::rel_err_inverse(&a, &inv32).unwrap(), 0.0);
}

#[test]
fn shape_mismatch_and_nan_are_errors() {
    let a = MatrixBatch::new(2, 3, 3, vec![1.0; 18]).unwrap();
    assert_eq!(metrics::rel_err_inverse(&a, &[0.0f64; 9]).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(metrics::rel_err_inverse(&a, &[0.0f32; 19]).unwrap_err().code(), "SHAPE_MISMATCH");
    let rect = MatrixBatch::new(1, 2, 3, vec![1.0; 6]).unwrap();
    assert_eq!(metrics::rel_err_inverse(&rect, &[0.0f64; 6]).unwrap_err().code(), "SHAPE_MISMATCH");
    let eye = MatrixBatch::new(1, 2, 2, vec![1.0, 0.0, 0.0, 1.0]).unwrap();
    assert_eq!(metrics::rel_err_inverse(&eye, &[1.0, f64::NAN, 0.0, 1.0]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(metrics::rel_err_inverse(&eye, &[1.0f32, 0.0, f32::INFINITY, 1.0]).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn relative_frobenius_error() {
    let y = [3.0, 4.0];
    assert_eq!(metrics::rel_fro_error(&[3.0f64, 4.0], &y), 0.0);
    // ‖(0, 1)‖² / ‖(3, 4)‖² = 1/25.
    assert!((metrics::rel_fro_error(&[3.0f64, 5.0], &y) - 0.04).abs() < 1e-16);
    assert!((metrics::rel_fro_error(&[3.0f32, 5.0], &y) - 0.04).abs() < 1e-16);
}

// ---------------------------------------------------------------------------------------------------
// Every operation: `rel_errs` / `rel_err_op` / `orthogonality_defect`
// ---------------------------------------------------------------------------------------------------

use neumatc::metrics::{ComponentView, orthogonality_defect, orthogonality_defects_op, rel_err, rel_err_op, rel_errs};
use neumatc::op::OpSpec;
use neumatc::{Operation, baseline};

fn fro2(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

fn view(m: &MatrixBatch) -> ComponentView<'_> {
    ComponentView::new(m.batch, m.rows, m.cols, &m.data[..])
}

/// A random symmetric positive definite `n × n` matrix `BBᵀ + nI`.
fn spd(n: usize, seed: u64) -> Vec<f64> {
    let b = random(n * n, seed);
    (0..n * n)
        .map(|idx| {
            let (i, j) = (idx / n, idx % n);
            (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum::<f64>() + if i == j { n as f64 } else { 0.0 }
        })
        .collect()
}

#[test]
fn exact_svd_scores_round_off_and_a_perturbed_one_its_hand_value() {
    let (batch, m, n) = (3, 6, 4);
    let a = MatrixBatch::new(batch, m, n, random(batch * m * n, 11)).unwrap();
    let svd = baseline::svd(&a, None).unwrap();
    let parts = [view(&svd.u), view(&svd.s), view(&svd.v)];
    let errs = rel_errs(Operation::Svd, &a, &parts, None, None).unwrap();
    assert_eq!(errs.len(), batch);
    assert!(errs.iter().all(|&e| e < 1e-28), "{errs:?}");
    assert!(rel_err(Operation::Svd, &a, &parts, None, None).unwrap() < 1e-28);
    assert!(orthogonality_defect(Operation::Svd, &parts).unwrap() < 1e-14);

    // S₀ + δ: ‖U δe₀e₀ᵀ Vᵀ‖²_F = δ² (orthonormal columns), relative to ‖A‖²_F.
    let delta = 1e-3;
    let mut s = svd.s.clone();
    for b in 0..batch {
        s.data[b * n] += delta;
    }
    let parts = [view(&svd.u), view(&s), view(&svd.v)];
    let errs = rel_errs(Operation::Svd, &a, &parts, None, None).unwrap();
    for (b, e) in errs.iter().enumerate() {
        let want = delta * delta / fro2(a.matrix(b));
        assert!((e / want - 1.0).abs() < 1e-8, "matrix {b}: {e:e} vs {want:e}");
    }

    // A rank-2 truncation scores the tail energy Σ_{i>2} σ_i² / Σ σ_i².
    let t = baseline::svd(&a, Some(2)).unwrap();
    let errs = rel_errs(Operation::Svd, &a, &[view(&t.u), view(&t.s), view(&t.v)], None, None).unwrap();
    for (b, e) in errs.iter().enumerate() {
        let sv = &svd.s.data[b * n..(b + 1) * n];
        let want = (sv[2] * sv[2] + sv[3] * sv[3]) / fro2(sv);
        assert!((e / want - 1.0).abs() < 1e-10, "matrix {b}: {e:e} vs {want:e}");
    }
}

#[test]
fn the_joint_layout_gives_the_same_errors() {
    let (batch, n) = (2, 5);
    let a = MatrixBatch::new(batch, n, n, random(batch * n * n, 12)).unwrap();
    let svd = baseline::svd(&a, Some(3)).unwrap();
    let mut s = svd.s.clone();
    s.data.iter_mut().for_each(|v| *v *= 1.01);
    let spec = OpSpec::new(Operation::Svd, n, n, Some(3), None).unwrap();
    let m = spec.output_len();
    let mut joint = Vec::with_capacity(batch * m);
    for b in 0..batch {
        joint.extend_from_slice(svd.u.matrix(b));
        joint.extend_from_slice(s.matrix(b));
        joint.extend_from_slice(svd.v.matrix(b));
    }
    let by_joint = rel_err_op(&spec, &a, &joint, None).unwrap();
    let by_parts = rel_errs(Operation::Svd, &a, &[view(&svd.u), view(&s), view(&svd.v)], None, None).unwrap();
    assert_eq!(by_joint, by_parts);
    let defects = orthogonality_defects_op(&spec, batch, &joint).unwrap();
    assert!(defects.iter().all(|&d| d < 1e-14));
    // f32 values are widened before any arithmetic.
    let j32: Vec<f32> = joint.iter().map(|&v| v as f32).collect();
    let w: Vec<f64> = j32.iter().map(|&v| v as f64).collect();
    assert_eq!(rel_err_op(&spec, &a, &j32, None).unwrap(), rel_err_op(&spec, &a, &w, None).unwrap());
    // Wrong lengths.
    assert_eq!(rel_err_op(&spec, &a, &joint[1..], None).unwrap_err().code(), "SHAPE_MISMATCH");
    let rect = MatrixBatch::new(1, 4, 5, vec![1.0; 20]).unwrap();
    assert_eq!(rel_err_op(&spec, &rect, &joint[..m], None).unwrap_err().code(), "SHAPE_MISMATCH");
}

#[test]
fn qr_cholesky_eigh_exact_and_perturbed() {
    let delta = 1e-2;
    // QR of a 5 × 3: R₀₁ + δ adds Q δe₀e₁ᵀ, of norm δ.
    let a = MatrixBatch::new(2, 5, 3, random(30, 13)).unwrap();
    let qr = baseline::qr(&a).unwrap();
    let exact = rel_errs(Operation::Qr, &a, &[view(&qr.q), view(&qr.r)], None, None).unwrap();
    assert!(exact.iter().all(|&e| e < 1e-28), "{exact:?}");
    let mut r = qr.r.clone();
    r.data[1] += delta;
    let e = rel_errs(Operation::Qr, &a, &[view(&qr.q), view(&r)], None, None).unwrap();
    assert!((e[0] / (delta * delta / fro2(a.matrix(0))) - 1.0).abs() < 1e-8);
    assert!(e[1] < 1e-28);
    assert!(orthogonality_defect(Operation::Qr, &[view(&qr.q), view(&qr.r)]).unwrap() < 1e-14);

    // Cholesky by hand: A = diag(4, 9), L = [[2, 0], [δ, 3]]: LLᵀ − A = [[0, 2δ], [2δ, δ²]].
    let a = MatrixBatch::new(1, 2, 2, vec![4.0, 0.0, 0.0, 9.0]).unwrap();
    let l = [2.0, 0.0, delta, 3.0];
    let e = rel_errs(Operation::Cholesky, &a, &[ComponentView::new(1, 2, 2, &l[..])], None, None).unwrap()[0];
    let want = (8.0 * delta * delta + delta.powi(4)) / 97.0;
    assert!((e - want).abs() <= 1e-15 * want, "{e:e} vs {want:e}");
    let a = MatrixBatch::new(1, 6, 6, spd(6, 14)).unwrap();
    let l = baseline::cholesky(&a).unwrap();
    assert!(rel_errs(Operation::Cholesky, &a, &[view(&l)], None, None).unwrap()[0] < 1e-28);

    // eigh: λ₀ + δ adds V δe₀e₀ᵀ Vᵀ, of norm δ.
    let a = MatrixBatch::new(1, 6, 6, spd(6, 15)).unwrap();
    let eig = baseline::eigh(&a).unwrap();
    assert!(rel_errs(Operation::Eigh, &a, &[view(&eig.values), view(&eig.vectors)], None, None).unwrap()[0] < 1e-28);
    let mut values = eig.values.clone();
    values.data[0] += delta;
    let e = rel_errs(Operation::Eigh, &a, &[view(&values), view(&eig.vectors)], None, None).unwrap()[0];
    assert!((e / (delta * delta / fro2(&a.data)) - 1.0).abs() < 1e-8);
    assert!(orthogonality_defect(Operation::Eigh, &[view(&eig.values), view(&eig.vectors)]).unwrap() < 1e-14);
}

#[test]
fn expm_computes_the_exact_exponential_when_not_given() {
    // A = diag(0, ln 2): e^A = diag(1, 2), ‖e^A‖²_F = 5; an error δ at (0, 1) scores δ²/5.
    let a = MatrixBatch::new(1, 2, 2, vec![0.0, 0.0, 0.0, std::f64::consts::LN_2]).unwrap();
    let delta = 1e-3;
    let g = [1.0, delta, 0.0, 2.0];
    let parts = [ComponentView::new(1, 2, 2, &g[..])];
    let e = rel_errs(Operation::Expm, &a, &parts, None, None).unwrap()[0];
    assert!((e - delta * delta / 5.0).abs() < 1e-15, "{e:e}");
    let exact = MatrixBatch::new(1, 2, 2, vec![1.0, 0.0, 0.0, 2.0]).unwrap();
    let given = rel_errs(Operation::Expm, &a, &parts, None, Some(&exact)).unwrap()[0];
    assert!((given - e).abs() < 1e-18);
    // A random batch: exact results score round-off whether or not they are given.
    let a = MatrixBatch::new(3, 4, 4, random(48, 16).iter().map(|v| 0.5 * v).collect()).unwrap();
    let x = baseline::expm(&a).unwrap();
    assert_eq!(rel_errs(Operation::Expm, &a, &[view(&x)], None, None).unwrap(), vec![0.0; 3]);
    assert_eq!(rel_errs(Operation::Expm, &a, &[view(&x)], None, Some(&x)).unwrap(), vec![0.0; 3]);
    // `exact` of the wrong shape, or for another operation.
    let small = MatrixBatch::new(1, 4, 4, vec![0.0; 16]).unwrap();
    assert_eq!(rel_errs(Operation::Expm, &a, &[view(&x)], None, Some(&small)).unwrap_err().code(), "SHAPE_MISMATCH");
    let inv = baseline::inverse(&a).unwrap();
    assert_eq!(rel_errs(Operation::Inverse, &a, &[view(&inv)], None, Some(&x)).unwrap_err().code(), "INVALID_OPTION");
}

#[test]
fn solve_takes_a_shared_or_a_per_matrix_right_hand_side() {
    // A = diag(2, 4), b = (2, 4): x = (1, 1); x̂ = (1.1, 1) gives ‖Ax̂ − b‖/‖b‖ = 0.2/√20.
    let a = MatrixBatch::new(2, 2, 2, vec![2.0, 0.0, 0.0, 4.0, 2.0, 0.0, 0.0, 4.0]).unwrap();
    let x = [1.0, 1.0, 1.1, 1.0];
    let parts = [ComponentView::new(2, 2, 1, &x[..])];
    let e = rel_errs(Operation::Solve, &a, &parts, Some(&[2.0, 4.0]), None).unwrap();
    assert_eq!(e[0], 0.0);
    assert!((e[1] - 0.2 / 20f64.sqrt()).abs() < 1e-15);
    // Per matrix: the second system is A x = (2.2, 4), solved exactly by x̂.
    let e = rel_errs(Operation::Solve, &a, &parts, Some(&[2.0, 4.0, 2.2, 4.0]), None).unwrap();
    assert_eq!(e, vec![0.0, 0.0]);
    // A random batch against the exact solve baseline.
    let (batch, n) = (3, 5);
    let mut m = random(batch * n * n, 17);
    for b in 0..batch {
        for i in 0..n {
            m[b * n * n + i * n + i] += 5.0;
        }
    }
    let a = MatrixBatch::new(batch, n, n, m).unwrap();
    let rhs = random(n, 18);
    let xs = baseline::solve(&a, &rhs).unwrap();
    assert!(rel_errs(Operation::Solve, &a, &[view(&xs)], Some(&rhs), None).unwrap().iter().all(|&e| e < 1e-14));
    // No right-hand side, or one of the wrong length.
    assert_eq!(rel_errs(Operation::Solve, &a, &[view(&xs)], None, None).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(rel_errs(Operation::Solve, &a, &[view(&xs)], Some(&rhs[..4]), None).unwrap_err().code(), "SHAPE_MISMATCH");
    assert_eq!(rel_errs(Operation::Svd, &a, &[view(&xs)], Some(&rhs), None).unwrap_err().code(), "SHAPE_MISMATCH");
}

#[test]
fn inverse_through_rel_errs_is_rel_err_inverse() {
    let (batch, n) = (3, 4);
    let a = MatrixBatch::new(batch, n, n, random(batch * n * n, 19)).unwrap();
    let g = random(batch * n * n, 20);
    let per = rel_errs(Operation::Inverse, &a, &[ComponentView::new(batch, n, n, &g[..])], None, None).unwrap();
    let want = metrics::inverse_residuals(&a, &g).unwrap();
    for (x, y) in per.iter().zip(&want) {
        assert!((x - y).abs() <= 1e-13 * y, "{x} vs {y}");
    }
}

#[test]
fn malformed_components_are_typed_errors() {
    let a = MatrixBatch::new(2, 4, 3, random(24, 21)).unwrap();
    let svd = baseline::svd(&a, None).unwrap();
    let (u, s, v) = (view(&svd.u), view(&svd.s), view(&svd.v));
    let code = |r: neumatc::Result<Vec<f64>>| r.unwrap_err().code();
    // Missing component, swapped components, U as (batch, r, m).
    assert_eq!(code(rel_errs(Operation::Svd, &a, &[u, s], None, None)), "SHAPE_MISMATCH");
    assert_eq!(code(rel_errs(Operation::Svd, &a, &[v, s, u], None, None)), "SHAPE_MISMATCH");
    let ut = ComponentView::new(2, 3, 4, &svd.u.data[..]);
    assert_eq!(code(rel_errs(Operation::Svd, &a, &[ut, s, v], None, None)), "SHAPE_MISMATCH");
    // A data buffer shorter than its stated shape.
    let short = ComponentView::new(2, 4, 3, &svd.u.data[1..]);
    assert_eq!(code(rel_errs(Operation::Svd, &a, &[short, s, v], None, None)), "SHAPE_MISMATCH");
    // Rank above min(m, n).
    let big = [1.0; 2 * 4];
    let s4 = ComponentView::new(2, 4, 1, &big[..]);
    assert_eq!(code(rel_errs(Operation::Svd, &a, &[u, s4, v], None, None)), "INVALID_OPTION");
    // Square-only operations on a 4 × 3 input.
    let l = [0.0; 2 * 9];
    assert_eq!(code(rel_errs(Operation::Cholesky, &a, &[ComponentView::new(2, 3, 3, &l[..])], None, None)), "SHAPE_MISMATCH");
    // NaN in a prediction; f32 components are accepted.
    let mut bad = svd.s.data.clone();
    bad[1] = f64::NAN;
    assert_eq!(code(rel_errs(Operation::Svd, &a, &[u, ComponentView::new(2, 3, 1, &bad[..]), v], None, None)), "INVALID_INPUT");
    let s32: Vec<f32> = svd.s.data.iter().map(|&x| x as f32).collect();
    let e32 = rel_err(Operation::Svd, &a, &[u, ComponentView::new(2, 3, 1, &s32[..]), v], None, None).unwrap();
    assert!(e32 > 0.0 && e32 < 1e-13, "{e32:e}");
    // Orthogonality of an operation without orthonormal factors.
    let inv = [0.0; 9];
    assert_eq!(orthogonality_defect(Operation::Inverse, &[ComponentView::new(1, 3, 3, &inv[..])]).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(orthogonality_defect(Operation::Svd, &[u, s]).unwrap_err().code(), "SHAPE_MISMATCH");
}
