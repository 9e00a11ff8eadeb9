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
//! (`u, v → e^{iα}u, e^{iα}v`) is fixed by [`align_svd`].
//!
//! This module holds the storage ([`ComplexBatch`]), the embedding both ways, the exact complex
//! baselines (LU inverse and SVD in complex arithmetic, faer) and the paper's metrics in complex
//! arithmetic.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, MatRef, c64};
use rayon::prelude::*;

use crate::matrix::{check_finite, check_len};
use crate::model::{Component, ComponentData};
use crate::op::OpSpec;
use crate::{Error, MatrixBatch, Result};

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
fn planes<T: Copy>(data: &[T], batch: usize, rows: usize, cols: usize, stride: usize) -> (Vec<T>, Vec<T>) {
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

/// The exact complex inverse of the matrix embedded in `e` (`2n × 2n` row-major) as `[Re G; Im G]`
/// (`2n × n` row-major, how complex inverse models store it); `None` when singular.
pub(crate) fn inverse_stacked(e: &[f64], n: usize) -> Option<Vec<f64>> {
    let a = Mat::from_fn(n, n, |i, j| c64::new(e[i * 2 * n + j], e[(n + i) * 2 * n + j]));
    let g = inverse_matrix(&a)?;
    let mut out = vec![0.0; 2 * n * n];
    stack(g.as_ref(), &mut out);
    Some(out)
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

/// Exact complex inverse of every matrix (LU with partial pivoting in complex arithmetic, one matrix
/// per thread). A matrix whose smallest pivot falls below `n · ε · max|pivot|` is [`Error::Singular`]
/// with its batch index as `p`.
pub fn inverse(a: &ComplexBatch) -> Result<ComplexBatch> {
    if a.rows != a.cols {
        return Err(Error::ShapeMismatch {
            op: "complex inverse",
            expected: vec![a.batch, a.rows, a.rows],
            got: vec![a.batch, a.rows, a.cols],
        });
    }
    let n = a.rows;
    let out: Vec<Vec<c64>> = (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let inv = inverse_matrix(&a.matrix(i)).ok_or(Error::Singular { op: "complex inverse", p: vec![i as f64] })?;
            Ok((0..n * n).map(|k| inv[(k / n, k % n)]).collect())
        })
        .collect::<Result<_>>()?;
    Ok(ComplexBatch::from_c64(a.batch, n, n, &out.concat()))
}

/// The inverse of one complex matrix, `None` when it is singular to working precision.
pub(crate) fn inverse_matrix(a: &Mat<c64>) -> Option<Mat<c64>> {
    let n = a.nrows();
    let lu = a.partial_piv_lu();
    let u = lu.U();
    let pivots: Vec<f64> = (0..n).map(|i| u[(i, i)].norm()).collect();
    let max = pivots.iter().copied().fold(0.0, f64::max);
    let min = pivots.iter().copied().fold(f64::INFINITY, f64::min);
    if n > 0 && (min.is_nan() || min <= n as f64 * f64::EPSILON * max) {
        return None;
    }
    Some(lu.inverse())
}

/// A batch of complex (thin or truncated) SVDs `A = U diag(S) Vᴴ`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexSvd {
    /// Left singular vectors, (batch, m, r).
    pub u: ComplexBatch,
    /// Singular values, descending, (batch, r, 1).
    pub s: MatrixBatch,
    /// Right singular vectors, (batch, n, r).
    pub v: ComplexBatch,
}

