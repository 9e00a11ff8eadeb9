//! The exact solves a run pays for: ground truth at the supervised samples (f64, in parallel), aligned
//! along `p`, with the checks they allow (repeated singular values, conditioning).

use rayon::prelude::*;

use super::config::TrainConfig;
use super::run::Run;
use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::family::Family;
use crate::matrix::MatrixBatch;
use crate::op::{OpSpec, Operation};

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
pub(super) fn check_separation(spec: &OpSpec, g: &[f64], params: &[f64], k: usize, ctx: &mut Run) {
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
pub fn align_samples(spec: &OpSpec, params: &[f64], mut g: Vec<f64>, domain: &Domain) -> Vec<f64> {
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
pub(crate) fn align_to(spec: &OpSpec, params: &[f64], g: &[f64], added: &[f64], mut g_new: Vec<f64>, domain: &Domain) -> Vec<f64> {
    if !spec.needs_alignment() || params.is_empty() {
        return g_new;
    }
    let k = domain.dim();
    let m = spec.output_len();
    for (i, j) in crate::sampling::nearest(&domain.normalize(added), &domain.normalize(params), k).into_iter().enumerate() {
        spec.align(&g[j * m..(j + 1) * m], &mut g_new[i * m..(i + 1) * m]);
    }
    g_new
}

/// Condition numbers `‖A‖₂‖A⁻¹‖₂` of the supervised matrices: recorded, warned about, or refused.
pub(crate) fn check_conditioning(a: &MatrixBatch, g: &[f64], params: &[f64], k: usize, cfg: &TrainConfig, ctx: &mut Run) -> Result<()> {
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
pub(super) fn refuse_condition(op: &'static str, p: &[f64], cond: f64, n: usize, cfg: &TrainConfig) -> Result<()> {
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
pub(super) fn check_condition_estimates(family: &Family, params: &[f64], cfg: &TrainConfig, ctx: &mut Run, between: bool) -> Result<()> {
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
