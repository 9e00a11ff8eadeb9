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
