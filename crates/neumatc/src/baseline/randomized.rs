//! Randomized truncated SVD: the paper's RSVD baseline (Halko, Martinsson & Tropp 2011, its ref. [16])
//! and its parametric variant CRSVD (Kressner & Lam 2024, its ref. [38]).
//!
//! Both follow HMT Algorithm 4.4 (randomized subspace iteration) then Algorithm 5.1 (direct SVD):
//! a Gaussian test matrix `Ω` (`n × l`, `l = min(rank + oversample, min(m, n))`), `Y = AΩ`, `Q = orth(Y)`,
//! `q` power iterations `Q ← orth(A orth(AᵀQ))` (re-orthonormalised by Householder QR after every
//! product, so rounding does not wash out the small singular directions), `B = QᵀA` (`l × n`), the
//! thin SVD `B = Ũ Σ Ṽᵀ`, and `U = QŨ`, all truncated to `rank`. Cost per matrix: `(4q + 4)·m·n·l`
//! flops in GEMMs plus `O((m + n)·l²)` for the QRs and the small SVD.
//!
//! The two differ only in the test matrix. [`rsvd`] draws an independent `Ω` for every matrix of the
//! batch; [`crsvd`] draws one `Ω` and applies it to every matrix, which is how the paper uses it on a
//! batch `A(p_1), …, A(p_b)` of one parametric family: the sketch is the same at every `p`, so the
//! approximation varies with `p` as smoothly as `A(p)` does, and the Gaussian draws are paid once.

use std::borrow::Cow;

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::householder::{
    apply_block_householder_sequence_on_the_left_in_place_scratch, apply_block_householder_sequence_on_the_left_in_place_with_conj,
};
use faer::linalg::matmul::matmul;
use faer::linalg::qr::no_pivoting::factor::{qr_in_place, qr_in_place_scratch, recommended_block_size};
use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};
use faer::{Accum, Conj, Mat, MatMut, MatRef, Par};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::parse_options;
use crate::error::{Error, Result};
use crate::linalg;
use crate::linalg::SvdBatch;
use crate::matrix::MatrixBatch;

/// Largest accepted `powerIters` (each one costs two more passes over `A`; 1–3 are the usual values).
const MAX_POWER_ITERS: usize = 100;

/// Options of [`rsvd`] and [`crsvd`]. JSON uses camelCase names; every field is optional.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct RsvdConfig {
    /// Truncation rank `r`: singular triplets returned per matrix. Must be in `1..=min(m, n)`. Default 20
    /// (the paper's setting on its synthetic data; it uses 10 on the MIMO data).
    pub rank: usize,
    /// Extra sketch columns `s`: the sketch has `l = min(rank + oversample, min(m, n))` columns. Default 10.
    pub oversample: usize,
    /// Power (subspace) iterations `q`, each a pass with `Aᵀ` and one with `A`. At most 100. Default 1.
    pub power_iters: usize,
    /// Seed of the Gaussian test matrices. Default 0.
    pub seed: u64,
}

impl Default for RsvdConfig {
    fn default() -> Self {
        Self { rank: 20, oversample: 10, power_iters: 1, seed: 0 }
    }
}

