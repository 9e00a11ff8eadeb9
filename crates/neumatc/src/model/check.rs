//! A-posteriori checks of a model's answers ([`NeuMatC::check`]) and iterative refinement of `A(p) x = b`
//! with the learned inverse as preconditioner ([`NeuMatC::refine`]).
//!
//! Both evaluate `A(p)` with the model's family (or one the caller passes), in f64, whatever the model's
//! dtype. Parameters are processed in chunks (one prediction GEMM per chunk, its size bounded by
//! `CHUNK_BYTES`) and, within a chunk, one parameter per rayon task with sequential kernels.

use faer::Accum;
use rayon::prelude::*;

use super::{ComponentData, NeuMatC, PredictOptions, Prediction};
use crate::error::{Error, Result};
use crate::family::Family;
use crate::linalg::{gemv, norm, residual, seeded_gaussian};
use crate::matrix::{FloatSlice, Recycler, check_finite};
use crate::op::measure::{SEED, Sketch, measure_names, measures};
use crate::op::{Operation, at_p};

/// Options of [`super::NeuMatC::check`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckOptions {
    /// `None` (default): exact residual norms (`O(n³)` per parameter, one GEMM). `Some(k)`: unbiased
    /// Gaussian-probe estimates with `k ≥ 1` probe columns (`O(k n²)` per parameter).
    pub probes: Option<usize>,
    /// Allow parameters outside the trained domain (default false: they are an `OUT_OF_DOMAIN` error).
    /// The family must still be able to evaluate `A(p)` there (pass one that can).
    pub extrapolate: bool,
}

impl CheckOptions {
    /// Range checks: `probes` must be at least 1 when given (`INVALID_OPTION`).
    pub fn validate(&self) -> Result<()> {
        if self.probes == Some(0) {
            return Err(Error::option("probes", "must be at least 1 (or absent for exact norms)"));
        }
        Ok(())
    }
}

/// Per-parameter residual measures of [`super::NeuMatC::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Number of parameters checked.
    pub batch: usize,
    /// Named measures, each with one value per parameter (see [`super::NeuMatC::check`] for the names).
    pub measures: Vec<(&'static str, Vec<f64>)>,
    /// Notes (extrapolated parameters, ...).
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// The values of the measure called `name` (one per parameter).
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.measures.iter().find(|(m, _)| *m == name).map(|(_, v)| v.as_slice())
    }
}

/// Options of [`super::NeuMatC::refine`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct RefineConfig {
    /// Target relative residual `‖b − A x‖₂ / ‖b‖₂`, finite and > 0. Default 1e-12. Values near or below
    /// the unit roundoff (1.1e-16) may be unreachable: the refinement then stagnates and the exact
    /// solver's answer (and its residual) is returned.
    pub tol: f64,
    /// Most refinement iterations before falling back to the exact solver, in `1..=10000`. Default 30.
    pub max_iter: usize,
    /// Allow parameters outside the trained domain.
    pub extrapolate: bool,
}

impl Default for RefineConfig {
    fn default() -> Self {
        Self { tol: 1e-12, max_iter: 30, extrapolate: false }
    }
}

impl RefineConfig {
    /// Range checks on every option (`INVALID_OPTION`).
    pub fn validate(&self) -> Result<()> {
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(Error::option("tol", format!("must be a finite number > 0, got {}", self.tol)));
        }
        if !(1..=MAX_ITER).contains(&self.max_iter) {
            return Err(Error::option("maxIter", format!("must be in 1..={MAX_ITER}, got {}", self.max_iter)));
        }
        Ok(())
    }
}

/// What [`super::NeuMatC::refine`] returns, per parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Refined {
    /// Number of parameters.
    pub batch: usize,
    /// Length `n` of each solution.
    pub n: usize,
    /// `batch × n` solutions (f64).
    pub x: Vec<f64>,
    /// Refinement iterations (corrections `x ← x + Ĝ r`) used per parameter, not counting the fallback.
    pub iterations: Vec<u32>,
    /// Final relative residual `‖b − A x‖₂ / ‖b‖₂` per parameter, recomputed for the returned `x`
    /// (0 where `b = 0`).
    pub residual: Vec<f64>,
    /// Whether the exact solver was used (the learned inverse was not a contraction there, or the
    /// tolerance was not reached within `max_iter`).
    pub fell_back: Vec<bool>,
    /// Notes (extrapolated parameters, ...).
    pub warnings: Vec<String>,
}

/// Largest accepted [`RefineConfig::max_iter`].
const MAX_ITER: usize = 10_000;

