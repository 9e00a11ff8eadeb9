//! The paper's inversion baselines besides LU: NNI, pointwise (Newton–Schulz iteration, its ref. [31]),
//! and two parametric ones that use the continuity of `A(p)`: COI (interpolation of precomputed inverses
//! along `p`, after Zahm & Nouy, ref. [27]) and ZNNI (a Zhang neural network integrated along `p`,
//! refs. [31, 37]).
//!
//! They are baselines, implemented as products but reported honestly: NNI returns its last iterate and
//! its iteration count whether or not it met the tolerance, COI is exact only at its nodes, and ZNNI
//! carries the integration error of its ODE along the grid.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::family::Family;
use crate::linalg::inverse;
use crate::matrix::MatrixBatch;

/// Largest accepted `maxIters` of [`NniConfig`].
const MAX_NNI_ITERS: usize = 10_000;
/// Largest number of COI interpolation nodes (`nodes^k` over the tensor grid).
const MAX_COI_NODES: usize = 4096;
/// Largest accepted `substeps` of [`ZnnConfig`].
const MAX_ZNN_SUBSTEPS: usize = 100_000;

/// Below this order a single matrix is multiplied on one thread (thread start-up would dominate).
const PARALLEL_GEMM_MIN_N: usize = 96;

fn gemm_par(n: usize) -> Par {
    if n >= PARALLEL_GEMM_MIN_N && rayon::current_num_threads() > 1 { Par::rayon(0) } else { Par::Seq }
}

/// Parses a config from JSON, validating it.
fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::option("options", e.to_string()))
}

// ---------------------------------------------------------------------------------------------------
// NNI: Newton–Schulz iteration.
// ---------------------------------------------------------------------------------------------------

/// Options of [`newton_schulz_inverse`]. JSON uses camelCase names; every field is optional.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct NniConfig {
    /// Most Newton–Schulz steps per matrix (each costs two `n × n` GEMMs). At most 10 000. Default 100.
    pub max_iters: usize,
    /// Stop when the scaled residual `‖I − A X_k‖_F / √n` is at most this (≥ 0; 0 runs every step).
    /// Default 1e-10.
    pub tol: f64,
}

impl Default for NniConfig {
    fn default() -> Self {
        Self { max_iters: 100, tol: 1e-10 }
    }
}

impl NniConfig {
    /// Parses a JSON object of options; absent fields keep their defaults, unknown fields are errors.
    ///
    /// ```
    /// let cfg = neumatc::baseline::NniConfig::from_json(r#"{"tol": 1e-8}"#).unwrap();
    /// assert_eq!((cfg.max_iters, cfg.tol), (100, 1e-8));
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: Self = parse(json)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Range checks on every option.
    pub fn validate(&self) -> Result<()> {
        if self.max_iters > MAX_NNI_ITERS {
            return Err(Error::option("maxIters", format!("must be at most {MAX_NNI_ITERS}, got {}", self.max_iters)));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::option("tol", format!("must be a finite number ≥ 0, got {}", self.tol)));
        }
        Ok(())
    }
}

