//! Training: exact solves at the supervised samples, then the method's fit of `C` and `Φ`
//! (eq. 3 of the paper, Adam, failure-informed adaptive sampling), then a held-out check.

mod adam;
mod config;
mod exact;
mod gauss_newton;
mod plain;
mod pod;
mod progress;
mod quad;
mod run;
mod sparse;

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use rayon::prelude::*;

/// Re-exported from [`crate::model`], which owns the report (a model file carries it).
pub use crate::model::TrainReport;
pub use config::{Method, StructureLoss, TrainConfig};
pub use exact::align_samples;
pub use progress::{Phase, Progress};

use exact::{check_condition_estimates, check_conditioning, check_separation, exact_solutions};
use run::{Fit, Run};

use crate::device::DeviceSpec;
use crate::error::{Error, Result};
use crate::family::Family;
use crate::matrix::FloatVec;
use crate::metrics;
use crate::model::Dtype;
use crate::model::NeuMatC;
use crate::op::{OpSpec, Operation};
use crate::sampling::{self, SamplePlan};

/// Learns `p ↦ op(A(p))` for `family`, silently and to the end: [`train_with`] with no progress events
/// and no cancellation. Runs on the calling thread; seeded runs reproduce bit for bit on the CPU.
///
/// ```
/// use neumatc::{train, Family, Operation, SyntheticConfig, TrainConfig, train_with};
/// let fam = Family::synthetic(SyntheticConfig { n: 8, rank: 2, ..Default::default() }).unwrap();
/// let cfg = TrainConfig::from_json(r#"{"steps": 50, "sampling": {"supervised": 10, "collocation": 10, "candidates": 20}}"#).unwrap();
/// let model = train(&fam, Operation::Inverse, &cfg).unwrap();
/// let out = model.predict(&[0.3]).unwrap();
/// assert_eq!(out.components[0].data.len(), 64);
/// ```
pub fn train(family: &Family, op: Operation, cfg: &TrainConfig) -> Result<NeuMatC> {
    train_with(family, op, cfg, &mut |_| {}, &AtomicBool::new(false))
}

/// Learns `p ↦ op(A(p))` for `family`, reporting progress and stopping on request.
///
/// `on_progress` receives [`Progress`] events; setting `cancel` stops training at the next step with
/// [`Error::Cancelled`] (no thread keeps running, nothing is left half-built). Runs on the calling
/// thread; seeded runs reproduce bit for bit on the CPU.
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use neumatc::{train_with, Family, Operation, Phase, SyntheticConfig, TrainConfig};
/// let fam = Family::synthetic(SyntheticConfig { n: 8, rank: 2, ..Default::default() }).unwrap();
/// let cfg = TrainConfig::from_json(r#"{"steps": 50, "sampling": {"supervised": 10, "collocation": 10, "candidates": 20}}"#).unwrap();
/// let mut phases = Vec::new();
/// let model = train_with(&fam, Operation::Inverse, &cfg, &mut |p| phases.push(p.phase), &AtomicBool::new(false)).unwrap();
/// assert_eq!(phases.first(), Some(&Phase::Sampling));
/// assert_eq!(phases.last(), Some(&Phase::Done));
/// assert_eq!(model.latent_dim(), model.report().latent_dim);
/// ```
pub fn train_with(
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
    let device = cfg.device;
    // Opened once for the whole run: every CUDA device handle has its own stream, cuBLAS handle and
    // kernel cache, so each stage reopening it would pay that set-up again.
    let mut ctx = Run::new(cfg.steps, on_progress, cancel, device.device()?);
    ctx.report.device = device.name();
    ctx.report.dtype = cfg.dtype.name().into();
    ctx.report.operation = op.name().into();
    ctx.report.method = serde_json::to_value(cfg.method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();

    ctx.phase(Phase::Sampling)?;
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

    ctx.phase(Phase::Exact)?;
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

    ctx.phase(Phase::Validate)?;
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
    mut ctx: Run,
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
    ctx.phase(Phase::Exact)?;
    let t = Instant::now();
    let g_s = sparse::exact(sp, &plan.supervised, &rhs)?;
    ctx.report.exact_seconds = t.elapsed().as_secs_f64();
    let fit = pod::fit(family, &spec, &plan, &g_s, cfg, &mut ctx)?;
    let model = build_model(family, spec, fit, cfg, device, &mut ctx)?;
    ctx.phase(Phase::Validate)?;
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
fn build_model(family: &Family, spec: OpSpec, fit: Fit, cfg: &TrainConfig, device: DeviceSpec, ctx: &mut Run) -> Result<NeuMatC> {
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
            Dtype::F32 => FloatVec::F32(block.iter().map(|&v| v as f32).collect()),
            Dtype::F64 => FloatVec::F64(block),
        });
        off += c.len();
    }
    Ok(NeuMatC {
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
fn finish(mut model: NeuMatC, mut ctx: Run) -> Result<NeuMatC> {
    ctx.report.seconds = ctx.elapsed();
    ctx.progress.phase = Phase::Done;
    ctx.emit();
    model.report = ctx.report;
    Ok(model)
}

/// Held-out error (the operation's metric, [`OpSpec::rel_err`]) of the finished model on the plan's
/// validation points, and the largest orthogonality defect of its orthonormal factors there.
fn validate(family: &Family, spec: &OpSpec, model: &NeuMatC, plan: &SamplePlan, cfg: &TrainConfig, ctx: &mut Run) -> Result<()> {
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
