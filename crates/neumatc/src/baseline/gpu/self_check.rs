//! The self-check against the CPU baselines (faer): every GPU routine at a few sizes in f32 and f64.

use crate::error::{Error, Result};
use crate::linalg::SvdBatch;
use crate::linalg::seeded_gaussian;
use crate::matrix::MatrixBatch;
use crate::metrics::ComponentView;
use crate::op::Operation;

use super::ffi::*;
use super::layout::*;
use super::solver::*;
use super::*;

/// One measurement of [`self_check`]: passed when `value` is finite and at most `tolerance`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckResult {
    /// What was measured, e.g. `"svd/gesvdjBatched/f32/n=32/rank=16/reconstruction-vs-cpu"`. A failing
    /// call appends its error: `"... (error: ...)"`, with `value` NaN.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// The largest value that passes.
    pub tolerance: f64,
    /// `value <= tolerance` (and finite).
    pub passed: bool,
}

impl CheckResult {
    fn new(name: String, value: f64, tolerance: f64) -> Self {
        CheckResult { name, value, tolerance, passed: value.is_finite() && value <= tolerance }
    }
}

/// Checks the GPU baselines against the CPU (faer) ones on seeded random batches of 3 matrices at
/// n = 8, 32 and 64, in f32 and f64. Per case:
/// - inverse of `G + n·I` (`G` standard normal, condition number about 2): the residual
///   `max ‖A·Â⁻¹ − I‖_F/‖I‖_F` and the distance `‖Â⁻¹ − A⁻¹_cpu‖_F/‖A⁻¹_cpu‖_F`, both within `100·n·ε`;
///   and a batch whose second matrix is zero must fail with `Singular` at index 1;
/// - truncated SVD (rank n/2) of `Q₁ diag(n, n−1, …, 1) Q₂ᵀ` (`Qᵢ` random orthogonal) by every method
///   that applies (`gesvdjBatched` for n ≤ 32, `gesvdaStridedBatched`, the `gesvdj` loop): the gap between
///   its reconstruction error `‖A − U diag(S) Vᵀ‖_F/‖A‖_F` and the CPU truncation's, the largest
///   singular-value error relative to `σ₁`, and the orthogonality defect of U and V
///   ([`crate::metrics::orthogonality_defect`]), within `100·n·ε` (`ε` of f32 for `gesvdaStridedBatched`,
///   whose contract is single precision).
///
/// The inputs are rounded to the element type first and the CPU reference runs on the rounded values,
/// so the checks measure the solvers, not the rounding. A failing call is reported as a failed result,
/// not an error; the function itself fails only when a CPU reference cannot be computed.
///
/// ```no_run
/// let solver = neumatc::baseline::gpu::GpuSolver::new(0).unwrap();
/// let results = neumatc::baseline::gpu::self_check(&solver).unwrap();
/// println!("{}", serde_json::to_string_pretty(&results).unwrap());
/// assert!(results.iter().all(|r| r.passed));
/// ```
pub fn self_check(solver: &GpuSolver) -> Result<Vec<CheckResult>> {
    let mut out = Vec::new();
    for (i, n) in [8usize, 32, 64].into_iter().enumerate() {
        let seed = 1000 + i as u64;
        check_inverse::<f32>(solver, n, seed, &mut out)?;
        check_inverse::<f64>(solver, n, seed, &mut out)?;
        check_svd::<f32>(solver, n, seed, &mut out)?;
        check_svd::<f64>(solver, n, seed, &mut out)?;
    }
    Ok(out)
}

pub(super) const CHECK_BATCH: usize = 3;

pub(super) fn check_inverse<T: GpuFloat>(solver: &GpuSolver, n: usize, seed: u64, out: &mut Vec<CheckResult>) -> Result<()> {
    let name = format!("inverse/{}/n={n}", T::NAME);
    let tol = 100.0 * n as f64 * T::EPSILON;
    let (host, a) = rounded::<T>(&well_conditioned(CHECK_BATCH, n, seed))?;
    let exact = crate::linalg::inverse(&a)?;
    let gpu = solver.upload(&host, CHECK_BATCH, n, n).and_then(|g| solver.inverse(&g)).and_then(|inv| inv.download(solver));
    match gpu {
        Ok(inv) => {
            let residual = crate::metrics::inverse_residuals(&a, &inv).map(|r| r.into_iter().fold(0.0, f64::max).sqrt());
            out.push(CheckResult::new(format!("{name}/residual"), residual.unwrap_or(f64::NAN), tol));
            out.push(CheckResult::new(format!("{name}/vs-cpu"), crate::metrics::rel_fro_error(&inv, &exact.data).sqrt(), tol));
        }
        Err(e) => out.push(failed(&name, tol, &e)),
    }
    // Matrix 1 of the batch zeroed: an exactly zero pivot.
    let mut singular = host.clone();
    singular[n * n..2 * n * n].iter_mut().for_each(|v| *v = T::default());
    let check = format!("{name}/singular-reported-at-index-1");
    out.push(match solver.upload(&singular, CHECK_BATCH, n, n).and_then(|g| solver.inverse(&g)) {
        Err(Error::Singular { p, .. }) if p == [1.0] => CheckResult::new(check, 0.0, 0.0),
        Err(e) => CheckResult::new(format!("{check} (error: {e})"), 1.0, 0.0),
        Ok(_) => CheckResult::new(format!("{check} (no error)"), 1.0, 0.0),
    });
    Ok(())
}

