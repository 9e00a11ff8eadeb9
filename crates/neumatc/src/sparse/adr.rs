//! The paper's advection–diffusion–reaction family (Appendix H, eq. 11–12).

use std::sync::OnceLock;

use faer::linalg::solvers::Solve;
use faer::sparse::SymbolicSparseColMat;
use faer::sparse::linalg::LuError;
use faer::sparse::linalg::solvers::{Lu, SymbolicLu};
use rayon::prelude::*;

use super::{Pattern, SparseMat, norm2};
use crate::domain::Domain;
use crate::error::{Error, Result};

/// Largest grid side `m` [`AdrFamily::new`] accepts (`n = m² = 10⁶` unknowns).
pub const MAX_GRID: usize = 1000;

/// Largest order [`AdrFamily::dense`] forms.
const MAX_DENSE_N: usize = 4096;

/// Options of [`AdrFamily`]. Every field has a default; JSON uses camelCase names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct AdrConfig {
    /// Interior grid points per side `m`; the system has `n = m²` unknowns, mesh width `h = 1/(m + 1)`.
    /// In `2..=1000`. Default 100 (`n = 10⁴`); the paper's `n = 10⁵` is `grid = 316`.
    pub grid: usize,
    /// Advection speed `D`: `v(p) = D (cos 2πp, sin 2πp)`. Any finite number. Default 50 (the paper).
    pub advection: f64,
    /// Reaction coefficient `c` of the `c·u` term. Any finite number; `c ≥ 0` keeps every `A(p)`
    /// nonsingular. Default 1 (the paper).
    pub reaction: f64,
}

impl Default for AdrConfig {
    fn default() -> Self {
        Self { grid: 100, advection: 50.0, reaction: 1.0 }
    }
}

/// `−Δu + v(p)·∇u + c u = f` on `(0, 1)²`, `u = 0` on the boundary, `v(p) = D (cos 2πp, sin 2πp)`,
/// `f ≡ 1`, `p ∈ [0, 1]`, discretised by second-order centred differences on the `m × m` interior grid.
///
/// Unknown `i = iy·m + ix` (x fastest) sits at `(x, y) = ((ix + 1) h, (iy + 1) h)`, `h = 1/(m + 1)`.
/// `A(p) = A0 + cos(2πp) A1 + sin(2πp) A2` with `A0 = −Δ_h + c I` (5-point, `4/h² + c` on the
/// diagonal, `−1/h²` to each neighbour), `A1 = D ∂x` and `A2 = D ∂y` (centred, `±D/(2h)`). Natural
/// scaling: nothing is multiplied by `h²`, and `b = f` at the nodes (all ones). Relative residuals
/// `‖A(p)x − b‖/‖b‖` do not depend on that choice.
///
/// `A1`, `A2` are skew-symmetric, so the symmetric part of `A(p)` is `−Δ_h + c I`: for `c ≥ 0` every
/// `A(p)` is nonsingular. All `A(p)` share one sparsity pattern (the 5-point stencil); the exact solver
/// computes its symbolic LU once and refactors only numerically per `p` (on 2 cores: 0.02–0.06 s per solve
/// at `n = 10⁴`, 0.38 s at `n ≈ 10⁵`, relative residuals ~1e-13; cheaper than GMRES + ILU(0) to 1e-3).
///
/// ```
/// use neumatc::sparse::{AdrConfig, AdrFamily};
/// let fam = AdrFamily::new(AdrConfig { grid: 20, ..Default::default() }).unwrap();
/// let x = fam.solve_exact(&[0.3]).unwrap();
/// assert!(fam.relative_residual(0.3, &x) < 1e-12);
/// ```
#[derive(Debug)]
pub struct AdrFamily {
    cfg: AdrConfig,
    domain: Domain,
    /// The union pattern of `A0`, `A1`, `A2` (CSR).
    pattern: Pattern,
    /// Values of `A0`, `A1`, `A2` on `pattern`.
    vals: [Vec<f64>; 3],
    /// `A0`, `A1`, `A2` as faer matrices, each on its own pattern.
    terms: [SparseMat; 3],
    /// The union pattern as CSC, and CSC position → CSR position.
    csc: SymbolicSparseColMat<usize>,
    csc_perm: Vec<usize>,
    rhs: Vec<f64>,
    /// Symbolic LU of the union pattern, computed on first use.
    symbolic_lu: OnceLock<SymbolicLu<usize>>,
}

