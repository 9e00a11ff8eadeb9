//! Large sparse parametric systems `A(p) x = b` (the paper's Appendix H): the advection–diffusion–reaction
//! operator [`AdrFamily`] with its affine split `A(p) = A0 + cos(2πp) A1 + sin(2πp) A2`, exact solves by
//! faer's sparse LU (symbolic factorisation once, numeric per `p`), and the Krylov baseline
//! [`krylov_sequence`] (restarted GMRES with an ILU(0) preconditioner, warm-started along `p`).
//!
//! Nothing here forms an `n × n` dense matrix unless [`AdrFamily::dense`] is called.

mod adr;
mod krylov;

pub use adr::{AdrConfig, AdrFamily, MAX_GRID};
pub use krylov::{KrylovConfig, KrylovSolve, krylov_sequence};

use rayon::prelude::*;

/// The sparse matrix type of this module: faer compressed sparse columns, `usize` indices.
pub type SparseMat = faer::sparse::SparseColMat<usize, f64>;

/// Below this order the sparse kernels run on one thread (rayon's overhead would dominate).
pub(crate) const PAR_MIN_N: usize = 16_384;

/// Rows per rayon task in the row-parallel kernels.
const PAR_CHUNK: usize = 4096;

/// A square sparsity pattern in compressed sparse rows, column indices sorted within each row, every
/// diagonal entry present. Values live beside it in arrays of length `nnz`, one per matrix that shares it.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// Order of the matrix.
    pub n: usize,
    /// Row `i` holds the entries `row_ptr[i]..row_ptr[i + 1]`.
    pub row_ptr: Vec<usize>,
    /// Column of each entry.
    pub col_idx: Vec<usize>,
    /// Position of the diagonal entry of each row.
    pub diag: Vec<usize>,
}

impl Pattern {
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.col_idx.len()
    }

    /// Position of entry `(i, j)`, if stored.
    #[cfg(test)]
    pub fn find(&self, i: usize, j: usize) -> Option<usize> {
        let lo = self.row_ptr[i];
        self.col_idx[lo..self.row_ptr[i + 1]].binary_search(&j).ok().map(|k| lo + k)
    }

    /// `y = M x` for the matrix whose entry `k` is `val(k)`; row-parallel when `n` is large.
    pub fn spmv(&self, val: impl Fn(usize) -> f64 + Sync, x: &[f64], y: &mut [f64]) {
        assert!(x.len() == self.n && y.len() == self.n, "spmv: x and y must have length n = {}", self.n);
        let row = |i: usize| -> f64 {
            let mut s = 0.0;
            for k in self.row_ptr[i]..self.row_ptr[i + 1] {
                s += val(k) * x[self.col_idx[k]];
            }
            s
        };
        if self.n >= PAR_MIN_N {
            y.par_chunks_mut(PAR_CHUNK).enumerate().for_each(|(c, out)| {
                for (r, yi) in out.iter_mut().enumerate() {
                    *yi = row(c * PAR_CHUNK + r);
                }
            });
        } else {
            for (i, yi) in y.iter_mut().enumerate() {
                *yi = row(i);
            }
        }
    }

    /// The compressed-sparse-column symbolic structure of this pattern and, for each CSC position, the
    /// CSR position of the same entry (so `csc_val[k] = csr_val[perm[k]]`).
    pub fn to_csc(&self) -> (faer::sparse::SymbolicSparseColMat<usize>, Vec<usize>) {
        let (n, nnz) = (self.n, self.nnz());
        let mut col_ptr = vec![0usize; n + 1];
        for &j in &self.col_idx {
            col_ptr[j + 1] += 1;
        }
        for j in 0..n {
            col_ptr[j + 1] += col_ptr[j];
        }
        let mut next = col_ptr.clone();
        let mut row_idx = vec![0usize; nnz];
        let mut perm = vec![0usize; nnz];
        // Rows are visited in increasing order, so the row indices of each column come out sorted.
        for i in 0..n {
            for k in self.row_ptr[i]..self.row_ptr[i + 1] {
                let j = self.col_idx[k];
                row_idx[next[j]] = i;
                perm[next[j]] = k;
                next[j] += 1;
            }
        }
        (faer::sparse::SymbolicSparseColMat::new_checked(n, n, col_ptr, None, row_idx), perm)
    }
}

/// `‖v‖₂`.
pub(crate) fn norm2(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

/// `⟨a, b⟩`, parallel when long.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    if a.len() >= PAR_MIN_N {
        a.par_chunks(PAR_CHUNK).zip(b.par_chunks(PAR_CHUNK)).map(|(x, y)| dot_serial(x, y)).sum()
    } else {
        dot_serial(a, b)
    }
}

fn dot_serial(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators: independent chains the compiler can vectorise.
    let mut s = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            s[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `y += alpha x`, parallel when long.
pub(crate) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    if y.len() >= PAR_MIN_N {
        y.par_chunks_mut(PAR_CHUNK).zip(x.par_chunks(PAR_CHUNK)).for_each(|(yc, xc)| {
            for (yi, xi) in yc.iter_mut().zip(xc) {
                *yi += alpha * xi;
            }
        });
    } else {
        for (yi, xi) in y.iter_mut().zip(x) {
            *yi += alpha * xi;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tridiag(n: usize) -> Pattern {
        let mut row_ptr = vec![0];
        let mut col_idx = Vec::new();
        let mut diag = Vec::new();
        for i in 0..n {
            for j in i.saturating_sub(1)..(i + 2).min(n) {
                if j == i {
                    diag.push(col_idx.len());
                }
                col_idx.push(j);
            }
            row_ptr.push(col_idx.len());
        }
        Pattern { n, row_ptr, col_idx, diag }
    }

    #[test]
    fn csc_permutation_maps_entries() {
        let p = tridiag(7);
        let val: Vec<f64> = (0..p.nnz()).map(|k| k as f64 + 1.0).collect();
        let (sym, perm) = p.to_csc();
        let csc = SparseMat::new(sym, perm.iter().map(|&k| val[k]).collect());
        for i in 0..7 {
            for j in 0..7 {
                let want = p.find(i, j).map_or(0.0, |k| val[k]);
                let got = csc.as_ref().get(i, j).copied().unwrap_or(0.0);
                assert_eq!(got, want, "({i}, {j})");
            }
        }
    }

    #[test]
    fn dot_and_axpy_match_naive() {
        for n in [3, 17, PAR_MIN_N + 5] {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() <= 1e-12 * n as f64);
            let mut y = b.clone();
            axpy(0.5, &a, &mut y);
            assert!(y.iter().zip(a.iter().zip(&b)).all(|(y, (a, b))| (y - (b + 0.5 * a)).abs() < 1e-15));
        }
    }
}
