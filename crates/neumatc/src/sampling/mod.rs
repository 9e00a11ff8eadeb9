//! Where training looks: supervised samples, collocation points, candidates for failure-informed
//! adaptive sampling (Algorithm 1 of the paper), and held-out validation points.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::family::Family;

/// How new collocation points are chosen every `addEvery` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// The paper's failure-informed adaptive sampling: add the candidates with the largest residual.
    #[default]
    Adaptive,
    /// Add candidates drawn at random (for comparison, Table 8).
    Random,
}

/// Sampling options (the paper's `N_s`, `N_c⁽⁰⁾`, candidate set, `T`, `N_add`, `ε_r`, `ε_p`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SamplingConfig {
    /// Supervised samples `N_s` (exact solves). Default 40.
    pub supervised: usize,
    /// Initial collocation points `N_c⁽⁰⁾`. Default 80.
    pub collocation: usize,
    /// Size of the candidate set scored for adaptive sampling. Default 256.
    pub candidates: usize,
    /// Steps between adaptive refinements `T`. Default 250.
    pub add_every: usize,
    /// Points added per refinement `N_add`. Default 10.
    pub add: usize,
    /// Residual threshold `ε_r`, per point, in the units of the paper's RelErr (`‖R(p)‖²_F / n`). Default 1e-6.
    pub residual_tol: f64,
    /// Failure-probability tolerance `ε_p`: training stops once fewer candidates than this fraction fail. Default 0.02.
    pub failure_tol: f64,
    /// Adaptive (default) or random refinement.
    pub strategy: Strategy,
    /// Extra exact solves the `pod` method may spend when the basis of the supervised solutions cannot
    /// reach `accuracy` at the collocation points (it solves at the worst of them, `add` at a time, and
    /// rebuilds the basis). 0 keeps exactly `supervised` exact solves, as in the paper. Default 40.
    pub enrich: usize,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            supervised: 40,
            collocation: 80,
            candidates: 256,
            add_every: 250,
            add: 10,
            residual_tol: 1e-6,
            failure_tol: 0.02,
            strategy: Strategy::Adaptive,
            enrich: 40,
        }
    }
}

impl SamplingConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<()> {
        if self.supervised < 2 {
            return Err(Error::option("sampling.supervised", format!("needs at least 2 supervised samples, got {}", self.supervised)));
        }
        if self.add_every == 0 {
            return Err(Error::option("sampling.addEvery", "must be at least 1"));
        }
        if !(self.residual_tol.is_finite() && self.residual_tol > 0.0) {
            return Err(Error::option("sampling.residualTol", format!("must be a positive number, got {}", self.residual_tol)));
        }
        if !(self.failure_tol.is_finite() && (0.0..=1.0).contains(&self.failure_tol)) {
            return Err(Error::option("sampling.failureTol", format!("must be in [0, 1], got {}", self.failure_tol)));
        }
        Ok(())
    }
}

/// The parameter sets of one training run, each `count * param_dim` values.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplePlan {
    /// Supervised samples (exact solves).
    pub supervised: Vec<f64>,
    /// Initial collocation points.
    pub collocation: Vec<f64>,
    /// Candidates for adaptive sampling.
    pub candidates: Vec<f64>,
    /// Held-out points for the report, never used in training.
    pub validation: Vec<f64>,
}

/// Draws the plan from `seed`. A box domain gets a Latin-hypercube design for the supervised samples and
/// uniform draws for the rest; a family with a finite pool (a grid of samples) gets a farthest-point
/// subset for the supervised samples and disjoint random subsets of the remaining grid points.
pub fn plan(family: &Family, cfg: &SamplingConfig, validation: usize, seed: u64) -> Result<SamplePlan> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5a3b_1e00);
    let domain = family.domain();
    match family.pool() {
        None => Ok(SamplePlan {
            supervised: latin_hypercube(domain, cfg.supervised, &mut rng),
            collocation: uniform(domain, cfg.collocation, &mut rng),
            candidates: uniform(domain, cfg.candidates, &mut rng),
            validation: uniform(domain, validation, &mut rng),
        }),
        Some(pool) => pool_plan(pool, domain, cfg, validation, &mut rng),
    }
}