/// The paper's NNI baseline ("Neural Newton Inversion", Zhang, Ma & Cai 2008: the ZNN for a constant
/// matrix discretised with unit step is Newton's iteration) on every matrix of a batch: the Newton–Schulz
/// iteration `X_{k+1} = X_k (2I − A X_k)` from `X_0 = Aᵀ / (‖A‖₁ ‖A‖_∞)`, which makes `‖I − A X_0‖₂ < 1`
/// for every nonsingular `A`, after which convergence is quadratic (about `log₂(n κ²)` steps to get going,
/// `κ` the condition number).
///
/// Stops at `‖I − A X_k‖_F / √n ≤ tol` or after `max_iters` steps and returns `X_k` either way, with the
/// `k` of every matrix: the baseline's honest accuracy, not an error. Returns ((batch, n, n), iterations).
/// Fails with `NoConvergence` (`iters` = the step; the error type has no batch index) if the iterate
/// or the norms of `A` overflow, `Singular` (`p` = the batch index) for a zero matrix, `ShapeMismatch`
/// for non-square matrices, `InvalidInput` for NaN/Inf.
///
/// ```
/// use neumatc::baseline::{NniConfig, newton_schulz_inverse};
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![2.0, 1.0, 1.0, 3.0]).unwrap();
/// let (x, iters) = newton_schulz_inverse(&a, &NniConfig::default()).unwrap();
/// let want = [0.6, -0.2, -0.2, 0.4];
/// assert!(x.data.iter().zip(want).all(|(x, w)| (x - w).abs() < 1e-10) && iters[0] < 20);
/// ```
pub fn newton_schulz_inverse(a: &MatrixBatch, cfg: &NniConfig) -> Result<(MatrixBatch, Vec<usize>)> {
    const OP: &str = "newtonSchulzInverse";
    cfg.validate()?;
    let n = a.require_square(OP)?;
    crate::matrix::check_len(OP, &a.data, a.batch, n, n)?;
    crate::matrix::check_finite(OP, &a.data)?;
    let mut data = vec![0.0; a.data.len()];
    let mut iters = vec![0usize; a.batch];
    if n == 0 {
        return Ok((MatrixBatch { batch: a.batch, rows: 0, cols: 0, data }, iters));
    }
    let run = |(i, (out, it)): (usize, (&mut [f64], &mut usize)), par: Par| -> Result<()> {
        let a_i = MatRef::from_row_major_slice(a.matrix(i), n, n);
        *it = newton_schulz_matrix(a_i, cfg, MatMut::from_row_major_slice_mut(out, n, n), par).map_err(|e| match e {
            NewtonSchulzFailure::Zero => Error::Singular { op: OP, p: vec![i as f64] },
            NewtonSchulzFailure::Diverged(k) => Error::NoConvergence { op: OP, iters: k },
        })?;
        Ok(())
    };
    if a.batch > 1 && rayon::current_num_threads() > 1 {
        data.par_chunks_mut(n * n).zip(iters.par_iter_mut()).enumerate().try_for_each(|job| run(job, Par::Seq))?;
    } else {
        data.chunks_mut(n * n).zip(iters.iter_mut()).enumerate().try_for_each(|job| run(job, gemm_par(n)))?;
    }
    Ok((MatrixBatch { batch: a.batch, rows: n, cols: n, data }, iters))
}

enum NewtonSchulzFailure {
    /// `A = 0`: no starting point.
    Zero,
    /// The iterate became non-finite at this step.
    Diverged(usize),
}

/// Newton–Schulz on one matrix; writes the last iterate to `out` and returns its step count.
fn newton_schulz_matrix(
    a: MatRef<'_, f64>,
    cfg: &NniConfig,
    mut out: MatMut<'_, f64>,
    par: Par,
) -> std::result::Result<usize, NewtonSchulzFailure> {
    let n = a.nrows();
    let norm_1 = (0..n).map(|j| (0..n).map(|i| a[(i, j)].abs()).sum::<f64>()).fold(0.0, f64::max);
    let norm_inf = (0..n).map(|i| (0..n).map(|j| a[(i, j)].abs()).sum::<f64>()).fold(0.0, f64::max);
    if !(norm_1.is_finite() && norm_inf.is_finite()) {
        // The norms overflow: the scaled start cannot be formed.
        return Err(NewtonSchulzFailure::Diverged(0));
    }
    if norm_1 == 0.0 {
        return Err(NewtonSchulzFailure::Zero);
    }
    // Divided one norm at a time, so neither huge nor tiny matrices over- or underflow the scale.
    let mut x = Mat::<f64>::from_fn(n, n, |i, j| a[(j, i)] / norm_1 / norm_inf);
    let mut r = Mat::<f64>::zeros(n, n);
    let mut next = Mat::<f64>::zeros(n, n);
    let sqrt_n = (n as f64).sqrt();
    let mut k = 0;
    loop {
        // R = I − A X_k.
        matmul(r.as_mut(), Accum::Replace, a, x.as_ref(), -1.0, par);
        for i in 0..n {
            r[(i, i)] += 1.0;
        }
        let residual = r.norm_l2() / sqrt_n;
        if !residual.is_finite() {
            return Err(NewtonSchulzFailure::Diverged(k));
        }
        if residual <= cfg.tol || k == cfg.max_iters {
            out.copy_from(x.as_ref());
            return Ok(k);
        }
        // X_{k+1} = X_k (2I − A X_k) = X_k + X_k R.
        next.copy_from(x.as_ref());
        matmul(next.as_mut(), Accum::Add, x.as_ref(), r.as_ref(), 1.0, par);
        std::mem::swap(&mut x, &mut next);
        k += 1;
    }
}

