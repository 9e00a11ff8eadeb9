//! Small dense helpers on row-major slices (faer underneath).

use faer::{Accum, MatMut, MatRef, Par};

/// `op(a) · op(b)` for row-major `a` (`ar × ac`) and `b` (`br × bc`), `op` = transpose when the flag is
/// set. Returns the row-major product.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(a: &[f64], ar: usize, ac: usize, ta: bool, b: &[f64], br: usize, bc: usize, tb: bool) -> Vec<f64> {
    let ma = MatRef::from_row_major_slice(a, ar, ac);
    let mb = MatRef::from_row_major_slice(b, br, bc);
    let (ma, mb) = (if ta { ma.transpose() } else { ma }, if tb { mb.transpose() } else { mb });
    assert_eq!(ma.ncols(), mb.nrows(), "inner dimensions of a product");
    let (rows, cols) = (ma.nrows(), mb.ncols());
    let mut out = vec![0.0; rows * cols];
    if rows * cols > 0 {
        faer::linalg::matmul::matmul(MatMut::from_row_major_slice_mut(&mut out, rows, cols), Accum::Replace, ma, mb, 1.0, Par::Seq);
    }
    out
}
