//! The baselines: exact pointwise ones (LU inverse, SVD, QR, Cholesky, eigh, expm, solve), randomized
//! SVDs (RSVD, CRSVD) and the parametric inversion baselines (NNI, COI, ZNNI). Every export has a sync
//! twin on the JS thread and an AsyncTask on the libuv pool, sharing one `*_inner` fn; the input is
//! copied on the JS thread first. Options arrive as JSON (the engine's `XxxConfig::from_json`).

use std::sync::Arc;

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;

use napi::bindgen_prelude::Float64Array;
use neumatc::baseline::{self, Coi, CoiConfig, EighBatch, NniConfig, QrBatch, RsvdConfig, SvdBatch, ZnnConfig};
use neumatc::complex::{self, ComplexSvd};
use neumatc::sparse::{KrylovConfig, KrylovSolve, krylov_sequence};
use neumatc::{ComplexBatch, MatrixBatch};

use crate::convert::{NativeComplexMatrix, NativeComplexSvd, NativeEigh, NativeMatrix, NativeQr, NativeSvd, complex_batch, matrix_batch};
use crate::error::{Failure, Result, to_napi};
use crate::family::{NativeFamily, sparse_of};
use crate::task::EngineTask;

fn inverse_inner(batch: u32, rows: u32, cols: u32, data: Vec<f64>) -> neumatc::Result<neumatc::MatrixBatch> {
    let a = matrix_batch(batch, rows, cols, data)?;
    neumatc::baseline::inverse_into(&a, neumatc::baseline::Threads::All, &crate::pool::POOL)
}

/// Exact inverse (LU) of every matrix in the batch, on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_inverse_sync(batch: u32, rows: u32, cols: u32, data: &[f64]) -> Result<NativeMatrix> {
    inverse_inner(batch, rows, cols, data.to_vec()).map(NativeMatrix::from).map_err(to_napi)
}

/// Exact inverse (LU) on the libuv pool; `data` is copied on the JS thread first.
#[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
pub fn baseline_inverse(batch: u32, rows: u32, cols: u32, data: &[f64]) -> AsyncTask<InverseTask> {
    AsyncTask::new(InverseTask { batch, rows, cols, data: Some(data.to_vec()), failure: None })
}

/// `baselineInverse` off the JS thread.
pub struct InverseTask {
    batch: u32,
    rows: u32,
    cols: u32,
    data: Option<Vec<f64>>,
    failure: Option<Failure>,
}

impl Task for InverseTask {
    type Output = neumatc::MatrixBatch;
    type JsValue = NativeMatrix;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let data = self.data.take().unwrap_or_default();
        let (b, r, c) = (self.batch, self.rows, self.cols);
        crate::task::run(&mut self.failure, || inverse_inner(b, r, c, data))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(NativeMatrix::from(output))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Self::JsValue> {
        Err(crate::task::rejection(&env, self.failure.take(), err))
    }
}

// ---------------------------------------------------------------------------------------------------
// Exact decompositions, expm and solve
// ---------------------------------------------------------------------------------------------------

/// The input batch of a baseline, copied from JS: (batch, rows, cols, data).
type Input = (u32, u32, u32, Vec<f64>);

fn input(batch: u32, rows: u32, cols: u32, data: &[f64]) -> Input {
    (batch, rows, cols, data.to_vec())
}

fn batch_of((batch, rows, cols, data): Input) -> neumatc::Result<MatrixBatch> {
    matrix_batch(batch, rows, cols, data)
}

fn svd_inner(a: Input, rank: Option<u32>) -> neumatc::Result<SvdBatch> {
    baseline::svd(&batch_of(a)?, rank.map(|r| r as usize))
}

/// Thin SVD (or truncated to `rank`) of every matrix of the batch, on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_svd_sync(batch: u32, rows: u32, cols: u32, data: &[f64], rank: Option<u32>) -> Result<NativeSvd> {
    svd_inner(input(batch, rows, cols, data), rank).map(NativeSvd::from).map_err(to_napi)
}

/// Thin SVD (or truncated to `rank`) on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeSvd>")]
pub fn baseline_svd(batch: u32, rows: u32, cols: u32, data: &[f64], rank: Option<u32>) -> AsyncTask<EngineTask<SvdBatch, NativeSvd>> {
    let a = input(batch, rows, cols, data);
    AsyncTask::new(EngineTask::new(move || svd_inner(a, rank), NativeSvd::from))
}

fn qr_inner(a: Input) -> neumatc::Result<QrBatch> {
    baseline::qr(&batch_of(a)?)
}

