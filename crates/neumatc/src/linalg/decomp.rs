//! Exact f64 decompositions (SVD, QR, Cholesky, symmetric eigen), the matrix exponential and linear
//! solves, on faer's low-level kernels.
//!
//! The `*_matrix` functions take and return row-major buffers of one matrix and run on one thread: they
//! are what a parallel loop over parameters calls, and their errors carry `p: vec![]` for the caller to
//! fill in. The batched functions check the batch, spread it over rayon one matrix per task (a single
//! matrix uses faer's parallel kernels instead) and report a failing matrix with its batch index as `p`.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{LltRegularization, cholesky_in_place, cholesky_in_place_scratch};
use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::linalg::householder::{
    apply_block_householder_sequence_on_the_left_in_place_scratch, apply_block_householder_sequence_on_the_left_in_place_with_conj,
};
use faer::linalg::lu::partial_pivoting::{factor as lu_factor, solve as lu_solve};
use faer::linalg::qr::no_pivoting::factor::{qr_in_place, qr_in_place_scratch, recommended_block_size};
use faer::linalg::svd::{ComputeSvdVectors, svd as svd_kernel, svd_scratch};
use faer::{ColMut, Conj, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::expm::expm_into;
use super::inverse::is_singular;
use super::{EighBatch, QrBatch, SvdBatch, Threads};
use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;
use crate::matrix::{check_finite, check_len};

// ---------------------------------------------------------------------------------------------------
// Batched entry points
// ---------------------------------------------------------------------------------------------------

/// Thin or truncated SVD `A = U diag(S) Vᵀ` of every matrix of a batch of `m × n` matrices.
/// Returns U (batch, m, r), S (batch, r, 1) descending and V (batch, n, r), with `r = rank` or `min(m, n)`.
///
/// ```
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![0.0, 2.0, 3.0, 0.0]).unwrap();
/// let svd = neumatc::baseline::svd(&a, None).unwrap();
/// assert!((svd.s.data[0] - 3.0).abs() < 1e-15 && (svd.s.data[1] - 2.0).abs() < 1e-15);
/// ```
pub fn svd(a: &MatrixBatch, rank: Option<usize>) -> Result<SvdBatch> {
    svd_with(a, rank, Threads::All)
}

/// [`svd`] with an explicit thread policy.
pub fn svd_with(a: &MatrixBatch, rank: Option<usize>, threads: Threads) -> Result<SvdBatch> {
    let (batch, m, n) = (a.batch, a.rows, a.cols);
    check_input("svd", a)?;
    let r = check_rank(rank.unwrap_or(m.min(n)), m, n)?;
    let (mut u, mut s, mut v) = (vec![0.0; batch * m * r], vec![0.0; batch * r], vec![0.0; batch * n * r]);
    for_each_matrix(batch, threads, [&mut u, &mut s, &mut v], [m * r, r, n * r], |i, [u, s, v], par| {
        svd_into(a.matrix(i), m, n, u, s, v, par)
    })?;
    Ok(SvdBatch::from_parts(batch, (m, n, r), u, s, v))
}

/// Thin QR `A = QR` of every matrix of a batch of `m × n` matrices (`m ≥ n`), with `diag(R) ≥ 0`.
/// Returns Q (batch, m, n) and R (batch, n, n).
pub fn qr(a: &MatrixBatch) -> Result<QrBatch> {
    qr_with(a, Threads::All)
}

/// [`qr`] with an explicit thread policy.
pub fn qr_with(a: &MatrixBatch, threads: Threads) -> Result<QrBatch> {
    let (batch, m, n) = (a.batch, a.rows, a.cols);
    if m < n {
        return Err(Error::ShapeMismatch { op: "qr", expected: vec![batch, n, n], got: vec![batch, m, n] });
    }
    check_input("qr", a)?;
    let (mut q, mut r) = (vec![0.0; batch * m * n], vec![0.0; batch * n * n]);
    for_each_matrix(batch, threads, [&mut q, &mut r], [m * n, n * n], |i, [q, r], par| qr_into(a.matrix(i), m, n, q, r, par))?;
    Ok(QrBatch { q: MatrixBatch { batch, rows: m, cols: n, data: q }, r: MatrixBatch { batch, rows: n, cols: n, data: r } })
}

/// Cholesky factor `A = LLᵀ` of every matrix of a batch of symmetric positive definite matrices.
/// Returns L (batch, n, n): lower triangular with a positive diagonal and exact zeros above it.
pub fn cholesky(a: &MatrixBatch) -> Result<MatrixBatch> {
    cholesky_with(a, Threads::All)
}

