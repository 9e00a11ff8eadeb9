//! The Adam problem of the POD method: training tensors in normalised basis coordinates, the loss, the
//! loop, and the closed-form last layer.

use candle_core::{Device, Tensor, Var};

use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatRef, Par, Side};
use rayon::prelude::*;

use crate::error::Result;
use crate::train::config::TrainConfig;
use crate::train::quad::FactoredForm;

/// Training tensors of one run (f64, CPU), rebuilt when collocation points are added.
pub(super) struct Batch {
    /// Normalised parameters, supervised then collocation: `(N_s + N_c) × k`.
    pub(super) x: Tensor,
    pub(super) ns: usize,
    pub(super) nc: usize,
    /// Supervised targets in normalised coordinates `z = (c − m)/s`: `N_s × d`.
    pub(super) zs: Tensor,
    /// `s²`, `1 × d`.
    pub(super) weight: Tensor,
    /// Collocation targets `z*`: `N_c × d`.
    pub(super) zc: Tensor,
    /// `Lᵀ diag(s)`: `N_c × d × d`.
    pub(super) b: Tensor,
    /// Mean of the collocation floors.
    pub(super) floor: f64,
}

pub(super) struct Problem<'a> {
    pub(super) cfg: &'a TrainConfig,
    pub(super) k: usize,
    pub(super) d: usize,
    /// Output normalisation `c = z ⊙ s + m`.
    pub(super) mean: Vec<f64>,
    pub(super) scale: Vec<f64>,
    pub(super) xs: Vec<f64>,
    pub(super) zs: Vec<f64>,
    pub(super) xc: Vec<f64>,
    pub(super) quads: Vec<FactoredForm>,
    /// Where the Adam loop runs (its tensors, `Φ`'s weights and the optimizer state stay there).
    pub(super) dev: Device,
}

