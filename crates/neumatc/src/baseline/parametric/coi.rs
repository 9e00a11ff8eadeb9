//! COI: interpolation of precomputed inverses on a Chebyshev–Lobatto grid of the domain (after Zahm &
//! Nouy, the paper's ref. [27]); exact only at its nodes.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::domain::Domain;
use crate::error::parse_options;
use crate::error::{Error, Result};
use crate::family::Family;
use crate::linalg::inverse;
use crate::matrix::MatrixBatch;

/// Largest number of COI interpolation nodes (`nodes^k` over the tensor grid).
const MAX_COI_NODES: usize = 4096;

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
        let cfg: Self = parse_options("options", json)?;
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
pub(super) struct Axis {
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
pub(super) fn grid(domain: &Domain, nodes: usize) -> Result<(Vec<Axis>, Vec<f64>)> {
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
