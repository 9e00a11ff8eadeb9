//! The paper's plain method (Algorithm 1 as published): `C` and `Φ` start from random values and Adam
//! fits both to eq. (3) with the structure residual `A(q)(Φ(q)C) − I` formed in full (or sketched with
//! random probes) at every step. Kept so the default method can be compared against it.

use crate::linalg::gaussian;
use crate::train::progress::Phase;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::Optimizer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

use super::adam::{adam, flat, layer_tensors};
use super::config::{StructureLoss, TrainConfig};
use super::run::{Fit, Run};
use crate::error::Result;
use crate::family::Family;
use crate::model::{Mlp, mlp_forward};
use crate::sampling::{self, SamplePlan};

/// The structure residual: full (`Ω = None`, target `I`) or sketched (`‖(AG − I)Ω‖² / k`, target `Ω`).
struct Residual {
    /// `Ω` (`n × k`) for the sketch, or `None` for the full residual.
    omega: Option<Tensor>,
    /// `I` or `Ω`, broadcast against `A G` or `A G Ω`.
    target: Tensor,
}

impl Residual {
    /// `‖A(q) G(q) − I‖²_F` per point (or its unbiased sketch), `g, a: N × n × n`. Returns (N,).
    fn per_point(&self, a: &Tensor, g: &Tensor) -> Result<Tensor> {
        let (ag, probes) = match &self.omega {
            None => (a.matmul(g)?, 1.0),
            Some(om) => (a.matmul(&g.broadcast_matmul(om)?)?, om.dims()[1] as f64),
        };
        Ok((ag.broadcast_sub(&self.target)?.sqr()?.sum((1, 2))? / probes)?)
    }
}

