//! The structure term at one point as a quadratic form in the basis coordinates, whole ([`QuadForm`]) and
//! factored for a basis of size `d` ([`FactoredForm`]): what the POD method's Adam loop evaluates instead of the
//! `O(n³)` residual.

use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatRef, Par, Side};

/// The structure term at one point as a quadratic form in the basis coordinates `c`:
/// `‖A(q)(cC) − T‖² = cᵀQc − 2bᵀc + tt` (`T = I`, or `Ω` for the sketch, scaled by `1/k`).
/// Kept whole so that the leading `d' × d'` block serves any smaller basis `C_1 … C_d'`.
#[derive(Debug, Clone)]
pub(super) struct QuadForm {
    pub d: usize,
    pub q: Vec<f64>,
    pub b: Vec<f64>,
    pub tt: f64,
}

/// A [`QuadForm`] solved for a basis of size `d`: `‖Lᵀ(c − c*)‖² + floor` with `LLᵀ = Q`.
#[derive(Debug, Clone)]
pub(super) struct FactoredForm {
    /// `Lᵀ`, `d × d` row-major.
    pub lt: Vec<f64>,
    /// `c*`, the least-squares coefficients at this point.
    pub target: Vec<f64>,
    /// `min_c ‖A(q)(cC) − T‖²`: the smallest residual the basis allows here.
    pub floor: f64,
}

impl QuadForm {
    /// Solves the form restricted to the first `d` basis functions.
    pub fn solve(&self, d: usize) -> FactoredForm {
        let full = self.d;
        let q = Mat::<f64>::from_fn(d, d, |i, j| self.q[i * full + j]);
        let b = &self.b[..d];
        let (llt, _) = ridge_llt(&q, 1e-14);
        let l = llt.L();
        let mut x = Mat::<f64>::from_fn(d, 1, |i, _| b[i]);
        llt.solve_in_place(x.as_mut());
        let target: Vec<f64> = (0..d).map(|i| x[(i, 0)]).collect();
        let floor = (self.tt - b.iter().zip(&target).map(|(u, v)| u * v).sum::<f64>()).max(0.0);
        let lt = (0..d * d).map(|idx| l[(idx % d, idx / d)]).collect();
        FactoredForm { lt, target, floor }
    }
}

/// Cholesky factor of `q + ridge·I`, the ridge starting at `rel · mean diag(q)` (0 when `q` is already
/// positive definite) and growing until the factorisation succeeds. Returns the factor and the ridge.
pub(super) fn ridge_llt(q: &Mat<f64>, rel: f64) -> (faer::linalg::solvers::Llt<f64>, f64) {
    let d = q.nrows();
    let tr: f64 = (0..d).map(|i| q[(i, i)]).sum::<f64>() / d.max(1) as f64;
    let mut ridge = 0.0;
    loop {
        let mut qr = q.clone();
        for i in 0..d {
            qr[(i, i)] += ridge;
        }
        if let Ok(llt) = qr.llt(Side::Lower) {
            return (llt, ridge);
        }
        ridge = if ridge == 0.0 { rel * tr.max(f64::MIN_POSITIVE) } else { ridge * 100.0 };
    }
}

impl FactoredForm {
    /// The form `‖J(c − target)‖² + floor` of a Gauss–Newton model with normal matrix `JᵀJ` (`d × d`).
    pub fn from_normal(jtj: &Mat<f64>, target: Vec<f64>, floor: f64) -> Self {
        let d = jtj.nrows();
        let (llt, _) = ridge_llt(jtj, 1e-14);
        let l = llt.L();
        FactoredForm { lt: (0..d * d).map(|idx| l[(idx % d, idx / d)]).collect(), target, floor }
    }

    pub fn eval(&self, c: &[f64]) -> f64 {
        let d = c.len();
        let diff: Vec<f64> = c.iter().zip(&self.target).map(|(a, b)| a - b).collect();
        let mut s = 0.0;
        for l in 0..d {
            let row = &self.lt[l * d..(l + 1) * d];
            let v: f64 = row.iter().zip(&diff).map(|(a, b)| a * b).sum();
            s += v * v;
        }
        s + self.floor
    }
}

/// From `Y` (`rows × d`, column-major), `b = Yᵀt` and `‖t‖²`, the form `scale·‖Yc − t‖²`.
pub(super) fn gram(y: &[f64], rows: usize, d: usize, b: Vec<f64>, tt: f64, scale: f64) -> QuadForm {
    let ym = MatRef::from_column_major_slice(y, rows, d);
    let mut q = Mat::<f64>::zeros(d, d);
    faer::linalg::matmul::matmul(q.as_mut(), Accum::Replace, ym.transpose(), ym, scale, Par::Seq);
    QuadForm { d, q: (0..d * d).map(|i| q[(i / d, i % d)]).collect(), b: b.into_iter().map(|v| v * scale).collect(), tt: tt * scale }
}
