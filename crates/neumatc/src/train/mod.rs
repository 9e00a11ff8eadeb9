//! Training: exact solves at the supervised samples, then the method's fit of `C` and `Φ`
//! (eq. 3 of the paper, Adam, failure-informed adaptive sampling), then a held-out check.

mod config;
mod plain;
mod pod;
mod report;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use faer::Par;
use rayon::prelude::*;

pub use config::{Method, StructureLoss, TrainConfig};
pub use report::{Progress, TrainReport};

use crate::baseline::inverse_matrix;
use crate::device::DeviceSpec;
use crate::family::Family;
use crate::model::{Latent, NeuMatC, SineMlp};
use crate::op::Operation;
use crate::sampling::{self, SamplePlan};
use crate::{Dtype, Error, MatrixBatch, Result, metrics};

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
    let shapes = op.component_shapes(family.rows(), family.cols())?;
    let device = DeviceSpec::parse(&cfg.device)?;
    device.device()?;
    let mut ctx = Ctx::new(cfg.steps, on_progress, cancel);
    ctx.report.device = device.name();
    ctx.report.dtype = cfg.dtype.name().into();
    ctx.report.method = serde_json::to_value(cfg.method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();

    ctx.phase("sampling")?;
    let plan = sampling::plan(family, &cfg.sampling, cfg.validation, cfg.seed)?;
    ctx.report.supervised = plan.supervised.len() / family.param_dim();

    ctx.phase("exact")?;
    let t = Instant::now();
    let a_s = family.at(&plan.supervised)?;
    let g_s = exact_inverses(&a_s, &plan.supervised, family.param_dim())?;
    check_conditioning(&a_s, &g_s, &plan.supervised, family.param_dim(), cfg, &mut ctx)?;
    ctx.report.exact_seconds = t.elapsed().as_secs_f64();
    check_candidate_conditioning(family, &plan.candidates, cfg, &mut ctx)?;

    let fit = match cfg.method {
        Method::Pod => pod::fit(family, &plan, &g_s, cfg, &mut ctx)?,
        Method::Plain => plain::fit(family, &plan, &g_s, cfg, &mut ctx)?,
    };
    ctx.report.latent_dim = fit.latent_dim;

    let mut model = NeuMatC {
        op,
        domain: family.domain().clone(),
        shapes,
        latent_dim: fit.latent_dim,
        mlp: fit.mlp.to(&candle_core::Device::Cpu, cfg.dtype.candle())?,
        latent: vec![match cfg.dtype {
            Dtype::F32 => Latent::F32(fit.latent.iter().map(|&v| v as f32).collect()),
            Dtype::F64 => Latent::F64(fit.latent),
        }],
        dtype: cfg.dtype,
        device,
        report: TrainReport::default(),
    };

    ctx.phase("validate")?;
    validate(family, &model, &plan, cfg, &mut ctx)?;
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
}