/// Exact complex SVD of every matrix, truncated to `rank` (default `min(m, n)`). Each pair `(u_j, v_j)`
/// is put in a canonical phase: the largest-magnitude entry of `v_j` real and positive.
pub fn svd(a: &ComplexBatch, rank: Option<usize>) -> Result<ComplexSvd> {
    let (m, n) = (a.rows, a.cols);
    let full = m.min(n);
    let r = rank.unwrap_or(full);
    if r == 0 || r > full {
        return Err(Error::option("rank", format!("rank {r} must be between 1 and min(rows, cols) = {full}")));
    }
    let parts: Vec<(Vec<c64>, Vec<f64>, Vec<c64>)> =
        (0..a.batch).into_par_iter().map(|i| svd_matrix(&a.matrix(i), r)).collect::<Result<_>>()?;
    let (mut u, mut s, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for (pu, ps, pv) in parts {
        u.extend(pu);
        s.extend(ps);
        v.extend(pv);
    }
    Ok(ComplexSvd {
        u: ComplexBatch::from_c64(a.batch, m, r, &u),
        s: MatrixBatch { batch: a.batch, rows: r, cols: 1, data: s },
        v: ComplexBatch::from_c64(a.batch, n, r, &v),
    })
}

/// Rank-`r` SVD of one complex matrix in canonical phase: `U` (m × r), `S` (r), `V` (n × r), row-major.
pub(crate) fn svd_matrix(a: &Mat<c64>, r: usize) -> Result<(Vec<c64>, Vec<f64>, Vec<c64>)> {
    let (m, n) = (a.nrows(), a.ncols());
    let svd = a.thin_svd().map_err(|_| Error::NoConvergence { op: "complex svd", iters: 0 })?;
    let (su, ss, sv) = (svd.U(), svd.S(), svd.V());
    let mut u = vec![c64::new(0.0, 0.0); m * r];
    let mut v = vec![c64::new(0.0, 0.0); n * r];
    let s: Vec<f64> = (0..r).map(|j| ss[j].re).collect();
    for j in 0..r {
        let big = (0..n).max_by(|&x, &y| sv[(x, j)].norm().total_cmp(&sv[(y, j)].norm())).unwrap_or(0);
        let z = sv[(big, j)];
        let phase = if z.norm() > 0.0 { z.conj() / z.norm() } else { c64::new(1.0, 0.0) };
        for i in 0..m {
            u[i * r + j] = su[(i, j)] * phase;
        }
        for i in 0..n {
            v[i * r + j] = sv[(i, j)] * phase;
        }
    }
    Ok((u, s, v))
}

/// The paper's `RelErr_inv` in complex arithmetic: mean over the batch of `‖A Ĝ − I‖²_F / n`.
pub fn rel_err_inverse(a: &ComplexBatch, g: &ComplexBatch) -> Result<f64> {
    Ok(crate::metrics::mean(&inverse_residuals(a, g)?))
}

/// `‖A Ĝ − I‖²_F / n` per matrix.
pub fn inverse_residuals(a: &ComplexBatch, g: &ComplexBatch) -> Result<Vec<f64>> {
    if a.rows != a.cols || (g.batch, g.rows, g.cols) != (a.batch, a.rows, a.cols) {
        return Err(Error::ShapeMismatch {
            op: "complex relErrInverse",
            expected: vec![a.batch, a.rows, a.rows],
            got: vec![g.batch, g.rows, g.cols],
        });
    }
    let n = a.rows;
    let out: Vec<f64> = (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let mut r = a.matrix(i) * g.matrix(i);
            for k in 0..n {
                r[(k, k)] -= c64::new(1.0, 0.0);
            }
            r.squared_norm_l2() / n as f64
        })
        .collect();
    finite(out)
}

/// The paper's `RelErr_svd` in complex arithmetic: mean over the batch of `‖Û diag(Ŝ) V̂ᴴ − A‖²_F / ‖A‖²_F`.
/// `u` is (batch, m, r), `s` (batch, r, 1) or (batch, 1, r), `v` (batch, n, r).
pub fn rel_err_svd(a: &ComplexBatch, u: &ComplexBatch, s: &[f64], v: &ComplexBatch) -> Result<f64> {
    Ok(crate::metrics::mean(&svd_errors(a, u, s, v)?))
}

/// `‖Û diag(Ŝ) V̂ᴴ − A‖²_F / ‖A‖²_F` per matrix.
pub fn svd_errors(a: &ComplexBatch, u: &ComplexBatch, s: &[f64], v: &ComplexBatch) -> Result<Vec<f64>> {
    let (m, n, r) = (a.rows, a.cols, u.cols);
    if (u.batch, u.rows) != (a.batch, m) || (v.batch, v.rows, v.cols) != (a.batch, n, r) || s.len() != a.batch * r {
        return Err(Error::ShapeMismatch {
            op: "complex relErrSvd",
            expected: vec![a.batch, m, r, n],
            got: vec![u.batch, u.rows, u.cols, v.rows, s.len() / a.batch.max(1)],
        });
    }
    let out: Vec<f64> = (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let mut us = u.matrix(i);
            for j in 0..r {
                let sj = s[i * r + j];
                us.col_mut(j).iter_mut().for_each(|z| *z *= sj);
            }
            let ai = a.matrix(i);
            let diff = us * v.matrix(i).adjoint() - &ai;
            diff.squared_norm_l2() / ai.squared_norm_l2().max(f64::MIN_POSITIVE)
        })
        .collect();
    finite(out)
}

fn finite(v: Vec<f64>) -> Result<Vec<f64>> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(Error::input("relErr", "the prediction holds NaN or Inf"));
    }
    Ok(v)
}

