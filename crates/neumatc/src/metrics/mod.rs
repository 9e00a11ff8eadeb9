//! The paper's error metrics, computed in f64 whatever the precision of the prediction.

pub mod complex;

pub use crate::matrix::FloatSlice;

use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;
use crate::matrix::check_len;
use crate::op::{OpSpec, Operation};

/// A value a prediction may hold (`f32` or `f64`), widened to f64 for the metric.
pub trait Real: Copy + Send + Sync + Into<f64> {}
impl Real for f32 {}
impl Real for f64 {}

/// `‖A(p) G(p) − I‖²_F / ‖I‖²_F` for every matrix of the batch. `g` holds (batch, n, n) row-major.
pub fn inverse_residuals<T: Real>(a: &MatrixBatch, g: &[T]) -> Result<Vec<f64>> {
    let n = a.require_square("relErrInverse")?;
    check_len("relErrInverse", g, a.batch, n, n)?;
    let sz = n * n;
    let out = (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let gi = Mat::<f64>::from_fn(n, n, |r, c| g[i * sz + r * n + c].into());
            let ai = MatRef::from_row_major_slice(a.matrix(i), n, n);
            let mut r = Mat::<f64>::identity(n, n);
            faer::linalg::matmul::matmul(r.as_mut(), Accum::Add, ai, gi.as_ref(), -1.0, Par::Seq);
            r.squared_norm_l2() / n as f64
        })
        .collect::<Vec<_>>();
    if out.iter().any(|v| !v.is_finite()) {
        return Err(Error::input("relErrInverse", "the candidate inverse holds NaN or Inf"));
    }
    Ok(out)
}

/// The paper's `RelErr_inv = mean_p ‖A(p) Â⁻¹(p) − I‖²_F / ‖I‖²_F`.
///
/// ```
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![2.0, 0.0, 0.0, 4.0]).unwrap();
/// assert_eq!(neumatc::metrics::rel_err_inverse(&a, &[0.5, 0.0, 0.0, 0.25]).unwrap(), 0.0);
/// ```
pub fn rel_err_inverse<T: Real>(a: &MatrixBatch, g: &[T]) -> Result<f64> {
    let r = inverse_residuals(a, g)?;
    Ok(mean(&r))
}

/// `‖X − Y‖²_F / ‖Y‖²_F` over two equally long buffers.
pub fn rel_fro_error<T: Real>(x: &[T], y: &[f64]) -> f64 {
    let num: f64 = x.iter().zip(y).map(|(&a, &b)| (a.into() - b).powi(2)).sum();
    let den: f64 = y.iter().map(|b| b * b).sum();
    num / den
}

/// Arithmetic mean (0 for an empty slice).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
}

// ---------------------------------------------------------------------------------------------------
// Every operation: the paper-style errors of `OpSpec::rel_err` over batches
// ---------------------------------------------------------------------------------------------------

/// One result component of a batch of predictions or exact results, as the caller holds it:
/// (batch, rows, cols) row-major values.
#[derive(Debug, Clone, Copy)]
pub struct ComponentView<'a> {
    /// Number of matrices.
    pub batch: usize,
    /// Rows of each.
    pub rows: usize,
    /// Columns of each (1 for vectors: `S`, `values`, `x`).
    pub cols: usize,
    /// `batch * rows * cols` values.
    pub data: FloatSlice<'a>,
}

impl<'a> ComponentView<'a> {
    /// A view of `data` as (batch, rows, cols).
    pub fn new(batch: usize, rows: usize, cols: usize, data: impl Into<FloatSlice<'a>>) -> Self {
        ComponentView { batch, rows, cols, data: data.into() }
    }
}

