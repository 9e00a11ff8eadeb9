//! The POD basis `C` of the supervised results and what the structure terms need of it.

use candle_core::{Device, Tensor};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::Result;
use crate::family::Family;
use crate::linalg::gaussian;
use crate::train::config::{StructureLoss, TrainConfig};
use crate::train::quad::{FactoredForm, QuadForm};

use crate::train::quad::gram;

/// The basis and what the structure terms need of it.
pub(super) struct Basis {
    pub(super) n: usize,
    pub(super) d: usize,
    /// `C`, `d × n²` row-major (row `l` is `C_l` row-major).
    pub(super) latent: Vec<f64>,
    /// `[C_1 | … | C_d]`, `n × n·d` column-major.
    pub(super) blocks: Vec<f64>,
    /// Gaussian probes `Ω`, `n × k` column-major.
    pub(super) omega: Vec<f64>,
    /// `[C_1Ω | … | C_dΩ]`, `n × d·k` column-major.
    pub(super) sketch: Vec<f64>,
    pub(super) k: usize,
    /// Where the structure terms are computed: the CPU (faer, one GEMM per point on the thread pool) or
    /// a GPU (candle: one batched GEMM per chunk of points on cuBLAS).
    pub(super) device: Device,
}

impl Basis {
    pub(super) fn new(latent: Vec<f64>, n: usize, d: usize, k: usize, seed: u64, device: Device) -> Self {
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
        let omega = gaussian(&mut rng, n * k);
        let mut sketch = vec![0.0; n * d * k];
        let om = MatRef::from_column_major_slice(&omega, n, k);
        sketch.par_chunks_mut(n * k).enumerate().for_each(|(l, out)| {
            let cl = MatRef::from_column_major_slice(&blocks[l * nn..(l + 1) * nn], n, n);
            faer::linalg::matmul::matmul(MatMut::from_column_major_slice_mut(out, n, k), Accum::Replace, cl, om, 1.0, Par::Seq);
        });
        Self { n, d, latent, blocks, omega, sketch, k, device }
    }

    /// The structure term of `A` (row-major `n × n`) in full or sketched form.
    pub(super) fn gram(&self, a: &[f64], form: StructureLoss) -> QuadForm {
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
    pub(super) fn grams(&self, family: &Family, params: &[f64], form: StructureLoss) -> Result<Vec<QuadForm>> {
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
    pub(super) fn device_chunk(&self, form: StructureLoss) -> usize {
        ((4usize << 30) / (16 * self.n * self.target_cols(form) * self.d).max(1)).clamp(1, 256)
    }

    /// Columns of the target `I` (`n`) or `Ω` (`k`).
    pub(super) fn target_cols(&self, form: StructureLoss) -> usize {
        match form {
            StructureLoss::Full => self.n,
            StructureLoss::Sketch => self.k,
        }
    }

    /// The basis on the device: `rhs` (`n × d·c`, row `i` holding `[C_1 X]_i … [C_d X]_i` with `X = I`
    /// or `Ω`, `c = n` or `k`), and the right-hand side of `b`: the `d × n²` rows `C_lᵀ` (full: `b_l =
    /// tr(A C_l) = ⟨A, C_lᵀ⟩`) or `Ω` as an `n·k` column (sketch: `b_l = ⟨A C_l Ω, Ω⟩`).
    pub(super) fn device_tensors(&self, form: StructureLoss) -> Result<(Tensor, Tensor)> {
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
    pub(super) fn grams_on_device(
        &self,
        a: &crate::matrix::MatrixBatch,
        form: StructureLoss,
        (rhs, second): &(Tensor, Tensor),
    ) -> Result<Vec<QuadForm>> {
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
            .map(|(q, b)| QuadForm {
                d,
                q: q.into_iter().flatten().map(|v| v * scale).collect(),
                b: b.into_iter().map(|v| v * scale).collect(),
                tt: tt * scale,
            })
            .collect())
    }

    /// Structure terms solved for the whole basis.
    pub(super) fn quads(&self, family: &Family, params: &[f64], form: StructureLoss) -> Result<Vec<FactoredForm>> {
        Ok(self.grams(family, params, form)?.iter().map(|g| g.solve(self.d)).collect())
    }

    /// Keeps the first `d` basis functions.
    pub(super) fn truncate(&mut self, d: usize) {
        let (n, k) = (self.n, self.k);
        self.latent.truncate(d * n * n);
        self.blocks.truncate(d * n * n);
        self.sketch.truncate(d * n * k);
        self.d = d;
    }
}

/// `(C (d × m), coefficients (N × d), d, singular values)`.
pub(super) type PodBasis = (Vec<f64>, Vec<f64>, usize, Vec<f64>);

/// POD basis of the snapshots `G_j` (rows of `g`, `m` values each): `(C (d × m), coefficients (N × d), d,
/// singular values)`, with `d` from `latentDim` or the tail-energy tolerance `latentTol`.
pub(super) fn pod_basis(g: &[f64], m: usize, count: usize, cfg: &TrainConfig) -> Result<PodBasis> {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::family::Family;
    use crate::family::SyntheticConfig;
    use crate::train::config::StructureLoss;
    use faer::Par;

    /// A synthetic family of order `n` and the POD basis of `d` of its exact inverses.
    pub(in crate::train) fn small_basis(n: usize, d: usize) -> (Family, Basis) {
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
}
