//! Exact GPU baselines on cuBLAS and cuSOLVER (feature `cuda`): batched LU inverse and batched
//! truncated SVD, the vendor-library yardstick of the paper's batched comparison (Table 13: 32 × 32 and
//! 512 × 512 matrices, batches of 128, 256 and 512).
//!
//! ```no_run
//! use neumatc::baseline::gpu::{GpuSolver, time_synced};
//! let solver = GpuSolver::new(0).unwrap();
//! let (batch, n) = (128, 32);
//! // 0.5 everywhere plus n - 0.5 on the diagonal: well conditioned.
//! let host: Vec<f32> = (0..batch * n * n).map(|i| if i % (n * n) % (n + 1) == 0 { n as f32 } else { 0.5 }).collect();
//! let a = solver.upload(&host, batch, n, n).unwrap();
//! let seconds = time_synced(&solver, 3, 10, || solver.inverse(&a).map(drop)).unwrap();
//! let inv = solver.inverse(&a).unwrap().download(&solver).unwrap(); // (batch, n, n) row-major
//! # let _ = (seconds, inv);
//! ```
//!
//! **Layout.** Buffers are row-major like the rest of the crate; the libraries are column-major. A
//! row-major `A` read column-major is `Aᵀ`. Inverting `Aᵀ` gives `(A⁻¹)ᵀ` column-major, which is `A⁻¹`
//! row-major, so the inverse needs no transpose. For the SVD, `Aᵀ = U_c Σ V_cᵀ` means `A = V_c Σ U_cᵀ`:
//! the library's right vectors are our `U` and its left vectors our `V`. They stay on the device as the
//! library wrote them (column-major, [`Layout::ColMajor`]), and [`GpuBatch::download`] transposes them to
//! row-major on the host.
//!
//! **What one call covers** (and so what [`time_synced`] measures around it): a device copy of the
//! input (the routines overwrite theirs), zero-filled stream-ordered allocations of the outputs and the
//! workspace, for the inverse the upload of its two arrays of matrix addresses (8 bytes per matrix),
//! the library calls, and one device-to-host copy of the `info` words (4 bytes per matrix), which waits
//! for the stream. Uploads, downloads and the row-major transposes in `download` are outside.
//!
//! **Errors.** A context that cannot be created is [`Error::DeviceUnavailable`]; a device allocation
//! that does not fit is [`Error::OutOfMemory`]; an exactly zero LU pivot is [`Error::Singular`] with the
//! batch index as `p`; a Jacobi SVD that misses its tolerance is [`Error::NoConvergence`]; any other
//! failing CUDA, cuBLAS or cuSOLVER status is [`Error::Internal`] naming the call.

use std::ffi::c_int;

mod ffi;
mod layout;
mod self_check;
mod solver;

pub use ffi::GpuFloat;
pub use layout::{GpuBatch, GpuSvd, Layout, SvdMethod};
pub use self_check::{CheckResult, self_check};
pub use solver::{GpuSolver, time_synced};

/// Largest order `cusolverDn<t>gesvdjBatched` accepts (cuSOLVER: `m, n ≤ 32`).
pub const JACOBI_BATCHED_MAX_N: usize = 32;

/// Sweeps the Jacobi SVDs may take (cuSOLVER's default); their tolerance is the unit roundoff of `T`.
const JACOBI_MAX_SWEEPS: c_int = 100;

#[cfg(test)]
mod tests {
    use super::ffi::*;
    use super::layout::*;
    use super::self_check::*;
    use super::solver::*;
    use crate::error::Error;
    use crate::linalg::SvdBatch;
    use crate::matrix::MatrixBatch;

    #[test]
    fn pointer_addresses_step_by_the_matrix_size() {
        assert_eq!(pointer_addresses(0x1000, 3, 64), vec![0x1000, 0x1040, 0x1080]);
        assert!(pointer_addresses(0x1000, 0, 64).is_empty());
    }

    #[test]
    fn column_major_truncated_vectors_come_back_row_major() {
        // Two 3 × 3 column-major matrices (ld 3, stride 9); keep 3 × 2 of each.
        let raw: Vec<u32> = (0..18).collect();
        let layout = Layout::ColMajor { ld: 3, stride: 9 };
        assert_eq!(required_len(2, 3, 2, layout), Some(9 + 3 + 3));
        let rows = to_row_major(&raw, 2, 3, 2, layout);
        assert_eq!(rows, vec![0, 3, 1, 4, 2, 5, 9, 12, 10, 13, 11, 14]);
        // Singular values: `rank` of `n` per matrix.
        let s = to_row_major(&[5, 4, 3, 9, 8, 7], 2, 2, 1, Layout::ColMajor { ld: 3, stride: 3 });
        assert_eq!(s, vec![5, 4, 9, 8]);
        assert_eq!(to_row_major(&raw, 2, 3, 3, Layout::RowMajor), raw);
    }

