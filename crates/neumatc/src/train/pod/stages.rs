//! The basis stages: per kind of operation, the POD basis, its refinement with exact solves, and the
//! structure terms at the collocation points.

use crate::train::progress::Phase;
use std::time::Instant;

use crate::error::Result;
use crate::family::Family;
use crate::op::{OpSpec, Operation};
use crate::sampling::SamplePlan;
use crate::train::config::{StructureLoss, TrainConfig};
use crate::train::gauss_newton::GaussNewtonTerms;
use crate::train::quad::FactoredForm;
use crate::train::run::Run;

use super::basis::{Basis, pod_basis};

/// The structure terms of the run: the inverse's exact (sketched) quadratic forms, or the Gauss–Newton forms
/// of any other operation.
pub(super) enum Terms {
    Inverse {
        basis: Basis,
        form: StructureLoss,
        cand_quads: Vec<FactoredForm>,
    },
    /// Gauss–Newton forms, started at the nearest supervised sample's coefficients (normalised
    /// supervised parameters, their coefficients `ns × d`): the model's own prediction is a worse start
    /// early in training, and LM from it can land on another branch (flipped signs) of the decomposition.
    GaussNewton {
        terms: GaussNewtonTerms,
        anchors: Vec<f64>,
        coef: Vec<f64>,
    },
    /// `solve` on a sparse affine family: reduced least-squares forms from precomputed cross products.
    Sparse {
        basis: crate::train::sparse::SparseBasis,
        d: usize,
        cand_quads: Vec<FactoredForm>,
    },
}

impl Terms {
    /// Failure scores `‖R(q)‖²` (relative-error units) of the current model at the candidates.
    pub(super) fn scores(&self, family: &Family, cand_params: &[f64], coefs: &[Vec<f64>]) -> Result<Vec<f64>> {
        match self {
            Terms::Inverse { basis, cand_quads, .. } => Ok(cand_quads.iter().zip(coefs).map(|(q, c)| q.eval(c) / basis.n as f64).collect()),
            Terms::GaussNewton { terms, .. } => terms.scores(family, cand_params, coefs),
            // Squared relative residuals `‖Ax − b‖²/‖b‖²`, the units of the general solve's scores.
            Terms::Sparse { cand_quads, .. } => Ok(cand_quads.iter().zip(coefs).map(|(q, c)| q.eval(c)).collect()),
        }
    }

    /// Structure terms at new collocation points.
    pub(super) fn quads(&self, family: &Family, params: &[f64]) -> Result<Vec<FactoredForm>> {
        match self {
            Terms::Inverse { basis, form, .. } => basis.quads(family, params, *form),
            Terms::GaussNewton { terms, anchors, coef } => {
                let d = terms.d;
                let k = family.param_dim();
                let starts: Vec<Vec<f64>> = crate::sampling::nearest(&family.domain().normalize(params), anchors, k)
                    .into_iter()
                    .map(|j| coef[j * d..(j + 1) * d].to_vec())
                    .collect();
                terms.quads(family, params, &starts, d)
            }
            Terms::Sparse { basis, d, .. } => Ok(basis.quads(params, *d)),
        }
    }

    /// Drops the candidates that became collocation points.
    pub(super) fn retain_candidates(&mut self, keep: &[bool]) {
        if let Terms::Inverse { cand_quads, .. } | Terms::Sparse { cand_quads, .. } = self {
            let mut it = keep.iter();
            cand_quads.retain(|_| *it.next().expect("same length"));
        }
    }

    pub(super) fn into_latent(self) -> Vec<f64> {
        match self {
            Terms::Inverse { basis, .. } => basis.latent,
            Terms::GaussNewton { terms, .. } => terms.latent,
            Terms::Sparse { basis, .. } => basis.latent,
        }
    }
}

/// What the basis stage hands to the optimiser.
pub(super) struct Stage {
    pub(super) terms: Terms,
    pub(super) d: usize,
    /// Supervised parameters (after basis refinement) and their coefficients (`ns × d`).
    pub(super) supervised: Vec<f64>,
    pub(super) coef: Vec<f64>,
    /// Structure terms at the initial collocation points.
    pub(super) quads: Vec<FactoredForm>,
    pub(super) cand_params: Vec<f64>,
}