// ---------------------------------------------------------------------------------------------------
// COI: interpolation of precomputed inverses.
// ---------------------------------------------------------------------------------------------------

/// Options of [`Coi`]. JSON uses camelCase names; every field is optional.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CoiConfig {
    /// Chebyshev–Lobatto nodes per parameter dimension (≥ 2); the tensor grid has `nodes^k` of them, at
    /// most 4096, each holding an `n × n` inverse (`8·n²` bytes). Default 16.
    pub nodes: usize,
}

impl Default for CoiConfig {
    fn default() -> Self {
        Self { nodes: 16 }
    }
}

impl CoiConfig {
    /// Parses a JSON object of options; absent fields keep their defaults, unknown fields are errors.
    ///
    /// ```
    /// let cfg = neumatc::baseline::CoiConfig::from_json(r#"{"nodes": 24}"#).unwrap();
    /// assert_eq!(cfg.nodes, 24);
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: Self = parse(json)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Range checks that do not depend on the family (the grid size is checked by [`Coi::new`]).
    pub fn validate(&self) -> Result<()> {
        if !(2..=MAX_COI_NODES).contains(&self.nodes) {
            return Err(Error::option("nodes", format!("must be in 2..={MAX_COI_NODES}, got {}", self.nodes)));
        }
        Ok(())
    }
}

/// One parameter dimension of the COI grid: its nodes and barycentric weights.
#[derive(Debug, Clone)]
struct Axis {
    points: Vec<f64>,
    weights: Vec<f64>,
}

impl Axis {
    /// `count` Chebyshev–Lobatto points `lo + (hi − lo)(1 + x_j)/2`, `x_j = −cos(jπ/(count − 1))`, with
    /// their barycentric weights `(−1)^j`, halved at both ends (Berrut & Trefethen 2004). A dimension with
    /// `hi ≤ lo` gets the single node `lo`.
    fn lobatto(lo: f64, hi: f64, count: usize) -> Self {
        if hi <= lo || count < 2 {
            return Self { points: vec![lo], weights: vec![1.0] };
        }
        let (mid, half, last) = (0.5 * (lo + hi), 0.5 * (hi - lo), (count - 1) as f64);
        let points = (0..count)
            .map(|j| match j {
                0 => lo,
                j if j == count - 1 => hi,
                // sin form: symmetric about the centre to the last bit.
                j => mid + half * (std::f64::consts::PI * (2.0 * j as f64 - last) / (2.0 * last)).sin(),
            })
            .collect();
        let weights = (0..count)
            .map(|j| {
                let w = if j % 2 == 0 { 1.0 } else { -1.0 };
                if j == 0 || j == count - 1 { 0.5 * w } else { w }
            })
            .collect();
        Self { points, weights }
    }

    /// Lagrange basis values `ℓ_j(x)` by the second (true) barycentric formula: exact at the nodes.
    fn basis(&self, x: f64, out: &mut [f64]) {
        if let Some(j) = self.points.iter().position(|&p| p == x) {
            out.fill(0.0);
            out[j] = 1.0;
            return;
        }
        let mut sum = 0.0;
        for ((o, &p), &w) in out.iter_mut().zip(&self.points).zip(&self.weights) {
            *o = w / (x - p);
            sum += *o;
        }
        if !sum.is_finite() {
            // x is within a denormal of a node: that node's value.
            let j = (0..self.points.len()).min_by(|&i, &k| (x - self.points[i]).abs().total_cmp(&(x - self.points[k]).abs())).unwrap_or(0);
            out.fill(0.0);
            out[j] = 1.0;
            return;
        }
        out.iter_mut().for_each(|o| *o /= sum);
    }
}