pub(crate) fn fit(family: &Family, plan: &SamplePlan, g_s: &[f64], cfg: &TrainConfig, ctx: &mut Run) -> Result<Fit> {
    let (n, k) = (family.rows(), family.param_dim());
    let m = n * n;
    let ns = plan.supervised.len() / k;
    let dev = ctx.device.clone();
    let dt = cfg.dtype.candle();
    let d = cfg.latent_dim.unwrap_or(ns.min(40));
    let domain = family.domain();

    ctx.phase(Phase::Collocation)?;
    let t = Instant::now();
    let tensor = |v: Vec<f64>, shape: (usize, usize)| -> Result<Tensor> {
        Ok(Tensor::from_vec(v, shape, &Device::Cpu)?.to_dtype(dt)?.to_device(&dev)?)
    };
    let matrices = |params: &[f64]| -> Result<Tensor> {
        let a = family.at(params)?;
        Ok(Tensor::from_vec(a.data, (a.batch, n, n), &Device::Cpu)?.to_dtype(dt)?.to_device(&dev)?)
    };
    let xs = tensor(domain.normalize(&plan.supervised), (ns, k))?;
    let gs = tensor(g_s.to_vec(), (ns, m))?;
    let mut xc_host = domain.normalize(&plan.collocation);
    let mut ac = matrices(&plan.collocation)?;
    let mut cand_params = plan.candidates.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x91a1);
    let residual = match cfg.structure_loss {
        StructureLoss::Full => Residual { omega: None, target: Tensor::eye(n, dt, &dev)? },
        StructureLoss::Sketch => {
            let om = gaussian(&mut rng, n * cfg.probes);
            let om = tensor(om, (n, cfg.probes))?;
            Residual { target: om.clone(), omega: Some(om) }
        }
    };
    ctx.report.collocation_seconds = t.elapsed().as_secs_f64();
    ctx.report.collocation_initial = plan.collocation.len() / k;

    let mut widths = vec![k];
    widths.extend(&cfg.hidden);
    widths.push(d);
    let mlp = Mlp::init(&widths, cfg.omega, cfg.activation, cfg.seed)?.to(&dev, dt)?;
    let vars = mlp.vars()?;
    let rms = (g_s.iter().map(|v| v * v).sum::<f64>() / g_s.len() as f64).sqrt();
    let mut crng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xc0de);
    let c0: Vec<f64> = gaussian(&mut crng, d * m).into_iter().map(|z| z * rms / (d as f64).sqrt()).collect();
    let c = Var::from_tensor(&tensor(c0, (d, m))?)?;
    let layers = layer_tensors;
    let mut all = flat(&vars);
    all.push(c.clone());
    let mut opt = adam(all, cfg)?;
    let predict = |vars: &[(Var, Var)], x: &Tensor| -> Result<Tensor> {
        let phi = mlp_forward(&layers(vars), cfg.omega, cfg.activation, x)?;
        Ok(phi.matmul(c.as_tensor())?.reshape((x.dims()[0], n, n))?)
    };
    let score = |vars: &[(Var, Var)], params: &[f64]| -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(params.len() / k);
        for chunk in params.chunks(32 * k) {
            let x = tensor(domain.normalize(chunk), (chunk.len() / k, k))?;
            let r = residual.per_point(&matrices(chunk)?, &predict(vars, &x)?)?;
            out.extend(r.to_dtype(DType::F64)?.to_vec1::<f64>()?.into_iter().map(|v| v / n as f64));
        }
        Ok(out)
    };

    ctx.phase(Phase::Optimize)?;
    let t = Instant::now();
    let mut step = 0;
    let mut last = (0.0, 0.0, 0.0);
    while step < cfg.steps {
        if step % cfg.sampling.add_every == 0 && !cand_params.is_empty() {
            let scores = score(&vars, &cand_params)?;
            let r = sampling::refine(&scores, &cfg.sampling, &mut rng);
            ctx.progress.failure_prob = Some(r.failure_prob);
            if r.converged {
                ctx.report.converged = true;
                break;
            }
            let added: Vec<f64> = r.add.iter().flat_map(|&i| cand_params[i * k..(i + 1) * k].to_vec()).collect();
            ac = Tensor::cat(&[&ac, &matrices(&added)?], 0)?;
            xc_host.extend(domain.normalize(&added));
            let mut keep = vec![true; cand_params.len() / k];
            r.add.iter().for_each(|&i| keep[i] = false);
            cand_params = cand_params.chunks(k).zip(&keep).filter(|(_, kp)| **kp).flat_map(|(p, _)| p.to_vec()).collect();
            ctx.report.collocation_added += r.add.len();
            ctx.phase(Phase::Refine)?;
            ctx.progress.phase = Phase::Optimize;
        }
        let nc = xc_host.len() / k;
        let xc = tensor(xc_host.clone(), (nc, k))?;
        opt.set_learning_rate(cfg.learning_rate_at(step));
        let phi = mlp_forward(&layers(&vars), cfg.omega, cfg.activation, &xs)?;
        let data = (phi.matmul(c.as_tensor())? - &gs)?.sqr()?.sum_all()?.affine(1.0 / ns as f64, 0.0)?;
        let structure = if nc > 0 { residual.per_point(&ac, &predict(&vars, &xc)?)?.mean_all()? } else { data.zeros_like()? };
        let loss = (&data + structure.affine(cfg.lambda, 0.0)?)?;
        opt.backward_step(&loss)?;
        step += 1;
        let f = |t: &Tensor| -> Result<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
        last = (f(&loss)?, f(&data)?, f(&structure)?);
        ctx.progress.step = step;
        (ctx.progress.loss, ctx.progress.data_loss, ctx.progress.structure_loss) = last;
        ctx.progress.collocation = nc;
        ctx.tick()?;
    }
    let scores = score(&vars, &cand_params)?;
    ctx.end_optimize(&scores, &cfg.sampling, &mut rng, t, step);
    (ctx.report.loss, ctx.report.data_loss, ctx.report.structure_loss) = last;
    ctx.report.collocation_final = xc_host.len() / k;

    let host = |t: &Tensor| -> Result<Tensor> { Ok(t.to_dtype(DType::F64)?.to_device(&Device::Cpu)?) };
    let trained = layers(&vars).iter().map(|(w, b)| Ok((host(w)?, host(b)?))).collect::<Result<Vec<_>>>()?;
    let latent = host(c.as_tensor())?.flatten_all()?.to_vec1::<f64>()?;
    Ok(Fit { mlp: Mlp { layers: trained, omega: cfg.omega, activation: cfg.activation }, latent, latent_dim: d })
}