/// [`cholesky`] with an explicit thread policy.
pub fn cholesky_with(a: &MatrixBatch, threads: Threads) -> Result<MatrixBatch> {
    let n = a.require_square("cholesky")?;
    check_input("cholesky", a)?;
    let mut l = vec![0.0; a.data.len()];
    for_each_matrix(a.batch, threads, [&mut l], [n * n], |i, [l], par| cholesky_into(a.matrix(i), n, l, par))?;
    Ok(MatrixBatch { batch: a.batch, rows: n, cols: n, data: l })
}

/// Eigendecomposition `A = V diag(λ) Vᵀ` of every matrix of a batch of symmetric matrices.
/// Returns λ (batch, n, 1) ascending and V (batch, n, n) with eigenvector `j` in column `j`.
pub fn eigh(a: &MatrixBatch) -> Result<EighBatch> {
    eigh_with(a, Threads::All)
}

/// [`eigh`] with an explicit thread policy.
pub fn eigh_with(a: &MatrixBatch, threads: Threads) -> Result<EighBatch> {
    let n = a.require_square("eigh")?;
    check_input("eigh", a)?;
    let batch = a.batch;
    let (mut values, mut vectors) = (vec![0.0; batch * n], vec![0.0; batch * n * n]);
    for_each_matrix(batch, threads, [&mut values, &mut vectors], [n, n * n], |i, [w, v], par| eigh_into(a.matrix(i), n, w, v, par))?;
    Ok(EighBatch {
        values: MatrixBatch { batch, rows: n, cols: 1, data: values },
        vectors: MatrixBatch { batch, rows: n, cols: n, data: vectors },
    })
}

/// Matrix exponential of every matrix of a batch (see [`expm_matrix`]). Returns (batch, n, n).
///
/// ```
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![0.0, 1.0, 0.0, 0.0]).unwrap();
/// let e = neumatc::baseline::expm(&a).unwrap();
/// assert_eq!(e.data, vec![1.0, 1.0, 0.0, 1.0]);
/// ```
pub fn expm(a: &MatrixBatch) -> Result<MatrixBatch> {
    expm_with(a, Threads::All)
}

/// [`expm`] with an explicit thread policy.
pub fn expm_with(a: &MatrixBatch, threads: Threads) -> Result<MatrixBatch> {
    let n = a.require_square("expm")?;
    check_input("expm", a)?;
    let mut e = vec![0.0; a.data.len()];
    for_each_matrix(a.batch, threads, [&mut e], [n * n], |i, [e], par| expm_into(a.matrix(i), n, e, par))?;
    Ok(MatrixBatch { batch: a.batch, rows: n, cols: n, data: e })
}

/// Solves `A x = b` for every matrix of a batch by LU with partial pivoting. `b` holds `n` values (one
/// right-hand side shared by the batch) or `batch · n` values (one per matrix). Returns x (batch, n, 1).
pub fn solve(a: &MatrixBatch, b: &[f64]) -> Result<MatrixBatch> {
    solve_with(a, b, Threads::All)
}

/// [`solve`] with an explicit thread policy.
pub fn solve_with(a: &MatrixBatch, b: &[f64], threads: Threads) -> Result<MatrixBatch> {
    let n = a.require_square("solve")?;
    check_input("solve", a)?;
    let batch = a.batch;
    let shared = b.len() == n;
    if !shared && Some(b.len()) != batch.checked_mul(n) {
        return Err(Error::ShapeMismatch { op: "solve", expected: vec![batch, n, 1], got: vec![b.len()] });
    }
    check_finite("solve right-hand side", b)?;
    let mut x = vec![0.0; batch * n];
    for_each_matrix(batch, threads, [&mut x], [n], |i, [x], par| {
        x.copy_from_slice(if shared { b } else { &b[i * n..(i + 1) * n] });
        solve_in_place(a.matrix(i), n, x, par)
    })?;
    Ok(MatrixBatch { batch, rows: n, cols: 1, data: x })
}

// ---------------------------------------------------------------------------------------------------
// One matrix
// ---------------------------------------------------------------------------------------------------

/// Thin SVD of one row-major `m × n` matrix truncated to `rank ≤ min(m, n)` terms: returns U (m × rank,
/// row-major), S (rank, descending) and V (n × rank, row-major) with `A ≈ U diag(S) Vᵀ`.
pub fn svd_matrix(a: &[f64], m: usize, n: usize, rank: usize) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    check_matrix("svd", a, m, n)?;
    let r = check_rank(rank, m, n)?;
    let (mut u, mut s, mut v) = (vec![0.0; m * r], vec![0.0; r], vec![0.0; n * r]);
    svd_into(a, m, n, &mut u, &mut s, &mut v, Par::Seq)?;
    Ok((u, s, v))
}