/// Records the snapshot singular values and warns, before the optimiser runs, when their decay says the
/// accuracy asked for needs a latent dimension near the number of samples: the family then has little
/// low-rank structure along `p` over this domain, and no basis built from these samples can be accurate
/// away from them. The tail energy `Σ_{i≥d} σᵢ² / Σ σᵢ²` of the first `d` modes stands for the relative
/// error of the best `d`-mode fit.
pub(super) fn check_decay(sig: &[f64], ns: usize, cfg: &TrainConfig, ctx: &mut Run) {
    let top = sig.first().copied().unwrap_or(0.0);
    if top <= 0.0 {
        return;
    }
    ctx.report.snapshot_decay = sig.iter().map(|s| s / top).collect();
    let total: f64 = sig.iter().map(|s| s * s).sum();
    let tail = |d: usize| sig[d.min(sig.len())..].iter().map(|s| s * s).sum::<f64>() / total;
    let rank = sig.len();
    // The last mode always closes the span of the samples: look for d below it.
    let need = (1..rank).find(|&d| tail(d) <= cfg.accuracy);
    if ns < 8 || need.is_some_and(|d| d * 5 < rank * 4) {
        return;
    }
    let at = |f: f64| {
        let i = ((rank as f64 * f) as usize).clamp(1, rank) - 1;
        format!("σ{}/σ1 = {:.1e}", i + 1, sig[i] / top)
    };
    let need = need.map_or(format!("more than {} (all but the last)", rank - 1), |d| d.to_string());
    ctx.warn(format!(
        "the {ns} supervised solutions have little low-rank structure along p: reaching the accuracy asked ({:.0e}) needs a latent \
         dimension of {need} of {ns} samples (decay {}, {}, {}; tail energy after {} modes {:.1e}). Expect a poor model away from the \
         samples: use more supervised samples, a smaller domain (e.g. a narrower band), or a looser accuracy",
        cfg.accuracy,
        at(0.25),
        at(0.5),
        at(1.0),
        rank / 2,
        tail(rank / 2)
    ));
}

/// Picks the smallest `d ≤ d_max` whose mean floor is at most `target` (floors fall as `d` grows, the
/// bases being nested), by bisection; `d_max` when none is.
pub(super) fn smallest_d(d_max: usize, target: f64, mut floor_of: impl FnMut(usize) -> Result<f64>) -> Result<usize> {
    if floor_of(d_max)? > target {
        return Ok(d_max);
    }
    let (mut lo, mut hi) = (1, d_max);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if floor_of(mid)? <= target { hi = mid } else { lo = mid + 1 }
    }
    Ok(lo)
}

/// Tail energy `Σ_{i≥d} σᵢ² / Σ σᵢ²` of the snapshot singular values beyond the first `d`: the relative
/// error of the best `d`-mode fit of the snapshots.
fn tail_energy(sig: &[f64], d: usize) -> f64 {
    sig[d..].iter().map(|v| v * v).sum::<f64>() / sig.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE)
}

/// The latent dimension a stage keeps: every one of the `d_max` modes when `latentDim` fixed the basis or
/// there is no collocation point to measure, else the smallest whose mean floor there is a tenth of the
/// accuracy asked.
fn choose_d(cfg: &TrainConfig, d_max: usize, measurable: bool, floor_of: impl FnMut(usize) -> Result<f64>) -> Result<usize> {
    if cfg.latent_dim.is_some() || !measurable {
        return Ok(d_max);
    }
    smallest_d(d_max, 0.1 * cfg.accuracy, floor_of)
}

/// Records the kept basis' tail energy and floor in the report, and returns the supervised coefficients of
/// its `d` modes (`ns × d_max` → `ns × d`).
fn keep_modes(ctx: &mut Run, sig: &[f64], coef: &[f64], ns: usize, d_max: usize, d: usize, floor: Option<f64>) -> Vec<f64> {
    ctx.report.basis_tail = tail_energy(sig, d);
    ctx.report.basis_floor = floor;
    (0..ns).flat_map(|j| coef[j * d_max..j * d_max + d].to_vec()).collect()
}

