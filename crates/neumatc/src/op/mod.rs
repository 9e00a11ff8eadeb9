//! What is approximated: the operation vocabulary ([`Operation`], [`OpSpec`]: result components, shapes,
//! the joint layout), the exact solver of each (calling [`crate::linalg`]), the alignment of training data
//! along `p` (`align.rs`), the algebraic structure residuals (`residual.rs`) and every per-operation measure
//! (`measure.rs`, `complex.rs`; the batched public metrics in [`crate::metrics`] are built on them).

pub(crate) mod align;
pub(crate) mod complex;
pub(crate) mod measure;
mod residual;

use crate::error::{Error, Result};
use crate::linalg::{self, matmul};
use align::greedy_match;

pub use residual::Probe;

/// A matrix operation NeuMatC can learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Operation {
    /// `G(p) = A(p)⁻¹`; residual `A G − I`; metric `RelErr_inv = ‖A Ĝ − I‖²_F / n`.
    Inverse,
    /// `x(p) = A(p)⁻¹ b` for a fixed right-hand side `b` (App. H); residual `A x − b`; metric `‖A x̂ − b‖/‖b‖`.
    Solve,
    /// Thin or rank-`r` SVD `U, S, V`; residual `AV − US`, `AᵀU − VS`, `UᵀU − I`, `VᵀV − I`; metric
    /// `RelErr_svd = ‖Û diag(Ŝ) V̂ᵀ − A‖²_F / ‖A‖²_F`.
    Svd,
    /// Thin QR `Q, R` (`R` upper triangular with non-negative diagonal); residual `A − QR`, `QᵀQ − I`.
    Qr,
    /// Cholesky `L` (lower triangular) of an SPD matrix; residual `A − LLᵀ`.
    Cholesky,
    /// Symmetric eigendecomposition `values, vectors`; residual `AV − V diag(λ)`, `VᵀV − I`.
    Eigh,
    /// Matrix exponential; residual: the commutator `A G − G A`.
    Expm,
}

/// Which entries of a component are structurally zero (kept exactly zero by masking `C`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// Every entry is free.
    Full,
    /// Upper triangular (`R` of QR).
    Upper,
    /// Lower triangular (`L` of Cholesky).
    Lower,
}

/// One result component: its name and shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentSpec {
    /// Name used in Rust, TS, the CLI and model files.
    pub name: &'static str,
    /// Rows.
    pub rows: usize,
    /// Columns (1 for vectors: `S`, `values`, `x`).
    pub cols: usize,
    /// Structural zeros.
    pub mask: Mask,
}

impl ComponentSpec {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// Whether the component holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether entry `(i, j)` may be non-zero.
    pub fn free(&self, i: usize, j: usize) -> bool {
        match self.mask {
            Mask::Full => true,
            Mask::Upper => j >= i,
            Mask::Lower => j <= i,
        }
    }
}

impl Operation {
    /// Every operation, in a stable order.
    pub const ALL: [Operation; 7] =
        [Operation::Inverse, Operation::Solve, Operation::Svd, Operation::Qr, Operation::Cholesky, Operation::Eigh, Operation::Expm];

    /// Parses the name used in TS, the CLI and model files (`"inverse"`, `"svd"`, ...).
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|op| op.name()).collect();
            Error::option("operation", format!("unknown operation `{name}`; supported: {}", names.join(", ")))
        })
    }

    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Inverse => "inverse",
            Operation::Solve => "solve",
            Operation::Svd => "svd",
            Operation::Qr => "qr",
            Operation::Cholesky => "cholesky",
            Operation::Eigh => "eigh",
            Operation::Expm => "expm",
        }
    }

    /// Names of the result components, in order.
    pub fn components(self) -> &'static [&'static str] {
        match self {
            Operation::Inverse => &["inverse"],
            Operation::Solve => &["x"],
            Operation::Svd => &["U", "S", "V"],
            Operation::Qr => &["Q", "R"],
            Operation::Cholesky => &["L"],
            Operation::Eigh => &["values", "vectors"],
            Operation::Expm => &["expm"],
        }
    }
}

