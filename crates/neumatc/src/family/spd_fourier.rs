//! The paper's 2-D SPD family (Table 6) `A(p) = B(p)B(p)ᵀ + εI`, `B(p)` a Fourier series in `p ∈ [0, 1]²`.

use std::f64::consts::TAU;

use faer::{Accum, MatMut, MatRef, Par};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::Domain;
use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;

/// Default standard deviation of the entries of `B(p)` is `DEFAULT_SPD_SCALE / (√n + √rank)`. By the
/// Marchenko–Pastur law the largest eigenvalue of `B(p)B(p)ᵀ` is then about `DEFAULT_SPD_SCALE² = 9`
/// whatever `n` and `rank`, while every eigenvalue of `A(p)` is at least `ε`: `cond(A(p)) ≈ 1 + 9/ε` at most
/// (less when `rank > n` lifts the smallest eigenvalue of `BBᵀ` off 0). Measured with ε = 1, max frequency 1,
/// seeds 0–3, on a 21 × 21 grid of `[0, 1]²`: cond(A(p)) between 9.1 and 10.7 at n = 128 (rank = n), 8.0–11.0
/// at n = 128 with rank 16, 7.5–11.2 at n = 32, 4.1–5.8 at n = 64 with rank 256; 8.8–10.7 at n = 128 with
/// max frequency 3. With the factor 1.0 instead of 3.0 it is 1.9–2.1 at n = 128 (`A(p)` barely moves away
/// from `εI`); with standard-normal entries (`scale = 1`) 450–550, and with the paper's literal recipe
/// (standard-normal `α` on the unnormalised basis, i.e. `scale = √5` at max frequency 1) 1.7·10³–2.7·10³:
/// `ε` is then negligible against `BBᵀ`, whose smallest eigenvalue is close to 0 for a square `B`.
pub const DEFAULT_SPD_SCALE: f64 = 3.0;

/// Options of [`SpdFourierFamily`]. Every field has a default; JSON uses camelCase names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SpdFourierConfig {
    /// Matrix order `n`. Default 128 (the paper's Table 6).
    pub n: usize,
    /// Columns of `B(p)` (`n × rank`). Default `None`, meaning `n`: a square `B(p)` makes `B(p)B(p)ᵀ`
    /// generically full rank, so `A(p)` is a generic SPD matrix; with `rank ≪ n`, `A(p)⁻¹` would be
    /// `I/ε` minus a rank-`rank` correction, a much easier target. Any `rank ≥ 1` is accepted.
    pub rank: Option<usize>,
    /// Highest frequency per parameter: the basis is `1` and `cos`, `sin` of `2π(a·p1 + b·p2)` for the
    /// integer pairs with `|a|, |b| ≤ max_freq`, one of each `±(a, b)`: `1 + 4·max_freq·(max_freq + 1)`
    /// functions. In `0..=16`; 0 leaves the constant only (a constant family). Default 1 (9 functions:
    /// frequencies (0, 1), (1, −1), (1, 0), (1, 1)).
    pub max_freq: usize,
    /// Diagonal shift `ε`, a lower bound on the eigenvalues of `A(p)`. Must be positive. Default 1.0.
    pub eps: f64,
    /// Seed of every random draw. Default 0.
    pub seed: u64,
    /// Standard deviation of every entry of `B(p)`, at every `p`. Default `None`, meaning
    /// [`DEFAULT_SPD_SCALE`]` / (√n + √rank)`, which keeps `A(p)` well-conditioned (cond 9.1–10.7
    /// measured at n = 128, ε = 1; about `1 + 9/ε` in general). `Some(1.0)` gives standard-normal entries,
    /// cond ≈ 500 at n = 128.
    pub scale: Option<f64>,
}

impl Default for SpdFourierConfig {
    fn default() -> Self {
        Self { n: 128, rank: None, max_freq: 1, eps: 1.0, seed: 0, scale: None }
    }
}

/// `A(p) = B(p)B(p)ᵀ + εI` on `p = (p1, p2) ∈ [0, 1]²`, with `B_ij(p) = Σ_k α_ijk φ_k(p)` (`n × rank`).
///
/// Choices the paper leaves open: the basis `φ_k` is `1` and `cos`, `sin` of `2π(a·p1 + b·p2)` for the
/// integer frequency pairs with `|a|, |b| ≤ max_freq` (one of each `±(a, b)`), all divided by
/// `√(1 + pairs)` so that `Σ_k φ_k(p)² = 1` at every `p`; the `α_ijk` are independent normal with
/// standard deviation `scale`. Every entry of `B(p)` is then `N(0, scale²)` at every `p` (the family has
/// no preferred region of the domain), and entries at two parameters are correlated through the
/// periodic kernel `(1 + Σ cos 2π(a·Δp1 + b·Δp2)) / (1 + pairs)`. `A(p)` is symmetric (exactly) and
/// positive definite with eigenvalues at least `ε`.
///
/// ```
/// use neumatc::{Family, SpdFourierConfig};
/// let fam = Family::spd_fourier(SpdFourierConfig { n: 8, ..Default::default() }).unwrap();
/// assert_eq!(fam.param_dim(), 2);
/// let a = fam.at(&[0.25, 0.5, 1.0, 0.0]).unwrap();
/// assert_eq!((a.batch, a.rows, a.cols), (2, 8, 8));
/// assert_eq!(a.data[1], a.data[8]);
/// ```
#[derive(Debug)]
pub struct SpdFourierFamily {
    cfg: SpdFourierConfig,
    domain: Domain,
    rank: usize,
    /// Frequency pairs `(a, b)`, in basis order.
    freqs: Vec<(f64, f64)>,
    /// `α`, column-major `(n·rank) × basis`: column `k` is `α_k` as a row-major `n × rank` matrix.
    alpha: Vec<f64>,
}