/// Thin QR of one row-major `m × n` matrix (`m ≥ n`): returns Q (m × n, orthonormal columns) and R
/// (n × n, upper triangular with `diag(R) ≥ 0`), both row-major.
pub fn qr_matrix(a: &[f64], m: usize, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if m < n {
        return Err(Error::ShapeMismatch { op: "qr", expected: vec![n, n], got: vec![m, n] });
    }
    check_matrix("qr", a, m, n)?;
    let (mut q, mut r) = (vec![0.0; m * n], vec![0.0; n * n]);
    qr_into(a, m, n, &mut q, &mut r, Par::Seq)?;
    Ok((q, r))
}

/// Cholesky factor L of one row-major symmetric positive definite `n × n` matrix (`A = LLᵀ`; only the
/// lower triangle of A is read once symmetry is checked). L is row-major, lower triangular with a positive
/// diagonal and exact zeros above it.
pub fn cholesky_matrix(a: &[f64], n: usize) -> Result<Vec<f64>> {
    check_matrix("cholesky", a, n, n)?;
    let mut l = vec![0.0; n * n];
    cholesky_into(a, n, &mut l, Par::Seq)?;
    Ok(l)
}

/// Eigendecomposition of one row-major symmetric `n × n` matrix: returns the eigenvalues (ascending) and
/// the row-major `n × n` matrix whose column `j` is the unit eigenvector of eigenvalue `j`.
pub fn eigh_matrix(a: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    check_matrix("eigh", a, n, n)?;
    let (mut values, mut vectors) = (vec![0.0; n], vec![0.0; n * n]);
    eigh_into(a, n, &mut values, &mut vectors, Par::Seq)?;
    Ok((values, vectors))
}

/// `exp(A)` of one row-major `n × n` matrix by scaling and squaring with a Padé approximant of degree 3,
/// 5, 7, 9 or 13, chosen as in Al-Mohy & Higham, *A new scaling and squaring algorithm for the matrix
/// exponential* (SIAM J. Matrix Anal. Appl. 31, 2009), Algorithm 5.1: from the 1-norms of powers of A
/// (`‖Aᵏ‖^(1/k)`, exact for the powers it forms and estimated otherwise), plus the extra squarings `ℓ_m`
/// that guard against overscaling error on non-normal matrices. An overflowing result is
/// [`Error::InvalidInput`].
pub fn expm_matrix(a: &[f64], n: usize) -> Result<Vec<f64>> {
    check_matrix("expm", a, n, n)?;
    let mut e = vec![0.0; n * n];
    expm_into(a, n, &mut e, Par::Seq)?;
    Ok(e)
}

