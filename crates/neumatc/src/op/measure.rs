//! The per-parameter measures of every operation (what `NeuMatC::check` reports): residuals, the
//! reconstruction and orthogonality errors and the inverse's contraction estimate, exact or from a Gaussian
//! sketch `Ω`, for one row-major `A(p)` and one joint result.

use faer::Accum;

use super::{OpSpec, Operation};
use crate::linalg::{gemv, matmul, norm, residual, scale_cols, scale_rows, seeded_gaussian, sq, sub};

/// Power iterations of the `contraction` estimate.
const POWER_ITERS: usize = 20;

/// Seed of the probe matrix `Ω` and of the power iteration's start vector (the same for every parameter,
/// so that a check is reproducible).
pub(crate) const SEED: u64 = 0x006e_6575_6d61_7463;

/// The measure names of `op`, in the order of `NeuMatC::check`'s report.
pub(crate) fn measure_names(op: Operation) -> &'static [&'static str] {
    match op {
        Operation::Inverse => &["residual", "contraction"],
        Operation::Solve | Operation::Cholesky | Operation::Expm => &["residual"],
        Operation::Svd => &["residual", "reconstruction", "orthogonality"],
        Operation::Qr | Operation::Eigh => &["residual", "orthogonality"],
    }
}

/// Gaussian probe columns `Ω` (row-major `rows × k`); products with an `r`-row `Ω` take its first `r` rows
/// (still independent standard normal entries).
pub(crate) struct Sketch {
    omega: Vec<f64>,
    k: usize,
}

impl Sketch {
    pub(crate) fn new(rows: usize, k: usize) -> Self {
        Self { omega: seeded_gaussian(rows * k, SEED), k }
    }

    /// The first `rows` rows (`rows × k`).
    fn rows(&self, rows: usize) -> &[f64] {
        &self.omega[..rows * self.k]
    }

    /// `‖X‖²_F` estimated from `X Ω` (`‖X Ω‖²_F / k`).
    fn norm2(&self, x_omega: &[f64]) -> f64 {
        sq(x_omega) / self.k as f64
    }
}

/// `‖U diag(s) Vᵀ − A‖²_F` (exact, or from `Ω`) for row-major `U` (`m × r`), `V` (`n × r`), `A` (`m × n`).
fn low_rank_gap2(u: &[f64], s: &[f64], v: &[f64], a: &[f64], m: usize, n: usize, sketch: Option<&Sketch>) -> f64 {
    let r = s.len();
    match sketch {
        None => {
            let mut d = matmul(&scale_cols(u, s), m, r, false, v, n, r, true);
            sub(&mut d, a);
            sq(&d)
        }
        Some(sk) => {
            let (om, k) = (sk.rows(n), sk.k);
            let vt_om = scale_rows(&matmul(v, n, r, true, om, n, k, false), s, k);
            let mut d = matmul(u, m, r, false, &vt_om, r, k, false);
            sub(&mut d, &matmul(a, m, n, false, om, n, k, false));
            sk.norm2(&d)
        }
    }
}

/// `‖XᵀX − I‖_F / √c` for row-major `X` (`rows × c`), exact or from `Ω`.
fn orthogonality(x: &[f64], rows: usize, c: usize, sketch: Option<&Sketch>) -> f64 {
    let d2 = match sketch {
        None => {
            let mut g = matmul(x, rows, c, true, x, rows, c, false);
            (0..c).for_each(|i| g[i * c + i] -= 1.0);
            sq(&g)
        }
        Some(sk) => {
            let (om, k) = (sk.rows(c), sk.k);
            let mut d = matmul(x, rows, c, true, &matmul(x, rows, c, false, om, c, k, false), rows, k, false);
            sub(&mut d, om);
            sk.norm2(&d)
        }
    };
    (d2 / c.max(1) as f64).sqrt()
}

