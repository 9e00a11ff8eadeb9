//! Complex matrices (footnote 3 of the paper: real and imaginary parts are modelled separately).
//!
//! A complex matrix `A = X + iY` enters the engine as its real embedding
//! `E(A) = [[X, −Y], [Y, X]]` (`2m × 2n`), which every real operation, trainer and model handle as is:
//! `E` is a ring homomorphism (`E(AB) = E(A)E(B)`, `E(A⁻¹) = E(A)⁻¹`, `E(Aᴴ) = E(A)ᵀ`), so the real
//! inverse of `E(A)` *is* the embedded complex inverse, and since the supervised snapshots are all
//! embeddings, the POD basis and hence every prediction is an exact embedding too. A complex SVD is the
//! real rank-`r` SVD of `E(A)` restricted to one singular triplet of each degenerate pair:
//! `U_E = [Re U; Im U]`, `V_E = [Re V; Im V]` satisfy `E(A)V_E = U_E S`, `E(A)ᵀU_E = V_E S` and
//! `U_Eᵀ U_E = Re(UᴴU) = I`, so the SVD's structure residual holds unchanged; its phase freedom
//! (`u, v → e^{iα}u, e^{iα}v`) is fixed by `op::align_complex_svd`.
//!
//! This module holds the storage ([`ComplexBatch`]) and the embedding both ways. The exact complex kernels
//! are in [`crate::linalg::complex`], the metrics in complex arithmetic in [`crate::metrics::complex`], the
//! SVD phase alignment in [`crate::op`] and the complex view of a prediction in [`crate::model`].

use faer::{Mat, MatRef, c64};
use rayon::prelude::*;

use super::{MatrixBatch, check_finite, check_len};
use crate::error::{Error, Result};

/// A batch of complex matrices, real and imaginary parts in two row-major, batch-major planes.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexBatch {
    /// Number of matrices.
    pub batch: usize,
    /// Rows of each matrix.
    pub rows: usize,
    /// Columns of each matrix.
    pub cols: usize,
    /// Real parts, `batch * rows * cols`.
    pub re: Vec<f64>,
    /// Imaginary parts, `batch * rows * cols`.
    pub im: Vec<f64>,
}

impl ComplexBatch {
    /// Checks both planes' lengths and finiteness.
    pub fn new(batch: usize, rows: usize, cols: usize, re: Vec<f64>, im: Vec<f64>) -> Result<Self> {
        check_len("complex matrices (re)", &re, batch, rows, cols)?;
        check_len("complex matrices (im)", &im, batch, rows, cols)?;
        check_finite("complex matrices (re)", &re)?;
        check_finite("complex matrices (im)", &im)?;
        Ok(Self { batch, rows, cols, re, im })
    }

    /// From interleaved `re, im, re, im, …` values (`2 * batch * rows * cols`).
    pub fn from_interleaved(batch: usize, rows: usize, cols: usize, data: &[f64]) -> Result<Self> {
        let len = batch * rows * cols;
        if data.len() != 2 * len {
            return Err(Error::ShapeMismatch {
                op: "complex matrices (interleaved)",
                expected: vec![batch, rows, cols, 2],
                got: vec![data.len()],
            });
        }
        Self::new(batch, rows, cols, data.iter().step_by(2).copied().collect(), data.iter().skip(1).step_by(2).copied().collect())
    }

    /// From complex values, row-major and batch-major.
    pub fn from_c64(batch: usize, rows: usize, cols: usize, values: &[c64]) -> Self {
        debug_assert_eq!(values.len(), batch * rows * cols);
        Self { batch, rows, cols, re: values.iter().map(|z| z.re).collect(), im: values.iter().map(|z| z.im).collect() }
    }

    /// Values per matrix.
    pub fn size(&self) -> usize {
        self.rows * self.cols
    }

    /// Matrix `i` as a faer matrix.
    pub fn matrix(&self, i: usize) -> Mat<c64> {
        let (m, n, o) = (self.rows, self.cols, i * self.size());
        Mat::from_fn(m, n, |r, c| c64::new(self.re[o + r * n + c], self.im[o + r * n + c]))
    }

    /// The real embedding of every matrix: (batch, 2·rows, 2·cols).
    pub fn embed(&self) -> MatrixBatch {
        let (m, n, sz) = (self.rows, self.cols, self.size());
        let mut data = vec![0.0; self.batch * 4 * sz];
        data.par_chunks_mut(4 * sz.max(1)).enumerate().for_each(|(b, out)| {
            embed_into(&self.re[b * sz..(b + 1) * sz], &self.im[b * sz..(b + 1) * sz], m, n, out);
        });
        MatrixBatch { batch: self.batch, rows: 2 * m, cols: 2 * n, data }
    }