/// Rotates the phases (and order) of the complex singular triplets in the stacked joint result `g`
/// (`U_E` 2m × r, `S` r, `V_E` 2n × r, row-major) to match `reference`: the triplets are matched
/// greedily by `|⟨u_ref, u⟩ + ⟨v_ref, v⟩|` (complex inner products), and each pair `(u, v)` is
/// multiplied by `e^{−iα}`, `α` the argument of that overlap.
pub(crate) fn align_svd(reference: &[f64], g: &mut [f64], m: usize, n: usize, r: usize) {
    let (u_off, s_off, v_off) = (0, 2 * m * r, 2 * m * r + r);
    let col = |buf: &[f64], off: usize, rows: usize, j: usize| -> Vec<c64> {
        (0..rows).map(|i| c64::new(buf[off + i * r + j], buf[off + (rows + i) * r + j])).collect()
    };
    let dot = |x: &[c64], y: &[c64]| x.iter().zip(y).map(|(a, b)| a.conj() * b).sum::<c64>();
    let ref_u: Vec<Vec<c64>> = (0..r).map(|j| col(reference, u_off, m, j)).collect();
    let ref_v: Vec<Vec<c64>> = (0..r).map(|j| col(reference, v_off, n, j)).collect();
    let cur_u: Vec<Vec<c64>> = (0..r).map(|j| col(g, u_off, m, j)).collect();
    let cur_v: Vec<Vec<c64>> = (0..r).map(|j| col(g, v_off, n, j)).collect();
    let overlap: Vec<c64> = (0..r * r).map(|idx| dot(&ref_u[idx / r], &cur_u[idx % r]) + dot(&ref_v[idx / r], &cur_v[idx % r])).collect();
    let slot_of = crate::op::greedy_match(&overlap.iter().map(|z| z.norm()).collect::<Vec<_>>(), r);
    let values: Vec<f64> = (0..r).map(|j| g[s_off + j]).collect();
    for i in 0..r {
        let j = slot_of[i];
        let z = overlap[i * r + j];
        let phase = if z.norm() > 0.0 { z.conj() / z.norm() } else { c64::new(1.0, 0.0) };
        g[s_off + i] = values[j];
        for (off, rows, cur) in [(u_off, m, &cur_u[j]), (v_off, n, &cur_v[j])] {
            for row in 0..rows {
                let w = cur[row] * phase;
                g[off + row * r + i] = w.re;
                g[off + (rows + row) * r + i] = w.im;
            }
        }
    }
}

/// The complex `‖Û diag(Ŝ) V̂ᴴ − A‖²_F / ‖A‖²_F` of one stacked joint SVD result `g` at the embedding `e`
/// (`2m × 2n` row-major).
pub(crate) fn svd_rel_err_stacked(e: &[f64], g: &[f64], m: usize, n: usize, r: usize) -> f64 {
    let a = Mat::from_fn(m, n, |i, j| c64::new(e[i * 2 * n + j], e[(m + i) * 2 * n + j]));
    let (u_off, s_off, v_off) = (0, 2 * m * r, 2 * m * r + r);
    let us = Mat::from_fn(m, r, |i, j| c64::new(g[u_off + i * r + j], g[u_off + (m + i) * r + j]) * g[s_off + j]);
    let v = Mat::from_fn(n, r, |i, j| c64::new(g[v_off + i * r + j], g[v_off + (n + i) * r + j]));
    let diff = us * v.adjoint() - &a;
    diff.squared_norm_l2() / a.squared_norm_l2().max(f64::MIN_POSITIVE)
}

/// The exact rank-`r` complex SVD of the matrix embedded in `e` (`2m × 2n` row-major), stacked as a
/// joint result `[U_E, S, V_E]` (see [`align_svd`]).
pub(crate) fn svd_stacked(e: &[f64], m: usize, n: usize, r: usize) -> Result<Vec<f64>> {
    let a = Mat::from_fn(m, n, |i, j| c64::new(e[i * 2 * n + j], e[(m + i) * 2 * n + j]));
    let (u, s, v) = svd_matrix(&a, r)?;
    let mut out = vec![0.0; 2 * m * r + r + 2 * n * r];
    stack(MatRef::from_row_major_slice(&u, m, r), &mut out[..2 * m * r]);
    out[2 * m * r..2 * m * r + r].copy_from_slice(&s);
    stack(MatRef::from_row_major_slice(&v, n, r), &mut out[2 * m * r + r..]);
    Ok(out)
}

/// `‖XᴴX − I‖_F / √r` of the complex `rows × r` matrix stored stacked (`[Re X; Im X]`, row-major `2rows × r`).
pub(crate) fn orthogonality_defect_stacked(x: &[f64], rows: usize, r: usize) -> f64 {
    let m = Mat::from_fn(rows, r, |i, j| c64::new(x[i * r + j], x[(rows + i) * r + j]));
    let mut g = m.adjoint() * &m;
    for j in 0..r {
        g[(j, j)] -= c64::new(1.0, 0.0);
    }
    (g.squared_norm_l2() / r as f64).sqrt()
}