/// The inverse: POD basis of the supervised inverses, exact (sketched) quadratic forms.
pub(super) fn inverse_stage(family: &Family, plan: &SamplePlan, g_s: &[f64], cfg: &TrainConfig, ctx: &mut Run) -> Result<Stage> {
    let (n, k) = (family.rows(), family.param_dim());
    let m = n * n;
    let spec = OpSpec::new(Operation::Inverse, n, n, None, None)?;
    let mut supervised = plan.supervised.clone();
    let mut g_s = g_s.to_vec();
    let collocation = &plan.collocation;
    let mut cand_params = plan.candidates.clone();
    let mut exact_budget = if cfg.latent_dim.is_some() { 0 } else { cfg.sampling.enrich };

    // Basis refinement: while even the whole POD basis cannot reach the accuracy at the candidates
    // (its sketched floor there: the best any G in its span does), solve exactly at the worst of them
    // and rebuild the basis.
    let (mut basis, grams, coef, d_max, sig, ns) = loop {
        let ns = supervised.len() / k;
        ctx.phase(Phase::Basis)?;
        let (latent, coef, d_max, sig) = pod_basis(&g_s, m, ns, cfg)?;
        ctx.phase(Phase::Collocation)?;
        let basis = Basis::new(latent, n, d_max, cfg.probes, cfg.seed, ctx.device.clone());
        let grams = basis.grams(family, collocation, cfg.structure_loss)?;
        ctx.check_cancel()?;
        if exact_budget == 0 || cand_params.len() / k <= 1 {
            break (basis, grams, coef, d_max, sig, ns);
        }
        let floors: Vec<f64> =
            basis.grams(family, &cand_params, StructureLoss::Sketch)?.iter().map(|g| g.solve(d_max).floor / n as f64).collect();
        match enrich(family, &spec, &floors, &mut cand_params, &mut exact_budget, cfg, ctx)? {
            Some((added, g_new)) => {
                supervised.extend_from_slice(&added);
                g_s.extend_from_slice(&g_new);
            }
            None => break (basis, grams, coef, d_max, sig, ns),
        }
    };
    check_decay(&sig, ns, cfg, ctx);
    let t = Instant::now();
    // The floors of the collocation forms say how well each leading sub-basis can satisfy A·G = I away
    // from the samples: the automatic d is the smallest one whose floor is a tenth of the accuracy asked.
    let floor_of = |d: usize| Ok(grams.iter().map(|g| g.solve(d).floor).sum::<f64>() / grams.len().max(1) as f64 / n as f64);
    let d = choose_d(cfg, d_max, !grams.is_empty(), floor_of)?;
    basis.truncate(d);
    let quads: Vec<FactoredForm> = grams.iter().map(|g| g.solve(d)).collect();
    let floor = if quads.is_empty() { None } else { Some(floor_of(d)?) };
    let coef = keep_modes(ctx, &sig, &coef, ns, d_max, d, floor);
    let cand_quads = basis.quads(family, &cand_params, StructureLoss::Sketch)?;
    ctx.report.collocation_seconds = t.elapsed().as_secs_f64();
    Ok(Stage { terms: Terms::Inverse { basis, form: cfg.structure_loss, cand_quads }, d, supervised, coef, quads, cand_params })
}

/// `solve` on a sparse affine family: POD basis of the supervised solutions, reduced least-squares forms
/// (see [`super::sparse`]); the basis is refined with exact sparse solves where its floor is too high.
pub(super) fn sparse_stage(
    op: &crate::sparse::AdrFamily,
    spec: &OpSpec,
    plan: &SamplePlan,
    g_s: &[f64],
    cfg: &TrainConfig,
    ctx: &mut Run,
) -> Result<Stage> {
    let n = op.n();
    let rhs = spec.rhs.as_deref().unwrap_or(op.rhs());
    let mut supervised = plan.supervised.clone();
    let mut g_s = g_s.to_vec();
    let mut cand_params = plan.candidates.clone();
    let mut exact_budget = if cfg.latent_dim.is_some() { 0 } else { cfg.sampling.enrich };
    let (mut basis, coef, d_max, sig, ns) = loop {
        let ns = supervised.len();
        ctx.phase(Phase::Basis)?;
        let (latent, coef, d_max, sig) = pod_basis(&g_s, n, ns, cfg)?;
        ctx.phase(Phase::Collocation)?;
        let basis = crate::train::sparse::SparseBasis::new(op, latent, d_max, rhs);
        ctx.check_cancel()?;
        if exact_budget == 0 || cand_params.len() <= 1 {
            break (basis, coef, d_max, sig, ns);
        }
        let floors: Vec<f64> = basis.quads(&cand_params, d_max).iter().map(|q| q.floor).collect();
        match enrich_with(1, &floors, &mut cand_params, &mut exact_budget, cfg, ctx, &mut |added, _| {
            crate::train::sparse::exact(op, added, rhs)
        })? {
            Some((added, x)) => {
                supervised.extend_from_slice(&added);
                g_s.extend_from_slice(&x);
            }
            None => break (basis, coef, d_max, sig, ns),
        }
    };
    check_decay(&sig, ns, cfg, ctx);
    let t = Instant::now();
    let collocation = &plan.collocation;
    let floor_of = |d: usize| Ok(basis.quads(collocation, d).iter().map(|q| q.floor).sum::<f64>() / collocation.len().max(1) as f64);
    let d = choose_d(cfg, d_max, !collocation.is_empty(), floor_of)?;
    let floor = if collocation.is_empty() { None } else { Some(floor_of(d)?) };
    basis.truncate(d);
    let quads = basis.quads(collocation, d);
    let coef = keep_modes(ctx, &sig, &coef, ns, d_max, d, floor);
    let cand_quads = basis.quads(&cand_params, d);
    ctx.report.collocation_seconds = t.elapsed().as_secs_f64();
    Ok(Stage { terms: Terms::Sparse { basis, d, cand_quads }, d, supervised, coef, quads, cand_params })
}