/// The tensor grid of Chebyshev–Lobatto nodes of `domain`: its axes and its nodes, (N, k) row-major
/// with the last dimension running fastest.
fn grid(domain: &Domain, nodes: usize) -> Result<(Vec<Axis>, Vec<f64>)> {
    let k = domain.dim();
    if k == 0 {
        return Err(Error::option("family", "COI needs a family with at least one parameter"));
    }
    let axes: Vec<Axis> = domain.lo.iter().zip(&domain.hi).map(|(&lo, &hi)| Axis::lobatto(lo, hi, nodes)).collect();
    let total = axes.iter().try_fold(1usize, |acc, ax| acc.checked_mul(ax.points.len()).filter(|&t| t <= MAX_COI_NODES));
    let Some(total) = total else {
        return Err(Error::option("nodes", format!("nodes^k must be at most {MAX_COI_NODES}; {nodes}^{k} is more")));
    };
    let mut grid = vec![0.0; total * k];
    for (idx, node) in grid.chunks_exact_mut(k).enumerate() {
        let mut rest = idx;
        for (x, ax) in node.iter_mut().zip(&axes).rev() {
            *x = ax.points[rest % ax.points.len()];
            rest /= ax.points.len();
        }
    }
    Ok((axes, grid))
}

/// The paper's COI baseline (continuous operator interpolation, after Zahm & Nouy 2016): exact LU
/// inverses precomputed at a tensor grid of Chebyshev–Lobatto points of the parameter box, and for new
/// `p` their barycentric Lagrange interpolant, one weight per node. Exact at the nodes; between them the
/// error falls geometrically with `nodes` for an `A(p)⁻¹` analytic in `p` (the synthetic family's is).
///
/// Evaluation is one GEMM, weights (batch × N) · inverses (N × n²), so it costs `2·N·n²` flops per
/// matrix (`N = nodes^k`): cheaper than an LU inverse only while `N < n/3` or so. The family must be
/// evaluable at any `p` of its box (a [`crate::family::SampledFamily`] is known only on its own grid).
///
/// ```
/// use neumatc::baseline::{Coi, CoiConfig};
/// use neumatc::{Family, SyntheticConfig};
/// let fam = Family::synthetic(SyntheticConfig { n: 8, rank: 2, ..Default::default() }).unwrap();
/// let coi = Coi::new(&fam, &CoiConfig { nodes: 24 }).unwrap();
/// let x = coi.inverse(&[0.3]).unwrap();
/// assert_eq!((x.batch, x.rows, x.cols), (1, 8, 8));
/// ```
#[derive(Debug, Clone)]
pub struct Coi {
    domain: Domain,
    n: usize,
    axes: Vec<Axis>,
    /// Node parameters, (N, k) row-major, the last dimension running fastest.
    nodes: Vec<f64>,
    /// Inverses at the nodes, (N, n, n) row-major.
    inverses: Vec<f64>,
}

impl Coi {
    /// Precomputes the inverses at the grid nodes. Fails with `InvalidOption` for a grid of more than
    /// 4096 nodes, `ShapeMismatch` for a non-square family, `Singular` (`p` = the node) when `A` is
    /// singular at a node.
    pub fn new(family: &Family, cfg: &CoiConfig) -> Result<Self> {
        cfg.validate()?;
        let n = family.rows();
        if family.cols() != n {
            return Err(Error::ShapeMismatch { op: "coi", expected: vec![n, n], got: vec![n, family.cols()] });
        }
        let domain = family.domain().clone();
        let k = domain.dim();
        let (axes, nodes) = grid(&domain, cfg.nodes)?;
        let a = family.at(&nodes)?;
        let inv = inverse(&a).map_err(|e| match e {
            Error::Singular { op, p } => {
                let i = p.first().map_or(0, |&i| i as usize);
                Error::Singular { op, p: nodes[i * k..(i + 1) * k].to_vec() }
            }
            e => e,
        })?;
        Ok(Self { domain, n, axes, nodes, inverses: inv.data })
    }