impl RsvdConfig {
    /// Parses a JSON object of options; absent fields keep their defaults, unknown fields are errors.
    ///
    /// ```
    /// let cfg = neumatc::baseline::RsvdConfig::from_json(r#"{"rank": 5, "powerIters": 2}"#).unwrap();
    /// assert_eq!((cfg.rank, cfg.oversample, cfg.power_iters), (5, 10, 2));
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: Self = parse_options("options", json)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Range checks that do not depend on the matrix shape (`rank ≤ min(m, n)` is checked by the call;
    /// `rank + oversample > min(m, n)` is not an error, the sketch width is clamped).
    pub fn validate(&self) -> Result<()> {
        if self.rank == 0 {
            return Err(Error::option("rank", "must be at least 1"));
        }
        if self.power_iters > MAX_POWER_ITERS {
            return Err(Error::option("powerIters", format!("must be at most {MAX_POWER_ITERS}, got {}", self.power_iters)));
        }
        Ok(())
    }

    /// Checks the options against `m × n` matrices and returns the sketch width `l`.
    fn sketch_width(&self, m: usize, n: usize) -> Result<usize> {
        self.validate()?;
        let size = m.min(n);
        if self.rank > size {
            return Err(Error::option("rank", format!("must be at most min(m, n) = {size} for {m} × {n} matrices, got {}", self.rank)));
        }
        Ok(self.rank.saturating_add(self.oversample).min(size))
    }
}

/// Randomized truncated SVD of every matrix of a batch, each with its own Gaussian test matrix.
///
/// `Ω` of matrix `i` comes from ChaCha8 seeded with `seed`, stream `i`: results are reproducible, do not
/// depend on the number of threads, and matrix `i` alone in a batch of one at index 0 gets the `Ω` that
/// [`crsvd`] shares. Returns `U` (batch, m, rank), `S` (batch, rank, 1) descending, `V` (batch, n, rank).
/// Fails with `InvalidOption` for `rank` outside `1..=min(m, n)`, `ShapeMismatch`/`InvalidInput` for a
/// malformed batch, `NoConvergence` (`iters` 0) should faer's SVD of the small `l × n` matrix fail (not
/// seen for finite input).
///
/// ```
/// use neumatc::baseline::{RsvdConfig, rsvd};
/// // diag(3, 2, 1) has rank 3: a rank-2 RSVD returns its two largest singular values.
/// let a = neumatc::MatrixBatch::new(1, 3, 3, vec![3.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0]).unwrap();
/// let svd = rsvd(&a, &RsvdConfig { rank: 2, ..Default::default() }).unwrap();
/// assert!((svd.s.data[0] - 3.0).abs() < 1e-12 && (svd.s.data[1] - 2.0).abs() < 1e-12);
/// ```
pub fn rsvd(a: &MatrixBatch, cfg: &RsvdConfig) -> Result<SvdBatch> {
    let l = check("rsvd", a, cfg)?;
    let n = a.cols;
    randomized(a, cfg, "rsvd", |i| Cow::Owned(gaussian(n, l, cfg.seed, i as u64)))
}

/// Continuous (parametric) randomized SVD: [`rsvd`] with ONE Gaussian test matrix `Ω` shared by every
/// matrix of the batch, as the paper applies Kressner & Lam's method to `A(p_1), …, A(p_b)`.
///
/// The shared `Ω` is the one [`rsvd`] uses for batch index 0 with the same seed, so `crsvd` of a batch
/// equals `rsvd` of each matrix on its own. Shapes as in [`rsvd`].
///
/// ```
/// use neumatc::baseline::{RsvdConfig, crsvd};
/// let a = neumatc::MatrixBatch::new(2, 2, 2, vec![2.0, 0.0, 0.0, 1.0, 4.0, 0.0, 0.0, 1.0]).unwrap();
/// let svd = crsvd(&a, &RsvdConfig { rank: 1, ..Default::default() }).unwrap();
/// assert!((svd.s.data[0] - 2.0).abs() < 1e-12 && (svd.s.data[1] - 4.0).abs() < 1e-12);
/// ```
pub fn crsvd(a: &MatrixBatch, cfg: &RsvdConfig) -> Result<SvdBatch> {
    let l = check("crsvd", a, cfg)?;
    let omega = gaussian(a.cols, l, cfg.seed, 0);
    randomized(a, cfg, "crsvd", |_| Cow::Borrowed(&omega))
}

/// Validates the batch and options; returns the sketch width.
fn check(op: &'static str, a: &MatrixBatch, cfg: &RsvdConfig) -> Result<usize> {
    crate::matrix::check_len(op, &a.data, a.batch, a.rows, a.cols)?;
    crate::matrix::check_finite(op, &a.data)?;
    cfg.sketch_width(a.rows, a.cols)
}

/// `n × l` standard normal matrix from ChaCha8 (`seed`, `stream`), drawn column by column.
fn gaussian(n: usize, l: usize, seed: u64, stream: u64) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    let data = linalg::gaussian(&mut rng, n * l);
    MatRef::from_column_major_slice(&data, n, l).to_owned()
}

/// Runs the randomized SVD on every matrix, `omega(i)` giving the test matrix of matrix `i`.
/// An independent test matrix is drawn inside its job, so a batch never holds more than one per thread.
fn randomized<'o>(
    a: &MatrixBatch,
    cfg: &RsvdConfig,
    op: &'static str,
    omega: impl Fn(usize) -> Cow<'o, Mat<f64>> + Sync,
) -> Result<SvdBatch> {
    let (batch, m, n, r) = (a.batch, a.rows, a.cols, cfg.rank);
    let mut u = vec![0.0; batch * m * r];
    let mut s = vec![0.0; batch * r];
    let mut v = vec![0.0; batch * n * r];
    let run = |(i, ((u, s), v)): Job<'_>, par: Par| {
        let a_i = MatRef::from_row_major_slice(a.matrix(i), m, n);
        let out = Triplet { u: MatMut::from_row_major_slice_mut(u, m, r), s, v: MatMut::from_row_major_slice_mut(v, n, r) };
        let omega_i = omega(i);
        let omega_i: &Mat<f64> = &omega_i;
        randomized_svd_matrix(a_i, omega_i.as_ref(), cfg.power_iters, out, par).map_err(|_| Error::NoConvergence { op, iters: 0 })
    };
    if batch > 1 && rayon::current_num_threads() > 1 {
        let jobs = u.par_chunks_mut(m * r).zip(s.par_chunks_mut(r)).zip(v.par_chunks_mut(n * r)).enumerate();
        jobs.try_for_each(|job| run(job, Par::Seq))?;
    } else {
        let jobs = u.chunks_mut(m * r).zip(s.chunks_mut(r)).zip(v.chunks_mut(n * r)).enumerate();
        jobs.into_iter().try_for_each(|job| run(job, Par::rayon(0)))?;
    }
    Ok(SvdBatch::from_parts(batch, (m, n, r), u, s, v))
}

