//! The default method: `C` = POD basis of the supervised solutions, `Φ` fitted to eq. (3) written in the
//! basis' coordinates.
//!
//! With orthonormal rows of `C`, the data term `‖Φ(p_j)C − G_j‖²_F` equals `‖Φ(p_j) − c_j‖²` plus a
//! constant (the projection residual), and the structure term `‖A(q)(Φ(q)C) − I‖²_F` is a quadratic form
//! in `Φ(q)`: `‖Lᵀ(Φ(q) − c*_q)‖² + r_q` with `LLᵀ = Q_q`, `Q_q[l,m] = ⟨A C_l, A C_m⟩`, `c*_q` its
//! least-squares minimiser and `r_q` the minimum. Both are built once per collocation point (one GEMM
//! `A(q)·[C_1 … C_d]`), after which an Adam step costs `O(N d²)` instead of `O(N n³)`: the loss is the
//! paper's, exactly, at a fraction of the price. The last layer of `Φ` enters the loss linearly and is
//! solved in closed form (least squares) once Adam is done. (Solving it at every refinement as well was
//! measured and rejected: the least-squares weights are large, and Adam steps on the hidden layers after
//! such a jump diverged — loss 1e-1 → 1e7 at n = 64.)

use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use std::time::Instant;

use super::general::General;
use super::{Ctx, Fit, StructureLoss, TrainConfig};
use crate::error::Result;
use crate::family::Family;
use crate::model::SineMlp;
use crate::op::{OpSpec, Operation};
use crate::sampling::{self, SamplePlan};

/// The structure term at one point as a quadratic form in the basis coordinates `c`:
/// `‖A(q)(cC) − T‖² = cᵀQc − 2bᵀc + tt` (`T = I`, or `Ω` for the sketch, scaled by `1/k`).
/// Kept whole so that the leading `d' × d'` block serves any smaller basis `C_1 … C_d'`.
#[derive(Debug, Clone)]
pub(super) struct Gram {
    pub d: usize,
    pub q: Vec<f64>,
    pub b: Vec<f64>,
    pub tt: f64,
}

/// A [`Gram`] solved for a basis of size `d`: `‖Lᵀ(c − c*)‖² + floor` with `LLᵀ = Q`.
#[derive(Debug, Clone)]
pub(super) struct Quad {
    /// `Lᵀ`, `d × d` row-major.
    pub lt: Vec<f64>,
    /// `c*`, the least-squares coefficients at this point.
    pub target: Vec<f64>,
    /// `min_c ‖A(q)(cC) − T‖²`: the smallest residual the basis allows here.
    pub floor: f64,
}

impl Gram {
    /// Solves the form restricted to the first `d` basis functions.
    pub fn solve(&self, d: usize) -> Quad {
        let full = self.d;
        let q = Mat::<f64>::from_fn(d, d, |i, j| self.q[i * full + j]);
        let b = &self.b[..d];
        let (llt, _) = ridge_llt(&q, 1e-14);
        let l = llt.L();
        let mut x = Mat::<f64>::from_fn(d, 1, |i, _| b[i]);
        llt.solve_in_place(x.as_mut());
        let target: Vec<f64> = (0..d).map(|i| x[(i, 0)]).collect();
        let floor = (self.tt - b.iter().zip(&target).map(|(u, v)| u * v).sum::<f64>()).max(0.0);
        let lt = (0..d * d).map(|idx| l[(idx % d, idx / d)]).collect();
        Quad { lt, target, floor }
    }
}

/// Cholesky factor of `q + ridge·I`, the ridge starting at `rel · mean diag(q)` (0 when `q` is already
/// positive definite) and growing until the factorisation succeeds. Returns the factor and the ridge.
pub(super) fn ridge_llt(q: &Mat<f64>, rel: f64) -> (faer::linalg::solvers::Llt<f64>, f64) {
    let d = q.nrows();
    let tr: f64 = (0..d).map(|i| q[(i, i)]).sum::<f64>() / d.max(1) as f64;
    let mut ridge = 0.0;
    loop {
        let mut qr = q.clone();
        for i in 0..d {
            qr[(i, i)] += ridge;
        }
        if let Ok(llt) = qr.llt(Side::Lower) {
            return (llt, ridge);
        }
        ridge = if ridge == 0.0 { rel * tr.max(f64::MIN_POSITIVE) } else { ridge * 100.0 };
    }
}

impl Quad {
    /// The form `‖J(c − target)‖² + floor` of a Gauss–Newton model with normal matrix `JᵀJ` (`d × d`).
    pub fn from_normal(jtj: &Mat<f64>, target: Vec<f64>, floor: f64) -> Self {
        let d = jtj.nrows();
        let (llt, _) = ridge_llt(jtj, 1e-14);
        let l = llt.L();
        Quad { lt: (0..d * d).map(|idx| l[(idx % d, idx / d)]).collect(), target, floor }
    }