impl AdrFamily {
    /// Builds the three terms and the right-hand side.
    pub fn new(cfg: AdrConfig) -> Result<Self> {
        let m = cfg.grid;
        if !(2..=MAX_GRID).contains(&m) {
            return Err(Error::option("grid", format!("must be in 2..={MAX_GRID}, got {m}")));
        }
        if !cfg.advection.is_finite() {
            return Err(Error::option("advection", format!("must be a finite number, got {}", cfg.advection)));
        }
        if !cfg.reaction.is_finite() {
            return Err(Error::option("reaction", format!("must be a finite number, got {}", cfg.reaction)));
        }
        let n = m * m;
        let h = 1.0 / (m + 1) as f64;
        let (lap, adv) = (1.0 / (h * h), cfg.advection / (2.0 * h));
        let cap = 5 * n;
        let mut row_ptr = Vec::with_capacity(n + 1);
        let mut col_idx = Vec::with_capacity(cap);
        let mut diag = Vec::with_capacity(n);
        let mut vals = [Vec::with_capacity(cap), Vec::with_capacity(cap), Vec::with_capacity(cap)];
        row_ptr.push(0);
        for iy in 0..m {
            for ix in 0..m {
                let i = iy * m + ix;
                // Neighbours in increasing column order: south, west, centre, east, north.
                let entries: [(bool, usize, [f64; 3]); 5] = [
                    (iy > 0, i.wrapping_sub(m), [-lap, 0.0, -adv]),
                    (ix > 0, i.wrapping_sub(1), [-lap, -adv, 0.0]),
                    (true, i, [4.0 * lap + cfg.reaction, 0.0, 0.0]),
                    (ix + 1 < m, i + 1, [-lap, adv, 0.0]),
                    (iy + 1 < m, i + m, [-lap, 0.0, adv]),
                ];
                for (e, (present, j, v)) in entries.into_iter().enumerate() {
                    if present {
                        if e == 2 {
                            diag.push(col_idx.len());
                        }
                        col_idx.push(j);
                        for (vk, x) in vals.iter_mut().zip(v) {
                            vk.push(x);
                        }
                    }
                }
                row_ptr.push(col_idx.len());
            }
        }
        let pattern = Pattern { n, row_ptr, col_idx, diag };
        let (csc, csc_perm) = pattern.to_csc();
        let term = |k: usize| -> Result<SparseMat> {
            let triplets: Vec<faer::sparse::Triplet<usize, usize, f64>> = (0..n)
                .flat_map(|i| (pattern.row_ptr[i]..pattern.row_ptr[i + 1]).map(move |e| (i, e)))
                .filter(|&(_, e)| vals[k][e] != 0.0)
                .map(|(i, e)| faer::sparse::Triplet::new(i, pattern.col_idx[e], vals[k][e]))
                .collect();
            SparseMat::try_new_from_triplets(n, n, &triplets).map_err(|e| Error::Internal(format!("AdrFamily term A{k}: {e:?}")))
        };
        let terms = [term(0)?, term(1)?, term(2)?];
        Ok(Self { cfg, domain: Domain::unit(1), pattern, vals, terms, csc, csc_perm, rhs: vec![1.0; n], symbolic_lu: OnceLock::new() })
    }

    /// The options it was built from.
    pub fn config(&self) -> &AdrConfig {
        &self.cfg
    }

    /// Order `n = grid²` of `A(p)`.
    pub fn n(&self) -> usize {
        self.pattern.n
    }