/// The per-matrix error of [`OpSpec::rel_err`] for every matrix of `a`; `joint` holds `a.batch` joint
/// results (`spec.output_len()` values each, components concatenated in [`Operation::components`] order).
/// `exact` (same layout) is read by `expm` only, and computed here ([`crate::linalg::expm_matrix`])
/// when absent.
///
/// Fails with `ShapeMismatch` when `a` is not `spec.rows × spec.cols` or a buffer has the wrong length,
/// `InvalidInput` when a prediction holds NaN/Inf.
///
/// ```
/// use neumatc::op::{OpSpec, Operation};
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![4.0, 0.0, 0.0, 9.0]).unwrap();
/// let spec = OpSpec::new(Operation::Cholesky, 2, 2, None, None).unwrap();
/// assert_eq!(neumatc::metrics::rel_err_op(&spec, &a, &[2.0, 0.0, 0.0, 3.0], None).unwrap(), vec![0.0]);
/// ```
pub fn rel_err_op<T: Real>(spec: &OpSpec, a: &MatrixBatch, joint: &[T], exact: Option<&[f64]>) -> Result<Vec<f64>> {
    const OP: &str = "relErr";
    check_input_shape(OP, spec, a)?;
    let m = spec.output_len();
    check_len(OP, joint, a.batch, m, 1)?;
    if let Some(e) = exact {
        check_len("relErr exact", e, a.batch, m, 1)?;
    }
    (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let g: Vec<f64> = joint[i * m..(i + 1) * m].iter().map(|&v| v.into()).collect();
            error_at(spec, a, i, &g, exact.map(|e| &e[i * m..(i + 1) * m]))
        })
        .collect()
}

