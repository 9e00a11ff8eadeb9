//! The user's own matrices on a grid of parameters.

use super::Domain;
use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;
use crate::matrix::{check_finite, check_len, param_batch};

/// `A(p)` known at a finite set of parameters (1-D or k-D). The grid is the pool training draws its
/// supervised samples and collocation candidates from; the domain is the grid's bounding box.
#[derive(Debug)]
pub struct SampledFamily {
    params: Vec<f64>,
    matrices: MatrixBatch,
    domain: Domain,
    /// The matrices are real embeddings of complex ones (see [`crate::complex`]).
    complex: bool,
}

impl SampledFamily {
    /// Checks shapes, finiteness and duplicate parameters.
    pub fn new(param_dim: usize, params: Vec<f64>, matrices: MatrixBatch) -> Result<Self> {
        let count = param_batch(&params, param_dim)?;
        if count < 2 {
            return Err(Error::input("fromSamples", format!("needs at least 2 samples, got {count}")));
        }
        if matrices.batch != count {
            return Err(Error::ShapeMismatch {
                op: "fromSamples",
                expected: vec![count, matrices.rows, matrices.cols],
                got: vec![matrices.batch, matrices.rows, matrices.cols],
            });
        }
        check_len("fromSamples", &matrices.data, matrices.batch, matrices.rows, matrices.cols)?;
        check_finite("fromSamples matrices", &matrices.data)?;
        if matrices.rows == 0 || matrices.cols == 0 {
            return Err(Error::input("fromSamples", "matrices must not be empty"));
        }
        let mut lo = vec![f64::INFINITY; param_dim];
        let mut hi = vec![f64::NEG_INFINITY; param_dim];
        for p in params.chunks_exact(param_dim) {
            for (j, &x) in p.iter().enumerate() {
                lo[j] = lo[j].min(x);
                hi[j] = hi[j].max(x);
            }
        }
        let domain = Domain { lo, hi };
        let mut keys: Vec<Vec<i64>> = params.chunks_exact(param_dim).map(|p| grid_key(&domain, p)).collect();
        keys.sort();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::input("fromSamples", "two samples share the same parameter"));
        }
        Ok(Self { params, matrices, domain, complex: false })
    }

    /// Complex matrices on a grid: stored as their real embeddings (`2m × 2n`), which is what
    /// [`SampledFamily::at`] returns; the family reports itself as complex.
    pub fn new_complex(param_dim: usize, params: Vec<f64>, matrices: &crate::matrix::complex::ComplexBatch) -> Result<Self> {
        check_finite("fromSamples matrices (re)", &matrices.re)?;
        check_finite("fromSamples matrices (im)", &matrices.im)?;
        let mut fam = Self::new(param_dim, params, matrices.embed())?;
        fam.complex = true;
        Ok(fam)
    }

    /// Whether the samples are complex (stored embedded).
    pub fn is_complex(&self) -> bool {
        self.complex
    }

    /// Rows of each matrix.
    pub fn rows(&self) -> usize {
        self.matrices.rows
    }

    /// Columns of each matrix.
    pub fn cols(&self) -> usize {
        self.matrices.cols
    }

    /// Number of samples on the grid.
    pub fn len(&self) -> usize {
        self.matrices.batch
    }

    /// Whether the grid is empty (never: construction needs two samples).
    pub fn is_empty(&self) -> bool {
        self.matrices.batch == 0
    }

    /// The grid, `len() * param_dim` values.
    pub fn params(&self) -> &[f64] {
        &self.params
    }

    /// The grid's bounding box.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The stored matrices at grid parameters; any other parameter is an `INVALID_INPUT` error, since
    /// the family knows `A(p)` only on its grid.
    pub fn at(&self, params: &[f64]) -> Result<MatrixBatch> {
        let batch = self.domain.check(params)?;
        let k = self.domain.dim();
        let sz = self.rows() * self.cols();
        let mut data = Vec::with_capacity(batch * sz);
        for p in params.chunks_exact(k) {
            let key = grid_key(&self.domain, p);
            let i = self.params.chunks_exact(k).position(|q| grid_key(&self.domain, q) == key).ok_or_else(|| {
                Error::input(
                    "fromSamples family",
                    format!("p = {p:?} is not one of its sample parameters (A(p) is known only on the grid)"),
                )
            })?;
            data.extend_from_slice(self.matrices.matrix(i));
        }
        Ok(MatrixBatch { batch, rows: self.rows(), cols: self.cols(), data })
    }
}

/// Parameters rounded to 1e-9 of the domain's width, so that grid lookups tolerate round-off.
fn grid_key(domain: &Domain, p: &[f64]) -> Vec<i64> {
    p.iter()
        .zip(domain.lo.iter().zip(&domain.hi))
        .map(|(&x, (&lo, &hi))| {
            let w = if hi > lo { hi - lo } else { 1.0 };
            ((x - lo) / w * 1e9).round() as i64
        })
        .collect()
}