    /// Stored entries of the common pattern of every `A(p)` (`5n − 4m`).
    pub fn nnz(&self) -> usize {
        self.pattern.nnz()
    }

    /// The parameter interval `[0, 1]`.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// `b`: `f ≡ 1` at the nodes, length `n`.
    pub fn rhs(&self) -> &[f64] {
        &self.rhs
    }

    /// Coordinates `(x, y)` of unknown `i` (`i = iy·m + ix`).
    pub fn node(&self, i: usize) -> (f64, f64) {
        let m = self.cfg.grid;
        let h = 1.0 / (m + 1) as f64;
        (((i % m) + 1) as f64 * h, ((i / m) + 1) as f64 * h)
    }

    /// A right-hand side from a source term: `f(x, y)` at the nodes, length `n`.
    pub fn rhs_from(&self, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
        (0..self.n())
            .map(|i| {
                let (x, y) = self.node(i);
                f(x, y)
            })
            .collect()
    }

    /// θ(p) = (1, cos 2πp, sin 2πp): the affine weights, `A(p) = Σ_k θ_k(p) A_k`.
    pub fn weights(p: f64) -> [f64; 3] {
        let (s, c) = (2.0 * std::f64::consts::PI * p).sin_cos();
        [1.0, c, s]
    }

    /// `A0` (diffusion + reaction), `A1` (`D ∂x`), `A2` (`D ∂y`), each with only its nonzero entries.
    pub fn terms(&self) -> [&SparseMat; 3] {
        [&self.terms[0], &self.terms[1], &self.terms[2]]
    }

    /// Values of `A(p)` on the CSR pattern.
    pub(crate) fn csr_values(&self, p: f64) -> Vec<f64> {
        let [_, c, s] = Self::weights(p);
        let [v0, v1, v2] = &self.vals;
        v0.iter().zip(v1).zip(v2).map(|((a, b), d)| a + c * b + s * d).collect()
    }

    pub(crate) fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    fn check_p(&self, p: f64) -> Result<()> {
        self.domain.check(&[p]).map(|_| ())
    }

    /// `A(p)` assembled on the common pattern (the same structure for every `p`, including entries
    /// that happen to vanish). `OUT_OF_DOMAIN` for `p ∉ [0, 1]`.
    pub fn assemble(&self, p: f64) -> Result<SparseMat> {
        self.check_p(p)?;
        Ok(self.assemble_unchecked(p))
    }

    fn assemble_unchecked(&self, p: f64) -> SparseMat {
        let csr = self.csr_values(p);
        SparseMat::new(self.csc.clone(), self.csc_perm.iter().map(|&k| csr[k]).collect())
    }

    /// `y = A(p) x` without assembling (one pass over the pattern, row-parallel for large `n`). Any real
    /// `p` is accepted (the weights are 1-periodic).
    ///
    /// # Panics
    /// If `x` or `y` does not have length `n`.
    pub fn apply(&self, p: f64, x: &[f64], y: &mut [f64]) {
        let [_, c, s] = Self::weights(p);
        let [v0, v1, v2] = &self.vals;
        self.pattern.spmv(|k| v0[k] + c * v1[k] + s * v2[k], x, y);
    }

    /// `Y_k = A_k X` for `k = 0, 1, 2`. `X` is a column-major `n × d` block (`x.len() = n·d`); each
    /// `Y_k` is column-major `n × d`. Parallel over columns.
    ///
    /// # Panics
    /// If `x.len() != n·d`.
    pub fn apply_terms_block(&self, x: &[f64], d: usize) -> [Vec<f64>; 3] {
        let n = self.n();
        assert!(x.len() == n * d, "apply_terms_block: x has length {}, expected n·d = {}", x.len(), n * d);
        std::array::from_fn(|k| {
            let vk = &self.vals[k];
            let mut y = vec![0.0; n * d];
            if d == 1 {
                self.pattern.spmv(|e| vk[e], x, &mut y);
            } else if n > 0 {
                y.par_chunks_mut(n).zip(x.par_chunks(n)).for_each(|(yc, xc)| self.pattern.spmv_serial(|e| vk[e], xc, yc));
            }
            y
        })
    }

