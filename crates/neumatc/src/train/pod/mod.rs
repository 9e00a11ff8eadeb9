//! The default method: `C` = POD basis of the supervised solutions, `Φ` fitted to eq. (3) written in the
//! basis' coordinates.
//!
//! With orthonormal rows of `C`, the data term `‖Φ(p_j)C − G_j‖²_F` equals `‖Φ(p_j) − c_j‖²` plus a
//! constant (the projection residual), and the structure term is a quadratic form in `Φ(q)` (`train/quad.rs`):
//! exactly for the operations whose residual is linear in the result (the inverse's `‖A(q)(Φ(q)C) − I‖²_F`,
//! a solve's, expm's), and as its Gauss–Newton model around the current coefficients for the others
//! (`train/gauss_newton.rs`). For the inverse it is `‖Lᵀ(Φ(q) − c*_q)‖² + r_q` with `LLᵀ = Q_q`,
//! `Q_q[l,m] = ⟨A C_l, A C_m⟩`, `c*_q` its least-squares minimiser and `r_q` the minimum. Both are built
//! once per collocation point (one GEMM `A(q)·[C_1 … C_d]`), after which an Adam step costs `O(N d²)` instead of `O(N n³)`: the loss is the
//! paper's, exactly, at a fraction of the price. The last layer of `Φ` enters the loss linearly and is
//! solved in closed form (least squares) once Adam is done. (Solving it at every refinement as well was
//! measured and rejected: the least-squares weights are large, and Adam steps on the hidden layers after
//! such a jump diverged — loss 1e-1 → 1e7 at n = 64.)

mod basis;
mod problem;
mod stages;

use crate::train::progress::Phase;
use candle_core::{Device, Tensor, Var};
use candle_nn::Optimizer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

use super::adam::{adam, flat, layer_tensors};
use super::config::TrainConfig;
use super::run::{Fit, Run};
use crate::error::Result;
use crate::family::Family;
use crate::model::Mlp;
use crate::op::{OpSpec, Operation};
use crate::sampling::{self, SamplePlan};

use problem::Problem;
use stages::{Stage, Terms, general_stage, inverse_stage, sparse_stage};

