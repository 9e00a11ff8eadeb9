//! The paper's controlled-parametric-rank family (Appendix I) `H(p) = U(p) S(p) V(p)ᵀ`.

use faer::{Accum, Mat, MatMut, MatRef, Par};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::Domain;
use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;

/// Options of [`ControlledRankFamily`]. Every field has a default; JSON uses camelCase names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ControlledRankConfig {
    /// Rows `m` of `H(p)`. Default 512 (the paper's Appendix I).
    pub rows: usize,
    /// Columns `n` of `H(p)`. Default 512.
    pub cols: usize,
    /// Truncation rank `r`: `H(p)` has rank `r` at every `p`. At most `min(rows, cols)`. Default 100.
    pub rank: usize,
    /// Parametric rank `d`: the number of radial basis functions, so each factor `U(p)`, `S(p)`, `V(p)`
    /// lies in a `d`-dimensional space as `p` varies. Default 10 (the paper uses 5–30).
    pub param_rank: usize,
    /// Decay of the singular-value envelope: `s_i(p) ∝ decay^i` (`i` from 0). Default 0.95.
    pub decay: f64,
    /// Seed of every random draw. Default 0.
    pub seed: u64,
}

impl Default for ControlledRankConfig {
    fn default() -> Self {
        Self { rows: 512, cols: 512, rank: 100, param_rank: 10, decay: 0.95, seed: 0 }
    }
}

/// The factors of `H(p) = U(p) diag(s(p)) V(p)ᵀ` at one parameter. `U`, `V` are not orthonormal.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlledRankFactors {
    /// `U(p)`, row-major `rows × rank`.
    pub u: Vec<f64>,
    /// The diagonal of `S(p)`, `rank` positive values.
    pub s: Vec<f64>,
    /// `V(p)`, row-major `cols × rank`.
    pub v: Vec<f64>,
}

/// `H(p) = U(p) S(p) V(p)ᵀ` (`rows × cols`) on `p ∈ [0, 1]`, with `U(p) = C_U ×₃ φ(p)`,
/// `V(p) = C_V ×₃ φ(p)` and `S(p) = diag(C_S ×₃ φ(p))`.
///
/// Choices the paper leaves open: `φ(p) ∈ R^d` are Gaussian radial basis functions
/// `exp(−(p − c_l)² / (2w²))` with centres `c_l = l/(d − 1)` evenly spaced on `[0, 1]` and width `w`
/// equal to the spacing `1/(d − 1)` (neighbours overlap, so `φ` is smooth and no `p` falls between
/// bumps; `d = 1` is the constant `φ = 1`), divided by their Euclidean norm so that `‖φ(p)‖ = 1`.
/// `C_U` (`rows × rank × d`) and `C_V` (`cols × rank × d`) are independent normal with variance `1/rows`
/// and `1/cols`: the entries of `U(p)` are then `N(0, 1/rows)` at every `p` (columns of norm about 1).
/// `C_S[i, l] = decay^i · u_il` with `u_il` uniform on `[0.5, 1.5]`: `φ ≥ 0` makes every `s_i(p)` positive,
/// between `0.5·decay^i` and `1.5·√d·decay^i`. Like the paper, `U(p)` and `V(p)` are not
/// orthonormalised, so `s(p)` are not the singular values of `H(p)`; but `H(p)` has rank exactly `rank`
/// (generically), and `p ↦ U(p)`, `p ↦ V(p)`, `p ↦ s(p)` each span at most `d` dimensions (`p ↦ H(p)`,
/// trilinear in `φ`, at most `d(d + 1)(d + 2)/6`).
///
/// ```
/// use neumatc::{ControlledRankConfig, Family};
/// let cfg = ControlledRankConfig { rows: 12, cols: 10, rank: 3, param_rank: 4, ..Default::default() };
/// let fam = Family::controlled_rank(cfg).unwrap();
/// let h = fam.at(&[0.25, 0.5]).unwrap();
/// assert_eq!((h.batch, h.rows, h.cols), (2, 12, 10));
/// ```
#[derive(Debug)]
pub struct ControlledRankFamily {
    cfg: ControlledRankConfig,
    domain: Domain,
    /// `C_U`, column-major `(rows·rank) × d`: column `l` is a row-major `rows × rank` matrix.
    cu: Vec<f64>,
    /// `C_V`, column-major `(cols·rank) × d`.
    cv: Vec<f64>,
    /// `C_S`, column-major `rank × d`.
    cs: Vec<f64>,
}

/// Cap on the number of stored coefficients `(rows + cols) · rank · d` (2 GiB of `f64`).
const MAX_COEFFS: usize = 1 << 28;