    pub fn eval(&self, c: &[f64]) -> f64 {
        let d = c.len();
        let diff: Vec<f64> = c.iter().zip(&self.target).map(|(a, b)| a - b).collect();
        let mut s = 0.0;
        for l in 0..d {
            let row = &self.lt[l * d..(l + 1) * d];
            let v: f64 = row.iter().zip(&diff).map(|(a, b)| a * b).sum();
            s += v * v;
        }
        s + self.floor
    }
}

/// The basis and what the structure terms need of it.
struct Basis {
    n: usize,
    d: usize,
    /// `C`, `d × n²` row-major (row `l` is `C_l` row-major).
    latent: Vec<f64>,
    /// `[C_1 | … | C_d]`, `n × n·d` column-major.
    blocks: Vec<f64>,
    /// Gaussian probes `Ω`, `n × k` column-major.
    omega: Vec<f64>,
    /// `[C_1Ω | … | C_dΩ]`, `n × d·k` column-major.
    sketch: Vec<f64>,
    k: usize,
    /// Where the structure terms are computed: the CPU (faer, one GEMM per point on the thread pool) or
    /// a GPU (candle: one batched GEMM per chunk of points on cuBLAS).
    device: Device,
}

impl Basis {
    fn new(latent: Vec<f64>, n: usize, d: usize, k: usize, seed: u64, device: Device) -> Self {
        let nn = n * n;
        let mut blocks = vec![0.0; nn * d];
        for l in 0..d {
            let c = &latent[l * nn..(l + 1) * nn];
            let b = &mut blocks[l * nn..(l + 1) * nn];
            for r in 0..n {
                for col in 0..n {
                    b[r + col * n] = c[r * n + col];
                }
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0b5e_77e5);
        let omega: Vec<f64> = (0..n * k).map(|_| StandardNormal.sample(&mut rng)).collect();
        let mut sketch = vec![0.0; n * d * k];
        let om = MatRef::from_column_major_slice(&omega, n, k);
        sketch.par_chunks_mut(n * k).enumerate().for_each(|(l, out)| {
            let cl = MatRef::from_column_major_slice(&blocks[l * nn..(l + 1) * nn], n, n);
            faer::linalg::matmul::matmul(MatMut::from_column_major_slice_mut(out, n, k), Accum::Replace, cl, om, 1.0, Par::Seq);
        });
        Self { n, d, latent, blocks, omega, sketch, k, device }
    }

    /// The structure term of `A` (row-major `n × n`) in full or sketched form.
    fn gram(&self, a: &[f64], form: StructureLoss) -> Gram {
        let (n, d) = (self.n, self.d);
        let a = MatRef::from_row_major_slice(a, n, n);
        match form {
            StructureLoss::Full => {
                let mut y = vec![0.0; n * n * d];
                faer::linalg::matmul::matmul(
                    MatMut::from_column_major_slice_mut(&mut y, n, n * d),
                    Accum::Replace,
                    a,
                    MatRef::from_column_major_slice(&self.blocks, n, n * d),
                    1.0,
                    Par::Seq,
                );
                let b: Vec<f64> = (0..d).map(|l| (0..n).map(|i| y[l * n * n + i + i * n]).sum()).collect();
                gram(&y, n * n, d, b, n as f64, 1.0)
            }
            StructureLoss::Sketch => {
                let k = self.k;
                let mut y = vec![0.0; n * k * d];
                faer::linalg::matmul::matmul(
                    MatMut::from_column_major_slice_mut(&mut y, n, k * d),
                    Accum::Replace,
                    a,
                    MatRef::from_column_major_slice(&self.sketch, n, k * d),
                    1.0,
                    Par::Seq,
                );
                let ym = MatRef::from_column_major_slice(&y, n * k, d);
                let t = MatRef::from_column_major_slice(&self.omega, n * k, 1);
                let mut b = Mat::<f64>::zeros(d, 1);
                faer::linalg::matmul::matmul(b.as_mut(), Accum::Replace, ym.transpose(), t, 1.0, Par::Seq);
                let tt: f64 = self.omega.iter().map(|x| x * x).sum();
                gram(&y, n * k, d, (0..d).map(|l| b[(l, 0)]).collect(), tt, 1.0 / k as f64)
            }
        }
    }

    /// Structure terms of a batch of parameters, in parallel, building `A(p)` in chunks.
    fn grams(&self, family: &Family, params: &[f64], form: StructureLoss) -> Result<Vec<Gram>> {
        let k = family.param_dim();
        let mut out = Vec::with_capacity(params.len() / k);
        if !self.device.is_cpu() {
            let tensors = self.device_tensors(form)?;
            for chunk in params.chunks(self.device_chunk(form) * k) {
                out.extend(self.grams_on_device(&family.at(chunk)?, form, &tensors)?);
            }
            return Ok(out);
        }
        for chunk in params.chunks(64 * k) {
            let a = family.at(chunk)?;
            out.par_extend((0..a.batch).into_par_iter().map(|i| self.gram(a.matrix(i), form)));
        }
        Ok(out)
    }

    /// Points per batched GEMM on the device: `Y` and its transposed copy take `2·8·n·n·d` bytes per point
    /// in full form (`2·8·n·k·d` sketched); a chunk keeps them under 4 GiB.
    fn device_chunk(&self, form: StructureLoss) -> usize {
        ((4usize << 30) / (16 * self.n * self.target_cols(form) * self.d).max(1)).clamp(1, 256)
    }

    /// Columns of the target `I` (`n`) or `Ω` (`k`).
    fn target_cols(&self, form: StructureLoss) -> usize {
        match form {
            StructureLoss::Full => self.n,
            StructureLoss::Sketch => self.k,
        }
    }

    /// The basis on the device: `rhs` (`n × d·c`, row `i` holding `[C_1 X]_i … [C_d X]_i` with `X = I`
    /// or `Ω`, `c = n` or `k`), and the right-hand side of `b`: the `d × n²` rows `C_lᵀ` (full: `b_l =
    /// tr(A C_l) = ⟨A, C_lᵀ⟩`) or `Ω` as an `n·k` column (sketch: `b_l = ⟨A C_l Ω, Ω⟩`).
    fn device_tensors(&self, form: StructureLoss) -> Result<(Tensor, Tensor)> {
        let (n, d, k, dev) = (self.n, self.d, self.k, &self.device);
        Ok(match form {
            StructureLoss::Full => {
                let rhs =
                    Tensor::from_slice(&self.latent[..d * n * n], (d, n, n), dev)?.transpose(0, 1)?.contiguous()?.reshape((n, d * n))?;
                // `blocks` holds C_l column-major, i.e. C_lᵀ row-major, one per row.
                let ct = Tensor::from_slice(&self.blocks[..d * n * n], (d, n * n), dev)?;
                (rhs, ct)
            }
            StructureLoss::Sketch => {
                // `sketch` holds C_lΩ column-major: as (d, k, n) row-major, permuted to (n, d, k).
                let rhs =
                    Tensor::from_slice(&self.sketch[..d * n * k], (d, k, n), dev)?.permute((2, 0, 1))?.contiguous()?.reshape((n, d * k))?;
                let om = Tensor::from_slice(&self.omega, (k, n), dev)?.t()?.contiguous()?.reshape((n * k, 1))?;
                (rhs, om)
            }
        })
    }

    /// [`Basis::gram`] of every matrix of `a` at once on the device: `Y = A·rhs` as one `(B·n) × n × d·c`
    /// GEMM, then `Q = Y Yᵀ` batched, `b` as one more product. Only `Q` and `b` come back to the host.
    fn grams_on_device(&self, a: &crate::matrix::MatrixBatch, form: StructureLoss, (rhs, second): &(Tensor, Tensor)) -> Result<Vec<Gram>> {
        let (n, d, batch) = (self.n, self.d, a.batch);
        let at = Tensor::from_slice(&a.data, (batch * n, n), &self.device)?;
        let cols = self.target_cols(form);
        let y = at.matmul(rhs)?.reshape((batch, n, d, cols))?.transpose(1, 2)?.contiguous()?.reshape((batch, d, n * cols))?;
        let q = y.matmul(&y.transpose(1, 2)?)?;
        let (b, tt, scale) = match form {
            StructureLoss::Full => (at.reshape((batch, n * n))?.matmul(&second.t()?)?, n as f64, 1.0),
            StructureLoss::Sketch => {
                let tt: f64 = self.omega.iter().map(|x| x * x).sum();
                (y.reshape((batch * d, n * cols))?.matmul(second)?.reshape((batch, d))?, tt, 1.0 / self.k as f64)
            }
        };
        let q: Vec<Vec<Vec<f64>>> = q.to_vec3()?;
        let b: Vec<Vec<f64>> = b.to_vec2()?;
        Ok(q.into_iter()
            .zip(b)
            .map(|(q, b)| Gram {
                d,
                q: q.into_iter().flatten().map(|v| v * scale).collect(),
                b: b.into_iter().map(|v| v * scale).collect(),
                tt: tt * scale,
            })
            .collect())
    }

    /// Structure terms solved for the whole basis.
    fn quads(&self, family: &Family, params: &[f64], form: StructureLoss) -> Result<Vec<Quad>> {
        Ok(self.grams(family, params, form)?.iter().map(|g| g.solve(self.d)).collect())
    }

    /// Keeps the first `d` basis functions.
    fn truncate(&mut self, d: usize) {
        let (n, k) = (self.n, self.k);
        self.latent.truncate(d * n * n);
        self.blocks.truncate(d * n * n);
        self.sketch.truncate(d * n * k);
        self.d = d;
    }
}

/// From `Y` (`rows × d`, column-major), `b = Yᵀt` and `‖t‖²`, the form `scale·‖Yc − t‖²`.
fn gram(y: &[f64], rows: usize, d: usize, b: Vec<f64>, tt: f64, scale: f64) -> Gram {
    let ym = MatRef::from_column_major_slice(y, rows, d);
    let mut q = Mat::<f64>::zeros(d, d);
    faer::linalg::matmul::matmul(q.as_mut(), Accum::Replace, ym.transpose(), ym, scale, Par::Seq);
    Gram { d, q: (0..d * d).map(|i| q[(i / d, i % d)]).collect(), b: b.into_iter().map(|v| v * scale).collect(), tt: tt * scale }
}

/// Training tensors of one run (f64, CPU), rebuilt when collocation points are added.
struct Batch {
    /// Normalised parameters, supervised then collocation: `(N_s + N_c) × k`.
    x: Tensor,
    ns: usize,
    nc: usize,
    /// Supervised targets in normalised coordinates `z = (c − m)/s`: `N_s × d`.
    zs: Tensor,
    /// `s²`, `1 × d`.
    weight: Tensor,
    /// Collocation targets `z*`: `N_c × d`.
    zc: Tensor,
    /// `Lᵀ diag(s)`: `N_c × d × d`.
    b: Tensor,
    /// Mean of the collocation floors.
    floor: f64,
}

struct Problem<'a> {
    cfg: &'a TrainConfig,
    k: usize,
    d: usize,
    /// Output normalisation `c = z ⊙ s + m`.
    mean: Vec<f64>,
    scale: Vec<f64>,
    xs: Vec<f64>,
    zs: Vec<f64>,
    xc: Vec<f64>,
    quads: Vec<Quad>,
    /// Where the Adam loop runs (its tensors, `Φ`'s weights and the optimizer state stay there).
    dev: Device,
}