    /// Dense `A(p)`, row-major `n × n`, for small grids (tests). `INVALID_INPUT` above `n = 4096`,
    /// `OUT_OF_MEMORY` if it would not fit, `OUT_OF_DOMAIN` for `p ∉ [0, 1]`.
    pub fn dense(&self, p: f64) -> Result<Vec<f64>> {
        self.check_p(p)?;
        let n = self.n();
        if n > MAX_DENSE_N {
            return Err(Error::input("dense A(p)", format!("n = {n} exceeds {MAX_DENSE_N}; use assemble() or apply()")));
        }
        crate::matrix::check_alloc("dense A(p)", n, n, 8)?;
        let val = self.csr_values(p);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for k in self.pattern.row_ptr[i]..self.pattern.row_ptr[i + 1] {
                a[i * n + self.pattern.col_idx[k]] = val[k];
            }
        }
        Ok(a)
    }

    /// `‖A(p)x − b‖₂ / ‖b‖₂`.
    ///
    /// # Panics
    /// If `x` does not have length `n`.
    pub fn relative_residual(&self, p: f64, x: &[f64]) -> f64 {
        self.relative_residual_for(p, x, &self.rhs)
    }

    /// `‖A(p)x − rhs‖₂ / ‖rhs‖₂`.
    ///
    /// # Panics
    /// If `x` or `rhs` does not have length `n`.
    pub fn relative_residual_for(&self, p: f64, x: &[f64], rhs: &[f64]) -> f64 {
        assert!(rhs.len() == self.n(), "relative_residual: rhs must have length n = {}", self.n());
        let mut r = vec![0.0; self.n()];
        self.apply(p, x, &mut r);
        for (ri, bi) in r.iter_mut().zip(rhs) {
            *ri -= bi;
        }
        norm2(&r) / norm2(rhs)
    }

    fn symbolic_lu(&self) -> Result<&SymbolicLu<usize>> {
        if let Some(s) = self.symbolic_lu.get() {
            return Ok(s);
        }
        let s = SymbolicLu::try_new(self.csc.as_ref()).map_err(|e| Error::Internal(format!("symbolic sparse LU: {e:?}")))?;
        Ok(self.symbolic_lu.get_or_init(|| s))
    }

    /// Sparse LU of `A(p)` (partial pivoting, COLAMD ordering), reusing the shared symbolic factorisation.
    fn factor(&self, p: f64) -> Result<Lu<usize, f64>> {
        let symbolic = self.symbolic_lu()?.clone();
        let a = self.assemble_unchecked(p);
        Lu::try_new_with_symbolic(symbolic, a.as_ref()).map_err(|e| match e {
            LuError::SymbolicSingular { .. } => Error::Singular { op: "solve_exact", p: vec![p] },
            LuError::Generic(faer::sparse::FaerError::OutOfMemory) => {
                Error::OutOfMemory { what: "sparse LU", need_mib: 0, available_mib: crate::matrix::available_memory() >> 20 }
            }
            LuError::Generic(e) => Error::Internal(format!("sparse LU: {e:?}")),
        })
    }

    /// Solves `A(p) x = rhs` exactly (sparse LU). `SINGULAR` if the factorisation breaks down or the
    /// solution is not finite.
    pub fn solve_exact_with(&self, p: f64, rhs: &[f64]) -> Result<Vec<f64>> {
        self.check_p(p)?;
        if rhs.len() != self.n() {
            return Err(Error::ShapeMismatch { op: "solve_exact_with", expected: vec![self.n()], got: vec![rhs.len()] });
        }
        if rhs.iter().any(|v| !v.is_finite()) {
            return Err(Error::input("rhs", "contains NaN or Inf"));
        }
        let lu = self.factor(p)?;
        let mut x = rhs.to_vec();
        lu.solve_in_place(faer::MatMut::from_column_major_slice_mut(&mut x, self.n(), 1));
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::Singular { op: "solve_exact", p: vec![p] });
        }
        Ok(x)
    }

    /// Exact solutions `x(p) = A(p)⁻¹ b` for a batch of parameters. Returns (batch, n), row-major.
    /// Parameters are solved in parallel, as many at once as memory allows.
    pub fn solve_exact(&self, params: &[f64]) -> Result<Vec<f64>> {
        let batch = self.domain.check(params)?;
        let n = self.n();
        crate::matrix::check_alloc("solve_exact", batch, n, 8)?;
        self.symbolic_lu()?;
        // A generous guess at one factorisation's size (fill of a 2-D grid under COLAMD is O(n log n)).
        let per_factor = 8 * 40 * n * (usize::BITS - n.leading_zeros()) as usize;
        let avail = usize::try_from(crate::matrix::available_memory()).unwrap_or(usize::MAX);
        let at_once = (avail / 2 / per_factor.max(1)).clamp(1, rayon::current_num_threads());
        let mut out = vec![0.0; batch * n];
        for (ps, xs) in params.chunks(at_once).zip(out.chunks_mut(at_once * n)) {
            ps.par_iter().zip(xs.par_chunks_mut(n)).try_for_each(|(&p, x)| -> Result<()> {
                x.copy_from_slice(&self.solve_exact_with(p, &self.rhs)?);
                Ok(())
            })?;
        }
        Ok(out)
    }
}

