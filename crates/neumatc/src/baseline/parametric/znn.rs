//! ZNNI: a Zhang neural network integrated along `p` (the paper's refs. [31, 37]); carries the
//! integration error of its ODE along the grid.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::gemm_par;
use crate::error::parse_options;
use crate::error::{Error, Result};
use crate::family::Family;
use crate::linalg::inverse;
use crate::matrix::MatrixBatch;

/// Largest accepted `substeps` of [`ZnnConfig`].
const MAX_ZNN_SUBSTEPS: usize = 100_000;

/// Options of [`znn_inverse`]. JSON uses camelCase names; every field is optional.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ZnnConfig {
    /// ZNN gain `γ` (per unit of `p`, ≥ 0): how hard the dynamics pull `X` back onto `A(p)⁻¹`. RK4 stays
    /// stable while `γ·Δp/substeps` is below about 2.7. Default 10.0.
    pub gamma: f64,
    /// Classical Runge–Kutta (RK4) steps between consecutive grid parameters (≥ 1). Default 4.
    pub substeps: usize,
}

impl Default for ZnnConfig {
    fn default() -> Self {
        Self { gamma: 10.0, substeps: 4 }
    }
}

impl ZnnConfig {
    /// Parses a JSON object of options; absent fields keep their defaults, unknown fields are errors.
    ///
    /// ```
    /// let cfg = neumatc::baseline::ZnnConfig::from_json(r#"{"substeps": 8}"#).unwrap();
    /// assert_eq!((cfg.gamma, cfg.substeps), (10.0, 8));
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: Self = parse_options("options", json)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Range checks on every option.
    pub fn validate(&self) -> Result<()> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::option("gamma", format!("must be a finite number ≥ 0, got {}", self.gamma)));
        }
        if !(1..=MAX_ZNN_SUBSTEPS).contains(&self.substeps) {
            return Err(Error::option("substeps", format!("must be in 1..={MAX_ZNN_SUBSTEPS}, got {}", self.substeps)));
        }
        Ok(())
    }
}

/// The paper's ZNNI baseline: the inverse of a one-parameter family tracked along an ascending grid of
/// parameters by a Zhang neural network (ZNN) with the parameter as time.
///
/// `X(p_0)` is the exact LU inverse. Between consecutive grid points the ZNN dynamics
/// `dX/dp = −X (dA/dp) X − γ X (A X − I)` are integrated with `substeps` RK4 steps. The first term moves
/// `X` along the exact path of `A(p)⁻¹` (`d(A⁻¹)/dp = −A⁻¹ A' A⁻¹` with `A⁻¹` replaced by `X`); the second
/// is the ZNN's error feedback, a continuous Newton step that makes the error decay like `e^{−γ p}`
/// instead of accumulating. `dA/dp` is a central difference of `family.at` with step
/// `h = 1e-6·(hi − lo)`, one-sided where `p ± h` leaves the domain. Cost per RK4 step: six evaluations
/// of `A` (`A` and `A(q ± h)` at the middle and end of the step; the start is carried over) and 12 GEMMs
/// of order `n`, sequential along `p` (GEMMs use all threads from n = 96 on); memory stays `O(n²)`
/// whatever `substeps`. The family must be evaluable at any `p` of its interval.
///
/// `params` (batch values) must be ascending (equal neighbours allowed). Returns (batch, n, n), the ZNN's
/// `X` at every grid point. Fails with `InvalidOption` for a family with `k ≠ 1`, `InvalidInput` for
/// an unsorted grid, `OutOfDomain`, `ShapeMismatch` for a non-square family, `Singular` when `A(p_0)` is,
/// `NoConvergence` (`iters` = the index of the grid interval) if the integration blows up (for instance
/// `γ·Δp/substeps` far beyond RK4's stability limit).
///
/// ```
/// use neumatc::baseline::{ZnnConfig, znn_inverse};
/// use neumatc::{Family, SyntheticConfig};
/// let fam = Family::synthetic(SyntheticConfig { n: 8, rank: 2, ..Default::default() }).unwrap();
/// let grid: Vec<f64> = (0..20).map(|i| i as f64 / 19.0).collect();
/// let x = znn_inverse(&fam, &grid, &ZnnConfig::default()).unwrap();
/// assert_eq!((x.batch, x.rows), (20, 8));
/// ```
pub fn znn_inverse(family: &Family, params: &[f64], cfg: &ZnnConfig) -> Result<MatrixBatch> {
    const OP: &str = "znnInverse";
    cfg.validate()?;
    let domain = family.domain();
    if domain.dim() != 1 {
        return Err(Error::option("family", format!("ZNN integrates along one parameter; this family has {}", domain.dim())));
    }
    let n = family.rows();
    if family.cols() != n {
        return Err(Error::ShapeMismatch { op: OP, expected: vec![n, n], got: vec![n, family.cols()] });
    }
    let batch = domain.check(params)?;
    if let Some(i) = params.windows(2).position(|w| w[1] < w[0]) {
        return Err(Error::input("params", format!("must be ascending; p[{}] = {} > p[{}] = {}", i, params[i], i + 1, params[i + 1])));
    }
    let nn = n * n;
    let mut data = vec![0.0; batch * nn];
    if batch == 0 || n == 0 {
        return Ok(MatrixBatch { batch, rows: n, cols: n, data });
    }
    let (lo, hi) = (domain.lo[0], domain.hi[0]);
    let h = 1e-6 * (hi - lo);
    let a0 = family.at(&params[..1])?;
    let x0 = inverse(&a0).map_err(|e| match e {
        Error::Singular { op, .. } => Error::Singular { op, p: vec![params[0]] },
        e => e,
    })?;
    data[..nn].copy_from_slice(&x0.data);
    let mut x = MatRef::from_row_major_slice(&x0.data, n, n).to_owned();
    let par = gemm_par(n);
    let mut work = ZnnWork::new(n);
    let s = cfg.substeps;
    // `A` and `dA/dp` (central difference, one-sided at the domain edges) at the parameters `q`.
    let sample = |q: &[f64]| -> Result<Vec<(Mat<f64>, Mat<f64>)>> {
        let plus: Vec<f64> = q.iter().map(|&q| (q + h).min(hi)).collect();
        let minus: Vec<f64> = q.iter().map(|&q| (q - h).max(lo)).collect();
        let all: Vec<f64> = q.iter().chain(&plus).chain(&minus).copied().collect();
        let mats = family.at(&all)?;
        let m = q.len();
        let at = |j: usize| MatRef::from_row_major_slice(mats.matrix(j), n, n);
        Ok((0..m)
            .map(|j| {
                let (ap, am, inv_step) = (at(m + j), at(2 * m + j), 1.0 / (plus[j] - minus[j]));
                (at(j).to_owned(), Mat::from_fn(n, n, |r, c| (ap[(r, c)] - am[(r, c)]) * inv_step))
            })
            .collect())
    };
    let missing = || Error::Internal("znnInverse: family returned too few matrices".into());
    // (A, A') at the current parameter, carried from the end of one RK4 step to the start of the next.
    let mut current: Option<(Mat<f64>, Mat<f64>)> = None;
    for i in 0..batch - 1 {
        let (p0, p1) = (params[i], params[i + 1]);
        if p1 > p0 {
            let mut start = match current.take() {
                Some(ad) => ad,
                None => sample(&[p0])?.pop().ok_or_else(missing)?,
            };
            let dp = (p1 - p0) / s as f64;
            for t in 0..s {
                let t0 = p0 + t as f64 * dp;
                let t1 = if t + 1 == s { p1 } else { p0 + (t + 1) as f64 * dp };
                let mut stages = sample(&[t0 + 0.5 * dp, t1])?.into_iter();
                let (mid, end) = (stages.next().ok_or_else(missing)?, stages.next().ok_or_else(missing)?);
                let ad = [(start.0.as_ref(), start.1.as_ref()), (mid.0.as_ref(), mid.1.as_ref()), (end.0.as_ref(), end.1.as_ref())];
                work.rk4_step(&mut x, ad, dp, cfg.gamma, par);
                start = end;
            }
            current = Some(start);
            if !x.as_ref().is_all_finite() {
                return Err(Error::NoConvergence { op: OP, iters: i });
            }
        }
        MatMut::from_row_major_slice_mut(&mut data[(i + 1) * nn..(i + 2) * nn], n, n).copy_from(x.as_ref());
    }
    Ok(MatrixBatch { batch, rows: n, cols: n, data })
}