/// The paper-style relative error of a batch of results of `op`, given as separate components (in
/// [`Operation::components`] order: `[U, S, V]` for `svd`, `[Q, R]`, `[L]`, `[values, vectors]`, `[x]`,
/// `[expm]`, `[inverse]`), per matrix of `a`. The operation's settings come from the data: the SVD rank
/// from `S`'s rows, the right-hand side of `solve` from `rhs` (`n` values shared by the batch, or
/// `batch · n`, one per matrix). `exact` (for `expm`: the exact exponentials, (batch, n, n)) is computed
/// when absent.
///
/// Fails with `ShapeMismatch` (a component of the wrong shape or count, `a` of the wrong shape for
/// `op`), `InvalidOption` (an SVD rank outside `1..=min(m, n)`, a missing or zero `rhs`) or
/// `InvalidInput` (NaN/Inf in a prediction).
///
/// ```
/// use neumatc::metrics::{ComponentView, rel_errs};
/// use neumatc::Operation;
/// // A = diag(3, 2) = U diag(S) Vᵀ with U = V = I; a 10 % error in the first singular value.
/// let a = neumatc::MatrixBatch::new(1, 2, 2, vec![3.0, 0.0, 0.0, 2.0]).unwrap();
/// let eye = [1.0, 0.0, 0.0, 1.0];
/// let s = [3.3, 2.0];
/// let parts = [ComponentView::new(1, 2, 2, &eye[..]), ComponentView::new(1, 2, 1, &s[..]), ComponentView::new(1, 2, 2, &eye[..])];
/// let e = rel_errs(Operation::Svd, &a, &parts, None, None).unwrap();
/// assert!((e[0] - 0.09 / 13.0).abs() < 1e-15);
/// ```
pub fn rel_errs(
    op: Operation,
    a: &MatrixBatch,
    components: &[ComponentView<'_>],
    rhs: Option<&[f64]>,
    exact: Option<&MatrixBatch>,
) -> Result<Vec<f64>> {
    const OP: &str = "relErr";
    let (rows, cols, n) = (a.rows, a.cols, a.rows);
    let names = op.components();
    if components.len() != names.len() {
        return Err(Error::ShapeMismatch { op: "relErr components", expected: vec![names.len()], got: vec![components.len()] });
    }
    let rank = (op == Operation::Svd).then(|| components[1].rows);
    // `solve` takes one right-hand side shared by the batch, or one per matrix (then a spec per matrix).
    let per_matrix_rhs = rhs.filter(|b| op == Operation::Solve && a.batch > 1 && b.len() != n && Some(b.len()) == a.batch.checked_mul(n));
    let spec = OpSpec::new(op, rows, cols, rank, rhs.map(|b| per_matrix_rhs.map_or(b, |b| &b[..n]).to_vec()))?;
    check_input_shape(OP, &spec, a)?;
    check_components(&spec, a.batch, components)?;
    if let Some(e) = exact {
        if op != Operation::Expm {
            return Err(Error::option("exact", format!("only `expm` takes exact results, not `{}`", op.name())));
        }
        if (e.batch, e.rows, e.cols) != (a.batch, n, n) {
            return Err(Error::ShapeMismatch { op: "relErr exact", expected: vec![a.batch, n, n], got: vec![e.batch, e.rows, e.cols] });
        }
        check_len("relErr exact", &e.data, e.batch, e.rows, e.cols)?;
    }
    if let Some(b) = per_matrix_rhs {
        crate::matrix::check_finite("rhs", b)?;
    }
    (0..a.batch)
        .into_par_iter()
        .map(|i| {
            let g = joint_at(&spec, components, i);
            let exact_i = exact.map(|e| e.matrix(i));
            match per_matrix_rhs {
                Some(b) => {
                    let spec_i = OpSpec::new(op, rows, cols, None, Some(b[i * n..(i + 1) * n].to_vec())).map_err(|e| in_batch(e, i))?;
                    error_at(&spec_i, a, i, &g, exact_i)
                }
                None => error_at(&spec, a, i, &g, exact_i),
            }
        })
        .collect()
}

/// The mean over the batch of [`rel_errs`]: the paper's `RelErr` of `op` (`RelErr_svd =
/// mean_p ‖Û diag(Ŝ) V̂ᵀ − A‖²_F / ‖A‖²_F`, and the same pattern for the other operations; see
/// [`OpSpec::rel_err`]).
pub fn rel_err(
    op: Operation,
    a: &MatrixBatch,
    components: &[ComponentView<'_>],
    rhs: Option<&[f64]>,
    exact: Option<&MatrixBatch>,
) -> Result<f64> {
    Ok(mean(&rel_errs(op, a, components, rhs, exact)?))
}

/// The orthogonality defect `max ‖XᵀX − I‖_F / √r` over the orthonormal factors (`U` and `V` of `svd`,
/// `Q` of `qr`, `vectors` of `eigh`) of every result of the batch ([`OpSpec::orthogonality_defect`]);
/// `joint` as in [`rel_err_op`]. Fails with `InvalidOption` for an operation without orthonormal factors.
pub fn orthogonality_defects_op<T: Real>(spec: &OpSpec, batch: usize, joint: &[T]) -> Result<Vec<f64>> {
    let m = spec.output_len();
    check_len("orthogonalityDefect", joint, batch, m, 1)?;
    require_orthonormal(spec.op)?;
    (0..batch)
        .into_par_iter()
        .map(|i| {
            let g: Vec<f64> = joint[i * m..(i + 1) * m].iter().map(|&v| v.into()).collect();
            finite("orthogonalityDefect", spec.orthogonality_defect(&g).unwrap_or(f64::NAN))
        })
        .collect()
}

/// The largest orthogonality defect `‖XᵀX − I‖_F / √r` of the orthonormal factors over a batch of
/// results of `op` given as components (as in [`rel_errs`]; the shapes come from the components): the
/// quantity `TrainReport::held_out_orthogonality` reports. Fails with `InvalidOption` for an operation
/// without orthonormal factors (`svd`, `qr` and `eigh` have them), `ShapeMismatch` for inconsistent
/// components.
///
/// ```
/// use neumatc::metrics::{ComponentView, orthogonality_defect};
/// // Q = 2·I₂ (so QᵀQ − I = 3·I₂, ‖·‖_F/√2 = 3), R anything.
/// let q = [2.0, 0.0, 0.0, 2.0];
/// let r = [1.0, 0.0, 0.0, 1.0];
/// let d = orthogonality_defect(neumatc::Operation::Qr, &[ComponentView::new(1, 2, 2, &q[..]), ComponentView::new(1, 2, 2, &r[..])]);
/// assert!((d.unwrap() - 3.0).abs() < 1e-15);
/// ```
pub fn orthogonality_defect(op: Operation, components: &[ComponentView<'_>]) -> Result<f64> {
    require_orthonormal(op)?;
    let names = op.components();
    if components.len() != names.len() {
        return Err(Error::ShapeMismatch {
            op: "orthogonalityDefect components",
            expected: vec![names.len()],
            got: vec![components.len()],
        });
    }
    let (rows, cols, rank) = match op {
        Operation::Svd => (components[0].rows, components[2].rows, Some(components[0].cols)),
        Operation::Qr => (components[0].rows, components[0].cols, None),
        _ => (components[1].rows, components[1].rows, None),
    };
    let spec = OpSpec::new(op, rows, cols, rank, None)?;
    let batch = components[0].batch;
    check_components(&spec, batch, components)?;
    let defects = (0..batch)
        .into_par_iter()
        .map(|i| {
            let g = joint_at(&spec, components, i);
            finite("orthogonalityDefect", spec.orthogonality_defect(&g).unwrap_or(f64::NAN))
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(defects.into_iter().fold(0.0, f64::max))
}

/// The joint result (components concatenated, in f64) of matrix `i` of the caller's components.
fn joint_at(spec: &OpSpec, components: &[ComponentView<'_>], i: usize) -> Vec<f64> {
    let mut g = Vec::with_capacity(spec.output_len());
    for (c, want) in components.iter().zip(spec.components()) {
        c.data.extend_f64(i * want.len(), (i + 1) * want.len(), &mut g);
    }
    g
}

/// Each component must be (batch, rows, cols) of the spec's component, holding that many values.
fn check_components(spec: &OpSpec, batch: usize, components: &[ComponentView<'_>]) -> Result<()> {
    for (c, want) in components.iter().zip(spec.components()) {
        let op = component_op(want.name);
        if (c.batch, c.rows, c.cols) != (batch, want.rows, want.cols) {
            return Err(Error::ShapeMismatch { op, expected: vec![batch, want.rows, want.cols], got: vec![c.batch, c.rows, c.cols] });
        }
        if Some(c.data.len()) != batch.checked_mul(want.len()) {
            return Err(Error::ShapeMismatch { op, expected: vec![batch, want.rows, want.cols], got: vec![c.data.len()] });
        }
    }
    Ok(())
}

/// `a` must be `spec.rows × spec.cols`.
fn check_input_shape(op: &'static str, spec: &OpSpec, a: &MatrixBatch) -> Result<()> {
    if (a.rows, a.cols) != (spec.rows, spec.cols) {
        return Err(Error::ShapeMismatch { op, expected: vec![a.batch, spec.rows, spec.cols], got: vec![a.batch, a.rows, a.cols] });
    }
    check_len(op, &a.data, a.batch, a.rows, a.cols)
}

/// The error of the joint result `g` at matrix `i` of `a`, computing `exp(A)` for `expm` when `exact` is absent.
fn error_at(spec: &OpSpec, a: &MatrixBatch, i: usize, g: &[f64], exact: Option<&[f64]>) -> Result<f64> {
    let ai = a.matrix(i);
    let computed;
    let exact = match (spec.op, exact) {
        (Operation::Expm, None) => {
            computed = crate::linalg::expm_matrix(ai, spec.rows).map_err(|e| in_batch(e, i))?;
            Some(computed.as_slice())
        }
        (_, e) => e,
    };
    spec.rel_err(ai, g, exact).map_err(|e| in_batch(e, i))
}

fn require_orthonormal(op: Operation) -> Result<()> {
    match op {
        Operation::Svd | Operation::Qr | Operation::Eigh => Ok(()),
        _ => Err(Error::option("operation", format!("`{}` has no orthonormal factor (svd, qr and eigh have)", op.name()))),
    }
}

fn finite(what: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() { Ok(v) } else { Err(Error::input(what, "the prediction holds NaN or Inf")) }
}

/// The operation name of a component's shape error.
fn component_op(name: &'static str) -> &'static str {
    match name {
        "inverse" => "relErr component `inverse`",
        "x" => "relErr component `x`",
        "U" => "relErr component `U`",
        "S" => "relErr component `S`",
        "V" => "relErr component `V`",
        "Q" => "relErr component `Q`",
        "R" => "relErr component `R`",
        "L" => "relErr component `L`",
        "values" => "relErr component `values`",
        "vectors" => "relErr component `vectors`",
        _ => "relErr component `expm`",
    }
}

/// Names matrix `i` of the batch in an `InvalidInput` error.
fn in_batch(e: Error, i: usize) -> Error {
    match e {
        Error::InvalidInput { what, reason } => Error::InvalidInput { what, reason: format!("matrix {i} of the batch: {reason}") },
        other => other,
    }
}
