//! `solve` on a large sparse affine family (the paper's App. H): nothing `n × n` is ever formed.
//!
//! `C` is the POD basis of the supervised solutions (`d × n`), and the structure term at a collocation
//! point `q` is the reduced least-squares form of `‖A(q)(cC) − b‖² / ‖b‖²` in the coefficients `c`.
//! With `A(q) = Σ_k θ_k(q) A_k` and `Y_k = A_k Cᵀ` (`n × d`, three sparse block products, once), its
//! normal matrix is `Σ_kl θ_k θ_l Y_kᵀY_l` and its right-hand side `Σ_k θ_k Y_kᵀb`: after nine `d × d`
//! cross products, every collocation point (and every candidate score) costs `O(d²)` instead of a
//! sparse solve or an `O(nnz·d)` product. The optimiser is the POD method's, unchanged.

use faer::{Accum, MatRef, Par};
use rayon::prelude::*;

use super::quad::{FactoredForm, QuadForm};
use crate::error::Result;
use crate::sparse::AdrFamily;

/// The basis and the cross products its structure terms need.
pub(super) struct SparseBasis {
    /// `C`, `d × n` row-major.
    pub latent: Vec<f64>,
    n: usize,
    /// Size of the cross products (the basis before truncation).
    d: usize,
    /// `cross[k * 3 + l]` = `Y_kᵀ Y_l`, `d × d` row-major.
    cross: Vec<Vec<f64>>,
    /// `Y_kᵀ b`, `d` each.
    yb: [Vec<f64>; 3],
    /// `‖b‖²`.
    bb: f64,
}

impl SparseBasis {
    pub fn new(op: &AdrFamily, latent: Vec<f64>, d: usize, rhs: &[f64]) -> Self {
        // The row-major `d × n` latent is the column-major `n × d` block `Cᵀ`.
        let n = op.n();
        let y = op.apply_terms_block(&latent, d);
        let cross: Vec<Vec<f64>> = (0..9)
            .into_par_iter()
            .map(|kl| {
                let (yk, yl) = (MatRef::from_column_major_slice(&y[kl / 3], n, d), MatRef::from_column_major_slice(&y[kl % 3], n, d));
                let mut out = faer::Mat::<f64>::zeros(d, d);
                faer::linalg::matmul::matmul(out.as_mut(), Accum::Replace, yk.transpose(), yl, 1.0, Par::Seq);
                (0..d * d).map(|i| out[(i / d, i % d)]).collect()
            })
            .collect();
        let b = MatRef::from_column_major_slice(rhs, n, 1);
        let yb = [0, 1, 2].map(|k| {
            let mut out = faer::Mat::<f64>::zeros(d, 1);
            faer::linalg::matmul::matmul(
                out.as_mut(),
                Accum::Replace,
                MatRef::from_column_major_slice(&y[k], n, d).transpose(),
                b,
                1.0,
                Par::Seq,
            );
            (0..d).map(|i| out[(i, 0)]).collect()
        });
        let bb = rhs.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE);
        Self { latent, n, d, cross, yb, bb }
    }

    /// `‖A(q)(cC) − b‖² / ‖b‖²` as a form in `c` (leading blocks serve smaller bases).
    fn gram(&self, q: f64) -> QuadForm {
        let d = self.d;
        let w = AdrFamily::weights(q);
        let mut g = vec![0.0; d * d];
        for (kl, c) in self.cross.iter().enumerate() {
            let s = w[kl / 3] * w[kl % 3] / self.bb;
            g.iter_mut().zip(c).for_each(|(o, v)| *o += s * v);
        }
        let b = (0..d).map(|i| (0..3).map(|k| w[k] * self.yb[k][i]).sum::<f64>() / self.bb).collect();
        QuadForm { d, q: g, b, tt: 1.0 }
    }

    /// Structure terms at a batch of parameters, solved for the first `d` basis functions.
    pub fn quads(&self, params: &[f64], d: usize) -> Vec<FactoredForm> {
        params.par_iter().map(|&q| self.gram(q).solve(d)).collect()
    }

    /// Keeps the first `d` basis functions (the cross products keep their leading blocks).
    pub fn truncate(&mut self, d: usize) {
        self.latent.truncate(d * self.n);
    }
}

/// Exact sparse solutions at a batch of parameters for the right-hand side `rhs`: (batch, n).
pub(super) fn exact(op: &AdrFamily, params: &[f64], rhs: &[f64]) -> Result<Vec<f64>> {
    if rhs == op.rhs() {
        return op.solve_exact(params);
    }
    op.domain().check(params)?;
    crate::matrix::check_alloc("solve_exact", params.len(), op.n(), 8)?;
    let parts: Vec<Vec<f64>> = params.par_iter().map(|&p| op.solve_exact_with(p, rhs)).collect::<Result<_>>()?;
    Ok(parts.concat())
}
