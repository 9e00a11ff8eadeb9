//! The algebraic structure residual `R(G)` of every operation and its derivative, for the structure term
//! of training and for candidate scoring.
//!
//! Each residual is scaled so that `‖R‖²` is comparable to the operation's relative error (`‖A‖_F`,
//! `√r`, `√n` normalisations). Residual blocks that are `n × n` matrices are sketched with Gaussian probes
//! `Ω` (`n × k`): `‖X Ω‖²_F / k` is an unbiased estimate of `‖X‖²_F` and costs `O(n² k)` instead of
//! `O(n³)`; every product is taken right-to-left so that no `n × n` product is ever formed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{OpSpec, Operation};
use crate::linalg::{gaussian, matmul, scale_cols, scale_rows, sub};

/// Gaussian probe columns `Ω` (`n × k`, row-major) of the sketched residual blocks.
#[derive(Debug, Clone)]
pub struct Probe {
    omega: Vec<f64>,
    n: usize,
    k: usize,
}

impl Probe {
    /// `k` standard normal columns of length `n`, seeded.
    pub fn new(n: usize, k: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9);
        Self { omega: gaussian(&mut rng, n * k), n, k }
    }

    /// `X Ω` for row-major `X` (`rows × n`), or `Xᵀ Ω` when `t` (X is `n × cols`).
    fn apply(&self, x: &[f64], rows: usize, cols: usize, t: bool) -> Vec<f64> {
        matmul(x, rows, cols, t, &self.omega, self.n, self.k, false)
    }
}

fn scale(v: &mut [f64], s: f64) {
    v.iter_mut().for_each(|x| *x *= s);
}

fn add(a: &mut [f64], b: &[f64]) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
}

impl OpSpec {
    /// The structure residual of the joint result `g` at the row-major matrix `a`; `gscale` is the typical
    /// `‖G‖_F` of the data (used by `expm`, whose residual is homogeneous in `G`).
    pub(crate) fn residual(&self, a: &[f64], g: &[f64], probe: &Probe, gscale: f64) -> Vec<f64> {
        self.eval(a, true, g, None, probe, gscale)
    }

    /// The derivative of [`OpSpec::residual`] at `g` in the direction `dg`.
    pub(crate) fn d_residual(&self, a: &[f64], g: &[f64], dg: &[f64], probe: &Probe, gscale: f64) -> Vec<f64> {
        self.eval(a, true, g, Some(dg), probe, gscale)
    }

    /// The part of [`OpSpec::d_residual`] that does not involve `A` (the products among the result's own
    /// factors). The rest, `d_residual(a, 0, dg)`, is linear in `dg` and independent of `g`: a
    /// Gauss–Newton solve computes it once per point and only this part at every iteration.
    pub(crate) fn d_residual_without_a(&self, a: &[f64], g: &[f64], dg: &[f64], probe: &Probe, gscale: f64) -> Vec<f64> {
        self.eval(a, false, g, Some(dg), probe, gscale)
    }

    /// Whether the derivative has terms that involve `A` (then [`OpSpec::d_residual_without_a`] differs
    /// from [`OpSpec::d_residual`]).
    pub(crate) fn derivative_involves_a(&self) -> bool {
        !matches!(self.op, Operation::Qr | Operation::Cholesky)
    }

    /// Whether the derivative depends on `g` (the residual is not linear in `G`).
    pub(crate) fn derivative_involves_g(&self) -> bool {
        !self.linear()
    }