/// An operation with everything it needs: input shape, SVD rank, right-hand side of `solve`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpSpec {
    /// The operation.
    pub op: Operation,
    /// Rows of `A(p)`.
    pub rows: usize,
    /// Columns of `A(p)`.
    pub cols: usize,
    /// Rank `r` of the SVD (`min(rows, cols)` for a thin SVD); 0 for the other operations.
    pub rank: usize,
    /// The fixed right-hand side `b` of `solve`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rhs: Option<Vec<f64>>,
    /// `A(p)` is the real embedding `[[Re, −Im], [Im, Re]]` of a complex matrix (see [`crate::complex`]):
    /// `rows` and `cols` are the embedding's (twice the complex shape), `rank` the complex SVD's. Results
    /// are embedded too: the inverse as `E(G)`, singular vectors stacked as `[Re U; Im U]`. Inverse and
    /// svd only. Default false (absent in model files of real models).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub complex: bool,
}

impl OpSpec {
    /// Checks the input shape against the operation and the options against the shape.
    pub fn new(op: Operation, rows: usize, cols: usize, rank: Option<usize>, rhs: Option<Vec<f64>>) -> Result<Self> {
        let square = |name: &'static str| {
            if rows != cols { Err(Error::ShapeMismatch { op: name, expected: vec![rows, rows], got: vec![rows, cols] }) } else { Ok(()) }
        };
        if rank.is_some() && op != Operation::Svd {
            return Err(Error::option("rank", format!("only `svd` takes a rank, not `{}`", op.name())));
        }
        if rhs.is_some() && op != Operation::Solve {
            return Err(Error::option("rhs", format!("only `solve` takes a right-hand side, not `{}`", op.name())));
        }
        let mut spec = OpSpec { op, rows, cols, rank: 0, rhs: None, complex: false };
        match op {
            Operation::Inverse | Operation::Cholesky | Operation::Eigh | Operation::Expm => square(op.name())?,
            Operation::Solve => {
                square("solve")?;
                let b = rhs.ok_or_else(|| Error::option("rhs", "`solve` needs a right-hand side `rhs` of length n"))?;
                if b.len() != rows {
                    return Err(Error::ShapeMismatch { op: "solve rhs", expected: vec![rows], got: vec![b.len()] });
                }
                crate::matrix::check_finite("rhs", &b)?;
                if b.iter().all(|&v| v == 0.0) {
                    return Err(Error::option("rhs", "the right-hand side is zero (the solution would be x = 0)"));
                }
                spec.rhs = Some(b);
            }
            Operation::Svd => {
                let full = rows.min(cols);
                let r = rank.unwrap_or(full);
                if r == 0 || r > full {
                    return Err(Error::option("rank", format!("rank {r} must be between 1 and min(rows, cols) = {full}")));
                }
                spec.rank = r;
            }
            Operation::Qr => {
                if rows < cols {
                    return Err(Error::ShapeMismatch { op: "qr (needs rows ≥ cols)", expected: vec![cols, cols], got: vec![rows, cols] });
                }
            }
        }
        Ok(spec)
    }

    /// The same operation on the real embedding of complex matrices whose embedding is `rows × cols`
    /// (see [`OpSpec::complex`]). For svd the rank (default: the complex thin rank) is checked against the
    /// complex shape. Only inverse and svd have complex forms.
    pub fn new_complex(op: Operation, rows: usize, cols: usize, rank: Option<usize>) -> Result<Self> {
        if !rows.is_multiple_of(2) || !cols.is_multiple_of(2) {
            return Err(Error::ShapeMismatch {
                op: "complex embedding",
                expected: vec![2 * (rows / 2), 2 * (cols / 2)],
                got: vec![rows, cols],
            });
        }
        let full = (rows / 2).min(cols / 2);
        let mut spec = match op {
            Operation::Inverse => OpSpec::new(op, rows, cols, rank, None)?,
            Operation::Svd => {
                let r = rank.unwrap_or(full);
                if r == 0 || r > full {
                    return Err(Error::option(
                        "rank",
                        format!("rank {r} must be between 1 and min(rows, cols) = {full} of the complex matrices"),
                    ));
                }
                OpSpec::new(op, rows, cols, Some(r), None)?
            }
            other => {
                return Err(Error::option(
                    "operation",
                    format!("`{}` is not available for complex matrices (inverse and svd are)", other.name()),
                ));
            }
        };
        spec.complex = true;
        Ok(spec)
    }

    /// The complex shape `(m, n)` of a complex spec's matrices; the real shape otherwise.
    pub fn matrix_shape(&self) -> (usize, usize) {
        if self.complex { (self.rows / 2, self.cols / 2) } else { (self.rows, self.cols) }
    }

    /// The result components, in [`Operation::components`] order.
    pub fn components(&self) -> Vec<ComponentSpec> {
        let (m, n, r) = (self.rows, self.cols, self.rank);
        let c = |name, rows, cols, mask| ComponentSpec { name, rows, cols, mask };
        match self.op {
            // A complex inverse is stored as the first block column `[Re G; Im G]` of `E(G)`: half the values.
            Operation::Inverse if self.complex => vec![c("inverse", n, n / 2, Mask::Full)],
            Operation::Inverse => vec![c("inverse", n, n, Mask::Full)],
            Operation::Solve => vec![c("x", n, 1, Mask::Full)],
            Operation::Svd => vec![c("U", m, r, Mask::Full), c("S", r, 1, Mask::Full), c("V", n, r, Mask::Full)],
            Operation::Qr => vec![c("Q", m, n, Mask::Full), c("R", n, n, Mask::Upper)],
            Operation::Cholesky => vec![c("L", n, n, Mask::Lower)],
            Operation::Eigh => vec![c("values", n, 1, Mask::Full), c("vectors", n, n, Mask::Full)],
            Operation::Expm => vec![c("expm", n, n, Mask::Full)],
        }
    }

    /// Total number of values of all components (the length of a joint result vector).
    pub fn output_len(&self) -> usize {
        self.components().iter().map(|c| c.len()).sum()
    }

    /// The exact result at one row-major matrix, components concatenated in order (f64, LAPACK-class
    /// solvers). Errors name `p`.
    pub fn exact(&self, a: &[f64], p: &[f64]) -> Result<Vec<f64>> {
        let (m, n) = (self.rows, self.cols);
        let parts: Vec<Vec<f64>> = match self.op {
            Operation::Inverse if self.complex => {
                vec![crate::linalg::complex::inverse_stacked(a, n / 2).ok_or_else(|| Error::Singular { op: "inverse", p: p.to_vec() })?]
            }
            Operation::Inverse => {
                let mut g = vec![0.0; n * n];
                linalg::inverse_matrix(a, n, &mut g, faer::Par::Seq).map_err(|_| Error::Singular { op: "inverse", p: p.to_vec() })?;
                vec![g]
            }
            Operation::Solve => vec![linalg::solve_matrix(a, n, self.rhs.as_deref().unwrap_or_default()).map_err(|e| at_p(e, p))?],
            Operation::Svd if self.complex => {
                vec![crate::linalg::complex::svd_stacked(a, m / 2, n / 2, self.rank).map_err(|e| at_p(e, p))?]
            }
            Operation::Svd => {
                let (u, s, v) = linalg::svd_matrix(a, m, n, self.rank).map_err(|e| at_p(e, p))?;
                vec![u, s, v]
            }
            Operation::Qr => {
                let (q, r) = linalg::qr_matrix(a, m, n).map_err(|e| at_p(e, p))?;
                vec![q, r]
            }
            Operation::Cholesky => vec![linalg::cholesky_matrix(a, n).map_err(|e| at_p(e, p))?],
            Operation::Eigh => {
                let (values, vectors) = linalg::eigh_matrix(a, n).map_err(|e| at_p(e, p))?;
                vec![values, vectors]
            }
            Operation::Expm => vec![linalg::expm_matrix(a, n).map_err(|e| at_p(e, p))?],
        };
        Ok(parts.concat())
    }

    /// Splits a joint result vector into its components.
    pub fn split<'a, T>(&self, g: &'a [T]) -> Vec<&'a [T]> {
        let mut out = Vec::new();
        let mut rest = g;
        for c in self.components() {
            let (head, tail) = rest.split_at(c.len());
            out.push(head);
            rest = tail;
        }
        out
    }

    /// Whether the exact results need aligning along `p` (their signs and order are not unique).
    pub fn needs_alignment(&self) -> bool {
        matches!(self.op, Operation::Svd | Operation::Eigh)
    }

    /// Aligns the joint result `g` to a neighbouring one, `reference`, so that the factors are continuous
    /// along `p` (Tohidian et al.'s procedure, as the paper uses): singular/eigen vectors are matched to
    /// the reference's by largest overlap (which re-orders them at crossings) and their signs are chosen
    /// to agree with it. The matching is greedy on `|⟨u_i, u'_j⟩| + |⟨v_i, v'_j⟩|`, largest first.
    pub fn align(&self, reference: &[f64], g: &mut [f64]) {
        let (m, n) = (self.rows, self.cols);
        if self.complex && self.op == Operation::Svd {
            return align::align_complex_svd(reference, g, m / 2, n / 2, self.rank);
        }
        // (left vectors rows, right vectors rows or 0, number of vectors)
        let (rows_u, rows_v, r) = match self.op {
            Operation::Svd => (m, n, self.rank),
            Operation::Eigh => (n, 0, n),
            _ => return,
        };
        let comps = self.components();
        let offsets: Vec<usize> = comps.iter().scan(0, |o, c| Some(std::mem::replace(o, *o + c.len()))).collect();
        // Views: U (rows_u × r), values (r), V (rows_v × r).
        let (u_off, s_off, v_off) = match self.op {
            Operation::Svd => (offsets[0], offsets[1], Some(offsets[2])),
            _ => (offsets[1], offsets[0], None),
        };
        let col = |buf: &[f64], off: usize, rows: usize, j: usize| -> Vec<f64> { (0..rows).map(|i| buf[off + i * r + j]).collect() };
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        let mut score = vec![0.0; r * r]; // score[i * r + j]: reference i vs current j
        let mut sign = vec![0.0; r * r];
        let ref_u: Vec<Vec<f64>> = (0..r).map(|j| col(reference, u_off, rows_u, j)).collect();
        let cur_u: Vec<Vec<f64>> = (0..r).map(|j| col(g, u_off, rows_u, j)).collect();
        let ref_v: Vec<Vec<f64>> = v_off.map(|o| (0..r).map(|j| col(reference, o, rows_v, j)).collect()).unwrap_or_default();
        let cur_v: Vec<Vec<f64>> = v_off.map(|o| (0..r).map(|j| col(g, o, rows_v, j)).collect()).unwrap_or_default();
        for i in 0..r {
            for j in 0..r {
                let mut s = dot(&ref_u[i], &cur_u[j]);
                if v_off.is_some() {
                    s += dot(&ref_v[i], &cur_v[j]);
                }
                score[i * r + j] = s.abs();
                sign[i * r + j] = if s < 0.0 { -1.0 } else { 1.0 };
            }
        }
        let slot_of = greedy_match(&score, r);
        let values: Vec<f64> = (0..r).map(|j| g[s_off + j]).collect();
        for i in 0..r {
            let j = slot_of[i];
            let s = sign[i * r + j];
            g[s_off + i] = values[j];
            for row in 0..rows_u {
                g[u_off + row * r + i] = s * cur_u[j][row];
            }
            if let Some(o) = v_off {
                for row in 0..rows_v {
                    g[o + row * r + i] = s * cur_v[j][row];
                }
            }
        }
    }

    /// The paper-style relative error of one prediction `g` (joint, any float type widened to f64) at the
    /// row-major matrix `a`; `exact` is needed for `expm` only (relative error against the exact result).
    ///
    /// inverse: `‖AĜ − I‖²_F/n`; solve: `‖Ax̂ − b‖/‖b‖`; svd: `‖Û diag(Ŝ) V̂ᵀ − A‖²_F/‖A‖²_F`; qr:
    /// `‖Q̂R̂ − A‖²_F/‖A‖²_F`; cholesky: `‖L̂L̂ᵀ − A‖²_F/‖A‖²_F`; eigh: `‖V̂ diag(λ̂) V̂ᵀ − A‖²_F/‖A‖²_F`;
    /// expm: `‖Ĝ − e^A‖²_F/‖e^A‖²_F`.
    pub fn rel_err(&self, a: &[f64], g: &[f64], exact: Option<&[f64]>) -> Result<f64> {
        if g.len() != self.output_len() {
            return Err(Error::ShapeMismatch { op: "relErr", expected: vec![self.output_len()], got: vec![g.len()] });
        }
        let (m, n) = (self.rows, self.cols);
        let parts = self.split(g);
        let anorm2: f64 = a.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE);
        let diff2 = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(u, v)| (u - v).powi(2)).sum::<f64>();
        let value = match self.op {
            Operation::Inverse if self.complex => {
                // E(A)·[Re G; Im G] − [I; 0] = [Re(AG − I); Im(AG)].
                let h = n / 2;
                let mut r = matmul(a, n, n, false, parts[0], n, h, false);
                (0..h).for_each(|i| r[i * h + i] -= 1.0);
                r.iter().map(|v| v * v).sum::<f64>() / h as f64
            }
            Operation::Inverse => {
                let mut r = matmul(a, n, n, false, parts[0], n, n, false);
                (0..n).for_each(|i| r[i * n + i] -= 1.0);
                r.iter().map(|v| v * v).sum::<f64>() / n as f64
            }
            Operation::Solve => {
                let b = self.rhs.as_deref().unwrap_or_default();
                let ax = matmul(a, n, n, false, parts[0], n, 1, false);
                (diff2(&ax, b) / b.iter().map(|v| v * v).sum::<f64>()).sqrt()
            }
            Operation::Svd if self.complex => complex::svd_rel_err_stacked(a, g, m / 2, n / 2, self.rank),
            Operation::Svd => {
                let r = self.rank;
                let us: Vec<f64> = (0..m * r).map(|i| parts[0][i] * parts[1][i % r]).collect();
                diff2(&matmul(&us, m, r, false, parts[2], n, r, true), a) / anorm2
            }
            Operation::Qr => diff2(&matmul(parts[0], m, n, false, parts[1], n, n, false), a) / anorm2,
            Operation::Cholesky => diff2(&matmul(parts[0], n, n, false, parts[0], n, n, true), a) / anorm2,
            Operation::Eigh => {
                let vl: Vec<f64> = (0..n * n).map(|i| parts[1][i] * parts[0][i % n]).collect();
                diff2(&matmul(&vl, n, n, false, parts[1], n, n, true), a) / anorm2
            }
            Operation::Expm => {
                let e = exact.ok_or_else(|| Error::Internal("expm relErr needs the exact exponential".into()))?;
                diff2(parts[0], e) / e.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE)
            }
        };
        if !value.is_finite() {
            return Err(Error::input("relErr", "the prediction holds NaN or Inf"));
        }
        Ok(value)
    }

    /// Largest orthogonality defect `‖XᵀX − I‖_F / √r` over the orthonormal factors (`U`, `V`, `Q`,
    /// `vectors`); `None` for operations without one.
    pub fn orthogonality_defect(&self, g: &[f64]) -> Option<f64> {
        let parts = self.split(g);
        if self.complex {
            let defect = |x: &[f64], rows: usize| complex::orthogonality_defect_stacked(x, rows / 2, self.rank);
            return (self.op == Operation::Svd).then(|| defect(parts[0], self.rows).max(defect(parts[2], self.cols)));
        }
        let factors: Vec<(&[f64], usize, usize)> = match self.op {
            Operation::Svd => vec![(parts[0], self.rows, self.rank), (parts[2], self.cols, self.rank)],
            Operation::Qr => vec![(parts[0], self.rows, self.cols)],
            Operation::Eigh => vec![(parts[1], self.rows, self.rows)],
            _ => return None,
        };
        let defect = |(x, rows, cols): (&[f64], usize, usize)| {
            let mut xtx = matmul(x, rows, cols, true, x, rows, cols, false);
            (0..cols).for_each(|i| xtx[i * cols + i] -= 1.0);
            (xtx.iter().map(|v| v * v).sum::<f64>() / cols as f64).sqrt()
        };
        factors.into_iter().map(defect).reduce(f64::max)
    }

    /// Whether the structure residual is linear in the result (then its quadratic form is exact).
    pub fn linear(&self) -> bool {
        matches!(self.op, Operation::Inverse | Operation::Solve | Operation::Expm)
    }
}

/// Puts the parameter `p` into an error from a per-matrix solver.
pub(crate) fn at_p(e: Error, p: &[f64]) -> Error {
    match e {
        Error::Singular { op, .. } => Error::Singular { op, p: p.to_vec() },
        Error::NotPositiveDefinite { op, .. } => Error::NotPositiveDefinite { op, p: p.to_vec() },
        Error::IllConditioned { op, cond, .. } => Error::IllConditioned { op, p: p.to_vec(), cond },
        Error::InvalidInput { what, reason } => Error::InvalidInput { what, reason: format!("{reason} (at p = {p:?})") },
        other => other,
    }
}