/// Bytes of predictions held at once by [`NeuMatC::check`] and [`NeuMatC::refine`]: the batch is cut into
/// chunks of at most this much, but never fewer than four parameters per rayon thread (at n = 256, f32:
/// 16 parameters). Measured at n = 256: chunks of 16 with recycled buffers form `Ĝ(p)` within 6 % of one
/// GEMM over a batch of 100.
const CHUNK_BYTES: usize = 4 << 20;

impl NeuMatC {
    /// A-posteriori residuals of the model's answers at `params` (`batch · param_dim` values), per
    /// parameter. `A(p)` comes from `family`, or the training family when `None` (an `INVALID_OPTION`
    /// error when the model does not carry it; `SHAPE_MISMATCH` / `INVALID_OPTION` when `family` does not
    /// match the model's shape or parameter dimension). Parameters outside the trained domain are an
    /// `OUT_OF_DOMAIN` error unless `opts.extrapolate` (then the report carries a warning).
    ///
    /// Every measure is relative and computed in f64 from the prediction widened to f64:
    ///
    /// | operation | measures |
    /// | --- | --- |
    /// | inverse | `residual` = `‖A Ĝ − I‖_F / √n` (the square root of the paper's `RelErr_inv`); `contraction` = an estimate of `‖I − A Ĝ‖₂` |
    /// | solve | `residual` = `‖A x̂ − b‖₂ / ‖b‖₂` |
    /// | svd | `residual` = `√(‖A V − U S‖²_F + ‖Aᵀ U − V S‖²_F) / ‖A‖_F` (0 for an exact truncated SVD); `reconstruction` = `‖U S Vᵀ − A‖_F / ‖A‖_F`; `orthogonality` |
    /// | qr | `residual` = `‖Q R − A‖_F / ‖A‖_F`; `orthogonality` |
    /// | cholesky | `residual` = `‖L Lᵀ − A‖_F / ‖A‖_F` |
    /// | eigh | `residual` = `‖A V − V diag(λ)‖_F / ‖A‖_F`; `orthogonality` |
    /// | expm | `residual` = `‖A E − E A‖_F / (‖A‖_F ‖E‖_F)` |
    ///
    /// `orthogonality` is the largest defect `‖XᵀX − I‖_F / √r` of the orthonormal factors
    /// ([`OpSpec::orthogonality_defect`]). `contraction` tells whether [`NeuMatC::refine`] converges at `p`
    /// (below 1: the residual shrinks by at least that factor per iteration); it is found by
    /// 20 power iterations on `(I − AĜ)ᵀ(I − AĜ)` from a seeded start, `O(n²)` each, and approaches the
    /// norm from below. The `expm` residual is a necessary condition only: `exp(A)` commutes with `A`, but
    /// so does every polynomial in `A` (no cheap exact identity characterises `exp(A)`; compare with
    /// [`crate::linalg::expm`] at a few parameters for the error itself).
    ///
    /// Cost per parameter (plus evaluating `A(p)` and one prediction): with `opts.probes = None`, exact
    /// Frobenius norms from GEMMs, `O(n³)` (one to three `n × n` products); with `Some(k)`, every norm of
    /// an `n × n` (or `n × r`) residual product `R` is estimated as `‖R Ω‖_F / √k` with a seeded Gaussian
    /// `Ω` (`k` columns; `‖R Ω‖²_F / k` is an unbiased estimate of `‖R‖²_F`), taking products right to
    /// left: `O(k n²)`. The `solve` residual and `contraction` are always `O(n²)` per vector.
    ///
    /// ```
    /// use std::sync::atomic::AtomicBool;
    /// use neumatc::{train, CheckOptions, Family, Operation, SyntheticConfig, TrainConfig};
    ///
    /// let fam = Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, ..Default::default() }).unwrap();
    /// let cfg = TrainConfig { steps: 200, ..Default::default() };
    /// let model = train(&fam, Operation::Inverse, &cfg).unwrap();
    /// let report = model.check(None, &[0.25, 0.5], &CheckOptions::default()).unwrap();
    /// assert!(report.get("residual").unwrap().iter().all(|&r| r < 1e-2));
    /// assert!(report.get("contraction").unwrap().iter().all(|&c| c < 1.0));
    /// ```
    pub fn check(&self, family: Option<&Family>, params: &[f64], opts: &CheckOptions) -> Result<CheckReport> {
        opts.validate()?;
        let fam = self.family_for(family, "check")?;
        let (batch, warning) = self.check_params(params, opts.extrapolate)?;
        let spec = &self.spec;
        let (m, n) = (spec.rows, spec.cols);
        let sketch = opts.probes.map(|k| Sketch::new(m.max(n), k));
        let start = seeded_gaussian(n, SEED ^ 1);
        let rows = self.for_each_param(fam, params, opts.extrapolate, |_, _, a, pred, j, scratch| {
            Ok(measures(spec, a, joint_at(pred, j, scratch), sketch.as_ref(), &start))
        })?;
        let measures = measure_names(spec.op).iter().enumerate().map(|(j, &name)| (name, rows.iter().map(|r| r[j]).collect())).collect();
        Ok(CheckReport { batch, measures, warnings: warning.into_iter().collect() })
    }

