//! Training: exact solves at the supervised samples, then the method's fit of `C` and `Φ`
//! (eq. 3 of the paper, Adam, failure-informed adaptive sampling), then a held-out check.

mod config;
mod general;
mod plain;
mod pod;
mod progress;
mod sparse;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;

/// Re-exported from [`crate::model`], which owns the report (a model file carries it).
pub use crate::model::TrainReport;
pub use config::{Method, StructureLoss, TrainConfig};
pub use progress::Progress;

use crate::device::DeviceSpec;
use crate::error::{Error, Result};
use crate::family::Family;
use crate::matrix::MatrixBatch;
use crate::metrics;
use crate::model::Dtype;
use crate::model::{Latent, NeuMatC, SineMlp};
use crate::op::{OpSpec, Operation};
use crate::sampling::{self, SamplePlan};

/// Learns `p ↦ op(A(p))` for `family`.
///
/// `on_progress` receives [`Progress`] events; setting `cancel` stops training at the next step with
/// [`Error::Cancelled`] (no thread keeps running, nothing is left half-built). Runs on the calling
/// thread; seeded runs reproduce bit for bit on the CPU.
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use neumatc::{train, Family, Operation, SyntheticConfig, TrainConfig};
/// let fam = Family::synthetic(SyntheticConfig { n: 8, rank: 2, ..Default::default() }).unwrap();
/// let cfg = TrainConfig::from_json(r#"{"steps": 50, "sampling": {"supervised": 10, "collocation": 10, "candidates": 20}}"#).unwrap();
/// let model = train(&fam, Operation::Inverse, &cfg, &mut |_| {}, &AtomicBool::new(false)).unwrap();
/// let out = model.predict(&[0.3]).unwrap();
/// assert_eq!(out.components[0].data.len(), 64);
/// ```
pub fn train(
    family: &Family,
    op: Operation,
    cfg: &TrainConfig,
    on_progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<NeuMatC> {
    cfg.validate()?;
    let spec = if let Some(sp) = family.sparse() {
        if op != Operation::Solve {
            return Err(Error::option("operation", format!("the sparse family `adr` trains `solve` (A(p)x = b), not `{}`", op.name())));
        }
        OpSpec::new(op, family.rows(), family.cols(), cfg.rank, Some(cfg.rhs.clone().unwrap_or_else(|| sp.rhs().to_vec())))?
    } else if family.is_complex() {
        if cfg.rhs.is_some() {
            return Err(Error::option("rhs", "complex families take inverse and svd, not `solve`"));
        }
        OpSpec::new_complex(op, family.rows(), family.cols(), cfg.rank)?
    } else {
        OpSpec::new(op, family.rows(), family.cols(), cfg.rank, cfg.rhs.clone())?
    };
    if cfg.method == Method::Plain && (op != Operation::Inverse || family.sparse().is_some()) {
        return Err(Error::option("method", format!("the plain method is implemented for `inverse` only, not `{}`; use `pod`", op.name())));
    }
    let device = DeviceSpec::parse(&cfg.device)?;
    // Opened once for the whole run: every CUDA device handle has its own stream, cuBLAS handle and
    // kernel cache, so each stage reopening it would pay that set-up again.
    let mut ctx = Ctx::new(cfg.steps, on_progress, cancel, device.device()?);
    ctx.report.device = device.name();
    ctx.report.dtype = cfg.dtype.name().into();
    ctx.report.operation = op.name().into();
    ctx.report.method = serde_json::to_value(cfg.method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();

    ctx.phase("sampling")?;
    let plan = sampling::plan(family, &cfg.sampling, cfg.validation, cfg.seed)?;
    ctx.report.supervised = plan.supervised.len() / family.param_dim();
    let k = family.param_dim();
    if let Some(sp) = family.sparse() {
        return train_sparse(family, sp, spec, plan, cfg, device, ctx);
    }
    // The supervised matrices and their exact results are held at once; refuse before allocating them.
    crate::matrix::check_alloc(
        "training (supervised A(p) and exact results)",
        ctx.report.supervised,
        family.rows() * family.cols() + spec.output_len(),
        8,
    )?;

    ctx.phase("exact")?;
    let t = Instant::now();
    let a_s = family.at(&plan.supervised)?;
    let mut g_s = exact_solutions(&spec, &a_s, &plan.supervised, k)?;
    if spec.needs_alignment() {
        check_separation(&spec, &g_s, &plan.supervised, k, &mut ctx);
        g_s = align_samples(&spec, &plan.supervised, g_s, family.domain());
    }
    // A complex inverse trains on the embedding E(G) (the POD inverse stage's real form) and is stored
    // compactly as its first block column afterwards (see `build_model`).
    if spec.complex && op == Operation::Inverse {
        let h = spec.cols / 2;
        g_s = g_s.chunks(2 * h * h).flat_map(|g| crate::matrix::complex::expand_stacked(g, h)).collect();
    }
    match op {
        Operation::Inverse => check_conditioning(&a_s, &g_s, &plan.supervised, k, cfg, &mut ctx)?,
        Operation::Solve => check_condition_estimates(family, &plan.supervised, cfg, &mut ctx, false)?,
        _ => {}
    }
    ctx.report.exact_seconds = t.elapsed().as_secs_f64();
    if matches!(op, Operation::Inverse | Operation::Solve) {
        check_condition_estimates(family, &plan.candidates, cfg, &mut ctx, true)?;
    }

    let fit = match cfg.method {
        Method::Pod => pod::fit(family, &spec, &plan, &g_s, cfg, &mut ctx)?,
        Method::Plain => plain::fit(family, &plan, &g_s, cfg, &mut ctx)?,
    };
    let model = build_model(family, spec, fit, cfg, device, &mut ctx)?;

    ctx.phase("validate")?;
    validate(family, model.spec(), &model, &plan, cfg, &mut ctx)?;
    finish(model, ctx)
}

/// `solve` on a sparse family: exact sparse solves, the POD fit with reduced structure terms, a
/// held-out residual check with sparse products. Nothing `n × n` is formed.
fn train_sparse(
    family: &Family,
    sp: &crate::sparse::AdrFamily,
    spec: OpSpec,
    plan: SamplePlan,
    cfg: &TrainConfig,
    device: DeviceSpec,
    mut ctx: Ctx,
) -> Result<NeuMatC> {
    let n = sp.n();
    let rhs = spec.rhs.clone().unwrap_or_default();
    // Supervised solutions plus, per basis function, C and its three products A_k Cᵀ.
    crate::matrix::check_alloc(
        "training (supervised solutions and basis products)",
        5 * (plan.supervised.len() + cfg.sampling.enrich),
        n,
        8,
    )?;
    ctx.phase("exact")?;
    let t = Instant::now();
    let g_s = sparse::exact(sp, &plan.supervised, &rhs)?;
    ctx.report.exact_seconds = t.elapsed().as_secs_f64();
    let fit = pod::fit(family, &spec, &plan, &g_s, cfg, &mut ctx)?;
    let model = build_model(family, spec, fit, cfg, device, &mut ctx)?;
    ctx.phase("validate")?;
    let count = plan.validation.len();
    ctx.report.held_out_count = count;
    if count > 0 {
        let x = model.predict(&plan.validation)?.components[0].data.to_f64();
        let errs: Vec<f64> =
            (0..count).into_par_iter().map(|i| sp.relative_residual_for(plan.validation[i], &x[i * n..(i + 1) * n], &rhs)).collect();
        let mean = metrics::mean(&errs);
        ctx.report.held_out_rel_err = Some(mean);
        ctx.report.held_out_max = errs.iter().copied().reduce(f64::max);
        if mean.is_nan() || mean * mean > 10.0 * cfg.accuracy {
            ctx.warn(format!(
                "held-out ‖Ax − b‖/‖b‖ is {mean:.2e}, above the accuracy asked for ({:.0e}, squared units): do not trust this model \
                 at that level; more supervised samples (sampling.supervised, sampling.enrich) or more steps would help",
                cfg.accuracy
            ));
        }
    }
    finish(model, ctx)
}

/// The model from a fit: one latent tensor per component, in the training dtype.
fn build_model(family: &Family, spec: OpSpec, fit: Fit, cfg: &TrainConfig, device: DeviceSpec, ctx: &mut Ctx) -> Result<NeuMatC> {
    ctx.report.latent_dim = fit.latent_dim;
    let op = spec.op;

    // One latent tensor per component: the columns of the joint C that belong to it.
    let comps = spec.components();
    let mut fit = fit;
    if spec.complex && op == Operation::Inverse {
        // From E(C_l) (2n × 2n) keep the first block column [Re C_l; Im C_l] (2n × n).
        let (rows, h) = (spec.rows, spec.cols / 2);
        fit.latent =
            fit.latent.chunks(rows * rows).flat_map(|row| row.chunks(rows).flat_map(|r| r[..h].to_vec()).collect::<Vec<_>>()).collect();
    }
    let m = spec.output_len();
    let mut latent = Vec::with_capacity(comps.len());
    let mut off = 0;
    for c in &comps {
        let block: Vec<f64> = fit.latent.chunks(m).flat_map(|row| row[off..off + c.len()].to_vec()).collect();
        latent.push(match cfg.dtype {
            Dtype::F32 => Latent::F32(block.iter().map(|&v| v as f32).collect()),
            Dtype::F64 => Latent::F64(block),
        });
        off += c.len();
    }
    Ok(NeuMatC {
        op,
        spec: spec.clone(),
        domain: family.domain().clone(),
        shapes: comps.iter().map(|c| (c.rows, c.cols)).collect(),
        latent_dim: fit.latent_dim,
        mlp: fit.mlp.to(&candle_core::Device::Cpu, cfg.dtype.candle())?,
        latent,
        dtype: cfg.dtype,
        device,
        report: TrainReport::default(),
        family: Some(family.clone()),
        family_info: family.describe(),
    })
}

/// Stamps the report and emits `done`.
fn finish(mut model: NeuMatC, mut ctx: Ctx) -> Result<NeuMatC> {
    ctx.report.seconds = ctx.elapsed();
    ctx.progress.phase = "done";
    ctx.emit();
    model.report = ctx.report;
    Ok(model)
}

/// What a method's fit hands back: `Φ` (f64, CPU, output normalisation folded in) and `C` (`d × rows·cols`).
pub(crate) struct Fit {
    pub mlp: SineMlp,
    pub latent: Vec<f64>,
    pub latent_dim: usize,
}

/// Progress, cancellation and the report under construction.
pub(crate) struct Ctx<'a> {
    t0: Instant,
    last_emit: Instant,
    on_progress: &'a mut dyn FnMut(&Progress),
    cancel: &'a AtomicBool,
    pub progress: Progress,
    pub report: TrainReport,
    /// Where the optimisation and the batched structure terms run (`cfg.device`).
    pub device: candle_core::Device,
}

impl<'a> Ctx<'a> {
    fn new(steps: usize, on_progress: &'a mut dyn FnMut(&Progress), cancel: &'a AtomicBool, device: candle_core::Device) -> Self {
        let now = Instant::now();
        Self {
            t0: now,
            last_emit: now,
            on_progress,
            cancel,
            progress: Progress { steps, ..Default::default() },
            report: TrainReport::default(),
            device,
        }
    }

    pub fn elapsed(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    /// Fails with [`Error::Cancelled`] once the caller asked to stop.
    pub fn check_cancel(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) { Err(Error::Cancelled) } else { Ok(()) }
    }

    /// Starts a phase: always emits.
    pub fn phase(&mut self, phase: &'static str) -> Result<()> {
        self.check_cancel()?;
        self.progress.phase = phase;
        self.emit();
        Ok(())
    }

    /// Whether the next [`Ctx::tick`] will emit an event.
    pub fn due(&self) -> bool {
        self.last_emit.elapsed().as_millis() >= 100
    }

    /// Emits at most every 100 ms; checks cancellation every call.
    pub fn tick(&mut self) -> Result<()> {
        self.check_cancel()?;
        if self.last_emit.elapsed().as_millis() >= 100 {
            self.emit();
        }
        Ok(())
    }

    pub fn warn(&mut self, message: String) {
        self.progress.message = Some(message.clone());
        self.emit();
        self.progress.message = None;
        self.report.warnings.push(message);
    }

    pub fn emit(&mut self) {
        self.progress.elapsed = self.elapsed();
        self.last_emit = Instant::now();
        (self.on_progress)(&self.progress);
    }
}

/// Exact joint results (components concatenated) of a batch of matrices, in parallel; a failing matrix
/// (singular, not SPD, ...) is an error naming its parameter.
pub(crate) fn exact_solutions(spec: &OpSpec, a: &MatrixBatch, params: &[f64], k: usize) -> Result<Vec<f64>> {
    let parts: Vec<Vec<f64>> =
        (0..a.batch).into_par_iter().map(|i| spec.exact(a.matrix(i), &params[i * k..(i + 1) * k])).collect::<Result<_>>()?;
    Ok(parts.concat())
}

/// Warns when singular values (svd) or eigenvalues (eigh) at a sample are (nearly) repeated: their vectors
/// are then not unique, not continuous in `p`, and cannot be learned — the thin SVD of the default
/// synthetic family, whose `εI` leaves a cluster of equal singular values, is the common case; a
/// truncated SVD (`rank`) of the separated leading values is.
fn check_separation(spec: &OpSpec, g: &[f64], params: &[f64], k: usize, ctx: &mut Ctx) {
    let m = spec.output_len();
    let (off, len) = match spec.op {
        Operation::Svd => (spec.rows * spec.rank, spec.rank),
        Operation::Eigh => (0, spec.rows),
        _ => return,
    };
    let mut worst: Option<(f64, usize)> = None;
    for (j, joint) in g.chunks(m).enumerate() {
        let v = &joint[off..off + len];
        let top = v.iter().fold(0.0f64, |a, &x| a.max(x.abs())).max(f64::MIN_POSITIVE);
        let gap = v.windows(2).map(|w| (w[0] - w[1]).abs() / top).fold(f64::INFINITY, f64::min);
        if worst.is_none_or(|(w, _)| gap < w) {
            worst = Some((gap, j));
        }
    }
    if let Some((gap, j)) = worst
        && gap < 1e-6
    {
        let what = if spec.op == Operation::Svd { "singular values" } else { "eigenvalues" };
        ctx.warn(format!(
            "{what} of A(p) are (nearly) repeated at p = {:?} (relative gap {gap:.1e}): their vectors are not unique nor \
             continuous in p there and cannot be learned{}",
            &params[j * k..(j + 1) * k],
            if spec.op == Operation::Svd { "; a truncated SVD (`rank`) of the separated leading singular values can" } else { "" }
        ));
    }
}

/// Aligns exact results along `p` (signs and order of singular/eigen vectors): samples are visited in
/// the order of a nearest-neighbour spanning tree of their (normalised) parameters, each aligned to its
/// nearest already-aligned neighbour. In 1-D this is the sweep along sorted `p`.
pub fn align_samples(spec: &OpSpec, params: &[f64], mut g: Vec<f64>, domain: &crate::domain::Domain) -> Vec<f64> {
    let k = domain.dim();
    let m = spec.output_len();
    let x = domain.normalize(params);
    let count = x.len() / k;
    if count < 2 {
        return g;
    }
    let dist = |i: usize, j: usize| (0..k).map(|t| (x[i * k + t] - x[j * k + t]).powi(2)).sum::<f64>();
    // Start at the smallest parameter (lexicographic), grow Prim's tree.
    let start = (0..count)
        .min_by(|&i, &j| x[i * k..(i + 1) * k].partial_cmp(&x[j * k..(j + 1) * k]).unwrap_or(std::cmp::Ordering::Equal))
        .unwrap_or(0);
    let mut done = vec![false; count];
    let mut best: Vec<(f64, usize)> = (0..count).map(|j| (dist(start, j), start)).collect();
    done[start] = true;
    for _ in 1..count {
        let Some(next) = (0..count).filter(|&j| !done[j]).min_by(|&a, &b| best[a].0.total_cmp(&best[b].0)) else { break };
        let parent = best[next].1;
        let (lo, hi) = g.split_at_mut(next.max(parent) * m);
        if next > parent {
            spec.align(&lo[parent * m..(parent + 1) * m], &mut hi[..m]);
        } else {
            let reference = hi[..m].to_vec();
            spec.align(&reference, &mut lo[next * m..(next + 1) * m]);
        }
        done[next] = true;
        for j in 0..count {
            if !done[j] && dist(next, j) < best[j].0 {
                best[j] = (dist(next, j), next);
            }
        }
    }
    g
}

/// Aligns new exact results `g_new` (at `added`) to their nearest existing samples.
pub(crate) fn align_to(
    spec: &OpSpec,
    params: &[f64],
    g: &[f64],
    added: &[f64],
    mut g_new: Vec<f64>,
    domain: &crate::domain::Domain,
) -> Vec<f64> {
    if !spec.needs_alignment() || params.is_empty() {
        return g_new;
    }
    let k = domain.dim();
    let m = spec.output_len();
    for (i, j) in general::nearest(&domain.normalize(added), &domain.normalize(params), k).into_iter().enumerate() {
        spec.align(&g[j * m..(j + 1) * m], &mut g_new[i * m..(i + 1) * m]);
    }
    g_new
}

/// Condition numbers `‖A‖₂‖A⁻¹‖₂` of the supervised matrices: recorded, warned about, or refused.
pub(crate) fn check_conditioning(a: &MatrixBatch, g: &[f64], params: &[f64], k: usize, cfg: &TrainConfig, ctx: &mut Ctx) -> Result<()> {
    let n = a.rows;
    let conds: Vec<f64> = (0..a.batch)
        .into_par_iter()
        .map(|i| crate::linalg::spectral_norm(a.matrix(i), n) * crate::linalg::spectral_norm(&g[i * n * n..(i + 1) * n * n], n))
        .collect();
    let Some((imax, &cmax)) = conds.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else { return Ok(()) };
    let cmin = conds.iter().copied().fold(f64::INFINITY, f64::min);
    let first = ctx.report.condition_max == 0.0;
    ctx.report.condition_min = if first { cmin } else { ctx.report.condition_min.min(cmin) };
    ctx.report.condition_max = ctx.report.condition_max.max(cmax);
    let p = params[imax * k..(imax + 1) * k].to_vec();
    refuse_condition("inverse", &p, cmax, n, cfg)?;
    if cmax > cfg.warn_condition {
        ctx.warn(format!(
            "A(p) is ill-conditioned at p = {p:?} (condition ≈ {cmax:.2e}); a learned inverse cannot be accurate near singular matrices, expect large errors there"
        ));
    }
    Ok(())
}

/// Refuses a sample whose condition number `cond` shows `A(p)` singular to working precision
/// (`cond ≥ 1/(n·ε)`, or not finite: `SINGULAR`) or above `maxCondition` (`ILL_CONDITIONED`), naming `p`.
fn refuse_condition(op: &'static str, p: &[f64], cond: f64, n: usize, cfg: &TrainConfig) -> Result<()> {
    if !cond.is_finite() || cond >= 1.0 / (n as f64 * f64::EPSILON) {
        return Err(Error::Singular { op, p: p.to_vec() });
    }
    if cond > cfg.max_condition {
        return Err(Error::IllConditioned { op, p: p.to_vec(), cond });
    }
    Ok(())
}

/// Condition estimates of `A(p)` at `params` (LU-based). At the candidates (a uniform cover of the
/// domain, `between = true`) they catch a near-singular stretch the samples miss: recorded in
/// `conditionCandidatesMax` and warned about above `warnCondition`, never refused. At the samples
/// (`between = false`, for `solve`, whose exact solves do not form the inverse) they are recorded in
/// `conditionMin/Max` and refused above `maxCondition`.
fn check_condition_estimates(family: &Family, params: &[f64], cfg: &TrainConfig, ctx: &mut Ctx, between: bool) -> Result<()> {
    let k = family.param_dim();
    let n = family.rows();
    let mut worst: Option<(f64, Vec<f64>)> = None;
    let mut best = f64::INFINITY;
    for chunk in params.chunks(64 * k) {
        ctx.check_cancel()?;
        let a = family.at(chunk)?;
        let conds: Vec<f64> = (0..a.batch).into_par_iter().map(|i| crate::linalg::condition_estimate(a.matrix(i), n)).collect();
        for (i, c) in conds.into_iter().enumerate() {
            best = best.min(c);
            if worst.as_ref().is_none_or(|(w, _)| c > *w || c.is_nan()) {
                worst = Some((c, chunk[i * k..(i + 1) * k].to_vec()));
            }
        }
    }
    let Some((cmax, p)) = worst else { return Ok(()) };
    let place = if between { "between the samples, at" } else { "at" };
    if between {
        ctx.report.condition_candidates_max = Some(cmax);
    } else {
        ctx.report.condition_min = best;
        ctx.report.condition_max = cmax;
        refuse_condition("solve", &p, cmax, n, cfg)?;
    }
    if cmax > cfg.warn_condition {
        ctx.warn(format!(
            "A(p) is ill-conditioned {place} p = {p:?} (condition ≈ {cmax:.2e}); \
             a learned inverse cannot be accurate near singular matrices, expect large errors there"
        ));
    }
    Ok(())
}

/// Held-out error (the operation's metric, [`OpSpec::rel_err`]) of the finished model on the plan's
/// validation points, and the largest orthogonality defect of its orthonormal factors there.
fn validate(family: &Family, spec: &OpSpec, model: &NeuMatC, plan: &SamplePlan, cfg: &TrainConfig, ctx: &mut Ctx) -> Result<()> {
    let k = family.param_dim();
    let count = plan.validation.len() / k;
    ctx.report.held_out_count = count;
    if count == 0 {
        return Ok(());
    }
    let a = family.at(&plan.validation)?;
    let pred = model.predict(&plan.validation)?;
    let joint = pred.joint_f64();
    let m = spec.output_len();
    let exact = if spec.op == Operation::Expm { Some(exact_solutions(spec, &a, &plan.validation, k)?) } else { None };
    let errs: Vec<f64> = (0..count)
        .into_par_iter()
        .map(|i| spec.rel_err(a.matrix(i), &joint[i * m..(i + 1) * m], exact.as_ref().map(|e| &e[i * m..(i + 1) * m])))
        .collect::<Result<_>>()?;
    ctx.report.held_out_orthogonality = (0..count).filter_map(|i| spec.orthogonality_defect(&joint[i * m..(i + 1) * m])).reduce(f64::max);
    let mean = metrics::mean(&errs);
    ctx.report.held_out_rel_err = Some(mean);
    ctx.report.held_out_max = errs.iter().copied().reduce(f64::max);
    // `solve`'s metric is a norm ratio, the others are squared: compare like with like.
    let squared = if spec.op == Operation::Solve { mean * mean } else { mean };
    if squared.is_nan() || squared > 10.0 * cfg.accuracy {
        ctx.warn(format!(
            "held-out RelErr is {mean:.2e}, above the accuracy asked for ({:.0e}): do not trust this model at that level; \
             more supervised samples (sampling.supervised), more steps, or a better-conditioned family would help",
            cfg.accuracy
        ));
    }
    Ok(())
}