/// Thin QR (`diag(R) ≥ 0`) of every matrix of the batch, on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_qr_sync(batch: u32, rows: u32, cols: u32, data: &[f64]) -> Result<NativeQr> {
    qr_inner(input(batch, rows, cols, data)).map(NativeQr::from).map_err(to_napi)
}

/// Thin QR on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeQr>")]
pub fn baseline_qr(batch: u32, rows: u32, cols: u32, data: &[f64]) -> AsyncTask<EngineTask<QrBatch, NativeQr>> {
    let a = input(batch, rows, cols, data);
    AsyncTask::new(EngineTask::new(move || qr_inner(a), NativeQr::from))
}

fn cholesky_inner(a: Input) -> neumatc::Result<MatrixBatch> {
    baseline::cholesky(&batch_of(a)?)
}

/// Cholesky factor `L` of every (symmetric positive definite) matrix of the batch, on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_cholesky_sync(batch: u32, rows: u32, cols: u32, data: &[f64]) -> Result<NativeMatrix> {
    cholesky_inner(input(batch, rows, cols, data)).map(NativeMatrix::from).map_err(to_napi)
}

/// Cholesky factor on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
pub fn baseline_cholesky(batch: u32, rows: u32, cols: u32, data: &[f64]) -> AsyncTask<EngineTask<MatrixBatch, NativeMatrix>> {
    let a = input(batch, rows, cols, data);
    AsyncTask::new(EngineTask::new(move || cholesky_inner(a), NativeMatrix::from))
}

fn eigh_inner(a: Input) -> neumatc::Result<EighBatch> {
    baseline::eigh(&batch_of(a)?)
}

/// Symmetric eigendecomposition of every matrix of the batch, on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_eigh_sync(batch: u32, rows: u32, cols: u32, data: &[f64]) -> Result<NativeEigh> {
    eigh_inner(input(batch, rows, cols, data)).map(NativeEigh::from).map_err(to_napi)
}

/// Symmetric eigendecomposition on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeEigh>")]
pub fn baseline_eigh(batch: u32, rows: u32, cols: u32, data: &[f64]) -> AsyncTask<EngineTask<EighBatch, NativeEigh>> {
    let a = input(batch, rows, cols, data);
    AsyncTask::new(EngineTask::new(move || eigh_inner(a), NativeEigh::from))
}

fn expm_inner(a: Input) -> neumatc::Result<MatrixBatch> {
    baseline::expm(&batch_of(a)?)
}

/// Matrix exponential of every matrix of the batch, on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_expm_sync(batch: u32, rows: u32, cols: u32, data: &[f64]) -> Result<NativeMatrix> {
    expm_inner(input(batch, rows, cols, data)).map(NativeMatrix::from).map_err(to_napi)
}

/// Matrix exponential on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
pub fn baseline_expm(batch: u32, rows: u32, cols: u32, data: &[f64]) -> AsyncTask<EngineTask<MatrixBatch, NativeMatrix>> {
    let a = input(batch, rows, cols, data);
    AsyncTask::new(EngineTask::new(move || expm_inner(a), NativeMatrix::from))
}

fn solve_inner(a: Input, b: Vec<f64>) -> neumatc::Result<MatrixBatch> {
    baseline::solve(&batch_of(a)?, &b)
}

/// Solves `A x = b` for every matrix of the batch (`b`: `n` values shared, or `batch * n`), on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_solve_sync(batch: u32, rows: u32, cols: u32, data: &[f64], b: &[f64]) -> Result<NativeMatrix> {
    solve_inner(input(batch, rows, cols, data), b.to_vec()).map(NativeMatrix::from).map_err(to_napi)
}

/// Solves `A x = b` on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
pub fn baseline_solve(batch: u32, rows: u32, cols: u32, data: &[f64], b: &[f64]) -> AsyncTask<EngineTask<MatrixBatch, NativeMatrix>> {
    let (a, b) = (input(batch, rows, cols, data), b.to_vec());
    AsyncTask::new(EngineTask::new(move || solve_inner(a, b), NativeMatrix::from))
}

// ---------------------------------------------------------------------------------------------------
// Randomized SVDs
// ---------------------------------------------------------------------------------------------------

fn rsvd_inner(a: Input, options_json: String, shared: bool) -> neumatc::Result<SvdBatch> {
    let cfg = RsvdConfig::from_json(&options_json)?;
    let a = batch_of(a)?;
    if shared { baseline::crsvd(&a, &cfg) } else { baseline::rsvd(&a, &cfg) }
}