impl Problem<'_> {
    pub(super) fn batch(&self) -> Result<Batch> {
        let (k, d) = (self.k, self.d);
        let (ns, nc) = (self.xs.len() / k, self.quads.len());
        let x: Vec<f64> = self.xs.iter().chain(&self.xc).copied().collect();
        let dev = &self.dev;
        let zc: Vec<f64> =
            self.quads.iter().flat_map(|q| q.target.iter().enumerate().map(|(l, &c)| (c - self.mean[l]) / self.scale[l])).collect();
        let b: Vec<f64> = self.quads.iter().flat_map(|q| (0..d * d).map(move |i| q.lt[i] * self.scale[i % d])).collect();
        Ok(Batch {
            x: Tensor::from_vec(x, (ns + nc, k), dev)?,
            ns,
            nc,
            zs: Tensor::from_vec(self.zs.clone(), (ns, d), dev)?,
            weight: Tensor::from_vec(self.scale.iter().map(|s| s * s).collect::<Vec<_>>(), (1, d), dev)?,
            zc: Tensor::from_vec(zc, (nc, d), dev)?,
            b: Tensor::from_vec(b, (nc, d, d), dev)?,
            floor: if nc == 0 { 0.0 } else { self.quads.iter().map(|q| q.floor).sum::<f64>() / nc as f64 },
        })
    }

    /// `(total, data, structure)` as tensors (the total carries the graph).
    pub(super) fn loss(&self, layers: &[(Tensor, Tensor)], batch: &Batch) -> Result<(Tensor, Tensor, Tensor)> {
        let cfg = self.cfg;
        let z = crate::model::mlp_forward(layers, cfg.omega, cfg.activation, &batch.x)?;
        let data = ((z.narrow(0, 0, batch.ns)? - &batch.zs)?.sqr()?.broadcast_mul(&batch.weight)?.sum_all()? / batch.ns as f64)?;
        let structure = if batch.nc > 0 {
            let diff = (z.narrow(0, batch.ns, batch.nc)? - &batch.zc)?.unsqueeze(2)?;
            ((batch.b.matmul(&diff)?.sqr()?.sum_all()? / batch.nc as f64)? + batch.floor)?
        } else {
            Tensor::new(0f64, &self.dev)?
        };
        let total = (&data + (&structure * cfg.lambda)?)?;
        Ok((total, data, structure))
    }

    /// Least-squares solve of the last layer (weights and bias) with the hidden layers fixed: the loss is
    /// quadratic in them. Skipped (returns false) when the system would be too large.
    pub(super) fn solve_last_layer(&self, vars: &[(Var, Var)], batch: &Batch) -> Result<bool> {
        let d = self.d;
        let (body, last) = vars.split_at(vars.len() - 1);
        let width = last[0].0.dims()[0];
        let p = width + 1;
        let size = p * d;
        // The system (and the GEMM that builds its structure part) are `size²` f64 each: up to 2 × 1 GiB
        // at the cap. Skipping the solve costs accuracy (measured on the 2-D SPD task at n = 64, d = 161,
        // width 64, size 10 465: held-out 2.3e-2 with the solve skipped, 1.6e-2 with it), so the cap is set
        // by memory, not speed.
        if size > 11_585 {
            return Ok(false);
        }
        let layers: Vec<(Tensor, Tensor)> = body.iter().map(|(w, b)| (w.as_tensor().clone(), b.as_tensor().clone())).collect();
        let h = crate::model::mlp_hidden(&layers, self.cfg.omega, self.cfg.activation, &batch.x)?;
        let h: Vec<Vec<f64>> = h.to_vec2()?;
        let hb = |i: usize, a: usize| if a < width { h[i][a] } else { 1.0 };
        let (ns, nc) = (batch.ns, batch.nc);
        let wd = 1.0 / ns as f64;
        let wc = if nc > 0 { self.cfg.lambda / nc as f64 } else { 0.0 };
        let s2: Vec<f64> = self.scale.iter().map(|s| s * s).collect();
        let mut kmat = Mat::<f64>::zeros(size, size);
        let mut rhs = Mat::<f64>::zeros(size, 1);
        // Data part: (HᵀH) ⊗ diag(s²), right-hand side h ⊗ (s² ⊙ z).
        let hs = Mat::<f64>::from_fn(ns, p, &hb);
        let mut hth = Mat::<f64>::zeros(p, p);
        faer::linalg::matmul::matmul(hth.as_mut(), Accum::Replace, hs.transpose(), hs.as_ref(), wd, Par::Seq);
        for a in 0..p {
            for b in 0..p {
                for l in 0..d {
                    kmat[(a * d + l, b * d + l)] += hth[(a, b)] * s2[l];
                }
            }
        }
        for i in 0..ns {
            for a in 0..p {
                for l in 0..d {
                    rhs[(a * d + l, 0)] += wd * hb(i, a) * s2[l] * self.zs[i * d + l];
                }
            }
        }
        // Structure part: Σ_q (h hᵀ) ⊗ M_q with M_q = (Lᵀ diag s)ᵀ(Lᵀ diag s), as one GEMM over q.
        if nc > 0 {
            let bq: Vec<Vec<f64>> = batch.b.reshape((nc, d * d))?.to_vec2()?;
            let zc: Vec<Vec<f64>> = batch.zc.to_vec2()?;
            let m: Vec<Mat<f64>> = bq
                .par_iter()
                .map(|bv| {
                    let bm = MatRef::from_row_major_slice(bv, d, d);
                    let mut m = Mat::<f64>::zeros(d, d);
                    faer::linalg::matmul::matmul(m.as_mut(), Accum::Replace, bm.transpose(), bm, 1.0, Par::Seq);
                    m
                })
                .collect();
            let xh = Mat::<f64>::from_fn(nc, p * p, |q, ab| hb(ns + q, ab / p) * hb(ns + q, ab % p));
            let my = Mat::<f64>::from_fn(nc, d * d, |q, lm| m[q][(lm / d, lm % d)]);
            let mut g = Mat::<f64>::zeros(p * p, d * d);
            faer::linalg::matmul::matmul(g.as_mut(), Accum::Replace, xh.transpose(), my.as_ref(), wc, Par::rayon(0));
            for a in 0..p {
                for b in 0..p {
                    for l in 0..d {
                        for mm in 0..d {
                            kmat[(a * d + l, b * d + mm)] += g[(a * p + b, l * d + mm)];
                        }
                    }
                }
            }
            for (q, mq) in m.iter().enumerate() {
                let mz: Vec<f64> = (0..d).map(|l| (0..d).map(|mm| mq[(l, mm)] * zc[q][mm]).sum()).collect();
                for a in 0..p {
                    let ha = wc * hb(ns + q, a);
                    for l in 0..d {
                        rhs[(a * d + l, 0)] += ha * mz[l];
                    }
                }
            }
        }
        let trace: f64 = (0..size).map(|i| kmat[(i, i)]).sum::<f64>() / size as f64;
        let mut ridge = 1e-13 * trace;
        for _ in 0..6 {
            let mut kr = kmat.clone();
            for i in 0..size {
                kr[(i, i)] += ridge;
            }
            if let Ok(llt) = kr.llt(Side::Lower) {
                let mut theta = rhs.clone();
                llt.solve_in_place(theta.as_mut());
                if (0..size).any(|i| !theta[(i, 0)].is_finite()) {
                    return Ok(false);
                }
                let w: Vec<f64> = (0..width * d).map(|i| theta[(i, 0)]).collect();
                let b: Vec<f64> = (width * d..size).map(|i| theta[(i, 0)]).collect();
                last[0].0.set(&Tensor::from_vec(w, (width, d), &self.dev)?)?;
                last[0].1.set(&Tensor::from_vec(b, (1, d), &self.dev)?)?;
                return Ok(true);
            }
            ridge *= 100.0;
        }
        Ok(false)
    }

    /// Coefficients `c = z ⊙ s + m` at parameters `x` (normalised), one row per point.
    pub(super) fn coefficients(&self, layers: &[(Tensor, Tensor)], x: &[f64]) -> Result<Vec<Vec<f64>>> {
        let xt = Tensor::from_vec(x.to_vec(), (x.len() / self.k, self.k), &self.dev)?;
        let z: Vec<Vec<f64>> = crate::model::mlp_forward(layers, self.cfg.omega, self.cfg.activation, &xt)?.to_vec2()?;
        Ok(z.into_iter().map(|row| row.iter().enumerate().map(|(l, v)| v * self.scale[l] + self.mean[l]).collect()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mlp;
    use crate::train::config::StructureLoss;
    use crate::train::pod::basis::tests::small_basis;

    #[test]
    fn loss_gradient_matches_finite_differences() {
        let (fam, basis) = small_basis(5, 4);
        let d = basis.d;
        let cfg = TrainConfig { lambda: 0.7, omega: 1.5, hidden: vec![6, 5], ..Default::default() };
        let coll = [0.12, 0.55, 0.9];
        let quads = basis.quads(&fam, &coll, StructureLoss::Full).unwrap();
        let problem = Problem {
            cfg: &cfg,
            k: 1,
            d,
            mean: vec![0.1; d],
            scale: (0..d).map(|l| 1.0 / (l + 1) as f64).collect(),
            xs: vec![-0.8, 0.1, 0.7],
            zs: (0..3 * d).map(|i| (i as f64 * 0.37).sin()).collect(),
            xc: fam.domain().normalize(&coll),
            quads,
            dev: Device::Cpu,
        };
        let batch = problem.batch().unwrap();
        let mlp = Mlp::init(&[1, 6, 5, d], cfg.omega, cfg.activation, 3).unwrap();
        let vars = mlp.vars().unwrap();
        let layers = crate::train::adam::layer_tensors;
        let (loss, _, _) = problem.loss(&layers(&vars), &batch).unwrap();
        let grads = loss.backward().unwrap();
        let h = 1e-6;
        for (li, (w, _)) in vars.iter().enumerate() {
            let g = grads.get(w.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
            let base = w.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap();
            for idx in [0, base.len() / 2, base.len() - 1] {
                let eval = |delta: f64| {
                    let mut v = base.clone();
                    v[idx] += delta;
                    w.set(&Tensor::from_vec(v, w.as_tensor().dims(), &Device::Cpu).unwrap()).unwrap();
                    let (l, _, _) = problem.loss(&layers(&vars), &batch).unwrap();
                    l.to_scalar::<f64>().unwrap()
                };
                let fd = (eval(h) - eval(-h)) / (2.0 * h);
                eval(0.0);
                assert!((fd - g[idx]).abs() <= 1e-5 * fd.abs().max(1e-3), "layer {li} weight {idx}: autograd {} vs fd {fd}", g[idx]);
            }
        }
    }

    #[test]
    fn closed_form_last_layer_does_not_increase_the_loss() {
        let (fam, basis) = small_basis(5, 4);
        let d = basis.d;
        let cfg = TrainConfig { hidden: vec![8], ..Default::default() };
        let coll: Vec<f64> = (0..12).map(|i| (i as f64 + 0.3) / 12.0).collect();
        let problem = Problem {
            cfg: &cfg,
            k: 1,
            d,
            mean: vec![0.0; d],
            scale: vec![1.0; d],
            xs: vec![-0.9, -0.3, 0.4, 0.95],
            zs: (0..4 * d).map(|i| (i as f64 * 0.21).cos()).collect(),
            xc: fam.domain().normalize(&coll),
            quads: basis.quads(&fam, &coll, StructureLoss::Full).unwrap(),
            dev: Device::Cpu,
        };
        let batch = problem.batch().unwrap();
        let vars = Mlp::init(&[1, 8, d], cfg.omega, cfg.activation, 9).unwrap().vars().unwrap();
        let layers = crate::train::adam::layer_tensors;
        let before = problem.loss(&layers(&vars), &batch).unwrap().0.to_scalar::<f64>().unwrap();
        assert!(problem.solve_last_layer(&vars, &batch).unwrap());
        let after = problem.loss(&layers(&vars), &batch).unwrap().0.to_scalar::<f64>().unwrap();
        assert!(after < before, "{after} !< {before}");
        // A stationary point: nudging one output weight raises the loss.
        let (w, _) = &vars[vars.len() - 1];
        let mut v = w.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        v[0] += 1e-3;
        w.set(&Tensor::from_vec(v, w.as_tensor().dims(), &Device::Cpu).unwrap()).unwrap();
        let nudged = problem.loss(&layers(&vars), &batch).unwrap().0.to_scalar::<f64>().unwrap();
        assert!(nudged > after);
    }
}