/// Solves `A x = b` for one row-major `n × n` matrix by LU with partial pivoting. A matrix whose pivots fall
/// below `n · ε · max|pivot|` (the test of [`inverse_matrix`](super::inverse_matrix)) is [`Error::Singular`].
pub fn solve_matrix(a: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>> {
    check_matrix("solve", a, n, n)?;
    check_len("solve right-hand side", b, 1, n, 1)?;
    check_finite("solve right-hand side", b)?;
    let mut x = b.to_vec();
    solve_in_place(a, n, &mut x, Par::Seq)?;
    Ok(x)
}

// ---------------------------------------------------------------------------------------------------
// Kernels: row-major in, row-major out, outputs pre-sized by the caller
// ---------------------------------------------------------------------------------------------------

fn svd_into(a: &[f64], m: usize, n: usize, u_out: &mut [f64], s_out: &mut [f64], v_out: &mut [f64], par: Par) -> Result<()> {
    let (k, r) = (m.min(n), s_out.len());
    let mut s = faer::Col::<f64>::zeros(k);
    let mut u = Mat::<f64>::zeros(m, k);
    let mut v = Mat::<f64>::zeros(n, k);
    let scratch = svd_scratch::<f64>(m, n, ComputeSvdVectors::Thin, ComputeSvdVectors::Thin, par, Default::default());
    let mut mem = MemBuffer::new(scratch);
    // faer copies A into its own workspace, so a strided (row-major) view costs nothing extra.
    let a = MatRef::from_row_major_slice(a, m, n);
    svd_kernel(a, s.as_diagonal_mut(), Some(u.as_mut()), Some(v.as_mut()), par, MemStack::new(&mut mem), Default::default())
        .map_err(|_| Error::NoConvergence { op: "svd", iters: 0 })?;
    s_out.iter_mut().zip(s.iter()).for_each(|(o, &x)| *o = x);
    copy_columns_row_major(u.as_ref(), r, u_out);
    copy_columns_row_major(v.as_ref(), r, v_out);
    Ok(())
}

fn qr_into(a: &[f64], m: usize, n: usize, q_out: &mut [f64], r_out: &mut [f64], par: Par) -> Result<()> {
    let mut qr = MatRef::from_row_major_slice(a, m, n).to_owned();
    if n == 0 {
        return Ok(());
    }
    let block = recommended_block_size::<f64>(m, n);
    let mut coeff = Mat::<f64>::zeros(block, n);
    let scratch = qr_in_place_scratch::<f64>(m, n, block, par, Default::default())
        .or(apply_block_householder_sequence_on_the_left_in_place_scratch::<f64>(m, block, n));
    let mut mem = MemBuffer::new(scratch);
    let stack = MemStack::new(&mut mem);
    qr_in_place(qr.as_mut(), coeff.as_mut(), par, stack, Default::default());
    // Householder QR leaves signs on diag(R); flip row i of R and column i of Q where it is negative.
    let sign: Vec<f64> = (0..n).map(|i| if qr[(i, i)] < 0.0 { -1.0 } else { 1.0 }).collect();
    for i in 0..n {
        for j in 0..n {
            r_out[i * n + j] = if j >= i { sign[i] * qr[(i, j)] } else { 0.0 };
        }
    }
    // The Householder vectors below the diagonal of `qr` applied to the first n columns of I give thin Q.
    let mut q = Mat::<f64>::identity(m, n);
    apply_block_householder_sequence_on_the_left_in_place_with_conj(qr.as_ref(), coeff.as_ref(), Conj::No, q.as_mut(), par, stack);
    for i in 0..m {
        for j in 0..n {
            q_out[i * n + j] = sign[j] * q[(i, j)];
        }
    }
    Ok(())
}

fn cholesky_into(a: &[f64], n: usize, l_out: &mut [f64], par: Par) -> Result<()> {
    check_symmetric("cholesky", a, n)?;
    let mut l = MatRef::from_row_major_slice(a, n, n).to_owned();
    let mut mem = MemBuffer::new(cholesky_in_place_scratch::<f64>(n, par, Default::default()));
    cholesky_in_place(l.as_mut(), LltRegularization::default(), par, MemStack::new(&mut mem), Default::default())
        .map_err(|_| Error::NotPositiveDefinite { op: "cholesky", p: vec![] })?;
    for i in 0..n {
        for j in 0..n {
            l_out[i * n + j] = if j <= i { l[(i, j)] } else { 0.0 };
        }
    }
    Ok(())
}

fn eigh_into(a: &[f64], n: usize, values: &mut [f64], vectors: &mut [f64], par: Par) -> Result<()> {
    check_symmetric("eigh", a, n)?;
    let mut u = Mat::<f64>::zeros(n, n);
    let scratch = self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, par, Default::default());
    let mut mem = MemBuffer::new(scratch);
    // Reads the lower triangle of A (copied into faer's workspace, so the row-major view is free).
    let a = MatRef::from_row_major_slice(a, n, n);
    let w = ColMut::from_slice_mut(values).as_diagonal_mut();
    self_adjoint_evd(a, w, Some(u.as_mut()), par, MemStack::new(&mut mem), Default::default())
        .map_err(|_| Error::NoConvergence { op: "eigh", iters: 0 })?;
    copy_columns_row_major(u.as_ref(), n, vectors);
    Ok(())
}