    /// Matrix order `n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The interpolation nodes, (N, k) row-major: `N = nodes^k` parameter vectors, the last dimension
    /// running fastest.
    pub fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// The interpolated inverse at a batch of parameters (`params.len() = batch · k`). Returns (batch, n, n).
    /// Fails with `OutOfDomain` outside the family's box, `InvalidInput` for NaN/Inf or a length that is
    /// not a multiple of `k`.
    pub fn inverse(&self, params: &[f64]) -> Result<MatrixBatch> {
        let batch = self.domain.check(params)?;
        let k = self.domain.dim();
        let total = self.nodes.len() / k;
        let nn = self.n * self.n;
        // Row b of W holds the tensor-product weights Π_d ℓ_{i_d}(p_d) of every node.
        let mut w = vec![0.0; batch * total];
        let fill = |(p, row): (&[f64], &mut [f64])| {
            let mut basis: Vec<Vec<f64>> = self.axes.iter().map(|ax| vec![0.0; ax.points.len()]).collect();
            for ((ax, b), (&x, (&lo, &hi))) in
                self.axes.iter().zip(&mut basis).zip(p.iter().zip(self.domain.lo.iter().zip(&self.domain.hi)))
            {
                ax.basis(x.clamp(lo, hi.max(lo)), b);
            }
            for (idx, wv) in row.iter_mut().enumerate() {
                let mut rest = idx;
                let mut prod = 1.0;
                for (ax, b) in self.axes.iter().zip(&basis).rev() {
                    prod *= b[rest % ax.points.len()];
                    rest /= ax.points.len();
                }
                *wv = prod;
            }
        };
        params.par_chunks_exact(k).zip(w.par_chunks_mut(total)).for_each(fill);
        // Column-major views of row-major buffers are transposes: outᵀ (n² × batch) = invᵀ (n² × N) · Wᵀ (N × batch).
        let mut data = vec![0.0; batch * nn];
        if batch > 0 && nn > 0 {
            let out = MatMut::from_column_major_slice_mut(&mut data, nn, batch);
            let inv = MatRef::from_column_major_slice(&self.inverses, nn, total);
            let wt = MatRef::from_column_major_slice(&w, total, batch);
            let par = if rayon::current_num_threads() > 1 { Par::rayon(0) } else { Par::Seq };
            matmul(out, Accum::Replace, inv, wt, 1.0, par);
        }
        Ok(MatrixBatch { batch, rows: self.n, cols: self.n, data })
    }
}

// ---------------------------------------------------------------------------------------------------
// ZNNI: Zhang neural network along p.
// ---------------------------------------------------------------------------------------------------

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
        let cfg: Self = parse(json)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lobatto_interpolation_reproduces_polynomials_up_to_its_degree() {
        let ax = Axis::lobatto(-2.0, 3.0, 6);
        assert_eq!((ax.points[0], ax.points[5]), (-2.0, 3.0));
        let f = |x: f64| 1.0 - 2.0 * x + 0.5 * x.powi(3) - 0.1 * x.powi(5);
        let values: Vec<f64> = ax.points.iter().map(|&x| f(x)).collect();
        let mut b = vec![0.0; 6];
        for x in [-1.9, -0.3, 0.0, 1.234, 2.99] {
            ax.basis(x, &mut b);
            let got: f64 = b.iter().zip(&values).map(|(l, v)| l * v).sum();
            assert!((got - f(x)).abs() < 1e-12 * (1.0 + f(x).abs()), "x = {x}: {got} vs {}", f(x));
        }
        ax.basis(ax.points[2], &mut b);
        assert_eq!(b, vec![0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn tensor_grid_interpolates_a_two_parameter_polynomial_exactly() {
        // "Inverses" of order 1 holding f(p) = polynomial of degree < nodes in each parameter: the
        // interpolant must reproduce it, which checks the node ordering of the weights.
        let domain = Domain { lo: vec![0.0, -1.0], hi: vec![2.0, 3.0] };
        let (axes, nodes) = grid(&domain, 5).unwrap();
        assert_eq!(nodes.len(), 25 * 2);
        let f = |p: &[f64]| 1.0 + p[0] * p[1] - 0.3 * p[0].powi(4) + 0.2 * p[1].powi(3) * p[0];
        let inverses: Vec<f64> = nodes.chunks_exact(2).map(f).collect();
        let coi = Coi { domain, n: 1, axes, nodes: nodes.clone(), inverses };
        let params = [0.1, 2.9, 1.7, -0.4, nodes[14], nodes[15], 2.0, 3.0];
        let got = coi.inverse(&params).unwrap();
        for (p, g) in params.chunks_exact(2).zip(&got.data) {
            assert!((g - f(p)).abs() < 1e-12 * (1.0 + f(p).abs()), "p = {p:?}: {g} vs {}", f(p));
        }
        assert_eq!(got.data[2], f(&nodes[14..16]));
    }
}
