//! The paper's metrics in complex arithmetic, batched and on the stacked layout of a complex model's
//! joint result.

use faer::c64;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::complex::ComplexBatch;

/// The paper's `RelErr_inv` in complex arithmetic: mean over the batch of `‖A Ĝ − I‖²_F / n`.
pub fn rel_err_inverse(a: &ComplexBatch, g: &ComplexBatch) -> Result<f64> {
    Ok(super::mean(&inverse_residuals(a, g)?))
}

/// `‖A Ĝ − I‖²_F / n` per matrix.
pub fn inverse_residuals(a: &ComplexBatch, g: &ComplexBatch) -> Result<Vec<f64>> {
    if a.rows != a.cols || (g.batch, g.rows, g.cols) != (a.batch, a.rows, a.cols) {
        return Err(Error::ShapeMismatch {
            op: "complex relErrInverse",
            expected: vec![a.batch, a.rows, a.rows],
            got: vec![g.batch, g.rows, g.cols],
        });
    }
    let n = a.rows;
    let out: Vec<f64> = (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let mut r = a.matrix(i) * g.matrix(i);
            for k in 0..n {
                r[(k, k)] -= c64::new(1.0, 0.0);
            }
            r.squared_norm_l2() / n as f64
        })
        .collect();
    finite(out)
}

/// The paper's `RelErr_svd` in complex arithmetic: mean over the batch of `‖Û diag(Ŝ) V̂ᴴ − A‖²_F / ‖A‖²_F`.
/// `u` is (batch, m, r), `s` (batch, r, 1) or (batch, 1, r), `v` (batch, n, r).
pub fn rel_err_svd(a: &ComplexBatch, u: &ComplexBatch, s: &[f64], v: &ComplexBatch) -> Result<f64> {
    Ok(super::mean(&svd_errors(a, u, s, v)?))
}

/// `‖Û diag(Ŝ) V̂ᴴ − A‖²_F / ‖A‖²_F` per matrix.
pub fn svd_errors(a: &ComplexBatch, u: &ComplexBatch, s: &[f64], v: &ComplexBatch) -> Result<Vec<f64>> {
    let (m, n, r) = (a.rows, a.cols, u.cols);
    if (u.batch, u.rows) != (a.batch, m) || (v.batch, v.rows, v.cols) != (a.batch, n, r) || s.len() != a.batch * r {
        return Err(Error::ShapeMismatch {
            op: "complex relErrSvd",
            expected: vec![a.batch, m, r, n],
            got: vec![u.batch, u.rows, u.cols, v.rows, s.len() / a.batch.max(1)],
        });
    }
    let out: Vec<f64> = (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let mut us = u.matrix(i);
            for j in 0..r {
                let sj = s[i * r + j];
                us.col_mut(j).iter_mut().for_each(|z| *z *= sj);
            }
            let ai = a.matrix(i);
            let diff = us * v.matrix(i).adjoint() - &ai;
            diff.squared_norm_l2() / ai.squared_norm_l2().max(f64::MIN_POSITIVE)
        })
        .collect();
    finite(out)
}

fn finite(v: Vec<f64>) -> Result<Vec<f64>> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::input("relErr", "the prediction holds NaN or Inf"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::complex::{inverse, svd, svd_stacked};
    use crate::matrix::complex::tests::random;

    #[test]
    fn inverse_and_svd_are_exact_in_complex_arithmetic() {
        let a = random(3, 6, 6, 4);
        let g = inverse(&a).unwrap();
        assert!(rel_err_inverse(&a, &g).unwrap() < 1e-26);
        // Embedded real inverse agrees.
        let ge = crate::linalg::inverse(&a.embed()).unwrap();
        let back = ComplexBatch::from_embedding(&ge).unwrap();
        for (x, y) in back.re.iter().zip(&g.re).chain(back.im.iter().zip(&g.im)) {
            assert!((x - y).abs() < 1e-12);
        }
        let full = svd(&a, None).unwrap();
        assert!(rel_err_svd(&a, &full.u, &full.s.data, &full.v).unwrap() < 1e-26);
        let low = svd(&a, Some(2)).unwrap();
        let e = rel_err_svd(&a, &low.u, &low.s.data, &low.v).unwrap();
        assert!(e > 1e-3 && e < 1.0, "{e}");
        let sing = ComplexBatch::new(1, 2, 2, vec![1.0, 2.0, 2.0, 4.0], vec![0.0; 4]).unwrap();
        assert_eq!(inverse(&sing).unwrap_err().code(), "SINGULAR");
    }

    #[test]
    fn stacked_svd_satisfies_the_real_residual_and_alignment_removes_phases() {
        let (m, n, r) = (5, 4, 3);
        let a = random(1, m, n, 7);
        let e = a.embed();
        let g = svd_stacked(&e.data, m, n, r).unwrap();
        // E(A) V_E = U_E S.
        let v = &g[2 * m * r + r..];
        let av = crate::linalg::matmul(&e.data, 2 * m, 2 * n, false, v, 2 * n, r, false);
        for i in 0..2 * m {
            for j in 0..r {
                assert!((av[i * r + j] - g[i * r + j] * g[2 * m * r + j]).abs() < 1e-12);
            }
        }
        assert!(crate::op::complex::svd_rel_err_stacked(&e.data, &g, m, n, r) < 1.0);
        // A phase-rotated, re-ordered copy aligns back.
        let mut h = g.clone();
        let rot = c64::new(0.6, 0.8);
        let swap = |j: usize| [1, 0, 2][j];
        for (off, rows) in [(0, m), (2 * m * r + r, n)] {
            for i in 0..rows {
                for j in 0..r {
                    let z = c64::new(g[off + i * r + swap(j)], g[off + (rows + i) * r + swap(j)]) * rot;
                    h[off + i * r + j] = z.re;
                    h[off + (rows + i) * r + j] = z.im;
                }
            }
        }
        for j in 0..r {
            h[2 * m * r + j] = g[2 * m * r + swap(j)];
        }
        crate::op::align::align_complex_svd(&g, &mut h, m, n, r);
        for (x, y) in h.iter().zip(&g) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }
}