    /// Solves `A(p) x = b` to a relative residual `‖b − A x‖₂ / ‖b‖₂ ≤ cfg.tol` by iterative refinement
    /// with the learned inverse `Ĝ(p)` as preconditioner, falling back to the exact solver (LU with
    /// partial pivoting, [`crate::linalg::solve_matrix`]) where that does not work.
    ///
    /// `b` holds `n` values (one right-hand side for every parameter) or `batch · n` (one per parameter):
    /// anything else is `SHAPE_MISMATCH`, NaN/Inf `INVALID_INPUT`. `A(p)` comes from `family` as in
    /// [`NeuMatC::check`]; a singular `A(p)` reached by the fallback is `SINGULAR` naming `p`.
    ///
    /// For an `inverse` model, per parameter: `x₀ = Ĝ b`, then `r = b − A x` and `x ← x + Ĝ r` until
    /// the residual reaches `tol`. The residual contracts by `‖I − A Ĝ‖₂` per step (the `contraction`
    /// of [`NeuMatC::check`]). When it does not shrink (`Ĝ` is not a contraction there, or round-off is
    /// reached) or after `max_iter` steps, the exact solver's answer is returned and `fell_back` is set.
    /// `b = 0` gives `x = 0`. `A`, `x` and `r` are f64; `Ĝ r` is taken in the model's dtype (mixed-precision
    /// refinement: an f32 `Ĝ` adds its ~1e-7 relative rounding to the contraction factor, but the
    /// attainable residual is set by the f64 residual, as for an f64 `Ĝ`).
    ///
    /// A `solve` model knows only its own right-hand side: every (non-zero) `b` must equal it
    /// (`INVALID_OPTION` otherwise; use an `inverse` model to refine arbitrary `b`). Its `x̂(p)` is kept
    /// when its residual is at most `tol` and replaced by the exact solver's answer otherwise (0
    /// iterations either way). Other operations are `INVALID_OPTION`.
    ///
    /// Cost per parameter: `Ĝ(p)` formation `2 d n²` flops (one GEMM per chunk of parameters, into
    /// recycled buffers), `A(p)` from the family, then `4 n²` flops per iteration (two matrix–vector
    /// products, no `n × n` allocation); the fallback costs an LU, `≈ (2/3) n³`. Measured at n = 256
    /// (d = 23, f32, 2 threads, batch 100): 3.1 iterations on average to 1e-12, 0.11–0.13 ms per matrix
    /// against 0.25 ms for LU given `A(p)`, about 2× (`examples/refine_bench.rs`); forming `Ĝ(p)` is about
    /// half of it.
    ///
    /// ```
    /// use std::sync::atomic::AtomicBool;
    /// use neumatc::{train, Family, Operation, RefineConfig, SyntheticConfig, TrainConfig};
    ///
    /// let fam = Family::synthetic(SyntheticConfig { n: 12, rank: 3, seed: 2, ..Default::default() }).unwrap();
    /// let cfg = TrainConfig { steps: 200, ..Default::default() };
    /// let model = train(&fam, Operation::Inverse, &cfg).unwrap();
    /// let b = vec![1.0; 12];
    /// let out = model.refine(None, &[0.25, 0.5], &b, &RefineConfig::default()).unwrap();
    /// assert!(out.residual.iter().all(|&r| r <= 1e-12));
    /// ```
    pub fn refine(&self, family: Option<&Family>, params: &[f64], b: &[f64], cfg: &RefineConfig) -> Result<Refined> {
        if !matches!(self.spec.op, Operation::Inverse | Operation::Solve) {
            return Err(Error::option(
                "operation",
                format!("refine needs an inverse or solve model, this one learned `{}`", self.spec.op.name()),
            ));
        }
        if self.spec.complex {
            return Err(Error::option("refine", "is not available for complex models yet"));
        }
        cfg.validate()?;
        let fam = self.family_for(family, "refine")?;
        let (batch, warning) = self.check_params(params, cfg.extrapolate)?;
        let n = self.spec.rows;
        let shared = b.len() == n;
        if !shared && Some(b.len()) != batch.checked_mul(n) {
            return Err(Error::ShapeMismatch { op: "refine b", expected: vec![batch, n], got: vec![b.len()] });
        }
        check_finite("refine b", b)?;
        let b_at = |i: usize| if shared { b } else { &b[i * n..(i + 1) * n] };
        if let Some(rhs) = &self.spec.rhs
            && let Some(i) = (0..batch).find(|&i| b_at(i).iter().any(|&v| v != 0.0) && b_at(i) != rhs.as_slice())
        {
            return Err(Error::option(
                "b",
                format!(
                    "{}differs from the right-hand side this solve model was trained for: a solve model knows only its own \
                     right-hand side (use an inverse model to refine arbitrary b)",
                    if shared { String::new() } else { format!("the right-hand side of parameter {i} ") }
                ),
            ));
        }
        let solved = self.for_each_param(fam, params, cfg.extrapolate, |i, p, a, pred, j, scratch| {
            let mut x = vec![0.0; n];
            let mut r = vec![0.0; n];
            let bi = b_at(i);
            let bnorm = norm(bi);
            if bnorm == 0.0 {
                return Ok((x, 0, 0.0, false));
            }
            let (iterations, res) = match &pred.components[0].data {
                // Inverse: refine with Ĝ in the model's own dtype (an f32 Ĝ only slows the contraction by
                // its rounding, ~1e-7 relative; residuals and x stay f64).
                ComponentData::F32(g) if self.spec.op == Operation::Inverse => {
                    iterate(a, FloatSlice::F32(&g[j * n * n..(j + 1) * n * n]), n, bi, bnorm, cfg, &mut x, &mut r)
                }
                ComponentData::F64(g) if self.spec.op == Operation::Inverse => {
                    iterate(a, FloatSlice::F64(&g[j * n * n..(j + 1) * n * n]), n, bi, bnorm, cfg, &mut x, &mut r)
                }
                // Solve: the model's x̂(p), kept when it is good enough.
                _ => {
                    x.copy_from_slice(joint_at(pred, j, scratch));
                    (0, residual(a, n, bi, &x, &mut r) / bnorm)
                }
            };
            if res <= cfg.tol {
                return Ok((x, iterations, res, false));
            }
            let x = crate::linalg::solve_matrix(a, n, bi).map_err(|e| at_p(e, p))?;
            let res = residual(a, n, bi, &x, &mut r) / bnorm;
            Ok((x, iterations, res, true))
        })?;
        let mut out = Refined {
            batch,
            n,
            x: Vec::with_capacity(batch * n),
            iterations: Vec::with_capacity(batch),
            residual: Vec::with_capacity(batch),
            fell_back: Vec::with_capacity(batch),
            warnings: warning.into_iter().collect(),
        };
        for (x, it, res, fb) in solved {
            out.x.extend_from_slice(&x);
            out.iterations.push(it);
            out.residual.push(res);
            out.fell_back.push(fb);
        }
        Ok(out)
    }