/// Randomized truncated SVD (HMT), one test matrix per matrix; `optionsJson` is an `RsvdConfig`. On the JS thread.
#[napi(catch_unwind)]
pub fn baseline_rsvd_sync(batch: u32, rows: u32, cols: u32, data: &[f64], options_json: String) -> Result<NativeSvd> {
    rsvd_inner(input(batch, rows, cols, data), options_json, false).map(NativeSvd::from).map_err(to_napi)
}

/// Randomized truncated SVD on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeSvd>")]
pub fn baseline_rsvd(batch: u32, rows: u32, cols: u32, data: &[f64], options_json: String) -> AsyncTask<EngineTask<SvdBatch, NativeSvd>> {
    let a = input(batch, rows, cols, data);
    AsyncTask::new(EngineTask::new(move || rsvd_inner(a, options_json, false), NativeSvd::from))
}

/// Continuous randomized SVD: one test matrix shared by the batch; `optionsJson` is an `RsvdConfig`. On the JS thread.
#[napi(catch_unwind)]
pub fn baseline_crsvd_sync(batch: u32, rows: u32, cols: u32, data: &[f64], options_json: String) -> Result<NativeSvd> {
    rsvd_inner(input(batch, rows, cols, data), options_json, true).map(NativeSvd::from).map_err(to_napi)
}

/// Continuous randomized SVD on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeSvd>")]
pub fn baseline_crsvd(batch: u32, rows: u32, cols: u32, data: &[f64], options_json: String) -> AsyncTask<EngineTask<SvdBatch, NativeSvd>> {
    let a = input(batch, rows, cols, data);
    AsyncTask::new(EngineTask::new(move || rsvd_inner(a, options_json, true), NativeSvd::from))
}

// ---------------------------------------------------------------------------------------------------
// Parametric inversion baselines: NNI (Newton–Schulz), COI, ZNNI
// ---------------------------------------------------------------------------------------------------

/// The Newton–Schulz inverse of every matrix and the iterations each took.
#[napi(object, object_from_js = false)]
pub struct NativeNewtonSchulz {
    pub inverse: NativeMatrix,
    pub iterations: Vec<u32>,
}

type NewtonSchulzOutput = (MatrixBatch, Vec<usize>);

impl From<NewtonSchulzOutput> for NativeNewtonSchulz {
    fn from((x, iters): NewtonSchulzOutput) -> Self {
        NativeNewtonSchulz { inverse: x.into(), iterations: iters.into_iter().map(|k| k as u32).collect() }
    }
}

fn newton_schulz_inner(a: Input, options_json: String) -> neumatc::Result<NewtonSchulzOutput> {
    let cfg = NniConfig::from_json(&options_json)?;
    baseline::newton_schulz_inverse(&batch_of(a)?, &cfg)
}

/// Newton–Schulz inverse (the paper's NNI); `optionsJson` is an `NniConfig`. On the JS thread.
#[napi(catch_unwind)]
pub fn baseline_newton_schulz_sync(batch: u32, rows: u32, cols: u32, data: &[f64], options_json: String) -> Result<NativeNewtonSchulz> {
    newton_schulz_inner(input(batch, rows, cols, data), options_json).map(NativeNewtonSchulz::from).map_err(to_napi)
}

/// Newton–Schulz inverse on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeNewtonSchulz>")]
pub fn baseline_newton_schulz(
    batch: u32,
    rows: u32,
    cols: u32,
    data: &[f64],
    options_json: String,
) -> AsyncTask<EngineTask<NewtonSchulzOutput, NativeNewtonSchulz>> {
    let a = input(batch, rows, cols, data);
    AsyncTask::new(EngineTask::new(move || newton_schulz_inner(a, options_json), NativeNewtonSchulz::from))
}

/// The paper's COI baseline: exact inverses precomputed at a Chebyshev–Lobatto grid of the family's
/// domain, interpolated at new parameters.
#[napi]
pub struct NativeCoi {
    inner: Arc<Coi>,
}

impl From<Coi> for NativeCoi {
    fn from(coi: Coi) -> Self {
        NativeCoi { inner: Arc::new(coi) }
    }
}

fn coi_inner(family: &neumatc::Family, options_json: &str) -> neumatc::Result<Coi> {
    Coi::new(family, &CoiConfig::from_json(options_json)?)
}

/// Builds a COI baseline for `family` (`optionsJson` is a `CoiConfig`), on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_coi_sync(family: &NativeFamily, options_json: String) -> Result<NativeCoi> {
    coi_inner(&family.inner, &options_json).map(NativeCoi::from).map_err(to_napi)
}