fn pool_plan(pool: &[f64], domain: &Domain, cfg: &SamplingConfig, validation: usize, rng: &mut ChaCha8Rng) -> Result<SamplePlan> {
    let k = domain.dim();
    let count = pool.len() / k;
    if cfg.supervised >= count {
        return Err(Error::option(
            "sampling.supervised",
            format!("{} supervised samples need a grid of more than {} points, the family has {count}", cfg.supervised, cfg.supervised),
        ));
    }
    let norm = domain.normalize(pool);
    let chosen = farthest_points(&norm, k, cfg.supervised, rng.random_range(0..count));
    let mut rest: Vec<usize> = (0..count).filter(|i| !chosen.contains(i)).collect();
    rest.shuffle(rng);
    let mut take = |n: usize| -> Vec<usize> {
        let n = n.min(rest.len());
        rest.drain(..n).collect()
    };
    let validation_idx = take(validation.min(count / 5));
    let collocation_idx = take(cfg.collocation);
    let candidate_idx = take(cfg.candidates);
    let gather = |idx: &[usize]| -> Vec<f64> { idx.iter().flat_map(|&i| pool[i * k..(i + 1) * k].iter().copied()).collect() };
    Ok(SamplePlan {
        supervised: gather(&chosen),
        collocation: gather(&collocation_idx),
        candidates: gather(&candidate_idx),
        validation: gather(&validation_idx),
    })
}

/// `count` points of a Latin hypercube in the box: one point per stratum in every dimension, jittered.
pub fn latin_hypercube(domain: &Domain, count: usize, rng: &mut impl Rng) -> Vec<f64> {
    let k = domain.dim();
    let mut out = vec![0.0; count * k];
    for j in 0..k {
        let mut strata: Vec<usize> = (0..count).collect();
        strata.shuffle(rng);
        for (i, s) in strata.into_iter().enumerate() {
            let u = (s as f64 + rng.random::<f64>()) / count as f64;
            out[i * k + j] = domain.lo[j] + u * (domain.hi[j] - domain.lo[j]);
        }
    }
    out
}

/// `count` independent uniform points in the box.
pub fn uniform(domain: &Domain, count: usize, rng: &mut impl Rng) -> Vec<f64> {
    let k = domain.dim();
    (0..count * k).map(|i| domain.lo[i % k] + rng.random::<f64>() * (domain.hi[i % k] - domain.lo[i % k])).collect()
}

/// For each point of `params`, the index of the nearest point of `samples` (both `k`-dim, compared in
/// normalised coordinates).
pub(crate) fn nearest(params: &[f64], samples: &[f64], k: usize) -> Vec<usize> {
    params
        .chunks(k)
        .map(|p| {
            samples
                .chunks(k)
                .enumerate()
                .map(|(j, s)| (j, p.iter().zip(s).map(|(a, b)| (a - b).powi(2)).sum::<f64>()))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |(j, _)| j)
        })
        .collect()
}

/// Greedy farthest-point subset of `count` rows of `points` (`k` columns), starting at row `start`.
fn farthest_points(points: &[f64], k: usize, count: usize, start: usize) -> Vec<usize> {
    let n = points.len() / k;
    let dist = |a: usize, b: usize| -> f64 { (0..k).map(|j| (points[a * k + j] - points[b * k + j]).powi(2)).sum() };
    let mut chosen = vec![start];
    let mut nearest: Vec<f64> = (0..n).map(|i| dist(i, start)).collect();
    while chosen.len() < count {
        let next = (0..n).max_by(|&a, &b| nearest[a].total_cmp(&nearest[b])).expect("pool is not empty");
        chosen.push(next);
        for (i, near) in nearest.iter_mut().enumerate() {
            *near = near.min(dist(i, next));
        }
    }
    chosen
}