/// One matrix's job: its batch index and its slices of `U`, `S` and `V`.
type Job<'a> = (usize, ((&'a mut [f64], &'a mut [f64]), &'a mut [f64]));

/// Where one matrix's truncated SVD is written: `u` (m × r), `s` (r), `v` (n × r).
struct Triplet<'a> {
    u: MatMut<'a, f64>,
    s: &'a mut [f64],
    v: MatMut<'a, f64>,
}

/// Marker error: faer's small SVD did not converge (not seen for finite input).
struct SmallSvdFailed;

/// HMT Alg. 4.4 + 5.1 on one `m × n` matrix with the `n × l` test matrix `omega`; `r = out.s.len() ≤ l`.
fn randomized_svd_matrix(
    a: MatRef<'_, f64>,
    omega: MatRef<'_, f64>,
    power_iters: usize,
    out: Triplet<'_>,
    par: Par,
) -> std::result::Result<(), SmallSvdFailed> {
    let (m, n, l) = (a.nrows(), a.ncols(), omega.ncols());
    let r = out.s.len();
    let mut q = Mat::<f64>::zeros(m, l);
    matmul(q.as_mut(), Accum::Replace, a, omega, 1.0, par);
    orthonormalize(&mut q, par);
    let mut z = Mat::<f64>::zeros(n, l);
    for _ in 0..power_iters {
        matmul(z.as_mut(), Accum::Replace, a.transpose(), q.as_ref(), 1.0, par);
        orthonormalize(&mut z, par);
        matmul(q.as_mut(), Accum::Replace, a, z.as_ref(), 1.0, par);
        orthonormalize(&mut q, par);
    }
    // B = QᵀA (l × n, l ≤ n) and its thin SVD B = Ũ Σ Ṽᵀ.
    let mut b = Mat::<f64>::zeros(l, n);
    matmul(b.as_mut(), Accum::Replace, q.transpose(), a, 1.0, par);
    let mut s = Diag::<f64>::zeros(l);
    let mut ub = Mat::<f64>::zeros(l, l);
    let mut vb = Mat::<f64>::zeros(n, l);
    let req = svd_scratch::<f64>(l, n, ComputeSvdVectors::Thin, ComputeSvdVectors::Thin, par, Default::default());
    let mut mem = MemBuffer::new(req);
    svd(b.as_ref(), s.as_mut(), Some(ub.as_mut()), Some(vb.as_mut()), par, MemStack::new(&mut mem), Default::default())
        .map_err(|_| SmallSvdFailed)?;
    let Triplet { u, s: s_out, mut v } = out;
    matmul(u, Accum::Replace, q.as_ref(), ub.as_ref().subcols(0, r), 1.0, par);
    v.copy_from(vb.as_ref().subcols(0, r));
    for (k, x) in s_out.iter_mut().enumerate() {
        *x = s[k];
    }
    Ok(())
}

/// Replaces the `m × l` matrix `y` (`m ≥ l`) by the thin `Q` of its Householder QR: orthonormal
/// columns spanning its range (and orthonormal completions where `y` is rank-deficient).
fn orthonormalize(y: &mut Mat<f64>, par: Par) {
    let (m, l) = y.shape();
    let bs = recommended_block_size::<f64>(m, l);
    let mut coeff = Mat::<f64>::zeros(bs, l);
    let req = qr_in_place_scratch::<f64>(m, l, bs, par, Default::default())
        .or(apply_block_householder_sequence_on_the_left_in_place_scratch::<f64>(m, bs, l));
    let mut mem = MemBuffer::new(req);
    let stack = MemStack::new(&mut mem);
    qr_in_place(y.as_mut(), coeff.as_mut(), par, stack, Default::default());
    // The Householder basis is the unit lower trapezoid of the factored matrix.
    for j in 0..l {
        for i in 0..j {
            y[(i, j)] = 0.0;
        }
        y[(j, j)] = 1.0;
    }
    let mut q = Mat::<f64>::identity(m, l);
    apply_block_householder_sequence_on_the_left_in_place_with_conj(y.as_ref(), coeff.as_ref(), Conj::No, q.as_mut(), par, stack);
    *y = q;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthonormalize_gives_orthonormal_columns_spanning_the_input() {
        let (m, l) = (9, 4);
        let y0 = Mat::<f64>::from_fn(m, l, |i, j| ((i * 7 + j * 3) % 5) as f64 - 2.0 + if i == j { 3.0 } else { 0.0 });
        let mut q = y0.clone();
        orthonormalize(&mut q, Par::Seq);
        let qtq = q.transpose() * &q;
        for i in 0..l {
            for j in 0..l {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((qtq[(i, j)] - want).abs() < 1e-14, "QᵀQ[{i},{j}] = {}", qtq[(i, j)]);
            }
        }
        // Y = Q Qᵀ Y: the columns of Y lie in the span of Q.
        let back = &q * (q.transpose() * &y0);
        assert!((back - &y0).norm_l2() < 1e-13 * y0.norm_l2());
    }
}