/// Builds a COI baseline on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeCoi>")]
pub fn baseline_coi(family: &NativeFamily, options_json: String) -> AsyncTask<EngineTask<Coi, NativeCoi>> {
    let fam = family.inner.clone();
    AsyncTask::new(EngineTask::new(move || coi_inner(&fam, &options_json), NativeCoi::from))
}

#[napi]
impl NativeCoi {
    /// The interpolated inverses at a batch of parameters, on the JS thread.
    #[napi(catch_unwind)]
    pub fn inverse_sync(&self, params: &[f64]) -> Result<NativeMatrix> {
        self.inner.inverse(params).map(NativeMatrix::from).map_err(to_napi)
    }

    /// The interpolated inverses on the libuv pool; `params` is copied first.
    #[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
    pub fn inverse(&self, params: &[f64]) -> AsyncTask<EngineTask<MatrixBatch, NativeMatrix>> {
        let (coi, params) = (self.inner.clone(), params.to_vec());
        AsyncTask::new(EngineTask::new(move || coi.inverse(&params), NativeMatrix::from))
    }

    /// Matrix order `n`.
    #[napi(getter, catch_unwind)]
    pub fn n(&self) -> u32 {
        self.inner.n() as u32
    }

    /// The interpolation nodes, `nodes^k` parameter vectors (row-major, the last dimension fastest).
    #[napi(catch_unwind)]
    pub fn nodes(&self) -> Vec<f64> {
        self.inner.nodes().to_vec()
    }
}

fn znn_inner(family: &neumatc::Family, params: &[f64], options_json: &str) -> neumatc::Result<MatrixBatch> {
    baseline::znn_inverse(family, params, &ZnnConfig::from_json(options_json)?)
}

/// The paper's ZNNI baseline along an ascending grid of parameters (`optionsJson` is a `ZnnConfig`), on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_znn_sync(family: &NativeFamily, params: &[f64], options_json: String) -> Result<NativeMatrix> {
    znn_inner(&family.inner, params, &options_json).map(NativeMatrix::from).map_err(to_napi)
}

/// ZNNI on the libuv pool; `params` is copied first.
#[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
pub fn baseline_znn(family: &NativeFamily, params: &[f64], options_json: String) -> AsyncTask<EngineTask<MatrixBatch, NativeMatrix>> {
    let (fam, params) = (family.inner.clone(), params.to_vec());
    AsyncTask::new(EngineTask::new(move || znn_inner(&fam, &params, &options_json), NativeMatrix::from))
}

// ---------------------------------------------------------------------------------------------------
// Complex matrices: exact inverse and SVD in complex arithmetic
// ---------------------------------------------------------------------------------------------------

/// A complex input batch copied from JS: (batch, rows, cols, re, im).
type ComplexInput = (u32, u32, u32, Vec<f64>, Vec<f64>);

fn complex_input(batch: u32, rows: u32, cols: u32, re: &[f64], im: &[f64]) -> ComplexInput {
    (batch, rows, cols, re.to_vec(), im.to_vec())
}

fn complex_of((batch, rows, cols, re, im): ComplexInput) -> neumatc::Result<ComplexBatch> {
    complex_batch(batch, rows, cols, re, im)
}

fn complex_inverse_inner(a: ComplexInput) -> neumatc::Result<ComplexBatch> {
    complex::inverse(&complex_of(a)?)
}

/// Exact complex inverse (LU) of every matrix of the batch (`re`, `im` planes), on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_complex_inverse_sync(batch: u32, rows: u32, cols: u32, re: &[f64], im: &[f64]) -> Result<NativeComplexMatrix> {
    complex_inverse_inner(complex_input(batch, rows, cols, re, im)).map(NativeComplexMatrix::from).map_err(to_napi)
}

/// Exact complex inverse on the libuv pool; the planes are copied on the JS thread first.
#[napi(catch_unwind, ts_return_type = "Promise<NativeComplexMatrix>")]
pub fn baseline_complex_inverse(
    batch: u32,
    rows: u32,
    cols: u32,
    re: &[f64],
    im: &[f64],
) -> AsyncTask<EngineTask<ComplexBatch, NativeComplexMatrix>> {
    let a = complex_input(batch, rows, cols, re, im);
    AsyncTask::new(EngineTask::new(move || complex_inverse_inner(a), NativeComplexMatrix::from))
}

fn complex_svd_inner(a: ComplexInput, rank: Option<u32>) -> neumatc::Result<ComplexSvd> {
    complex::svd(&complex_of(a)?, rank.map(|r| r as usize))
}

