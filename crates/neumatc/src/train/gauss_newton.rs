//! The structure term of every operation other than the inverse, in the coordinates of a fixed basis.
//!
//! With `G(c) = Σ_l c_l C_l`, the residual `R_q(c)` of [`OpSpec::residual`] at a collocation point `q`
//! is polynomial in `c` (linear for solve and expm, quadratic or cubic for the factorisations). Its
//! minimiser over the basis, `c*_q`, is found by Levenberg–Marquardt from a neighbouring sample's
//! coefficients, and the term is kept as its Gauss–Newton model `‖J(c − c*_q)‖² + ‖R_q(c*_q)‖²` — the
//! same quadratic form the inverse has exactly (for linear residuals this one is exact too). Adam then
//! fits `Φ` at `O(d²)` per point and step, as for the inverse. Candidates are scored by the residual of
//! the current model itself, as Algorithm 1 does.

use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;

use super::quad::FactoredForm;
use crate::error::Result;
use crate::family::Family;
use crate::op::{OpSpec, Probe};

/// Levenberg–Marquardt iterations per point (the problems are small, smooth and start close).
const MAX_ITERS: usize = 12;

/// A basis `C` (`d × m`, rows are joint results) and what the residuals need.
pub(super) struct GaussNewtonTerms {
    pub spec: OpSpec,
    /// Values per joint result.
    pub m: usize,
    pub d: usize,
    /// `C`, `d × m` row-major, in the components' own units (masked entries exactly zero).
    pub latent: Vec<f64>,
    probe: Probe,
    /// Typical `‖G‖_F` of the data (normalises the homogeneous expm residual).
    gscale: f64,
}

impl GaussNewtonTerms {
    pub fn new(spec: OpSpec, latent: Vec<f64>, d: usize, probes: usize, seed: u64, gscale: f64) -> Self {
        let m = spec.output_len();
        let probe = Probe::new(spec.cols, probes, seed);
        Self { spec, m, d, latent, probe, gscale }
    }

    /// `G(c) = Σ_l c_l C_l` for the first `c.len()` basis rows.
    fn combine(&self, c: &[f64]) -> Vec<f64> {
        let d = c.len();
        let mut g = vec![0.0; self.m];
        let lhs = MatRef::from_row_major_slice(c, 1, d);
        let rhs = MatRef::from_row_major_slice(&self.latent[..d * self.m], d, self.m);
        faer::linalg::matmul::matmul(faer::MatMut::from_row_major_slice_mut(&mut g, 1, self.m), Accum::Replace, lhs, rhs, 1.0, Par::Seq);
        g
    }

    fn residual(&self, a: &[f64], c: &[f64]) -> Vec<f64> {
        self.spec.residual(a, &self.combine(c), &self.probe, self.gscale)
    }

    /// The part of the Jacobian that involves `A` (independent of `c`): `rows × d`, or `None` when the
    /// operation's derivative has no such part.
    fn jacobian_of_a(&self, a: &[f64], d: usize, rows: usize) -> Option<Mat<f64>> {
        if !self.spec.derivative_involves_a() {
            return None;
        }
        let zero = vec![0.0; self.m];
        let mut j = Mat::<f64>::zeros(rows, d);
        for l in 0..d {
            let col = self.spec.d_residual(a, &zero, &self.latent[l * self.m..(l + 1) * self.m], &self.probe, self.gscale);
            for (i, v) in col.into_iter().enumerate() {
                j[(i, l)] = v;
            }
        }
        Some(j)
    }

