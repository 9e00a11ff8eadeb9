//! The paper's §3.1 synthetic family `H(p) = A(p)B(p)ᵀ + εI`.

use std::f64::consts::TAU;

use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, Par};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::Domain;
use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;

/// Default scale of `A0` and `B0` is `DEFAULT_SCALE · n^(-1/4)`: then `BᵀA` has entries of order
/// `DEFAULT_SCALE²` whatever `n`, its eigenvalues stay away from `−ε`, and `H(p)` stays well-conditioned
/// (measured at n = 256, ε = 1, r = 20, seeds 0–3: cond(H(p)) between 25 and 186 over `p ∈ [0, 1]`; with
/// the factor 1.0 instead of 0.8 the same seeds reach 3·10³–2.5·10⁴, with unscaled factors 2·10⁶–2·10⁷).
pub const DEFAULT_SCALE: f64 = 0.8;

/// Options of [`SyntheticFamily`]. Every field has a default; JSON uses camelCase names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Matrix order `n`. Default 256.
    pub n: usize,
    /// Inner rank `r` of `A(p)B(p)ᵀ`. Default 20.
    pub rank: usize,
    /// Diagonal shift `ε`. Default 1.0.
    pub eps: f64,
    /// Seed of every random draw. Default 0.
    pub seed: u64,
    /// Column-wise energy decay: column `k` of `A0` and `B0` is multiplied by `decay^k`. Default 0.9.
    pub decay: f64,
    /// Scale applied to both `A0` and `B0`. Default `None`, meaning [`DEFAULT_SCALE`]` · n^(-1/4)` each,
    /// which keeps `H(p)` well-conditioned (cond ≈ 25–190 at n = 256). `Some(1.0)` gives the unscaled
    /// standard-normal factors of the paper's text, whose family passes close to singular matrices
    /// (cond up to 10⁶–10⁷ measured): no learned inverse can be accurate there.
    pub scale: Option<f64>,
    /// Return the symmetric positive definite `H(p)H(p)ᵀ` instead of `H(p)` (for cholesky and eigh, as
    /// the paper does for Table 7's Cholesky case). Its condition number is `cond(H(p))²`. Default false.
    pub spd: bool,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self { n: 256, rank: 20, eps: 1.0, seed: 0, decay: 0.9, scale: None, spd: false }
    }
}

/// `H(p) = A(p)B(p)ᵀ + εI` on `p ∈ [0, 1]`, with `A(p) = A0 ∘ sin(2πF_A p + Φ_A)` and
/// `B(p) = B0 ∘ cos(2πF_B p + Φ_B)` (`n × r`), phases uniform on `[0, 2π]`, frequencies uniform on
/// `[0.5, 1.5]`, `A0, B0` standard normal times `scale · decay^k` in column `k`.
///
/// ```
/// use neumatc::{Family, SyntheticConfig};
/// let fam = Family::synthetic(SyntheticConfig { n: 8, rank: 2, ..Default::default() }).unwrap();
/// let a = fam.at(&[0.25, 0.5]).unwrap();
/// assert_eq!((a.batch, a.rows, a.cols), (2, 8, 8));
/// ```
#[derive(Debug)]
pub struct SyntheticFamily {
    cfg: SyntheticConfig,
    domain: Domain,
    /// Row-major `n × r` each.
    a0: Vec<f64>,
    b0: Vec<f64>,
    fa: Vec<f64>,
    fb: Vec<f64>,
    pha: Vec<f64>,
    phb: Vec<f64>,
}

impl SyntheticFamily {
    /// Draws the family's random factors from `cfg.seed`.
    pub fn new(cfg: SyntheticConfig) -> Result<Self> {
        if cfg.n == 0 || cfg.n > 16384 {
            return Err(Error::option("n", format!("must be in 1..=16384, got {}", cfg.n)));
        }
        if cfg.rank == 0 || cfg.rank > cfg.n {
            return Err(Error::option("rank", format!("must be in 1..=n ({}), got {}", cfg.n, cfg.rank)));
        }
        if !cfg.eps.is_finite() {
            return Err(Error::option("eps", "must be finite"));
        }
        if !(cfg.decay.is_finite() && cfg.decay > 0.0) {
            return Err(Error::option("decay", format!("must be a positive number, got {}", cfg.decay)));
        }
        let scale = cfg.scale.unwrap_or(DEFAULT_SCALE * (cfg.n as f64).powf(-0.25));
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::option("scale", format!("must be a positive number, got {scale}")));
        }
        let (n, r) = (cfg.n, cfg.rank);
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let normal = |rng: &mut ChaCha8Rng| -> Vec<f64> {
            (0..n * r)
                .map(|i| {
                    let z: f64 = rng.sample(StandardNormal);
                    z * scale * cfg.decay.powi((i % r) as i32)
                })
                .collect()
        };
        let a0 = normal(&mut rng);
        let b0 = normal(&mut rng);
        let uniform = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| -> Vec<f64> { (0..n * r).map(|_| rng.random_range(lo..hi)).collect() };
        let fa = uniform(&mut rng, 0.5, 1.5);
        let fb = uniform(&mut rng, 0.5, 1.5);
        let pha = uniform(&mut rng, 0.0, TAU);
        let phb = uniform(&mut rng, 0.0, TAU);
        Ok(Self { cfg, domain: Domain::unit(1), a0, b0, fa, fb, pha, phb })
    }

    /// Matrix order.
    pub fn n(&self) -> usize {
        self.cfg.n
    }

    /// The options it was built from.
    pub fn config(&self) -> &SyntheticConfig {
        &self.cfg
    }

    /// `[0, 1]`.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// `H(p)` for a batch of scalar parameters. Returns (batch, n, n).
    pub fn at(&self, params: &[f64]) -> Result<MatrixBatch> {
        let batch = self.domain.check(params)?;
        let n = self.cfg.n;
        let mut data = vec![0.0; batch * n * n];
        data.par_chunks_mut(n * n).zip(params.par_iter()).for_each(|(out, &p)| self.fill(p, out));
        Ok(MatrixBatch { batch, rows: n, cols: n, data })
    }

    /// Writes `H(p)` row-major into `out` (`n * n` values).
    fn fill(&self, p: f64, out: &mut [f64]) {
        let (n, r) = (self.cfg.n, self.cfg.rank);
        let a = Mat::<f64>::from_fn(n, r, |i, k| self.a0[i * r + k] * (TAU * self.fa[i * r + k] * p + self.pha[i * r + k]).sin());
        let b = Mat::<f64>::from_fn(n, r, |i, k| self.b0[i * r + k] * (TAU * self.fb[i * r + k] * p + self.phb[i * r + k]).cos());
        // Row-major H is column-major Hᵀ = B Aᵀ + εI.
        let mut h = faer::MatMut::from_column_major_slice_mut(out, n, n);
        faer::linalg::matmul::matmul(h.rb_mut(), Accum::Replace, b.as_ref(), a.transpose(), 1.0, Par::Seq);
        for i in 0..n {
            h[(i, i)] += self.cfg.eps;
        }
        if self.cfg.spd {
            // Row-major H read column-major is Hᵀ: H Hᵀ = (Hᵀ)ᵀ(Hᵀ), symmetric, written over `out`.
            let h = h.as_ref().transpose().to_owned();
            super::gram_into(h.as_ref(), 0.0, out);
        }
    }
}