pub(super) fn check_svd<T: GpuFloat>(solver: &GpuSolver, n: usize, seed: u64, out: &mut Vec<CheckResult>) -> Result<()> {
    let rank = n / 2;
    let (host, a) = rounded::<T>(&with_spectrum(CHECK_BATCH, n, seed)?)?;
    let cpu = crate::linalg::svd(&a, Some(rank))?;
    let cpu_err = reconstruction_errors(&a, &cpu)?;
    let methods = [SvdMethod::JacobiBatched, SvdMethod::Approximate, SvdMethod::JacobiLoop];
    for method in methods.into_iter().filter(|&m| m != SvdMethod::JacobiBatched || n <= JACOBI_BATCHED_MAX_N) {
        let name = format!("svd/{}/{}/n={n}/rank={rank}", method.name(), T::NAME);
        let eps = if method == SvdMethod::Approximate { f64::from(f32::EPSILON).max(T::EPSILON) } else { T::EPSILON };
        let tol = 100.0 * n as f64 * eps;
        let gpu = solver.upload(&host, CHECK_BATCH, n, n).and_then(|g| solver.svd_with(&g, rank, method)).and_then(|f| f.download(solver));
        let gpu = match gpu {
            Ok(f) => f,
            Err(e) => {
                out.push(failed(&name, tol, &e));
                continue;
            }
        };
        let gap = reconstruction_errors(&a, &gpu).map(|e| e.iter().zip(&cpu_err).map(|(g, c)| (g - c).abs()).fold(0.0, f64::max));
        out.push(CheckResult::new(format!("{name}/reconstruction-vs-cpu"), gap.unwrap_or(f64::NAN), tol));
        let s_err = (0..CHECK_BATCH)
            .map(|k| {
                let (g, c) = (gpu.s.matrix(k), cpu.s.matrix(k));
                g.iter().zip(c).map(|(g, c)| (g - c).abs()).fold(0.0, f64::max) / c[0]
            })
            .fold(0.0, f64::max);
        out.push(CheckResult::new(format!("{name}/singular-values-vs-cpu"), s_err, tol));
        let defect = crate::metrics::orthogonality_defect(Operation::Svd, &svd_views(&gpu));
        out.push(CheckResult::new(format!("{name}/orthogonality-u-v"), defect.unwrap_or(f64::NAN), tol));
    }
    Ok(())
}

pub(super) fn failed(name: &str, tolerance: f64, e: &Error) -> CheckResult {
    CheckResult { name: format!("{name} (error: {e})"), value: f64::NAN, tolerance, passed: false }
}

pub(super) fn svd_views(f: &SvdBatch) -> [ComponentView<'_>; 3] {
    fn view(m: &MatrixBatch) -> ComponentView<'_> {
        ComponentView::new(m.batch, m.rows, m.cols, &m.data[..])
    }
    [view(&f.u), view(&f.s), view(&f.v)]
}

/// `‖A − U diag(S) Vᵀ‖_F/‖A‖_F` per matrix (the square root of the paper's `RelErr_svd`).
pub(super) fn reconstruction_errors(a: &MatrixBatch, f: &SvdBatch) -> Result<Vec<f64>> {
    Ok(crate::metrics::rel_errs(Operation::Svd, a, &svd_views(f), None, None)?.into_iter().map(f64::sqrt).collect())
}

/// The batch rounded to `T` (for the device) and back to f64 (for the CPU reference).
pub(super) fn rounded<T: GpuFloat>(a: &MatrixBatch) -> Result<(Vec<T>, MatrixBatch)> {
    let host: Vec<T> = a.data.iter().map(|&v| T::from_f64(v)).collect();
    let back = MatrixBatch::new(a.batch, a.rows, a.cols, host.iter().map(|&v| v.into()).collect())?;
    Ok((host, back))
}

/// `batch` matrices `G + n·I` with standard normal `G`: `‖G‖₂ ≈ 2√n`, so the condition number is about
/// `(n + 2√n)/(n − 2√n)` (≤ 3 for n ≥ 8).
pub(super) fn well_conditioned(batch: usize, n: usize, seed: u64) -> MatrixBatch {
    let mut data = seeded_gaussian(batch * n * n, seed);
    for k in 0..batch {
        (0..n).for_each(|i| data[k * n * n + i * n + i] += n as f64);
    }
    MatrixBatch { batch, rows: n, cols: n, data }
}

/// `batch` matrices `Q₁ diag(n, n−1, …, 1) Q₂ᵀ` with random orthogonal `Qᵢ` (QR of Gaussian matrices):
/// distinct singular values one apart.
pub(super) fn with_spectrum(batch: usize, n: usize, seed: u64) -> Result<MatrixBatch> {
    let mut data = Vec::with_capacity(batch * n * n);
    for k in 0..batch {
        let (q1, _) = crate::linalg::qr_matrix(&seeded_gaussian(n * n, seed ^ ((2 * k as u64 + 1) << 32)), n, n)?;
        let (q2, _) = crate::linalg::qr_matrix(&seeded_gaussian(n * n, seed ^ ((2 * k as u64 + 2) << 32)), n, n)?;
        for i in 0..n {
            for j in 0..n {
                data.push((0..n).map(|l| q1[i * n + l] * (n - l) as f64 * q2[j * n + l]).sum());
            }
        }
    }
    Ok(MatrixBatch { batch, rows: n, cols: n, data })
}