/// Cap on the number of stored coefficients `n · rank · basis` (2 GiB of `f64`).
const MAX_COEFFS: usize = 1 << 28;

impl SpdFourierFamily {
    /// Draws the coefficients `α` from `cfg.seed`.
    pub fn new(cfg: SpdFourierConfig) -> Result<Self> {
        if cfg.n == 0 || cfg.n > 16384 {
            return Err(Error::option("n", format!("must be in 1..=16384, got {}", cfg.n)));
        }
        let rank = cfg.rank.unwrap_or(cfg.n);
        if rank == 0 || rank > 16384 {
            return Err(Error::option("rank", format!("must be in 1..=16384, got {rank}")));
        }
        if cfg.max_freq > 16 {
            return Err(Error::option("maxFreq", format!("must be in 0..=16, got {}", cfg.max_freq)));
        }
        if !(cfg.eps.is_finite() && cfg.eps > 0.0) {
            return Err(Error::option("eps", format!("must be a positive number (A(p) is SPD), got {}", cfg.eps)));
        }
        let scale = cfg.scale.unwrap_or(DEFAULT_SPD_SCALE / ((cfg.n as f64).sqrt() + (rank as f64).sqrt()));
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::option("scale", format!("must be a positive number, got {scale}")));
        }
        let f = cfg.max_freq as i64;
        let freqs: Vec<(f64, f64)> = (0..=f)
            .flat_map(|a| (-f..=f).map(move |b| (a, b)))
            .filter(|&(a, b)| a > 0 || b > 0)
            .map(|(a, b)| (a as f64, b as f64))
            .collect();
        let basis = 1 + 2 * freqs.len();
        let count = cfg.n * rank * basis;
        if count > MAX_COEFFS {
            return Err(Error::option(
                "rank",
                format!("n · rank · basis = {} · {rank} · {basis} coefficients exceed the cap of {MAX_COEFFS}", cfg.n),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let alpha: Vec<f64> = (0..count)
            .map(|_| {
                let z: f64 = rng.sample(StandardNormal);
                z * scale
            })
            .collect();
        Ok(Self { cfg, domain: Domain::unit(2), rank, freqs, alpha })
    }

    /// Matrix order.
    pub fn n(&self) -> usize {
        self.cfg.n
    }

    /// Columns of `B(p)` (the configured `rank`, or `n`).
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Number of basis functions `φ_k`, `1 + 4·max_freq·(max_freq + 1)`.
    pub fn basis_len(&self) -> usize {
        1 + 2 * self.freqs.len()
    }

    /// The options it was built from.
    pub fn config(&self) -> &SpdFourierConfig {
        &self.cfg
    }

    /// `[0, 1]²`.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// `A(p)` for a batch of parameters (`params.len() = 2 * batch`, pairs `(p1, p2)`). Returns (batch, n, n).
    pub fn at(&self, params: &[f64]) -> Result<MatrixBatch> {
        let batch = self.domain.check(params)?;
        let n = self.cfg.n;
        let mut data = vec![0.0; batch * n * n];
        data.par_chunks_mut(n * n).zip(params.par_chunks_exact(2)).for_each(|(out, p)| self.fill(p[0], p[1], out));
        Ok(MatrixBatch { batch, rows: n, cols: n, data })
    }

    /// The normalised basis `φ_k(p1, p2)`, `basis_len()` values with `Σ φ_k² = 1`.
    fn basis(&self, p1: f64, p2: f64) -> Vec<f64> {
        let norm = 1.0 / ((1 + self.freqs.len()) as f64).sqrt();
        let mut phi = Vec::with_capacity(self.basis_len());
        phi.push(norm);
        for &(a, b) in &self.freqs {
            let (s, c) = (TAU * (a * p1 + b * p2)).sin_cos();
            phi.push(c * norm);
            phi.push(s * norm);
        }
        phi
    }

    /// Writes `A(p)` into `out` (`n * n` values; symmetric, so row- and column-major agree).
    fn fill(&self, p1: f64, p2: f64, out: &mut [f64]) {
        let (n, r) = (self.cfg.n, self.rank);
        let phi = self.basis(p1, p2);
        let k = phi.len();
        // vec(B(p)) = α φ(p): one (n·r × k) by (k × 1) product.
        let mut b = vec![0.0; n * r];
        faer::linalg::matmul::matmul(
            MatMut::from_column_major_slice_mut(&mut b, n * r, 1),
            Accum::Replace,
            MatRef::from_column_major_slice(&self.alpha, n * r, k),
            MatRef::from_column_major_slice(&phi, k, 1),
            1.0,
            Par::Seq,
        );
        // Lower triangle of B Bᵀ only, mirrored: A is exactly symmetric.
        super::gram_into(MatRef::from_row_major_slice(&b, n, r), self.cfg.eps, out);
    }
}