/// The measures of one parameter, in [`measure_names`] order: `a` is the row-major `A(p)`, `g` the joint
/// prediction (f64), `start` the power iteration's start vector (`n` values).
pub(crate) fn measures(spec: &OpSpec, a: &[f64], g: &[f64], sketch: Option<&Sketch>, start: &[f64]) -> Vec<f64> {
    if spec.complex && spec.op == Operation::Inverse {
        // The embedded form: ‖E(A)E(Ĝ) − I‖_F/√(2n) = ‖AĜ − I‖_F/√n, and the same spectral norm.
        let real = OpSpec { complex: false, ..spec.clone() };
        return measures(&real, a, &crate::matrix::complex::expand_stacked(g, spec.cols / 2), sketch, start);
    }
    let (m, n) = (spec.rows, spec.cols);
    let parts = spec.split(g);
    let anorm = norm(a).max(f64::MIN_POSITIVE);
    match spec.op {
        Operation::Inverse => {
            let gi = parts[0];
            let d2 = match sketch {
                None => {
                    let mut d = matmul(a, n, n, false, gi, n, n, false);
                    (0..n).for_each(|i| d[i * n + i] -= 1.0);
                    sq(&d)
                }
                Some(sk) => {
                    let (om, k) = (sk.rows(n), sk.k);
                    let mut d = matmul(a, n, n, false, &matmul(gi, n, n, false, om, n, k, false), n, k, false);
                    sub(&mut d, om);
                    sk.norm2(&d)
                }
            };
            vec![(d2 / n.max(1) as f64).sqrt(), contraction(a, gi, n, start)]
        }
        Operation::Solve => {
            let b = spec.rhs.as_deref().unwrap_or_default();
            let mut r = vec![0.0; n];
            vec![residual(a, n, b, parts[0], &mut r) / norm(b).max(f64::MIN_POSITIVE)]
        }
        Operation::Svd => {
            let r = spec.rank;
            let (u, s, v) = (parts[0], parts[1], parts[2]);
            // A V − U S (m × r) and Aᵀ U − V S (n × r), or both times Ω (r × k).
            let d2 = match sketch {
                None => {
                    let mut r1 = matmul(a, m, n, false, v, n, r, false);
                    sub(&mut r1, &scale_cols(u, s));
                    let mut r2 = matmul(a, m, n, true, u, m, r, false);
                    sub(&mut r2, &scale_cols(v, s));
                    sq(&r1) + sq(&r2)
                }
                Some(sk) => {
                    let (om, k) = (sk.rows(r), sk.k);
                    let s_om = scale_rows(om, s, k);
                    let mut r1 = matmul(a, m, n, false, &matmul(v, n, r, false, om, r, k, false), n, k, false);
                    sub(&mut r1, &matmul(u, m, r, false, &s_om, r, k, false));
                    let mut r2 = matmul(a, m, n, true, &matmul(u, m, r, false, om, r, k, false), m, k, false);
                    sub(&mut r2, &matmul(v, n, r, false, &s_om, r, k, false));
                    sk.norm2(&r1) + sk.norm2(&r2)
                }
            };
            let orth = orthogonality(u, m, r, sketch).max(orthogonality(v, n, r, sketch));
            vec![d2.sqrt() / anorm, low_rank_gap2(u, s, v, a, m, n, sketch).sqrt() / anorm, orth]
        }
        Operation::Qr => {
            let (q, rr) = (parts[0], parts[1]);
            let d2 = match sketch {
                None => {
                    let mut d = matmul(q, m, n, false, rr, n, n, false);
                    sub(&mut d, a);
                    sq(&d)
                }
                Some(sk) => {
                    let (om, k) = (sk.rows(n), sk.k);
                    let mut d = matmul(q, m, n, false, &matmul(rr, n, n, false, om, n, k, false), n, k, false);
                    sub(&mut d, &matmul(a, m, n, false, om, n, k, false));
                    sk.norm2(&d)
                }
            };
            vec![d2.sqrt() / anorm, orthogonality(q, m, n, sketch)]
        }
        Operation::Cholesky => {
            let l = parts[0];
            let d2 = match sketch {
                None => {
                    let mut d = matmul(l, n, n, false, l, n, n, true);
                    sub(&mut d, a);
                    sq(&d)
                }
                Some(sk) => {
                    let (om, k) = (sk.rows(n), sk.k);
                    let mut d = matmul(l, n, n, false, &matmul(l, n, n, true, om, n, k, false), n, k, false);
                    sub(&mut d, &matmul(a, n, n, false, om, n, k, false));
                    sk.norm2(&d)
                }
            };
            vec![d2.sqrt() / anorm]
        }
        Operation::Eigh => {
            let (lam, v) = (parts[0], parts[1]);
            let d2 = match sketch {
                None => {
                    let mut d = matmul(a, n, n, false, v, n, n, false);
                    sub(&mut d, &scale_cols(v, lam));
                    sq(&d)
                }
                Some(sk) => {
                    let (om, k) = (sk.rows(n), sk.k);
                    let mut d = matmul(a, n, n, false, &matmul(v, n, n, false, om, n, k, false), n, k, false);
                    sub(&mut d, &matmul(v, n, n, false, &scale_rows(om, lam, k), n, k, false));
                    sk.norm2(&d)
                }
            };
            vec![d2.sqrt() / anorm, orthogonality(v, n, n, sketch)]
        }
        Operation::Expm => {
            let e = parts[0];
            let d2 = match sketch {
                None => {
                    let mut d = matmul(a, n, n, false, e, n, n, false);
                    sub(&mut d, &matmul(e, n, n, false, a, n, n, false));
                    sq(&d)
                }
                Some(sk) => {
                    let (om, k) = (sk.rows(n), sk.k);
                    let mut d = matmul(a, n, n, false, &matmul(e, n, n, false, om, n, k, false), n, k, false);
                    sub(&mut d, &matmul(e, n, n, false, &matmul(a, n, n, false, om, n, k, false), n, k, false));
                    sk.norm2(&d)
                }
            };
            vec![d2.sqrt() / (anorm * norm(e).max(f64::MIN_POSITIVE))]
        }
    }
}

