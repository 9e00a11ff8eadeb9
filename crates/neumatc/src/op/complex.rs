//! The per-operation measures of a complex model's stacked joint SVD result (`[U_E, S, V_E]`, see
//! [`crate::matrix::complex`]).

use faer::{Mat, c64};

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

/// `‖XᴴX − I‖_F / √r` of the complex `rows × r` matrix stored stacked (`[Re X; Im X]`, row-major `2rows × r`).
pub(crate) fn orthogonality_defect_stacked(x: &[f64], rows: usize, r: usize) -> f64 {
    let m = Mat::from_fn(rows, r, |i, j| c64::new(x[i * r + j], x[(rows + i) * r + j]));
    let mut g = m.adjoint() * &m;
    for j in 0..r {
        g[(j, j)] -= c64::new(1.0, 0.0);
    }
    (g.squared_norm_l2() / r as f64).sqrt()
}