    #[test]
    fn inconsistent_layouts_are_refused() {
        assert_eq!(required_len(2, 3, 2, Layout::ColMajor { ld: 2, stride: 9 }), None);
        assert_eq!(required_len(2, 3, 2, Layout::ColMajor { ld: 3, stride: 5 }), None);
        assert_eq!(required_len(usize::MAX, 2, 2, Layout::RowMajor), None);
    }

    #[test]
    fn info_words_name_the_failing_matrix() {
        assert!(inverse_info("t", &[0, 0], &[0, 0]).is_ok());
        assert!(matches!(inverse_info("t", &[0, 3, 0], &[0, 3, 0]), Err(Error::Singular { p, .. }) if p == [1.0]));
        assert!(matches!(inverse_info("t", &[0, 0], &[0, 2]), Err(Error::Singular { p, .. }) if p == [1.0]));
        assert!(matches!(inverse_info("t", &[-4, 0], &[0, 0]), Err(Error::Internal(_))));
        assert!(matches!(svd_info("t", &[0, 9], Some(100)), Err(Error::NoConvergence { iters: 100, .. })));
        assert!(matches!(svd_info("t", &[0, 9], None), Err(Error::Internal(m)) if m.contains("matrix 1")));
        assert!(svd_info("t", &[0, 0], None).is_ok());
    }

    #[test]
    fn routine_names_fill_in_the_type_letter() {
        assert_eq!(routine("cublas<t>getrfBatched", 'D'), "cublasDgetrfBatched");
        assert_eq!(routine("cusolverDn<t>gesvdj", 'S'), "cusolverDnSgesvdj");
    }

    /// The transpose of a row-major `n × n` matrix; equally, the column-major buffer of `m` (as a
    /// column-major library writes it).
    fn transpose(m: &[f64], n: usize) -> Vec<f64> {
        (0..n * n).map(|idx| m[(idx % n) * n + idx / n]).collect()
    }

    #[test]
    fn the_libraries_factors_of_the_transpose_are_ours_swapped() {
        // Simulate cuSOLVER on the CPU: it reads our row-major A as Aᵀ, factors Aᵀ = U_c S V_cᵀ and
        // writes U_c, V_c column-major (ld n) and S (n per matrix).
        let (n, rank) = (6, 3);
        let a = with_spectrum(1, n, 5).unwrap();
        let lib = crate::linalg::svd(&MatrixBatch::new(1, n, n, transpose(&a.data, n)).unwrap(), None).unwrap();
        let (u_c, v_c) = (transpose(&lib.u.data, n), transpose(&lib.v.data, n));
        let vectors = Layout::ColMajor { ld: n, stride: n * n };
        for r in [rank, n] {
            let ours = SvdBatch {
                u: MatrixBatch::new(1, n, r, to_row_major(&v_c, 1, n, r, vectors)).unwrap(),
                s: MatrixBatch::new(1, r, 1, to_row_major(&lib.s.data, 1, r, 1, Layout::ColMajor { ld: n, stride: n })).unwrap(),
                v: MatrixBatch::new(1, n, r, to_row_major(&u_c, 1, n, r, vectors)).unwrap(),
            };
            let cpu = crate::linalg::svd(&a, Some(r)).unwrap();
            let (ours, cpu) = (reconstruction_errors(&a, &ours).unwrap()[0], reconstruction_errors(&a, &cpu).unwrap()[0]);
            assert!((ours - cpu).abs() < 1e-12, "rank {r}: {ours} vs {cpu}");
        }
    }

    #[test]
    fn the_libraries_inverse_of_the_transpose_is_ours_as_is() {
        // The library inverts Aᵀ and writes (Aᵀ)⁻¹ column-major: read row-major, that buffer is A⁻¹.
        let n = 5;
        let a = well_conditioned(1, n, 3);
        let lib = crate::linalg::inverse(&MatrixBatch::new(1, n, n, transpose(&a.data, n)).unwrap()).unwrap();
        let raw = transpose(&lib.data, n);
        let exact = crate::linalg::inverse(&a).unwrap();
        assert!(crate::metrics::rel_fro_error(&raw, &exact.data) < 1e-28);
    }

    #[test]
    fn a_missing_device_is_unavailable() {
        assert!(matches!(GpuSolver::new(4096), Err(Error::DeviceUnavailable(4096))));
    }

    #[test]
    fn check_inputs_are_what_they_claim() {
        let a = well_conditioned(2, 8, 1);
        assert!(a.data.iter().all(|v| v.is_finite()));
        // Diagonally dominant enough to invert comfortably.
        assert!(crate::linalg::condition_number(a.matrix(0), 8) < 5.0);
        let b = with_spectrum(2, 8, 1).unwrap();
        let svd = crate::linalg::svd(&b, None).unwrap();
        for (i, s) in svd.s.matrix(1).iter().enumerate() {
            assert!((s - (8 - i) as f64).abs() < 1e-12, "{i}: {s}");
        }
    }
}