pub(crate) fn fit(family: &Family, spec: &OpSpec, plan: &SamplePlan, g_s: &[f64], cfg: &TrainConfig, ctx: &mut Run) -> Result<Fit> {
    let k = family.param_dim();
    let Stage { mut terms, d, supervised, coef, quads, mut cand_params } = if let Some(op) = family.sparse() {
        sparse_stage(op, spec, plan, g_s, cfg, ctx)?
    } else if spec.op == Operation::Inverse {
        inverse_stage(family, plan, g_s, cfg, ctx)?
    } else {
        general_stage(family, spec, plan, g_s, cfg, ctx)?
    };
    ctx.report.collocation_initial = quads.len();
    let ns = supervised.len() / k;

    // Output normalisation from every target the fit sees: supervised coefficients and the collocation
    // points' least-squares coefficients.
    let targets: Vec<&[f64]> = coef.chunks(d).chain(quads.iter().map(|q| q.target.as_slice())).collect();
    let count = targets.len() as f64;
    let mean: Vec<f64> = (0..d).map(|l| targets.iter().map(|t| t[l]).sum::<f64>() / count).collect();
    let scale: Vec<f64> = (0..d)
        .map(|l| {
            let var = targets.iter().map(|t| (t[l] - mean[l]).powi(2)).sum::<f64>() / count;
            var.sqrt().max(mean[l].abs() * 1e-3).max(1e-300)
        })
        .collect();
    let zs: Vec<f64> = (0..ns * d).map(|i| (coef[i] - mean[i % d]) / scale[i % d]).collect();

    let domain = family.domain();
    let dev = ctx.device.clone();
    let mut problem = Problem {
        cfg,
        k,
        d,
        mean,
        scale,
        xs: domain.normalize(&supervised),
        zs,
        xc: domain.normalize(&plan.collocation),
        quads,
        dev: dev.clone(),
    };
    let mut batch = problem.batch()?;

    let mut widths = vec![k];
    widths.extend(&cfg.hidden);
    widths.push(d);
    let init = Mlp::init(&widths, cfg.omega, cfg.activation, cfg.seed)?.to(&dev, candle_core::DType::F64)?;
    let vars = init.vars()?;
    let layers = layer_tensors;
    let mut opt = adam(flat(&vars), cfg)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xada9);

    ctx.phase(Phase::Optimize)?;
    let t = Instant::now();
    // Failure scores of the current model at the candidates.
    let score = |problem: &Problem, terms: &Terms, vars: &[(Var, Var)], cand_params: &[f64]| -> Result<Vec<f64>> {
        if cand_params.is_empty() {
            return Ok(Vec::new());
        }
        let c = problem.coefficients(&layers(vars), &domain.normalize(cand_params))?;
        terms.scores(family, cand_params, &c)
    };
    let mut step = 0;
    while step < cfg.steps {
        if step % cfg.sampling.add_every == 0 && !cand_params.is_empty() {
            let scores = score(&problem, &terms, &vars, &cand_params)?;
            let r = sampling::refine(&scores, &cfg.sampling, &mut rng);
            ctx.progress.failure_prob = Some(r.failure_prob);
            if r.converged {
                ctx.report.converged = true;
                break;
            }
            let mut added = Vec::with_capacity(r.add.len() * k);
            for &i in &r.add {
                added.extend_from_slice(&cand_params[i * k..(i + 1) * k]);
            }
            let new_quads = terms.quads(family, &added)?;
            problem.quads.extend(new_quads);
            problem.xc.extend(domain.normalize(&added));
            let mut keep: Vec<bool> = vec![true; cand_params.len() / k];
            r.add.iter().for_each(|&i| keep[i] = false);
            cand_params = cand_params.chunks(k).zip(&keep).filter(|(_, kp)| **kp).flat_map(|(p, _)| p.iter().copied()).collect();
            terms.retain_candidates(&keep);
            ctx.report.collocation_added += r.add.len();
            batch = problem.batch()?;
            ctx.progress.collocation = batch.nc;
            ctx.phase(Phase::Refine)?;
            ctx.progress.phase = Phase::Optimize;
        }
        opt.set_learning_rate(cfg.learning_rate_at(step));
        let (loss, data, structure) = problem.loss(&layers(&vars), &batch)?;
        opt.backward_step(&loss)?;
        step += 1;
        ctx.progress.step = step;
        // On a GPU each read is a device→host copy that stalls the queue: read the losses only when a
        // progress event is due (the CPU reads them every step; the numbers are the same either way).
        if dev.is_cpu() || ctx.due() || step == cfg.steps {
            ctx.progress.loss = loss.to_scalar()?;
            ctx.progress.data_loss = data.to_scalar()?;
            ctx.progress.structure_loss = structure.to_scalar()?;
        }
        ctx.progress.collocation = batch.nc;
        ctx.tick()?;
    }
    problem.solve_last_layer(&vars, &batch)?;
    let (loss, data, structure) = problem.loss(&layers(&vars), &batch)?;
    let scores = score(&problem, &terms, &vars, &cand_params)?;
    ctx.end_optimize(&scores, &cfg.sampling, &mut rng, t, step);
    ctx.report.loss = loss.to_scalar()?;
    ctx.report.data_loss = data.to_scalar()?;
    ctx.report.structure_loss = structure.to_scalar()?;
    ctx.report.collocation_final = batch.nc;
    // Later progress events (validate, done) show the losses after the closed-form last layer.
    ctx.progress.loss = ctx.report.loss;
    ctx.progress.data_loss = ctx.report.data_loss;
    ctx.progress.structure_loss = ctx.report.structure_loss;

    // Fold the output normalisation into the last layer: c = (hW + b) ⊙ s + m.
    let mut trained =
        layers(&vars).into_iter().map(|(w, b)| Ok((w.to_device(&Device::Cpu)?, b.to_device(&Device::Cpu)?))).collect::<Result<Vec<_>>>()?;
    let (w, b) = trained.pop().expect("at least one layer");
    let s = Tensor::from_vec(problem.scale.clone(), (1, d), &Device::Cpu)?;
    let mu = Tensor::from_vec(problem.mean.clone(), (1, d), &Device::Cpu)?;
    trained.push((w.broadcast_mul(&s)?, b.broadcast_mul(&s)?.broadcast_add(&mu)?));
    let mlp = Mlp {
        layers: trained.into_iter().map(|(w, b)| Ok((w.copy()?, b.copy()?))).collect::<Result<Vec<_>>>()?,
        omega: cfg.omega,
        activation: cfg.activation,
    };
    Ok(Fit { mlp, latent: terms.into_latent(), latent_dim: d })
}