impl ControlledRankFamily {
    /// Draws the coefficient tensors from `cfg.seed`.
    pub fn new(cfg: ControlledRankConfig) -> Result<Self> {
        let (m, n, r, d) = (cfg.rows, cfg.cols, cfg.rank, cfg.param_rank);
        if m == 0 || m > 16384 {
            return Err(Error::option("rows", format!("must be in 1..=16384, got {m}")));
        }
        if n == 0 || n > 16384 {
            return Err(Error::option("cols", format!("must be in 1..=16384, got {n}")));
        }
        if r == 0 || r > m.min(n) {
            return Err(Error::option("rank", format!("must be in 1..=min(rows, cols) ({}), got {r}", m.min(n))));
        }
        if d == 0 || d > 1024 {
            return Err(Error::option("paramRank", format!("must be in 1..=1024, got {d}")));
        }
        if !(cfg.decay.is_finite() && cfg.decay > 0.0) {
            return Err(Error::option("decay", format!("must be a positive number, got {}", cfg.decay)));
        }
        if (m + n) * r * d > MAX_COEFFS {
            return Err(Error::option(
                "paramRank",
                format!("(rows + cols) · rank · paramRank = {} coefficients exceed the cap of {MAX_COEFFS}", (m + n) * r * d),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let normal = |rng: &mut ChaCha8Rng, len: usize, sd: f64| -> Vec<f64> {
            (0..len)
                .map(|_| {
                    let z: f64 = rng.sample(StandardNormal);
                    z * sd
                })
                .collect()
        };
        let cu = normal(&mut rng, m * r * d, 1.0 / (m as f64).sqrt());
        let cv = normal(&mut rng, n * r * d, 1.0 / (n as f64).sqrt());
        let cs = (0..r * d).map(|j| cfg.decay.powi((j % r) as i32) * rng.random_range(0.5..1.5)).collect();
        Ok(Self { cfg, domain: Domain::unit(1), cu, cv, cs })
    }

    /// Rows of `H(p)`.
    pub fn rows(&self) -> usize {
        self.cfg.rows
    }

    /// Columns of `H(p)`.
    pub fn cols(&self) -> usize {
        self.cfg.cols
    }

    /// The options it was built from.
    pub fn config(&self) -> &ControlledRankConfig {
        &self.cfg
    }

    /// `[0, 1]`.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The radial basis `φ(p)`, `param_rank` non-negative values of unit Euclidean norm.
    pub fn basis(&self, p: f64) -> Vec<f64> {
        let d = self.cfg.param_rank;
        if d == 1 {
            return vec![1.0];
        }
        let h = 1.0 / (d - 1) as f64;
        let mut phi: Vec<f64> = (0..d).map(|l| (-0.5 * ((p - l as f64 * h) / h).powi(2)).exp()).collect();
        let norm = phi.iter().map(|x| x * x).sum::<f64>().sqrt();
        phi.iter_mut().for_each(|x| *x /= norm);
        phi
    }

    /// `U(p)`, `s(p)`, `V(p)` at one parameter.
    pub fn factors(&self, p: f64) -> Result<ControlledRankFactors> {
        self.domain.check(&[p])?;
        let phi = self.basis(p);
        let (m, n, r) = (self.cfg.rows, self.cfg.cols, self.cfg.rank);
        Ok(ControlledRankFactors { u: mode3(&self.cu, m * r, &phi), s: mode3(&self.cs, r, &phi), v: mode3(&self.cv, n * r, &phi) })
    }

    /// `H(p)` for a batch of scalar parameters. Returns (batch, rows, cols).
    pub fn at(&self, params: &[f64]) -> Result<MatrixBatch> {
        let batch = self.domain.check(params)?;
        let (m, n) = (self.cfg.rows, self.cfg.cols);
        let mut data = vec![0.0; batch * m * n];
        data.par_chunks_mut(m * n).zip(params.par_iter()).for_each(|(out, &p)| self.fill(p, out));
        Ok(MatrixBatch { batch, rows: m, cols: n, data })
    }

    /// Writes `H(p)` row-major into `out` (`rows * cols` values).
    fn fill(&self, p: f64, out: &mut [f64]) {
        let (m, n, r) = (self.cfg.rows, self.cfg.cols, self.cfg.rank);
        let phi = self.basis(p);
        let u = mode3(&self.cu, m * r, &phi);
        let s = mode3(&self.cs, r, &phi);
        let v = mode3(&self.cv, n * r, &phi);
        let u = MatRef::from_row_major_slice(&u, m, r);
        let vs = Mat::<f64>::from_fn(n, r, |i, j| v[i * r + j] * s[j]);
        // Row-major H is column-major Hᵀ = V S Uᵀ.
        let h = MatMut::from_column_major_slice_mut(out, n, m);
        faer::linalg::matmul::matmul(h, Accum::Replace, vs.as_ref(), u.transpose(), 1.0, Par::Seq);
    }
}

/// `C ×₃ φ` for `C` stored column-major `len × d`: the `len` values `Σ_l C[:, l] φ_l`.
fn mode3(c: &[f64], len: usize, phi: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; len];
    faer::linalg::matmul::matmul(
        MatMut::from_column_major_slice_mut(&mut out, len, 1),
        Accum::Replace,
        MatRef::from_column_major_slice(c, len, phi.len()),
        MatRef::from_column_major_slice(phi, phi.len(), 1),
        1.0,
        Par::Seq,
    );
    out
}