    /// The complex matrices whose embeddings `e` holds (read from the first block column; a
    /// non-embedding is not detected — see [`embedding_defect`]). `e` is (batch, 2m, 2n).
    pub fn from_embedding(e: &MatrixBatch) -> Result<Self> {
        if !e.rows.is_multiple_of(2) || !e.cols.is_multiple_of(2) {
            return Err(Error::ShapeMismatch {
                op: "complex embedding",
                expected: vec![e.batch, 2 * (e.rows / 2), 2 * (e.cols / 2)],
                got: vec![e.batch, e.rows, e.cols],
            });
        }
        let (m, n) = (e.rows / 2, e.cols / 2);
        let (re, im) = planes(&e.data, e.batch, m, n, 2 * n);
        Ok(Self { batch: e.batch, rows: m, cols: n, re, im })
    }
}

/// Writes `E(X + iY)` (`2m × 2n`, row-major) into `out` from row-major `m × n` planes.
pub(crate) fn embed_into(re: &[f64], im: &[f64], m: usize, n: usize, out: &mut [f64]) {
    let w = 2 * n;
    for r in 0..m {
        for c in 0..n {
            let (x, y) = (re[r * n + c], im[r * n + c]);
            out[r * w + c] = x;
            out[r * w + n + c] = -y;
            out[(m + r) * w + c] = y;
            out[(m + r) * w + n + c] = x;
        }
    }
}

/// The real and imaginary planes of a batch of stacked matrices: per matrix, `rows` rows of real parts
/// then `rows` rows of imaginary parts, `cols` values each, read from rows `stride` wide (`2·cols` for
/// an embedding, whose first block column holds `[Re; Im]`; `cols` for `[Re X; Im X]`).
pub(crate) fn planes<T: Copy>(data: &[T], batch: usize, rows: usize, cols: usize, stride: usize) -> (Vec<T>, Vec<T>) {
    let sz = 2 * rows * stride;
    let mut re = Vec::with_capacity(batch * rows * cols);
    let mut im = Vec::with_capacity(batch * rows * cols);
    for e in data.chunks_exact(sz.max(1)).take(batch) {
        for r in 0..rows {
            re.extend_from_slice(&e[r * stride..r * stride + cols]);
            im.extend_from_slice(&e[(rows + r) * stride..(rows + r) * stride + cols]);
        }
    }
    (re, im)
}

/// The stacked form `[Re X; Im X]` (`2m × k`, row-major) of a complex `m × k` matrix: how complex
/// singular vectors are stored in a model (see the module docs).
pub(crate) fn stack(x: MatRef<'_, c64>, out: &mut [f64]) {
    let (m, k) = (x.nrows(), x.ncols());
    for r in 0..m {
        for c in 0..k {
            out[r * k + c] = x[(r, c)].re;
            out[(m + r) * k + c] = x[(r, c)].im;
        }
    }
}

/// The embedding `E(G)` (`2n × 2n` row-major) of a complex `n × n` matrix stored stacked `[Re G; Im G]`.
pub(crate) fn expand_stacked(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; 4 * n * n];
    embed_into(&x[..n * n], &x[n * n..2 * n * n], n, n, &mut out);
    out
}

/// Relative distance of a real `2m × 2n` matrix from the set of embeddings:
/// `(‖X₁₁ − X₂₂‖² + ‖X₁₂ + X₂₁‖²) / (2‖X‖²)`. Zero for an exact embedding.
pub fn embedding_defect(e: &[f64], m: usize, n: usize) -> f64 {
    let w = 2 * n;
    let (mut num, mut den) = (0.0, 0.0);
    for r in 0..m {
        for c in 0..n {
            let (a, b, cc, d) = (e[r * w + c], e[r * w + n + c], e[(m + r) * w + c], e[(m + r) * w + n + c]);
            num += (a - d).powi(2) + (b + cc).powi(2);
            den += a * a + b * b + cc * cc + d * d;
        }
    }
    num / (2.0 * den.max(f64::MIN_POSITIVE))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A batch of complex matrices with entries uniform in the unit square, seeded.
    pub(crate) fn random(batch: usize, m: usize, n: usize, seed: u64) -> ComplexBatch {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let len = batch * m * n;
        let re = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
        let im = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
        ComplexBatch::new(batch, m, n, re, im).unwrap()
    }

    #[test]
    fn embedding_round_trips_and_multiplies() {
        let a = random(2, 3, 4, 1);
        let e = a.embed();
        assert_eq!((e.batch, e.rows, e.cols), (2, 6, 8));
        assert_eq!(ComplexBatch::from_embedding(&e).unwrap(), a);
        assert!(embedding_defect(e.matrix(1), 3, 4) < 1e-30);
        // E(A)·E(B) = E(AB).
        let b = random(1, 4, 2, 2);
        let a0 = random(1, 3, 4, 3);
        let prod = a0.matrix(0) * b.matrix(0);
        let ep = crate::linalg::matmul(&a0.embed().data, 6, 8, false, &b.embed().data, 8, 4, false);
        let direct = ComplexBatch::from_c64(1, 3, 2, &(0..6).map(|k| prod[(k / 2, k % 2)]).collect::<Vec<_>>()).embed();
        for (x, y) in ep.iter().zip(&direct.data) {
            assert!((x - y).abs() < 1e-14);
        }
    }
}