    /// Runs `job(i, p, a, pred, j, scratch)` for every parameter `i` of `params` (already checked), with
    /// `p` its values, `a` the row-major `A(p)` from `fam`, and its prediction at index `j` of `pred`
    /// (`scratch` is a per-thread buffer for [`joint_at`]). Predictions are made chunk by chunk (see
    /// [`CHUNK_BYTES`]) into recycled buffers; within a chunk, one parameter per rayon task. Returns the
    /// results in parameter order.
    fn for_each_param<T: Send>(
        &self,
        fam: &Family,
        params: &[f64],
        extrapolate: bool,
        job: impl Fn(usize, &[f64], &[f64], &Prediction, usize, &mut Vec<f64>) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let k = self.param_dim();
        let batch = params.len() / k;
        let per_param = (self.spec.output_len() * self.dtype.bytes()).max(1);
        let chunk = (CHUNK_BYTES / per_param).max(4 * rayon::current_num_threads()).max(1);
        // The buffers of the previous chunk are handed out again for the next one (see `Recycler`).
        let buffers = Recycler::default();
        let mut out = Vec::with_capacity(batch);
        for (c, ps) in params.chunks(chunk * k).enumerate() {
            let pred = self.predict_opts(ps, PredictOptions { extrapolate, ..Default::default() }, &buffers)?;
            let part = (0..ps.len() / k)
                .into_par_iter()
                .map_init(Vec::new, |scratch, j| {
                    let p = &ps[j * k..(j + 1) * k];
                    let a = fam.at(p)?;
                    job(c * chunk + j, p, &a.data, &pred, j, scratch)
                })
                .collect::<Result<Vec<T>>>()?;
            out.extend(part);
            pred.recycle(&buffers);
        }
        Ok(out)
    }
}