/// Basis refinement step shared by the stages: when at least `failureTol` of the candidates have a
/// basis floor above a tenth of the accuracy, solve exactly at the worst `add` of them (within the
/// budget), drop them from the candidates and return them with their exact results.
pub(super) fn enrich(
    family: &Family,
    spec: &OpSpec,
    floors: &[f64],
    cand_params: &mut Vec<f64>,
    budget: &mut usize,
    cfg: &TrainConfig,
    ctx: &mut Run,
) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let k = family.param_dim();
    enrich_with(k, floors, cand_params, budget, cfg, ctx, &mut |added, ctx| {
        let a = family.at(added)?;
        let g_new = crate::train::exact::exact_solutions(spec, &a, added, k)?;
        if spec.op == Operation::Inverse {
            crate::train::exact::check_conditioning(&a, &g_new, added, k, cfg, ctx)?;
        }
        Ok(g_new)
    })
}

/// An exact solver for [`enrich_with`]: parameters → joint exact results.
pub(super) type ExactSolver<'a> = dyn FnMut(&[f64], &mut Run) -> Result<Vec<f64>> + 'a;

/// [`enrich`] with the exact solver `solve`.
pub(super) fn enrich_with(
    k: usize,
    floors: &[f64],
    cand_params: &mut Vec<f64>,
    budget: &mut usize,
    cfg: &TrainConfig,
    ctx: &mut Run,
    solve: &mut ExactSolver<'_>,
) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let failing = floors.iter().filter(|&&f| f > 0.1 * cfg.accuracy).count();
    if (failing as f64) < cfg.sampling.failure_tol * floors.len() as f64 || failing == 0 || *budget == 0 {
        return Ok(None);
    }
    let mean_floor = floors.iter().sum::<f64>() / floors.len() as f64;
    let mut order: Vec<usize> = (0..floors.len()).collect();
    order.sort_by(|&a, &b| floors[b].total_cmp(&floors[a]));
    order.truncate(cfg.sampling.add.max(1).min(*budget).min(failing));
    let added: Vec<f64> = order.iter().flat_map(|&i| cand_params[i * k..(i + 1) * k].to_vec()).collect();
    let t = Instant::now();
    let g_new = solve(&added, ctx)?;
    ctx.report.exact_seconds += t.elapsed().as_secs_f64();
    let mut keep = vec![true; floors.len()];
    order.iter().for_each(|&i| keep[i] = false);
    *cand_params = cand_params.chunks(k).zip(&keep).filter(|(_, kp)| **kp).flat_map(|(p, _)| p.to_vec()).collect();
    *budget -= order.len();
    ctx.report.supervised_added += order.len();
    ctx.progress.message = Some(format!(
        "basis floor above accuracy at {failing} of {} candidates (mean {mean_floor:.2e}): {} more exact solves",
        floors.len(),
        order.len()
    ));
    ctx.emit();
    ctx.progress.message = None;
    Ok(Some((added, g_new)))
}