/// Exact complex thin SVD (or truncated to `rank`) of every matrix of the batch, on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_complex_svd_sync(batch: u32, rows: u32, cols: u32, re: &[f64], im: &[f64], rank: Option<u32>) -> Result<NativeComplexSvd> {
    complex_svd_inner(complex_input(batch, rows, cols, re, im), rank).map(NativeComplexSvd::from).map_err(to_napi)
}

/// Exact complex SVD on the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<NativeComplexSvd>")]
pub fn baseline_complex_svd(
    batch: u32,
    rows: u32,
    cols: u32,
    re: &[f64],
    im: &[f64],
    rank: Option<u32>,
) -> AsyncTask<EngineTask<ComplexSvd, NativeComplexSvd>> {
    let a = complex_input(batch, rows, cols, re, im);
    AsyncTask::new(EngineTask::new(move || complex_svd_inner(a, rank), NativeComplexSvd::from))
}

// ---------------------------------------------------------------------------------------------------
// Sparse (ADR) families: exact sparse LU and GMRES + ILU(0)
// ---------------------------------------------------------------------------------------------------

fn sparse_solve_inner(family: &neumatc::Family, params: &[f64]) -> neumatc::Result<MatrixBatch> {
    let fam = sparse_of(family, "sparseSolve")?;
    let x = fam.solve_exact(params)?;
    Ok(MatrixBatch { batch: params.len(), rows: fam.n(), cols: 1, data: x })
}

/// Exact solutions `x(p) = A(p)⁻¹ b` of a sparse (ADR) family (sparse LU), (batch, n, 1), on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_sparse_solve_sync(family: &NativeFamily, params: &[f64]) -> Result<NativeMatrix> {
    sparse_solve_inner(&family.inner, params).map(NativeMatrix::from).map_err(to_napi)
}

/// `baselineSparseSolveSync` on the libuv pool; `params` is copied first.
#[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
pub fn baseline_sparse_solve(family: &NativeFamily, params: &[f64]) -> AsyncTask<EngineTask<MatrixBatch, NativeMatrix>> {
    let (fam, params) = (family.inner.clone(), params.to_vec());
    AsyncTask::new(EngineTask::new(move || sparse_solve_inner(&fam, &params), NativeMatrix::from))
}

/// What `baselineKrylov` returns: the solutions (batch, n, 1), GMRES iterations and final relative
/// residuals per system, and the wall time of the whole sequence.
#[napi(object, object_from_js = false)]
pub struct NativeKrylov {
    pub x: NativeMatrix,
    pub iterations: Vec<u32>,
    pub residuals: Float64Array,
    pub seconds: f64,
}

type KrylovOutput = (usize, KrylovSolve);

impl From<KrylovOutput> for NativeKrylov {
    fn from((n, k): KrylovOutput) -> Self {
        let batch = k.iterations.len();
        NativeKrylov {
            x: MatrixBatch { batch, rows: n, cols: 1, data: k.x }.into(),
            iterations: k.iterations.into_iter().map(|i| i as u32).collect(),
            residuals: Float64Array::new(k.residuals),
            seconds: k.seconds,
        }
    }
}

fn krylov_inner(family: &neumatc::Family, params: &[f64], options_json: &str) -> neumatc::Result<KrylovOutput> {
    let fam = sparse_of(family, "krylov")?;
    let cfg: KrylovConfig =
        serde_json::from_str(options_json).map_err(|e| neumatc::Error::InvalidOption { name: "krylov options", reason: e.to_string() })?;
    Ok((fam.n(), krylov_sequence(fam, params, &cfg)?))
}

/// GMRES + ILU(0) along the parameters, in the order given (`optionsJson` is a `KrylovConfig`), on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_krylov_sync(family: &NativeFamily, params: &[f64], options_json: String) -> Result<NativeKrylov> {
    krylov_inner(&family.inner, params, &options_json).map(NativeKrylov::from).map_err(to_napi)
}

/// `baselineKrylovSync` on the libuv pool; `params` is copied first.
#[napi(catch_unwind, ts_return_type = "Promise<NativeKrylov>")]
pub fn baseline_krylov(family: &NativeFamily, params: &[f64], options_json: String) -> AsyncTask<EngineTask<KrylovOutput, NativeKrylov>> {
    let (fam, params) = (family.inner.clone(), params.to_vec());
    AsyncTask::new(EngineTask::new(move || krylov_inner(&fam, &params, &options_json), NativeKrylov::from))
}