/// Solves `A x = b` in place (`x` holds b on entry).
fn solve_in_place(a: &[f64], n: usize, x: &mut [f64], par: Par) -> Result<()> {
    // Row-major A read column-major is Aᵀ: factor Aᵀ = PᵀLU and solve (Aᵀ)ᵀ x = b with the transposed solve.
    let mut lu = MatRef::from_column_major_slice(a, n, n).to_owned();
    let mut fwd = vec![0usize; n];
    let mut bwd = vec![0usize; n];
    let scratch = lu_factor::lu_in_place_scratch::<usize, f64>(n, n, par, Default::default())
        .or(lu_solve::solve_transpose_in_place_scratch::<usize, f64>(n, 1, par));
    let mut mem = MemBuffer::new(scratch);
    let stack = MemStack::new(&mut mem);
    let (_, perm) = lu_factor::lu_in_place(lu.as_mut(), &mut fwd, &mut bwd, par, stack, Default::default());
    if is_singular(lu.as_ref()) {
        return Err(Error::Singular { op: "solve", p: vec![] });
    }
    lu_solve::solve_transpose_in_place(lu.as_ref(), lu.as_ref(), perm, MatMut::from_column_major_slice_mut(x, n, 1), par, stack);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Checks and plumbing
// ---------------------------------------------------------------------------------------------------

/// Length and finiteness of a batch (the shape checks specific to an operation come first).
fn check_input(op: &'static str, a: &MatrixBatch) -> Result<()> {
    check_len(op, &a.data, a.batch, a.rows, a.cols)?;
    check_finite(input_name(op), &a.data)
}

/// Length and finiteness of one row-major `m × n` matrix.
fn check_matrix(op: &'static str, a: &[f64], m: usize, n: usize) -> Result<()> {
    check_len(op, a, 1, m, n)?;
    check_finite(input_name(op), a)
}

fn input_name(op: &'static str) -> &'static str {
    match op {
        "svd" => "svd input",
        "qr" => "qr input",
        "cholesky" => "cholesky input",
        "eigh" => "eigh input",
        "expm" => "expm input",
        _ => "solve input",
    }
}

fn check_rank(rank: usize, m: usize, n: usize) -> Result<usize> {
    let k = m.min(n);
    if rank == 0 || rank > k {
        return Err(Error::option("rank", format!("must be between 1 and min(m, n) = {k}, got {rank}")));
    }
    Ok(rank)
}

/// Fails with `InvalidInput` when `max|A − Aᵀ| > 1e-10 · max|A|`.
fn check_symmetric(what: &'static str, a: &[f64], n: usize) -> Result<()> {
    let scale = a.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    let mut worst = 0.0f64;
    for i in 0..n {
        for j in 0..i {
            worst = worst.max((a[i * n + j] - a[j * n + i]).abs());
        }
    }
    if worst > 1e-10 * scale {
        return Err(Error::input(
            what,
            format!("matrix is not symmetric: max |A − Aᵀ| = {worst:.3e} exceeds 1e-10 · max |A| = {:.3e}", 1e-10 * scale),
        ));
    }
    Ok(())
}

/// Writes the first `r` columns of `m` into `out` as a row-major `nrows × r` matrix.
fn copy_columns_row_major(m: MatRef<'_, f64>, r: usize, out: &mut [f64]) {
    for j in 0..r {
        for (i, &x) in m.col(j).iter().enumerate() {
            out[i * r + j] = x;
        }
    }
}

/// The batch index as the error's parameter (`Singular`, `NotPositiveDefinite`) or in its reason (`InvalidInput`).
fn at_index(e: Error, i: usize) -> Error {
    match e {
        Error::Singular { op, .. } => Error::Singular { op, p: vec![i as f64] },
        Error::NotPositiveDefinite { op, .. } => Error::NotPositiveDefinite { op, p: vec![i as f64] },
        Error::InvalidInput { what, reason } => Error::InvalidInput { what, reason: format!("matrix {i} of the batch: {reason}") },
        other => other,
    }
}

/// Runs `job(i, outputs, par)` for every matrix `i` of a batch, `outputs` being matrix `i`'s chunks
/// (`sizes[k]` values) of the `K` output buffers. A batch runs one matrix per rayon task with sequential
/// kernels; a single matrix, or `Threads::Single`, runs in order, with faer's own parallelism for
/// `Threads::All`. The first failing matrix is reported with its batch index.
fn for_each_matrix<const K: usize>(
    batch: usize,
    threads: Threads,
    outputs: [&mut Vec<f64>; K],
    sizes: [usize; K],
    job: impl Fn(usize, [&mut [f64]; K], Par) -> Result<()> + Sync,
) -> Result<()> {
    let mut rest: [&mut [f64]; K] = outputs.map(|v| v.as_mut_slice());
    let mut jobs = Vec::with_capacity(batch);
    for _ in 0..batch {
        jobs.push(std::array::from_fn::<_, K, _>(|k| {
            let (head, tail) = std::mem::take(&mut rest[k]).split_at_mut(sizes[k]);
            rest[k] = tail;
            head
        }));
    }
    let run = |(i, outs): (usize, [&mut [f64]; K]), par: Par| job(i, outs, par).map_err(|e| at_index(e, i));
    if batch > 1 && threads == Threads::All && rayon::current_num_threads() > 1 {
        jobs.into_par_iter().enumerate().try_for_each(|job| run(job, Par::Seq))
    } else {
        let par = if threads == Threads::All { Par::rayon(0) } else { Par::Seq };
        jobs.into_iter().enumerate().try_for_each(|job| run(job, par))
    }
}