/// Scratch matrices of the ZNN integrator.
struct ZnnWork {
    k: [Mat<f64>; 4],
    stage: Mat<f64>,
    m: Mat<f64>,
}

impl ZnnWork {
    fn new(n: usize) -> Self {
        let z = || Mat::<f64>::zeros(n, n);
        Self { k: [z(), z(), z(), z()], stage: z(), m: z() }
    }

    /// `out = f(X) = −X (A' X + γ (A X − I))`.
    fn rhs(m: &mut Mat<f64>, out: MatMut<'_, f64>, x: MatRef<'_, f64>, a: MatRef<'_, f64>, da: MatRef<'_, f64>, gamma: f64, par: Par) {
        matmul(m.as_mut(), Accum::Replace, da, x, 1.0, par);
        matmul(m.as_mut(), Accum::Add, a, x, gamma, par);
        for i in 0..m.nrows() {
            m[(i, i)] -= gamma;
        }
        matmul(out, Accum::Replace, x, m.as_ref(), -1.0, par);
    }

    /// One classical RK4 step of length `dp` with `(A, A')` at its start, middle and end.
    fn rk4_step(&mut self, x: &mut Mat<f64>, ad: [(MatRef<'_, f64>, MatRef<'_, f64>); 3], dp: f64, gamma: f64, par: Par) {
        let Self { k, stage, m } = self;
        let [k1, k2, k3, k4] = k;
        Self::rhs(m, k1.as_mut(), x.as_ref(), ad[0].0, ad[0].1, gamma, par);
        zip_axpy(stage, x, 0.5 * dp, k1);
        Self::rhs(m, k2.as_mut(), stage.as_ref(), ad[1].0, ad[1].1, gamma, par);
        zip_axpy(stage, x, 0.5 * dp, k2);
        Self::rhs(m, k3.as_mut(), stage.as_ref(), ad[1].0, ad[1].1, gamma, par);
        zip_axpy(stage, x, dp, k3);
        Self::rhs(m, k4.as_mut(), stage.as_ref(), ad[2].0, ad[2].1, gamma, par);
        let c = dp / 6.0;
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                x[(i, j)] += c * (k1[(i, j)] + 2.0 * k2[(i, j)] + 2.0 * k3[(i, j)] + k4[(i, j)]);
            }
        }
    }
}

/// `out = x + alpha · y`.
fn zip_axpy(out: &mut Mat<f64>, x: &Mat<f64>, alpha: f64, y: &Mat<f64>) {
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            out[(i, j)] = x[(i, j)] + alpha * y[(i, j)];
        }
    }
}