impl<'a> Ctx<'a> {
    fn new(steps: usize, on_progress: &'a mut dyn FnMut(&Progress), cancel: &'a AtomicBool) -> Self {
        let now = Instant::now();
        Self {
            t0: now,
            last_emit: now,
            on_progress,
            cancel,
            progress: Progress { steps, ..Default::default() },
            report: TrainReport::default(),
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

/// Exact inverses of the supervised matrices; a singular one is an error naming its parameter.
pub(crate) fn exact_inverses(a: &MatrixBatch, params: &[f64], k: usize) -> Result<Vec<f64>> {
    let n = a.rows;
    let mut g = vec![0.0; a.data.len()];
    g.par_chunks_mut(n * n).enumerate().try_for_each(|(i, out)| {
        inverse_matrix(a.matrix(i), n, out, Par::Seq).map_err(|_| Error::Singular { op: "inverse", p: params[i * k..(i + 1) * k].to_vec() })
    })?;
    Ok(g)
}

/// Condition numbers `‖A‖₂‖A⁻¹‖₂` of the supervised matrices: recorded, warned about, or refused.
pub(crate) fn check_conditioning(a: &MatrixBatch, g: &[f64], params: &[f64], k: usize, cfg: &TrainConfig, ctx: &mut Ctx) -> Result<()> {
    let n = a.rows;
    let conds: Vec<f64> = (0..a.batch)
        .into_par_iter()
        .map(|i| crate::baseline::spectral_norm(a.matrix(i), n) * crate::baseline::spectral_norm(&g[i * n * n..(i + 1) * n * n], n))
        .collect();
    let Some((imax, &cmax)) = conds.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else { return Ok(()) };
    let cmin = conds.iter().copied().fold(f64::INFINITY, f64::min);
    let first = ctx.report.condition_max == 0.0;
    ctx.report.condition_min = if first { cmin } else { ctx.report.condition_min.min(cmin) };
    ctx.report.condition_max = ctx.report.condition_max.max(cmax);
    let p = params[imax * k..(imax + 1) * k].to_vec();
    if cmax.is_nan() || cmax > cfg.max_condition {
        return Err(Error::IllConditioned { op: "inverse", p, cond: cmax });
    }
    if cmax > cfg.warn_condition {
        ctx.warn(format!(
            "A(p) is ill-conditioned at p = {p:?} (condition ≈ {cmax:.2e}); a learned inverse cannot be accurate near singular matrices, expect large errors there"
        ));
    }
    Ok(())
}

/// Condition estimates between the samples, at the candidates (a uniform cover of the domain): the
/// supervised samples alone can miss a near-singular stretch of the family. Recorded in
/// `conditionCandidatesMax`; warned about above `warnCondition` (never refused: only exact solves refuse).
fn check_candidate_conditioning(family: &Family, params: &[f64], cfg: &TrainConfig, ctx: &mut Ctx) -> Result<()> {
    let k = family.param_dim();
    let n = family.rows();
    let mut worst: Option<(f64, Vec<f64>)> = None;
    for chunk in params.chunks(64 * k) {
        ctx.check_cancel()?;
        let a = family.at(chunk)?;
        let conds: Vec<f64> = (0..a.batch).into_par_iter().map(|i| crate::baseline::condition_estimate(a.matrix(i), n)).collect();
        for (i, c) in conds.into_iter().enumerate() {
            if worst.as_ref().is_none_or(|(w, _)| c > *w) {
                worst = Some((c, chunk[i * k..(i + 1) * k].to_vec()));
            }
        }
    }
    if let Some((cmax, p)) = worst {
        ctx.report.condition_candidates_max = Some(cmax);
        if cmax > cfg.warn_condition {
            ctx.warn(format!(
                "A(p) is ill-conditioned between the samples, at p = {p:?} (condition ≈ {cmax:.2e}); \
                 a learned inverse cannot be accurate near singular matrices, expect large errors there"
            ));
        }
    }
    Ok(())
}

/// Held-out `RelErr` of the finished model on the plan's validation points.
fn validate(family: &Family, model: &NeuMatC, plan: &SamplePlan, cfg: &TrainConfig, ctx: &mut Ctx) -> Result<()> {
    let count = plan.validation.len() / family.param_dim();
    ctx.report.held_out_count = count;
    if count == 0 {
        return Ok(());
    }
    let a = family.at(&plan.validation)?;
    let pred = model.predict(&plan.validation)?;
    let errs = match &pred.components[0].data {
        crate::ComponentData::F32(g) => metrics::inverse_residuals(&a, g)?,
        crate::ComponentData::F64(g) => metrics::inverse_residuals(&a, g)?,
    };
    let mean = metrics::mean(&errs);
    ctx.report.held_out_rel_err = Some(mean);
    ctx.report.held_out_max = errs.iter().copied().reduce(f64::max);
    if mean.is_nan() || mean > 10.0 * cfg.accuracy {
        ctx.warn(format!(
            "held-out RelErr is {mean:.2e}, above the accuracy asked for ({:.0e}): do not trust this model at that level; \
             more supervised samples (sampling.supervised), more steps, or a better-conditioned family would help",
            cfg.accuracy
        ));
    }
    Ok(())
}