/// Every other operation: POD basis of the joint (component-weighted) supervised results, Gauss–Newton
/// forms of the operation's residual.
pub(super) fn general_stage(
    family: &Family,
    spec: &OpSpec,
    plan: &SamplePlan,
    g_s: &[f64],
    cfg: &TrainConfig,
    ctx: &mut Run,
) -> Result<Stage> {
    let k = family.param_dim();
    let m = spec.output_len();
    let comps = spec.components();
    let domain = family.domain();
    let mut supervised = plan.supervised.clone();
    let mut g_s = g_s.to_vec();
    let collocation = &plan.collocation;
    let mut cand_params = plan.candidates.clone();
    let mut exact_budget = if cfg.latent_dim.is_some() { 0 } else { cfg.sampling.enrich };
    let starts_for = |params: &[f64], supervised: &[f64], coef: &[f64], d: usize| -> Vec<Vec<f64>> {
        crate::sampling::nearest(&domain.normalize(params), &domain.normalize(supervised), k)
            .into_iter()
            .map(|j| coef[j * d..(j + 1) * d].to_vec())
            .collect()
    };
    let (mut terms_g, coef, d_max, sig, ns, starts) = loop {
        let ns = supervised.len() / k;
        ctx.phase(Phase::Basis)?;
        // Each component weighted by 1/mean ‖G_i‖²: the data term then sums relative errors.
        let mut weights = Vec::with_capacity(comps.len());
        let mut off = 0;
        for c in &comps {
            let e: f64 = g_s.chunks(m).map(|g| g[off..off + c.len()].iter().map(|v| v * v).sum::<f64>()).sum::<f64>() / ns as f64;
            weights.push(if e > 0.0 { 1.0 / e } else { 1.0 });
            off += c.len();
        }
        let scale_of: Vec<f64> = comps.iter().zip(&weights).flat_map(|(c, w)| std::iter::repeat_n(w.sqrt(), c.len())).collect();
        let weighted: Vec<f64> = g_s.chunks(m).flat_map(|g| g.iter().zip(&scale_of).map(|(v, s)| v * s).collect::<Vec<_>>()).collect();
        let (latent_w, coef, d_max, sig) = pod_basis(&weighted, m, ns, cfg)?;
        // Back to the components' own units, masked entries exactly zero.
        let free: Vec<bool> = comps.iter().flat_map(|c| (0..c.len()).map(move |i| c.free(i / c.cols, i % c.cols))).collect();
        let latent: Vec<f64> =
            latent_w.chunks(m).flat_map(|row| row.iter().enumerate().map(|(i, v)| if free[i] { v / scale_of[i] } else { 0.0 })).collect();
        let gscale = (g_s.iter().map(|v| v * v).sum::<f64>() / ns as f64).sqrt();
        ctx.phase(Phase::Collocation)?;
        let terms_g = GaussNewtonTerms::new(spec.clone(), latent, d_max, cfg.probes, cfg.seed, gscale);
        let starts = starts_for(collocation, &supervised, &coef, d_max);
        ctx.check_cancel()?;
        if exact_budget == 0 || cand_params.len() / k <= 1 {
            break (terms_g, coef, d_max, sig, ns, starts);
        }
        let cand_starts = starts_for(&cand_params, &supervised, &coef, d_max);
        let floors: Vec<f64> = terms_g.quads(family, &cand_params, &cand_starts, d_max)?.iter().map(|q| q.floor).collect();
        match enrich(family, spec, &floors, &mut cand_params, &mut exact_budget, cfg, ctx)? {
            Some((added, g_new)) => {
                let g_new = crate::train::exact::align_to(spec, &supervised, &g_s, &added, g_new, domain);
                supervised.extend_from_slice(&added);
                g_s.extend_from_slice(&g_new);
            }
            None => break (terms_g, coef, d_max, sig, ns, starts),
        }
    };
    check_decay(&sig, ns, cfg, ctx);
    let t = Instant::now();
    let cut = |d: usize| -> Vec<Vec<f64>> { starts.iter().map(|s| s[..d].to_vec()).collect() };
    let floor_of = |d: usize| -> Result<f64> {
        ctx.check_cancel()?;
        let q = terms_g.quads(family, collocation, &cut(d), d)?;
        Ok(q.iter().map(|q| q.floor).sum::<f64>() / q.len().max(1) as f64)
    };
    let d = if cfg.latent_dim.is_none() && spec.op == Operation::Expm {
        // The commutator `AG − GA` vanishes on every polynomial in `A` (and at G = 0): its floor cannot
        // tell how many basis functions expm needs, so the tail energy of the snapshots does.
        (1..=d_max).find(|&d| tail_energy(&sig, d) <= 0.1 * cfg.accuracy).unwrap_or(d_max)
    } else {
        choose_d(cfg, d_max, !collocation.is_empty(), floor_of)?
    };
    terms_g.truncate(d);
    let quads = terms_g.quads(family, collocation, &cut(d), d)?;
    let floor = if quads.is_empty() { None } else { Some(quads.iter().map(|q| q.floor).sum::<f64>() / quads.len() as f64) };
    let coef = keep_modes(ctx, &sig, &coef, ns, d_max, d, floor);
    ctx.report.collocation_seconds = t.elapsed().as_secs_f64();
    let anchors = domain.normalize(&supervised);
    Ok(Stage { terms: Terms::GaussNewton { terms: terms_g, anchors, coef: coef.clone() }, d, supervised, coef, quads, cand_params })
}