impl Pattern {
    /// [`Pattern::spmv`] on the calling thread only.
    pub(crate) fn spmv_serial(&self, val: impl Fn(usize) -> f64, x: &[f64], y: &mut [f64]) {
        for (i, yi) in y.iter_mut().enumerate() {
            let mut s = 0.0;
            for k in self.row_ptr[i]..self.row_ptr[i + 1] {
                s += val(k) * x[self.col_idx[k]];
            }
            *yi = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stencil_rows_and_skew_symmetry() {
        let fam = AdrFamily::new(AdrConfig { grid: 4, advection: 3.0, reaction: 2.0 }).unwrap();
        let h = 0.2;
        let a0 = fam.terms()[0].to_dense();
        assert!((a0[(5, 5)] - (4.0 / (h * h) + 2.0)).abs() < 1e-12);
        assert!((a0[(5, 4)] + 1.0 / (h * h)).abs() < 1e-12 && (a0[(5, 9)] + 1.0 / (h * h)).abs() < 1e-12);
        let a1 = fam.terms()[1].to_dense();
        let a2 = fam.terms()[2].to_dense();
        assert!((a1[(5, 6)] - 3.0 / (2.0 * h)).abs() < 1e-12 && (a2[(5, 9)] - 3.0 / (2.0 * h)).abs() < 1e-12);
        // No coupling across the end of a grid row.
        assert_eq!(a0[(3, 4)], 0.0);
        assert_eq!(a1[(3, 4)], 0.0);
        for i in 0..16 {
            for j in 0..16 {
                assert_eq!(a0[(i, j)], a0[(j, i)]);
                assert_eq!(a1[(i, j)], -a1[(j, i)]);
                assert_eq!(a2[(i, j)], -a2[(j, i)]);
            }
        }
        assert_eq!(fam.nnz(), 5 * 16 - 4 * 4);
    }

    #[test]
    fn exactly_singular_matrix_is_reported() {
        // m = 2, D = 0: −Δ_h has eigenvalues 18, 36, 36, 54, and every row of −Δ_h − 18 I sums to 0.
        let fam = AdrFamily::new(AdrConfig { grid: 2, advection: 0.0, reaction: -18.0 }).unwrap();
        let err = fam.solve_exact(&[0.1]).unwrap_err();
        assert_eq!(err.code(), "SINGULAR", "{err}");
    }
}