/// One refinement decision of Algorithm 1 (lines 6–11).
#[derive(Debug, Clone, PartialEq)]
pub struct Refinement {
    /// `P̂_F`: the fraction of candidates whose score exceeds the residual threshold.
    pub failure_prob: f64,
    /// Candidate indices to add to the collocation set (empty when `P̂_F < ε_p`).
    pub add: Vec<usize>,
    /// Whether `P̂_F < ε_p`, i.e. Algorithm 1 stops.
    pub converged: bool,
}

/// Scores are `‖R(p)‖²_F / n` per candidate. Returns the failure probability and, unless it is below
/// `failure_tol`, the `add` candidates with the largest scores among the failures (adaptive) or `add`
/// random failures (random strategy).
pub fn refine(scores: &[f64], cfg: &SamplingConfig, rng: &mut impl Rng) -> Refinement {
    let mut failures: Vec<usize> = (0..scores.len()).filter(|&i| scores[i].is_nan() || scores[i] > cfg.residual_tol).collect();
    let failure_prob = if scores.is_empty() { 0.0 } else { failures.len() as f64 / scores.len() as f64 };
    if failure_prob < cfg.failure_tol {
        return Refinement { failure_prob, add: Vec::new(), converged: true };
    }
    match cfg.strategy {
        Strategy::Adaptive => failures.sort_by(|&a, &b| scores[b].total_cmp(&scores[a])),
        Strategy::Random => failures.shuffle(rng),
    }
    failures.truncate(cfg.add);
    Refinement { failure_prob, add: failures, converged: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refine_picks_the_worst_failures() {
        let cfg = SamplingConfig { add: 2, residual_tol: 1.0, failure_tol: 0.1, ..Default::default() };
        let scores = [0.5, 3.0, 2.0, 0.1, 5.0];
        let r = refine(&scores, &cfg, &mut ChaCha8Rng::seed_from_u64(0));
        assert_eq!(r.add, vec![4, 1]);
        assert!((r.failure_prob - 0.6).abs() < 1e-12);
        assert!(!r.converged);
    }

    #[test]
    fn refine_stops_under_the_failure_tolerance() {
        let cfg = SamplingConfig { add: 2, residual_tol: 1.0, failure_tol: 0.25, ..Default::default() };
        let scores = [0.5, 3.0, 0.2, 0.1, 0.3];
        let r = refine(&scores, &cfg, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(r.converged);
        assert!(r.add.is_empty());
        assert!((r.failure_prob - 0.2).abs() < 1e-12);
    }

    #[test]
    fn nan_scores_count_as_failures() {
        let cfg = SamplingConfig { add: 1, residual_tol: 1.0, failure_tol: 0.1, ..Default::default() };
        let r = refine(&[f64::NAN, 0.0], &cfg, &mut ChaCha8Rng::seed_from_u64(0));
        assert_eq!(r.add, vec![0]);
    }

    #[test]
    fn latin_hypercube_hits_every_stratum() {
        let d = Domain { lo: vec![0.0, -1.0], hi: vec![1.0, 1.0] };
        let pts = latin_hypercube(&d, 10, &mut ChaCha8Rng::seed_from_u64(3));
        for j in 0..2 {
            let mut strata: Vec<usize> = pts.chunks(2).map(|p| ((p[j] - d.lo[j]) / (d.hi[j] - d.lo[j]) * 10.0) as usize).collect();
            strata.sort();
            assert_eq!(strata, (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn farthest_points_spread_over_a_line() {
        let pts: Vec<f64> = (0..11).map(|i| i as f64 / 10.0).collect();
        let mut got = farthest_points(&pts, 1, 3, 0);
        got.sort();
        assert_eq!(got, vec![0, 5, 10]);
    }
}