impl Problem<'_> {
    fn batch(&self) -> Result<Batch> {
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
    fn loss(&self, layers: &[(Tensor, Tensor)], batch: &Batch) -> Result<(Tensor, Tensor, Tensor)> {
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
    fn solve_last_layer(&self, vars: &[(Var, Var)], batch: &Batch) -> Result<bool> {
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
    fn coefficients(&self, layers: &[(Tensor, Tensor)], x: &[f64]) -> Result<Vec<Vec<f64>>> {
        let xt = Tensor::from_vec(x.to_vec(), (x.len() / self.k, self.k), &self.dev)?;
        let z: Vec<Vec<f64>> = crate::model::mlp_forward(layers, self.cfg.omega, self.cfg.activation, &xt)?.to_vec2()?;
        Ok(z.into_iter().map(|row| row.iter().enumerate().map(|(l, v)| v * self.scale[l] + self.mean[l]).collect()).collect())
    }
}

/// `(C (d × m), coefficients (N × d), d, singular values)`.
type PodBasis = (Vec<f64>, Vec<f64>, usize, Vec<f64>);

/// POD basis of the snapshots `G_j` (rows of `g`, `m` values each): `(C (d × m), coefficients (N × d), d,
/// singular values)`, with `d` from `latentDim` or the tail-energy tolerance `latentTol`.
fn pod_basis(g: &[f64], m: usize, count: usize, cfg: &TrainConfig) -> Result<PodBasis> {
    let s = MatRef::from_column_major_slice(g, m, count);
    let svd = s.thin_svd().map_err(|_| crate::error::Error::NoConvergence { op: "pod basis (svd)", iters: 0 })?;
    let rank = m.min(count);
    let sig: Vec<f64> = (0..rank).map(|i| svd.S()[i]).collect();
    let total: f64 = sig.iter().map(|v| v * v).sum();
    let tail_after = |d: usize| sig[d..].iter().map(|v| v * v).sum::<f64>() / total;
    let d = match cfg.latent_dim {
        Some(d) => d.min(rank),
        None => (1..=rank).find(|&d| tail_after(d) <= cfg.latent_tol).unwrap_or(rank),
    };
    let d = d.min((0..rank).filter(|&i| sig[i] > sig[0] * 1e-13).count().max(1));
    let u = svd.U();
    let mut latent = vec![0.0; d * m];
    for l in 0..d {
        for i in 0..m {
            latent[l * m + i] = u[(i, l)];
        }
    }
    let v = svd.V();
    let coef: Vec<f64> = (0..count).flat_map(|j| (0..d).map(|l| sig[l] * v[(j, l)]).collect::<Vec<_>>()).collect();
    Ok((latent, coef, d, sig))
}

/// The structure terms of the run: the inverse's exact (sketched) Gram forms, or the Gauss–Newton forms
/// of any other operation.
enum Terms {
    Inverse {
        basis: Basis,
        form: StructureLoss,
        cand_quads: Vec<Quad>,
    },
    /// Gauss–Newton forms, started at the nearest supervised sample's coefficients (normalised
    /// supervised parameters, their coefficients `ns × d`): the model's own prediction is a worse start
    /// early in training, and LM from it can land on another branch (flipped signs) of the decomposition.
    General {
        general: General,
        anchors: Vec<f64>,
        coef: Vec<f64>,
    },
    /// `solve` on a sparse affine family: reduced least-squares forms from precomputed cross products.
    Sparse {
        basis: super::sparse::SparseBasis,
        d: usize,
        cand_quads: Vec<Quad>,
    },
}

impl Terms {
    /// Failure scores `‖R(q)‖²` (relative-error units) of the current model at the candidates.
    fn scores(&self, family: &Family, cand_params: &[f64], coefs: &[Vec<f64>]) -> Result<Vec<f64>> {
        match self {
            Terms::Inverse { basis, cand_quads, .. } => Ok(cand_quads.iter().zip(coefs).map(|(q, c)| q.eval(c) / basis.n as f64).collect()),
            Terms::General { general, .. } => general.scores(family, cand_params, coefs),
            // Squared relative residuals `‖Ax − b‖²/‖b‖²`, the units of the general solve's scores.
            Terms::Sparse { cand_quads, .. } => Ok(cand_quads.iter().zip(coefs).map(|(q, c)| q.eval(c)).collect()),
        }
    }

    /// Structure terms at new collocation points.
    fn quads(&self, family: &Family, params: &[f64]) -> Result<Vec<Quad>> {
        match self {
            Terms::Inverse { basis, form, .. } => basis.quads(family, params, *form),
            Terms::General { general, anchors, coef } => {
                let d = general.d;
                let k = family.param_dim();
                let starts: Vec<Vec<f64>> = super::general::nearest(&family.domain().normalize(params), anchors, k)
                    .into_iter()
                    .map(|j| coef[j * d..(j + 1) * d].to_vec())
                    .collect();
                general.quads(family, params, &starts, d)
            }
            Terms::Sparse { basis, d, .. } => Ok(basis.quads(params, *d)),
        }
    }

    /// Drops the candidates that became collocation points.
    fn retain_candidates(&mut self, keep: &[bool]) {
        if let Terms::Inverse { cand_quads, .. } | Terms::Sparse { cand_quads, .. } = self {
            let mut it = keep.iter();
            cand_quads.retain(|_| *it.next().expect("same length"));
        }
    }

    fn into_latent(self) -> Vec<f64> {
        match self {
            Terms::Inverse { basis, .. } => basis.latent,
            Terms::General { general, .. } => general.latent,
            Terms::Sparse { basis, .. } => basis.latent,
        }
    }
}

/// What the basis stage hands to the optimiser.
struct Stage {
    terms: Terms,
    d: usize,
    /// Supervised parameters (after basis refinement) and their coefficients (`ns × d`).
    supervised: Vec<f64>,
    coef: Vec<f64>,
    /// Structure terms at the initial collocation points.
    quads: Vec<Quad>,
    cand_params: Vec<f64>,
}

/// Records the snapshot singular values and warns, before the optimiser runs, when their decay says the
/// accuracy asked for needs a latent dimension near the number of samples: the family then has little
/// low-rank structure along `p` over this domain, and no basis built from these samples can be accurate
/// away from them. The tail energy `Σ_{i≥d} σᵢ² / Σ σᵢ²` of the first `d` modes stands for the relative
/// error of the best `d`-mode fit.
fn check_decay(sig: &[f64], ns: usize, cfg: &TrainConfig, ctx: &mut Ctx) {
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
fn smallest_d(d_max: usize, target: f64, mut floor_of: impl FnMut(usize) -> Result<f64>) -> Result<usize> {
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

/// The inverse: POD basis of the supervised inverses, exact (sketched) Gram forms.
fn inverse_stage(family: &Family, plan: &SamplePlan, g_s: &[f64], cfg: &TrainConfig, ctx: &mut Ctx) -> Result<Stage> {
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
        ctx.phase("basis")?;
        let (latent, coef, d_max, sig) = pod_basis(&g_s, m, ns, cfg)?;
        ctx.phase("collocation")?;
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
    let d = match cfg.latent_dim {
        Some(_) => d_max,
        None if grams.is_empty() => d_max,
        None => smallest_d(d_max, 0.1 * cfg.accuracy, floor_of)?,
    };
    basis.truncate(d);
    let quads: Vec<Quad> = grams.iter().map(|g| g.solve(d)).collect();
    ctx.report.basis_tail = sig[d..].iter().map(|v| v * v).sum::<f64>() / sig.iter().map(|v| v * v).sum::<f64>();
    ctx.report.basis_floor = if quads.is_empty() { None } else { Some(floor_of(d)?) };
    let coef: Vec<f64> = (0..ns).flat_map(|j| coef[j * d_max..j * d_max + d].to_vec()).collect();
    let cand_quads = basis.quads(family, &cand_params, StructureLoss::Sketch)?;
    ctx.report.collocation_seconds = t.elapsed().as_secs_f64();
    Ok(Stage { terms: Terms::Inverse { basis, form: cfg.structure_loss, cand_quads }, d, supervised, coef, quads, cand_params })
}

/// `solve` on a sparse affine family: POD basis of the supervised solutions, reduced least-squares forms
/// (see [`super::sparse`]); the basis is refined with exact sparse solves where its floor is too high.
fn sparse_stage(
    op: &crate::sparse::AdrFamily,
    spec: &OpSpec,
    plan: &SamplePlan,
    g_s: &[f64],
    cfg: &TrainConfig,
    ctx: &mut Ctx,
) -> Result<Stage> {
    let n = op.n();
    let rhs = spec.rhs.as_deref().unwrap_or(op.rhs());
    let mut supervised = plan.supervised.clone();
    let mut g_s = g_s.to_vec();
    let mut cand_params = plan.candidates.clone();
    let mut exact_budget = if cfg.latent_dim.is_some() { 0 } else { cfg.sampling.enrich };
    let (mut basis, coef, d_max, sig, ns) = loop {
        let ns = supervised.len();
        ctx.phase("basis")?;
        let (latent, coef, d_max, sig) = pod_basis(&g_s, n, ns, cfg)?;
        ctx.phase("collocation")?;
        let basis = super::sparse::SparseBasis::new(op, latent, d_max, rhs);
        ctx.check_cancel()?;
        if exact_budget == 0 || cand_params.len() <= 1 {
            break (basis, coef, d_max, sig, ns);
        }
        let floors: Vec<f64> = basis.quads(&cand_params, d_max).iter().map(|q| q.floor).collect();
        match enrich_with(1, &floors, &mut cand_params, &mut exact_budget, cfg, ctx, &mut |added, _| super::sparse::exact(op, added, rhs))?
        {
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
    let d = match cfg.latent_dim {
        Some(_) => d_max,
        None if collocation.is_empty() => d_max,
        None => smallest_d(d_max, 0.1 * cfg.accuracy, floor_of)?,
    };
    let basis_floor = if collocation.is_empty() { None } else { Some(floor_of(d)?) };
    basis.truncate(d);
    let quads = basis.quads(collocation, d);
    ctx.report.basis_tail = sig[d..].iter().map(|v| v * v).sum::<f64>() / sig.iter().map(|v| v * v).sum::<f64>();
    ctx.report.basis_floor = basis_floor;
    let coef: Vec<f64> = (0..ns).flat_map(|j| coef[j * d_max..j * d_max + d].to_vec()).collect();
    let cand_quads = basis.quads(&cand_params, d);
    ctx.report.collocation_seconds = t.elapsed().as_secs_f64();
    Ok(Stage { terms: Terms::Sparse { basis, d, cand_quads }, d, supervised, coef, quads, cand_params })
}

/// Basis refinement step shared by the stages: when at least `failureTol` of the candidates have a
/// basis floor above a tenth of the accuracy, solve exactly at the worst `add` of them (within the
/// budget), drop them from the candidates and return them with their exact results.
fn enrich(
    family: &Family,
    spec: &OpSpec,
    floors: &[f64],
    cand_params: &mut Vec<f64>,
    budget: &mut usize,
    cfg: &TrainConfig,
    ctx: &mut Ctx,
) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
    let k = family.param_dim();
    enrich_with(k, floors, cand_params, budget, cfg, ctx, &mut |added, ctx| {
        let a = family.at(added)?;
        let g_new = super::exact_solutions(spec, &a, added, k)?;
        if spec.op == Operation::Inverse {
            super::check_conditioning(&a, &g_new, added, k, cfg, ctx)?;
        }
        Ok(g_new)
    })
}

/// An exact solver for [`enrich_with`]: parameters → joint exact results.
pub(super) type ExactSolver<'a> = dyn FnMut(&[f64], &mut Ctx) -> Result<Vec<f64>> + 'a;

/// [`enrich`] with the exact solver `solve`.
pub(super) fn enrich_with(
    k: usize,
    floors: &[f64],
    cand_params: &mut Vec<f64>,
    budget: &mut usize,
    cfg: &TrainConfig,
    ctx: &mut Ctx,
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
fn general_stage(family: &Family, spec: &OpSpec, plan: &SamplePlan, g_s: &[f64], cfg: &TrainConfig, ctx: &mut Ctx) -> Result<Stage> {
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
        super::general::nearest(&domain.normalize(params), &domain.normalize(supervised), k)
            .into_iter()
            .map(|j| coef[j * d..(j + 1) * d].to_vec())
            .collect()
    };
    let (mut terms_g, coef, d_max, sig, ns, starts) = loop {
        let ns = supervised.len() / k;
        ctx.phase("basis")?;
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
        ctx.phase("collocation")?;
        let terms_g = General::new(spec.clone(), latent, d_max, cfg.probes, cfg.seed, gscale);
        let starts = starts_for(collocation, &supervised, &coef, d_max);
        ctx.check_cancel()?;
        if exact_budget == 0 || cand_params.len() / k <= 1 {
            break (terms_g, coef, d_max, sig, ns, starts);
        }
        let cand_starts = starts_for(&cand_params, &supervised, &coef, d_max);
        let floors: Vec<f64> = terms_g.quads(family, &cand_params, &cand_starts, d_max)?.iter().map(|q| q.floor).collect();
        match enrich(family, spec, &floors, &mut cand_params, &mut exact_budget, cfg, ctx)? {
            Some((added, g_new)) => {
                let g_new = super::align_to(spec, &supervised, &g_s, &added, g_new, domain);
                supervised.extend_from_slice(&added);
                g_s.extend_from_slice(&g_new);
            }
            None => break (terms_g, coef, d_max, sig, ns, starts),
        }
    };
    check_decay(&sig, ns, cfg, ctx);
    let t = Instant::now();
    let cut = |d: usize| -> Vec<Vec<f64>> { starts.iter().map(|s| s[..d].to_vec()).collect() };
    let tail = |d: usize| sig[d..].iter().map(|v| v * v).sum::<f64>() / sig.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE);
    let floor_of = |d: usize| -> Result<f64> {
        ctx.check_cancel()?;
        let q = terms_g.quads(family, collocation, &cut(d), d)?;
        Ok(q.iter().map(|q| q.floor).sum::<f64>() / q.len().max(1) as f64)
    };
    let d = match cfg.latent_dim {
        Some(_) => d_max,
        // The commutator `AG − GA` vanishes on every polynomial in `A` (and at G = 0): its floor cannot
        // tell how many basis functions expm needs, so the tail energy of the snapshots does.
        None if spec.op == Operation::Expm => (1..=d_max).find(|&d| tail(d) <= 0.1 * cfg.accuracy).unwrap_or(d_max),
        None if collocation.is_empty() => d_max,
        None => smallest_d(d_max, 0.1 * cfg.accuracy, floor_of)?,
    };
    terms_g.truncate(d);
    let quads = terms_g.quads(family, collocation, &cut(d), d)?;
    ctx.report.basis_tail = sig[d..].iter().map(|v| v * v).sum::<f64>() / sig.iter().map(|v| v * v).sum::<f64>();
    ctx.report.basis_floor = if quads.is_empty() { None } else { Some(quads.iter().map(|q| q.floor).sum::<f64>() / quads.len() as f64) };
    let coef: Vec<f64> = (0..ns).flat_map(|j| coef[j * d_max..j * d_max + d].to_vec()).collect();
    ctx.report.collocation_seconds = t.elapsed().as_secs_f64();
    let anchors = domain.normalize(&supervised);
    Ok(Stage { terms: Terms::General { general: terms_g, anchors, coef: coef.clone() }, d, supervised, coef, quads, cand_params })
}

pub(crate) fn fit(family: &Family, spec: &OpSpec, plan: &SamplePlan, g_s: &[f64], cfg: &TrainConfig, ctx: &mut Ctx) -> Result<Fit> {
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
    let init = SineMlp::init(&widths, cfg.omega, cfg.activation, cfg.seed)?.to(&dev, candle_core::DType::F64)?;
    let vars = init.vars()?;
    let layers = |vars: &[(Var, Var)]| -> Vec<(Tensor, Tensor)> {
        vars.iter().map(|(w, b)| (w.as_tensor().clone(), b.as_tensor().clone())).collect()
    };
    // Plain Adam: candle-nn's AdamW with weight_decay 0 (its default of 0.01 is not Adam).
    let params = ParamsAdamW { lr: cfg.learning_rate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 };
    let mut opt = AdamW::new(vars.iter().flat_map(|(w, b)| [w.clone(), b.clone()]).collect(), params)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xada9);

    ctx.phase("optimize")?;
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
            ctx.phase("refine")?;
            ctx.progress.phase = "optimize";
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
    if !scores.is_empty() {
        ctx.report.failure_prob = Some(sampling::refine(&scores, &cfg.sampling, &mut rng).failure_prob);
    }
    ctx.report.optimize_seconds = t.elapsed().as_secs_f64();
    ctx.report.steps = step;
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
    let mlp = SineMlp {
        layers: trained.into_iter().map(|(w, b)| Ok((w.copy()?, b.copy()?))).collect::<Result<Vec<_>>>()?,
        omega: cfg.omega,
        activation: cfg.activation,
    };
    Ok(Fit { mlp, latent: terms.into_latent(), latent_dim: d })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Family;
    use crate::family::SyntheticConfig;

    fn small_basis(n: usize, d: usize) -> (Family, Basis) {
        let fam = Family::synthetic(SyntheticConfig { n, rank: 3, seed: 5, ..Default::default() }).unwrap();
        let p: Vec<f64> = (0..d).map(|i| (i as f64 + 0.5) / d as f64).collect();
        let a = fam.at(&p).unwrap();
        let mut g = vec![0.0; a.data.len()];
        for i in 0..d {
            crate::linalg::inverse_matrix(a.matrix(i), n, &mut g[i * n * n..(i + 1) * n * n], Par::Seq).unwrap();
        }
        let cfg = TrainConfig { latent_dim: Some(d), ..Default::default() };
        let (latent, _, dd, _) = pod_basis(&g, n * n, d, &cfg).unwrap();
        (fam, Basis::new(latent, n, dd, 4, 1, Device::Cpu))
    }

    /// ‖A(cC) − I‖²_F computed directly.
    fn direct_residual(a: &[f64], basis: &Basis, c: &[f64]) -> f64 {
        let n = basis.n;
        let g: Vec<f64> = (0..n * n).map(|i| (0..basis.d).map(|l| c[l] * basis.latent[l * n * n + i]).sum()).collect();
        let mut s = 0.0;
        for r in 0..n {
            for col in 0..n {
                let v: f64 = (0..n).map(|j| a[r * n + j] * g[j * n + col]).sum::<f64>() - if r == col { 1.0 } else { 0.0 };
                s += v * v;
            }
        }
        s
    }

    #[test]
    fn quadratic_form_equals_the_direct_residual() {
        let (fam, basis) = small_basis(6, 5);
        let a = fam.at(&[0.37]).unwrap();
        let quad = basis.gram(&a.data, StructureLoss::Full).solve(basis.d);
        for c in [vec![0.1, -0.2, 0.3, 0.05, 1.0], vec![0.0; 5], quad.target.clone()] {
            let direct = direct_residual(&a.data, &basis, &c);
            assert!((quad.eval(&c) - direct).abs() <= 1e-9 * direct.max(1.0), "{} vs {}", quad.eval(&c), direct);
        }
        // The floor is the minimum: any other coefficients do worse.
        let mut c = quad.target.clone();
        c[0] += 1e-3;
        assert!(direct_residual(&a.data, &basis, &c) > quad.floor);
    }

    /// The batched device path (run here through candle's CPU backend, on a GPU through cuBLAS) gives the
    /// same structure terms as the per-point faer path, in full and sketched form, also after truncation.
    #[test]
    fn batched_device_grams_match_the_host_path() {
        let (fam, mut basis) = small_basis(7, 5);
        let params = [0.05, 0.37, 0.61, 0.93];
        let a = fam.at(&params).unwrap();
        for truncate in [None, Some(3)] {
            if let Some(d) = truncate {
                basis.truncate(d);
            }
            for form in [StructureLoss::Full, StructureLoss::Sketch] {
                let tensors = basis.device_tensors(form).unwrap();
                let dev = basis.grams_on_device(&a, form, &tensors).unwrap();
                assert_eq!(dev.len(), params.len());
                for (i, g) in dev.iter().enumerate() {
                    let host = basis.gram(a.matrix(i), form);
                    let scale = host.q.iter().fold(host.tt.abs(), |m, v| m.max(v.abs()));
                    let close = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(u, v)| (u - v).abs() <= 1e-12 * scale);
                    assert_eq!((g.d, g.q.len(), g.b.len()), (host.d, host.q.len(), host.b.len()));
                    assert!(close(&g.q, &host.q) && close(&g.b, &host.b), "{form:?} {truncate:?} point {i}");
                    assert!((g.tt - host.tt).abs() <= 1e-12 * scale);
                }
            }
        }
        assert!(basis.device_chunk(StructureLoss::Full) >= 1);
    }

    #[test]
    fn leading_block_solves_the_smaller_basis() {
        let (fam, mut basis) = small_basis(6, 5);
        let a = fam.at(&[0.61]).unwrap();
        let from_big = basis.gram(&a.data, StructureLoss::Full).solve(3);
        basis.truncate(3);
        let direct = basis.gram(&a.data, StructureLoss::Full).solve(3);
        assert!((from_big.floor - direct.floor).abs() <= 1e-10 * direct.floor.max(1.0));
        for (x, y) in from_big.target.iter().zip(&direct.target) {
            assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0));
        }
    }

    #[test]
    fn sketch_is_unbiased_on_average() {
        let (fam, basis) = small_basis(6, 5);
        let a = fam.at(&[0.2]).unwrap();
        let c = vec![0.3, -0.1, 0.2, 0.0, 0.5];
        let direct = direct_residual(&a.data, &basis, &c);
        let mut mean = 0.0;
        let trials = 400;
        for seed in 0..trials {
            let b = Basis::new(basis.latent.clone(), basis.n, basis.d, 4, seed, Device::Cpu);
            mean += b.gram(&a.data, StructureLoss::Sketch).solve(b.d).eval(&c) / trials as f64;
        }
        assert!((mean - direct).abs() < 0.1 * direct, "sketch mean {mean} vs exact {direct}");
    }

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
        let mlp = SineMlp::init(&[1, 6, 5, d], cfg.omega, cfg.activation, 3).unwrap();
        let vars = mlp.vars().unwrap();
        let layers =
            |v: &[(Var, Var)]| -> Vec<(Tensor, Tensor)> { v.iter().map(|(w, b)| (w.as_tensor().clone(), b.as_tensor().clone())).collect() };
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
        let vars = SineMlp::init(&[1, 8, d], cfg.omega, cfg.activation, 9).unwrap().vars().unwrap();
        let layers =
            |v: &[(Var, Var)]| -> Vec<(Tensor, Tensor)> { v.iter().map(|(w, b)| (w.as_tensor().clone(), b.as_tensor().clone())).collect() };
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