/// `‖I − A Ĝ‖₂` estimated by [`POWER_ITERS`] power iterations on `EᵀE`, `E = I − A Ĝ`, from `start`;
/// four matrix–vector products (`O(n²)`) per iteration, no `n × n` product. Approaches from below.
pub(crate) fn contraction(a: &[f64], g: &[f64], n: usize, start: &[f64]) -> f64 {
    let mut v = start.to_vec();
    let (mut t, mut w) = (vec![0.0; n], vec![0.0; n]);
    let mut sigma = 0.0;
    for _ in 0..POWER_ITERS {
        let nv = norm(&v);
        if nv == 0.0 || !nv.is_finite() {
            return if nv == 0.0 { sigma } else { f64::NAN };
        }
        v.iter_mut().for_each(|x| *x /= nv);
        // w = E v = v − A (Ĝ v)
        gemv(&mut t, Accum::Replace, g, n, n, false, &v, 1.0);
        w.copy_from_slice(&v);
        gemv(&mut w, Accum::Add, a, n, n, false, &t, -1.0);
        sigma = norm(&w);
        // v = Eᵀ w = w − Ĝᵀ (Aᵀ w)
        gemv(&mut t, Accum::Replace, a, n, n, true, &w, 1.0);
        v.copy_from_slice(&w);
        gemv(&mut v, Accum::Add, g, n, n, true, &t, -1.0);
    }
    sigma
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The power iteration finds the spectral norm of `I − A G` for a diagonal `A` and `G`.
    #[test]
    fn contraction_of_a_diagonal_residual() {
        let n = 6;
        let mut a = vec![0.0; n * n];
        let mut g = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] = 1.0 + i as f64;
            g[i * n + i] = (1.0 - 0.05 * i as f64) / (1.0 + i as f64);
        }
        // I − A G = diag(0.05 i): norm 0.25.
        let c = contraction(&a, &g, n, &seeded_gaussian(n, 3));
        assert!((c - 0.25).abs() < 1e-3, "{c}");
        let exact: Vec<f64> = a.iter().map(|&x| if x > 0.0 { 1.0 / x } else { 0.0 }).collect();
        assert!(contraction(&a, &exact, n, &[1.0; 6]) < 1e-15);
    }
}