    /// `JᵀJ` and `Jᵀr` at `c` (`d = c.len()`), `J` = the precomputed `A` part plus the part that depends on `c`.
    fn normal(&self, a: &[f64], c: &[f64], r: &[f64], j_a: Option<&Mat<f64>>) -> (Mat<f64>, Vec<f64>) {
        let d = c.len();
        let rows = r.len();
        let mut j = j_a.cloned().unwrap_or_else(|| Mat::<f64>::zeros(rows, d));
        if self.spec.derivative_involves_g() {
            let g = self.combine(c);
            for l in 0..d {
                let col = self.spec.d_residual_without_a(a, &g, &self.latent[l * self.m..(l + 1) * self.m], &self.probe, self.gscale);
                for (i, v) in col.into_iter().enumerate() {
                    j[(i, l)] += v;
                }
            }
        }
        let mut jtj = Mat::<f64>::zeros(d, d);
        faer::linalg::matmul::matmul(jtj.as_mut(), Accum::Replace, j.transpose(), j.as_ref(), 1.0, Par::Seq);
        let rv = MatRef::from_column_major_slice(r, rows, 1);
        let mut jtr = Mat::<f64>::zeros(d, 1);
        faer::linalg::matmul::matmul(jtr.as_mut(), Accum::Replace, j.transpose(), rv, 1.0, Par::Seq);
        (jtj, (0..d).map(|i| jtr[(i, 0)]).collect())
    }

    /// The structure term at the row-major matrix `a` for the first `d` basis rows, from `start`.
    pub fn quad(&self, a: &[f64], start: &[f64], d: usize) -> FactoredForm {
        let sq = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();
        let mut c: Vec<f64> = (0..d).map(|l| start.get(l).copied().unwrap_or(0.0)).collect();
        let mut r = self.residual(a, &c);
        let mut f = sq(&r);
        let j_a = self.jacobian_of_a(a, d, r.len());
        let (mut jtj, mut jtr) = self.normal(a, &c, &r, j_a.as_ref());
        let mut mu = 1e-6;
        for _ in 0..MAX_ITERS {
            if f < 1e-28 {
                break;
            }
            let diag_mean = (0..d).map(|i| jtj[(i, i)]).sum::<f64>() / d as f64;
            let mut accepted = false;
            while mu < 1e8 {
                let mut sys = jtj.clone();
                for i in 0..d {
                    sys[(i, i)] += mu * (jtj[(i, i)] + 1e-3 * diag_mean) + 1e-14 * diag_mean;
                }
                let Ok(llt) = sys.llt(faer::Side::Lower) else {
                    mu *= 10.0;
                    continue;
                };
                let mut step = Mat::<f64>::from_fn(d, 1, |i, _| -jtr[i]);
                faer::linalg::solvers::Solve::solve_in_place(&llt, step.as_mut());
                let trial: Vec<f64> = (0..d).map(|i| c[i] + step[(i, 0)]).collect();
                let rt = self.residual(a, &trial);
                let ft = sq(&rt);
                if ft.is_finite() && ft < f {
                    let gain = (f - ft) / f;
                    c = trial;
                    r = rt;
                    f = ft;
                    mu = (mu / 10.0).max(1e-12);
                    accepted = gain > 1e-10;
                    break;
                }
                mu *= 10.0;
            }
            if !accepted {
                break;
            }
            (jtj, jtr) = self.normal(a, &c, &r, j_a.as_ref());
        }
        FactoredForm::from_normal(&jtj, c, f)
    }

    /// Structure terms at a batch of parameters, each started from the matching row of `starts`.
    pub fn quads(&self, family: &Family, params: &[f64], starts: &[Vec<f64>], d: usize) -> Result<Vec<FactoredForm>> {
        let k = family.param_dim();
        let mut out = Vec::with_capacity(params.len() / k);
        for (chunk, st) in params.chunks(32 * k).zip(starts.chunks(32)) {
            let a = family.at(chunk)?;
            out.par_extend((0..a.batch).into_par_iter().map(|i| self.quad(a.matrix(i), &st[i], d)));
        }
        Ok(out)
    }

    /// `‖R(G(c))‖²` of the current model at each parameter (coefficients one row per parameter).
    pub fn scores(&self, family: &Family, params: &[f64], coefs: &[Vec<f64>]) -> Result<Vec<f64>> {
        let k = family.param_dim();
        let mut out = Vec::with_capacity(coefs.len());
        for (chunk, cs) in params.chunks(64 * k).zip(coefs.chunks(64)) {
            let a = family.at(chunk)?;
            out.par_extend((0..a.batch).into_par_iter().map(|i| self.residual(a.matrix(i), &cs[i]).iter().map(|v| v * v).sum::<f64>()));
        }
        Ok(out)
    }

    pub fn truncate(&mut self, d: usize) {
        self.latent.truncate(d * self.m);
        self.d = d;
    }
}
