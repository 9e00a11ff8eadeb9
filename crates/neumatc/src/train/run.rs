//! The state of one training run: progress events, cancellation, the report under construction and the
//! device; and what a method's fit hands back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand::Rng;

use super::progress::{Phase, Progress};
use crate::error::{Error, Result};
use crate::model::{Mlp, TrainReport};
use crate::sampling::SamplingConfig;

/// What a method's fit hands back: `Φ` (f64, CPU, output normalisation folded in) and `C` (`d × rows·cols`).
pub(crate) struct Fit {
    pub mlp: Mlp,
    pub latent: Vec<f64>,
    pub latent_dim: usize,
}

/// Progress, cancellation and the report under construction.
pub(crate) struct Run<'a> {
    t0: Instant,
    last_emit: Instant,
    on_progress: &'a mut dyn FnMut(&Progress),
    cancel: &'a AtomicBool,
    pub progress: Progress,
    pub report: TrainReport,
    /// Where the optimisation and the batched structure terms run (`cfg.device`).
    pub device: candle_core::Device,
}

impl<'a> Run<'a> {
    pub(super) fn new(
        steps: usize,
        on_progress: &'a mut dyn FnMut(&Progress),
        cancel: &'a AtomicBool,
        device: candle_core::Device,
    ) -> Self {
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
    pub fn phase(&mut self, phase: Phase) -> Result<()> {
        self.check_cancel()?;
        self.progress.phase = phase;
        self.emit();
        Ok(())
    }

    /// Whether the next [`Run::tick`] will emit an event.
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

    /// Closes the optimisation: the failure probability `P̂_F` of the final model at the candidates
    /// (`scores`, Algorithm 1's test; none without candidates), the seconds since `started` and the steps.
    pub fn end_optimize(&mut self, scores: &[f64], sampling: &SamplingConfig, rng: &mut impl Rng, started: Instant, steps: usize) {
        if !scores.is_empty() {
            self.report.failure_prob = Some(crate::sampling::refine(scores, sampling, rng).failure_prob);
        }
        self.report.optimize_seconds = started.elapsed().as_secs_f64();
        self.report.steps = steps;
    }

    pub fn emit(&mut self) {
        self.progress.elapsed = self.elapsed();
        self.last_emit = Instant::now();
        (self.on_progress)(&self.progress);
    }
}