/// One predicted component of a complex model in complex form: (batch, rows, cols) row-major planes in
/// the model's dtype; `im` is `None` for the real singular values `S`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexComponent {
    /// Component name (`"inverse"`, `"U"`, `"S"`, `"V"`).
    pub name: &'static str,
    /// Number of parameters predicted.
    pub batch: usize,
    /// Rows per matrix (complex shape).
    pub rows: usize,
    /// Columns per matrix.
    pub cols: usize,
    /// Real parts.
    pub re: ComponentData,
    /// Imaginary parts (`None` for real components).
    pub im: Option<ComponentData>,
}

/// The complex form of a complex model's predicted component: the inverse `[Re G; Im G]` (`2n × n`) and
/// the singular vectors `[Re U; Im U]` (`2m × r`) are split in their two halves; `S` stays real. A
/// component of a real model is returned as is (`im: None`).
pub fn complex_component(spec: &OpSpec, c: &Component) -> ComplexComponent {
    if !spec.complex || c.name == "S" {
        return ComplexComponent { name: c.name, batch: c.batch, rows: c.rows, cols: c.cols, re: c.data.clone(), im: None };
    }
    let (rows, cols) = (c.rows / 2, c.cols);
    let (re, im) = match &c.data {
        ComponentData::F32(v) => {
            let (re, im) = planes(v, c.batch, rows, cols, cols);
            (ComponentData::F32(re), ComponentData::F32(im))
        }
        ComponentData::F64(v) => {
            let (re, im) = planes(v, c.batch, rows, cols, cols);
            (ComponentData::F64(re), ComponentData::F64(im))
        }
    };
    ComplexComponent { name: c.name, batch: c.batch, rows, cols, re, im: Some(im) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(batch: usize, m: usize, n: usize, seed: u64) -> ComplexBatch {
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
        let ep = crate::op::matmul(&a0.embed().data, 6, 8, false, &b.embed().data, 8, 4, false);
        let direct = ComplexBatch::from_c64(1, 3, 2, &(0..6).map(|k| prod[(k / 2, k % 2)]).collect::<Vec<_>>()).embed();
        for (x, y) in ep.iter().zip(&direct.data) {
            assert!((x - y).abs() < 1e-14);
        }
    }

    #[test]
    fn inverse_and_svd_are_exact_in_complex_arithmetic() {
        let a = random(3, 6, 6, 4);
        let g = inverse(&a).unwrap();
        assert!(rel_err_inverse(&a, &g).unwrap() < 1e-26);
        // Embedded real inverse agrees.
        let ge = crate::baseline::inverse(&a.embed()).unwrap();
        let back = ComplexBatch::from_embedding(&ge).unwrap();
        for (x, y) in back.re.iter().zip(&g.re).chain(back.im.iter().zip(&g.im)) {
            assert!((x - y).abs() < 1e-12);
        }
        let full = svd(&a, None).unwrap();
        assert!(rel_err_svd(&a, &full.u, &full.s.data, &full.v).unwrap() < 1e-26);
        let low = svd(&a, Some(2)).unwrap();
        let e = rel_err_svd(&a, &low.u, &low.s.data, &low.v).unwrap();
        assert!(e > 1e-3 && e < 1.0, "{e}");
        let sing = ComplexBatch::new(1, 2, 2, vec![1.0, 2.0, 2.0, 4.0], vec![0.0; 4]).unwrap();
        assert_eq!(inverse(&sing).unwrap_err().code(), "SINGULAR");
    }

    #[test]
    fn stacked_svd_satisfies_the_real_residual_and_alignment_removes_phases() {
        let (m, n, r) = (5, 4, 3);
        let a = random(1, m, n, 7);
        let e = a.embed();
        let g = svd_stacked(&e.data, m, n, r).unwrap();
        // E(A) V_E = U_E S.
        let v = &g[2 * m * r + r..];
        let av = crate::op::matmul(&e.data, 2 * m, 2 * n, false, v, 2 * n, r, false);
        for i in 0..2 * m {
            for j in 0..r {
                assert!((av[i * r + j] - g[i * r + j] * g[2 * m * r + j]).abs() < 1e-12);
            }
        }
        assert!(svd_rel_err_stacked(&e.data, &g, m, n, r) < 1.0);
        // A phase-rotated, re-ordered copy aligns back.
        let mut h = g.clone();
        let rot = c64::new(0.6, 0.8);
        let swap = |j: usize| [1, 0, 2][j];
        for (off, rows) in [(0, m), (2 * m * r + r, n)] {
            for i in 0..rows {
                for j in 0..r {
                    let z = c64::new(g[off + i * r + swap(j)], g[off + (rows + i) * r + swap(j)]) * rot;
                    h[off + i * r + j] = z.re;
                    h[off + (rows + i) * r + j] = z.im;
                }
            }
        }
        for j in 0..r {
            h[2 * m * r + j] = g[2 * m * r + swap(j)];
        }
        align_svd(&g, &mut h, m, n, r);
        for (x, y) in h.iter().zip(&g) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }
}