    /// The residual (`dg = None`) or its directional derivative (`dg = Some`).
    /// `with_a = false` drops the terms of the derivative that involve `A` (see `d_residual_without_a`).
    fn eval(&self, a: &[f64], with_a: bool, g: &[f64], dg: Option<&[f64]>, probe: &Probe, gscale: f64) -> Vec<f64> {
        // `op(A) X` in a derivative term, or zeros when such terms are dropped.
        let amul = |t: bool, x: &[f64], rows: usize, cols: usize| -> Vec<f64> {
            let out_rows = if t { self.cols } else { self.rows };
            if with_a { matmul(a, self.rows, self.cols, t, x, rows, cols, false) } else { vec![0.0; out_rows * cols] }
        };
        let (m, n) = (self.rows, self.cols);
        let anorm = a.iter().map(|v| v * v).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
        let sk = 1.0 / (probe.k as f64).sqrt();
        let parts = self.split(g);
        let d = dg.map(|dg| self.split(dg));
        match self.op {
            Operation::Inverse | Operation::Expm => {
                // inverse: (A G − I) Ω / √(k n); expm: (A G − G A) Ω / (√k ‖A‖ ‖G‖).
                let x = d.as_ref().map_or(parts[0], |d| d[0]);
                if !with_a {
                    return vec![0.0; n * probe.k];
                }
                let mut r = matmul(a, n, n, false, &probe.apply(x, n, n, false), n, probe.k, false);
                let s = if self.op == Operation::Inverse {
                    if d.is_none() {
                        sub(&mut r, &probe.omega);
                    }
                    sk / (n as f64).sqrt()
                } else {
                    let ga = matmul(x, n, n, false, &probe.apply(a, n, n, false), n, probe.k, false);
                    sub(&mut r, &ga);
                    sk / (anorm * gscale.max(f64::MIN_POSITIVE))
                };
                scale(&mut r, s);
                r
            }
            Operation::Solve => {
                let b = self.rhs.as_deref().unwrap_or_default();
                let x = d.as_ref().map_or(parts[0], |d| d[0]);
                if !with_a {
                    return vec![0.0; n];
                }
                let mut r = matmul(a, n, n, false, x, n, 1, false);
                if d.is_none() {
                    sub(&mut r, b);
                }
                scale(&mut r, 1.0 / b.iter().map(|v| v * v).sum::<f64>().sqrt());
                r
            }
            Operation::Svd => {
                let r = self.rank;
                let (u, s, v) = (parts[0], parts[1], parts[2]);
                let sr = 1.0 / (r as f64).sqrt();
                // A V − U S, Aᵀ U − V S, UᵀU − I, VᵀV − I.
                let (mut r1, mut r2, mut r3, mut r4);
                match &d {
                    None => {
                        r1 = matmul(a, m, n, false, v, n, r, false);
                        sub(&mut r1, &scale_cols(u, s));
                        r2 = matmul(a, m, n, true, u, m, r, false);
                        sub(&mut r2, &scale_cols(v, s));
                        r3 = matmul(u, m, r, true, u, m, r, false);
                        r4 = matmul(v, n, r, true, v, n, r, false);
                        (0..r).for_each(|i| {
                            r3[i * r + i] -= 1.0;
                            r4[i * r + i] -= 1.0;
                        });
                    }
                    Some(d) => {
                        let (du, ds, dv) = (d[0], d[1], d[2]);
                        r1 = amul(false, dv, n, r);
                        sub(&mut r1, &scale_cols(du, s));
                        sub(&mut r1, &scale_cols(u, ds));
                        r2 = amul(true, du, m, r);
                        sub(&mut r2, &scale_cols(dv, s));
                        sub(&mut r2, &scale_cols(v, ds));
                        r3 = matmul(du, m, r, true, u, m, r, false);
                        add(&mut r3, &matmul(u, m, r, true, du, m, r, false));
                        r4 = matmul(dv, n, r, true, v, n, r, false);
                        add(&mut r4, &matmul(v, n, r, true, dv, n, r, false));
                    }
                }
                scale(&mut r1, 1.0 / anorm);
                scale(&mut r2, 1.0 / anorm);
                scale(&mut r3, sr);
                scale(&mut r4, sr);
                [r1, r2, r3, r4].concat()
            }
            Operation::Qr => {
                let (q, rr) = (parts[0], parts[1]);
                let k = probe.k;
                let r_om = probe.apply(rr, n, n, false);
                let q_om = probe.apply(q, m, n, false);
                let (mut r1, mut r2);
                match &d {
                    None => {
                        r1 = probe.apply(a, m, n, false);
                        sub(&mut r1, &matmul(q, m, n, false, &r_om, n, k, false));
                        r2 = matmul(q, m, n, true, &q_om, m, k, false);
                        sub(&mut r2, &probe.omega);
                    }
                    Some(d) => {
                        let (dq, dr) = (d[0], d[1]);
                        r1 = matmul(dq, m, n, false, &r_om, n, k, false);
                        add(&mut r1, &matmul(q, m, n, false, &probe.apply(dr, n, n, false), n, k, false));
                        scale(&mut r1, -1.0);
                        r2 = matmul(dq, m, n, true, &q_om, m, k, false);
                        add(&mut r2, &matmul(q, m, n, true, &probe.apply(dq, m, n, false), m, k, false));
                    }
                }
                scale(&mut r1, sk / anorm);
                scale(&mut r2, sk / (n as f64).sqrt());
                [r1, r2].concat()
            }
            Operation::Cholesky => {
                let l = parts[0];
                let k = probe.k;
                let lt_om = probe.apply(l, n, n, true);
                let mut r1 = match &d {
                    None => {
                        let mut r1 = probe.apply(a, n, n, false);
                        sub(&mut r1, &matmul(l, n, n, false, &lt_om, n, k, false));
                        r1
                    }
                    Some(d) => {
                        let dl = d[0];
                        let mut r1 = matmul(dl, n, n, false, &lt_om, n, k, false);
                        add(&mut r1, &matmul(l, n, n, false, &probe.apply(dl, n, n, true), n, k, false));
                        scale(&mut r1, -1.0);
                        r1
                    }
                };
                scale(&mut r1, sk / anorm);
                r1
            }
            Operation::Eigh => {
                let (lam, v) = (parts[0], parts[1]);
                let k = probe.k;
                let v_om = probe.apply(v, n, n, false);
                let lam_om = scale_rows(&probe.omega, lam, k);
                let (mut r1, mut r2);
                match &d {
                    None => {
                        r1 = matmul(a, n, n, false, &v_om, n, k, false);
                        sub(&mut r1, &matmul(v, n, n, false, &lam_om, n, k, false));
                        r2 = matmul(v, n, n, true, &v_om, n, k, false);
                        sub(&mut r2, &probe.omega);
                    }
                    Some(d) => {
                        let (dlam, dv) = (d[0], d[1]);
                        let dv_om = probe.apply(dv, n, n, false);
                        r1 = amul(false, &dv_om, n, k);
                        sub(&mut r1, &matmul(dv, n, n, false, &lam_om, n, k, false));
                        sub(&mut r1, &matmul(v, n, n, false, &scale_rows(&probe.omega, dlam, k), n, k, false));
                        r2 = matmul(dv, n, n, true, &v_om, n, k, false);
                        add(&mut r2, &matmul(v, n, n, true, &dv_om, n, k, false));
                    }
                }
                scale(&mut r1, sk / anorm);
                scale(&mut r2, sk / (n as f64).sqrt());
                [r1, r2].concat()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn spec(op: Operation, m: usize, n: usize) -> OpSpec {
        let rank = (op == Operation::Svd).then_some(3);
        let rhs = (op == Operation::Solve).then(|| (0..n).map(|i| 1.0 + i as f64 * 0.1).collect());
        OpSpec::new(op, m, n, rank, rhs).unwrap()
    }

    /// The directional derivative of every residual agrees with central finite differences.
    #[test]
    fn derivative_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for op in Operation::ALL {
            let (m, n) = if op == Operation::Svd || op == Operation::Qr { (7, 5) } else { (5, 5) };
            let s = spec(op, m, n);
            let probe = Probe::new(n, 3, 4);
            let a: Vec<f64> = (0..m * n).map(|_| rng.random::<f64>() - 0.5).collect();
            let g: Vec<f64> = (0..s.output_len()).map(|_| rng.random::<f64>() - 0.5).collect();
            let dg: Vec<f64> = (0..s.output_len()).map(|_| rng.random::<f64>() - 0.5).collect();
            let h = 1e-6;
            let shifted = |t: f64| -> Vec<f64> {
                let gt: Vec<f64> = g.iter().zip(&dg).map(|(x, y)| x + t * y).collect();
                s.residual(&a, &gt, &probe, 1.3)
            };
            let (plus, minus) = (shifted(h), shifted(-h));
            let analytic = s.d_residual(&a, &g, &dg, &probe, 1.3);
            // The split the Gauss–Newton solver uses: the A part at g = 0 plus the rest.
            let zero = vec![0.0; g.len()];
            let parts: Vec<f64> = s
                .d_residual(&a, &zero, &dg, &probe, 1.3)
                .iter()
                .zip(s.d_residual_without_a(&a, &g, &dg, &probe, 1.3))
                .map(|(x, y)| x + y)
                .collect();
            for (x, y) in parts.iter().zip(&analytic) {
                assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{op:?}: split {x} vs whole {y}");
            }
            assert_eq!(analytic.len(), plus.len(), "{op:?}");
            for (i, ((p, q), d)) in plus.iter().zip(&minus).zip(&analytic).enumerate() {
                let fd = (p - q) / (2.0 * h);
                assert!((fd - d).abs() <= 1e-6 * fd.abs().max(1.0), "{op:?} entry {i}: fd {fd} vs analytic {d}");
            }
        }
    }
}