/// The joint prediction of parameter `i` in f64: borrowed from an f64 single-component prediction,
/// otherwise widened into `scratch`.
fn joint_at<'a>(pred: &'a Prediction, i: usize, scratch: &'a mut Vec<f64>) -> &'a [f64] {
    if let [c] = pred.components.as_slice()
        && let ComponentData::F64(v) = &c.data
    {
        let m = c.rows * c.cols;
        return &v[i * m..(i + 1) * m];
    }
    scratch.clear();
    for c in &pred.components {
        let m = c.rows * c.cols;
        match &c.data {
            ComponentData::F32(v) => scratch.extend(v[i * m..(i + 1) * m].iter().map(|&x| f64::from(x))),
            ComponentData::F64(v) => scratch.extend_from_slice(&v[i * m..(i + 1) * m]),
        }
    }
    scratch
}

// ---------------------------------------------------------------------------------------------------
// Refinement
// ---------------------------------------------------------------------------------------------------

/// `x = Ĝ v` (`add` false) or `x += Ĝ v` (`add` true) for the learned inverse `g` (row-major `n × n`), in
/// its own precision: for f32, `v / ‖v‖` is rounded to f32 (no entry under- or overflows) and the product
/// scaled back in f64.
fn precondition(g: FloatSlice<'_>, n: usize, v: &[f64], x: &mut [f64], add: bool, buf: &mut (Vec<f32>, Vec<f32>)) {
    let accum = if add { Accum::Add } else { Accum::Replace };
    match g {
        FloatSlice::F64(g) => gemv(x, accum, g, n, n, false, v, 1.0),
        FloatSlice::F32(g) => {
            let s = norm(v);
            if s == 0.0 {
                if !add {
                    x.fill(0.0);
                }
                return;
            }
            let (v32, y32) = buf;
            v32.clear();
            v32.extend(v.iter().map(|&vi| (vi / s) as f32));
            y32.resize(n, 0.0);
            gemv(y32, Accum::Replace, g, n, n, false, v32, 1.0);
            if add {
                x.iter_mut().zip(y32.iter()).for_each(|(xi, &yi)| *xi += s * f64::from(yi));
            } else {
                x.iter_mut().zip(y32.iter()).for_each(|(xi, &yi)| *xi = s * f64::from(yi));
            }
        }
    }
}

/// Iterative refinement `x ← x + Ĝ (b − A x)` from `x₀ = Ĝ b` (row-major `n × n` `a`), in place in `x`,
/// with `r` as the residual buffer. Stops when the relative residual reaches `cfg.tol`, stops shrinking
/// (or is NaN), or after `cfg.max_iter` corrections. Returns the corrections taken and the relative
/// residual of the final `x`.
#[allow(clippy::too_many_arguments)]
fn iterate(a: &[f64], g: FloatSlice<'_>, n: usize, b: &[f64], bnorm: f64, cfg: &RefineConfig, x: &mut [f64], r: &mut [f64]) -> (u32, f64) {
    let mut buf = (Vec::with_capacity(n), Vec::with_capacity(n));
    precondition(g, n, b, x, false, &mut buf);
    let mut prev = f64::INFINITY;
    let mut iterations = 0u32;
    loop {
        let res = residual(a, n, b, x, r) / bnorm;
        // Stop when the residual did not shrink; NaN (a broken Ĝ) counts as not shrinking.
        let shrank = res < prev;
        if res <= cfg.tol || !shrank || iterations as usize >= cfg.max_iter {
            return (iterations, res);
        }
        precondition(g, n, r, x, true, &mut buf);
        prev = res;
        iterations += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_validated() {
        assert_eq!(CheckOptions { probes: Some(0), extrapolate: false }.validate().unwrap_err().code(), "INVALID_OPTION");
        for cfg in [
            RefineConfig { tol: 0.0, ..Default::default() },
            RefineConfig { tol: f64::NAN, ..Default::default() },
            RefineConfig { max_iter: 0, ..Default::default() },
            RefineConfig { max_iter: 10_001, ..Default::default() },
        ] {
            assert_eq!(cfg.validate().unwrap_err().code(), "INVALID_OPTION", "{cfg:?}");
        }
        RefineConfig { tol: 1e-300, ..Default::default() }.validate().unwrap();
    }
}
