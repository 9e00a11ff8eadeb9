//! The matrix exponential: scaling and squaring with Padé approximants, Al-Mohy & Higham (2009),
//! Algorithm 5.1, on one row-major matrix (the batched entry points are in `decomp.rs`).

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::{factor as lu_factor, solve as lu_solve};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use super::inverse::is_singular;
use crate::error::{Error, Result};

pub(super) fn expm_into(a: &[f64], n: usize, out: &mut [f64], par: Par) -> Result<()> {
    // Row-major A read column-major is B = Aᵀ, and exp(Aᵀ) = exp(A)ᵀ: the algorithm runs on B (its
    // 1-norms are A's ∞-norms, an equally valid choice for the backward-error bounds) and B's
    // column-major exponential is exp(A) row-major.
    let b = MatRef::from_column_major_slice(a, n, n);
    let norm_b = norm1(b);
    let (mut x, s) = if norm_b == 0.0 { (Mat::identity(n, n), 0) } else { pade_scaled(a, b, norm_b, par)? };
    // For a triangular B the diagonal of exp(2^(k−s) B) is exp(2^(k−s) b_ii): put it back exactly after
    // every squaring, as Al-Mohy & Higham do (a diagonal matrix then comes out exact).
    let triangular = is_triangular(a, n);
    let exact_diagonal = |x: &mut Mat<f64>, k: i32| {
        if triangular {
            (0..n).for_each(|i| x[(i, i)] = (b[(i, i)] * ((k - s) as f64).exp2()).exp());
        }
    };
    exact_diagonal(&mut x, 0);
    let mut tmp = Mat::<f64>::zeros(n, n);
    for k in 1..=s {
        matmul(tmp.as_mut(), Accum::Replace, x.as_ref(), x.as_ref(), 1.0, par);
        std::mem::swap(&mut x, &mut tmp);
        if !is_finite(x.as_ref()) {
            break;
        }
        exact_diagonal(&mut x, k);
    }
    if !is_finite(x.as_ref()) {
        return Err(Error::input("expm", format!("exp(A) overflows f64 (‖A‖∞ = {norm_b:.3e})")));
    }
    for j in 0..n {
        out[j * n..(j + 1) * n].copy_from_slice(x.col_as_slice(j));
    }
    Ok(())
}

/// Whether the row-major `n × n` matrix is upper or lower triangular (diagonal included).
fn is_triangular(a: &[f64], n: usize) -> bool {
    let upper = (0..n).all(|i| (0..i).all(|j| a[i * n + j] == 0.0));
    upper || (0..n).all(|i| (i + 1..n).all(|j| a[i * n + j] == 0.0))
}

/// Largest `‖A‖` (in the sense of the `d_k` below) for which the Padé approximant of degree 3, 5, 7, 9
/// keeps the backward error below the unit roundoff (Higham 2005, Table 2.3).
const THETA_3: f64 = 1.495585217958292e-2;
const THETA_5: f64 = 2.53939833006323e-1;
const THETA_7: f64 = 9.504178996162932e-1;
const THETA_9: f64 = 2.097847961257068;
/// The degree-13 bound Al-Mohy & Higham use for choosing the number of squarings (their Algorithm 5.1).
const THETA_13: f64 = 4.25;

/// Numerator coefficients `b_k = (2m − k)! / (k! (m − k)!)` of the `[m/m]` Padé approximant of `eˣ`
/// (the denominator has the same ones with alternating signs).
const PADE_3: [f64; 4] = [120.0, 60.0, 12.0, 1.0];
const PADE_5: [f64; 6] = [30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0];
const PADE_7: [f64; 8] = [17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0];
const PADE_9: [f64; 10] = [17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0, 3960.0, 90.0, 1.0];
const PADE_13: [f64; 14] = [
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
];

/// Padé approximant `r_m(2⁻ˢB)` and the number `s` of squarings that turn it into `exp(B)`, for `B ≠ 0`
/// (`a` is B's column-major storage).
fn pade_scaled(a: &[f64], b: MatRef<'_, f64>, norm_b: f64, par: Par) -> Result<(Mat<f64>, i32)> {
    let n = b.nrows();
    let a2 = product(b, b, 1.0, par);
    // d_k = ‖Bᵏ‖^(1/k): estimated from products with vectors until the power is formed, then exact.
    let d6 = norm1_estimate(&[a2.as_ref(); 3]).powf(1.0 / 6.0);
    let eta1 = norm1_estimate(&[a2.as_ref(); 2]).powf(0.25).max(d6);
    if eta1 <= THETA_3 && ell(a, n, norm_b, 3, 1.0) == 0 {
        return Ok((pade_low(b, &PADE_3, &[a2.as_ref()], par)?, 0));
    }
    let a4 = product(a2.as_ref(), a2.as_ref(), 1.0, par);
    let d4 = norm1(a4.as_ref()).powf(0.25);
    if d4.max(d6) <= THETA_5 && ell(a, n, norm_b, 5, 1.0) == 0 {
        return Ok((pade_low(b, &PADE_5, &[a2.as_ref(), a4.as_ref()], par)?, 0));
    }
    let a6 = product(a4.as_ref(), a2.as_ref(), 1.0, par);
    let d6 = norm1(a6.as_ref()).powf(1.0 / 6.0);
    let d8 = norm1_estimate(&[a4.as_ref(), a4.as_ref()]).powf(1.0 / 8.0);
    let eta3 = d6.max(d8);
    if eta3 <= THETA_7 && ell(a, n, norm_b, 7, 1.0) == 0 {
        return Ok((pade_low(b, &PADE_7, &[a2.as_ref(), a4.as_ref(), a6.as_ref()], par)?, 0));
    }
    if eta3 <= THETA_9 && ell(a, n, norm_b, 9, 1.0) == 0 {
        let a8 = product(a4.as_ref(), a4.as_ref(), 1.0, par);
        return Ok((pade_low(b, &PADE_9, &[a2.as_ref(), a4.as_ref(), a6.as_ref(), a8.as_ref()], par)?, 0));
    }
    let d10 = norm1_estimate(&[a4.as_ref(), a6.as_ref()]).powf(0.1);
    let eta5 = eta3.min(d8.max(d10));
    // η₅ ≤ ‖B‖ in exact arithmetic; if the powers overflowed, fall back on ‖B‖ (Higham 2005's choice).
    let eta5 = if eta5.is_finite() { eta5 } else { norm_b };
    let mut s = if eta5 == 0.0 { 0 } else { (eta5 / THETA_13).log2().ceil().max(0.0) as i32 };
    s += ell(a, n, norm_b, 13, (-s as f64).exp2()) as i32;
    let x = if s > 0 && (6 * s > 1000 || !is_finite(a6.as_ref())) {
        // 2^(−6s) would underflow or B⁶ overflowed: form the powers of the scaled matrix afresh.
        let bs = Mat::from_fn(n, n, |i, j| b[(i, j)] * (-s as f64).exp2());
        let a2 = product(bs.as_ref(), bs.as_ref(), 1.0, par);
        let a4 = product(a2.as_ref(), a2.as_ref(), 1.0, par);
        let a6 = product(a4.as_ref(), a2.as_ref(), 1.0, par);
        pade_13(bs.as_ref(), [a2.as_ref(), a4.as_ref(), a6.as_ref()], 0, par)?
    } else {
        pade_13(b, [a2.as_ref(), a4.as_ref(), a6.as_ref()], s, par)?
    };
    Ok((x, s))
}

/// `r_m(B)` for `m ≤ 9` from `powers = [B², B⁴, …]`: `U = B (b₁ I + b₃ B² + …)`, `V = b₀ I + b₂ B² + …`,
/// `r_m = (V − U)⁻¹ (V + U)`.
fn pade_low(b: MatRef<'_, f64>, coeffs: &[f64], powers: &[MatRef<'_, f64>], par: Par) -> Result<Mat<f64>> {
    let odd: Vec<_> = powers.iter().zip(coeffs[3..].iter().step_by(2)).map(|(&p, &c)| (c, p)).collect();
    let even: Vec<_> = powers.iter().zip(coeffs[2..].iter().step_by(2)).map(|(&p, &c)| (c, p)).collect();
    let u = product(b, combine(coeffs[1], &odd).as_ref(), 1.0, par);
    let v = combine(coeffs[0], &even);
    pade_solve(u, v, par)
}

/// `r₁₃(2⁻ˢB)` from the unscaled powers `[B², B⁴, B⁶]`, folding the scale factors into the coefficients.
fn pade_13(b: MatRef<'_, f64>, [a2, a4, a6]: [MatRef<'_, f64>; 3], s: i32, par: Par) -> Result<Mat<f64>> {
    let c = &PADE_13;
    let (s1, s2, s4, s6) = ((-s as f64).exp2(), (-2.0 * s as f64).exp2(), (-4.0 * s as f64).exp2(), (-6.0 * s as f64).exp2());
    // U = B [B⁶ (b₁₃ B⁶ + b₁₁ B⁴ + b₉ B²) + b₇ B⁶ + b₅ B⁴ + b₃ B² + b₁ I]
    let inner = combine(0.0, &[(c[13] * s6, a6), (c[11] * s4, a4), (c[9] * s2, a2)]);
    let mut odd = combine(c[1], &[(c[7] * s6, a6), (c[5] * s4, a4), (c[3] * s2, a2)]);
    matmul(odd.as_mut(), Accum::Add, a6, inner.as_ref(), s6, par);
    let u = product(b, odd.as_ref(), s1, par);
    // V = B⁶ (b₁₂ B⁶ + b₁₀ B⁴ + b₈ B²) + b₆ B⁶ + b₄ B⁴ + b₂ B² + b₀ I
    let inner = combine(0.0, &[(c[12] * s6, a6), (c[10] * s4, a4), (c[8] * s2, a2)]);
    let mut v = combine(c[0], &[(c[6] * s6, a6), (c[4] * s4, a4), (c[2] * s2, a2)]);
    matmul(v.as_mut(), Accum::Add, a6, inner.as_ref(), s6, par);
    pade_solve(u, v, par)
}

/// `(V − U)⁻¹ (V + U)` by LU with partial pivoting.
fn pade_solve(u: Mat<f64>, v: Mat<f64>, par: Par) -> Result<Mat<f64>> {
    let n = u.nrows();
    let mut p = Mat::from_fn(n, n, |i, j| v[(i, j)] + u[(i, j)]);
    let mut q = Mat::from_fn(n, n, |i, j| v[(i, j)] - u[(i, j)]);
    let mut fwd = vec![0usize; n];
    let mut bwd = vec![0usize; n];
    let scratch = lu_factor::lu_in_place_scratch::<usize, f64>(n, n, par, Default::default())
        .or(lu_solve::solve_in_place_scratch::<usize, f64>(n, n, par));
    let mut mem = MemBuffer::new(scratch);
    let stack = MemStack::new(&mut mem);
    let (_, perm) = lu_factor::lu_in_place(q.as_mut(), &mut fwd, &mut bwd, par, stack, Default::default());
    // Cannot happen for a finite B within the θ bounds (q_m(B) is then well conditioned); kept as a guard.
    if is_singular(q.as_ref()) {
        return Err(Error::Singular { op: "expm", p: vec![] });
    }
    lu_solve::solve_in_place(q.as_ref(), q.as_ref(), perm, p.as_mut(), par, stack);
    Ok(p)
}

/// `ℓ_m` of Al-Mohy & Higham (2009), Algorithm 5.1: extra squarings for degree `m` so that
/// `|c_{2m+1}| ‖|sB|^(2m+1)‖₁ / ‖sB‖₁ ≤ u · 2^(2mℓ)`, where `c_{2m+1} = (m!)² / ((2m)! (2m+1)!)` leads the
/// Padé error series and `u = 2⁻⁵³`. `a` is B's column-major storage and `s` a scale for B.
fn ell(a: &[f64], n: usize, norm_b: f64, m: usize, s: f64) -> u32 {
    // 1 / |c_{2m+1}| = C(2m, m) (2m+1)!
    let inv_c: f64 = match m {
        3 => 100800.0,
        5 => 10059033600.0,
        7 => 4487938430976000.0,
        9 => 5.914384781877412e21,
        _ => 1.1325077560602111e35,
    };
    let p = 2 * m + 1;
    // ‖|B|ᵖ‖₁ is the largest entry of the row vector 1ᵀ|B|ᵖ (|B| ≥ 0); carry it as a vector with largest
    // entry 1 and the log₂ of its scale so that no power overflows.
    let mut v = vec![1.0; n];
    let mut w = vec![0.0; n];
    let mut log2_norm = 0.0;
    for _ in 0..p {
        for (j, wj) in w.iter_mut().enumerate() {
            *wj = a[j * n..(j + 1) * n].iter().zip(&v).map(|(bij, vi)| bij.abs() * vi).sum();
        }
        let top = w.iter().fold(0.0f64, |acc, &x| acc.max(x));
        if top == 0.0 {
            return 0;
        }
        log2_norm += top.log2();
        v.iter_mut().zip(&w).for_each(|(vi, wi)| *vi = wi / top);
    }
    let log2_alpha = log2_norm + (p - 1) as f64 * s.log2() - norm_b.log2() - inv_c.log2();
    let value = ((log2_alpha + 53.0) / (2 * m) as f64).ceil();
    if value.is_finite() { value.max(0.0) as u32 } else { 0 }
}

/// `Σ cₖ Mₖ + c₀ I`.
fn combine(c0: f64, terms: &[(f64, MatRef<'_, f64>)]) -> Mat<f64> {
    let n = terms[0].1.nrows();
    let mut out = Mat::from_fn(n, n, |i, j| if i == j { c0 } else { 0.0 });
    for &(c, m) in terms {
        for j in 0..n {
            for (o, x) in out.col_as_slice_mut(j).iter_mut().zip(m.col(j).iter()) {
                *o += c * x;
            }
        }
    }
    out
}

/// `alpha · x · y`.
fn product(x: MatRef<'_, f64>, y: MatRef<'_, f64>, alpha: f64, par: Par) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(x.nrows(), y.ncols());
    matmul(out.as_mut(), Accum::Replace, x, y, alpha, par);
    out
}

/// `‖M‖₁`, the largest column sum of `|M|` (NaN if any entry is NaN).
fn norm1(m: MatRef<'_, f64>) -> f64 {
    (0..m.ncols()).map(|j| m.col(j).iter().map(|x| x.abs()).sum::<f64>()).fold(0.0, |acc, x| if x > acc || x.is_nan() { x } else { acc })
}

fn is_finite(m: MatRef<'_, f64>) -> bool {
    (0..m.ncols()).all(|j| m.col(j).iter().all(|x| x.is_finite()))
}

/// Lower estimate of `‖M₁M₂⋯M_k‖₁` from a few products with vectors (Hager 1984 / Higham 1988, LAPACK's
/// `dlacn2`: one column at a time, at most 5 iterations, plus the alternating-sign test vector).
fn norm1_estimate(factors: &[MatRef<'_, f64>]) -> f64 {
    let n = factors[0].nrows();
    let apply = |x: Mat<f64>, transpose: bool| -> Mat<f64> {
        let step = |y: Mat<f64>, f: MatRef<'_, f64>| {
            let f = if transpose { f.transpose() } else { f };
            product(f, y.as_ref(), 1.0, Par::Seq)
        };
        if transpose { factors.iter().fold(x, |y, &f| step(y, f)) } else { factors.iter().rev().fold(x, |y, &f| step(y, f)) }
    };
    let l1 = |y: &Mat<f64>| y.col(0).iter().map(|v| v.abs()).sum::<f64>();
    let signs = |y: &Mat<f64>| Mat::from_fn(n, 1, |i, _| if y[(i, 0)] >= 0.0 { 1.0 } else { -1.0 });
    let argmax = |z: &Mat<f64>| (0..n).fold(0, |best, i| if z[(i, 0)].abs() > z[(best, 0)].abs() { i } else { best });
    let y = apply(Mat::from_fn(n, 1, |_, _| 1.0 / n as f64), false);
    let mut est = l1(&y);
    if n == 1 {
        return est;
    }
    let mut xi = signs(&y);
    let z = apply(xi.clone(), true);
    let mut j = argmax(&z);
    for _ in 0..4 {
        let y = apply(Mat::from_fn(n, 1, |i, _| if i == j { 1.0 } else { 0.0 }), false);
        let (new_est, new_xi) = (l1(&y), signs(&y));
        if new_xi == xi || new_est <= est {
            est = est.max(new_est);
            break;
        }
        (est, xi) = (new_est, new_xi);
        let z = apply(xi.clone(), true);
        let next = argmax(&z);
        if z[(next, 0)].abs() == z[(j, 0)].abs() {
            break;
        }
        j = next;
    }
    let alt = Mat::from_fn(n, 1, |i, _| (if i % 2 == 0 { 1.0 } else { -1.0 }) * (1.0 + i as f64 / (n - 1) as f64));
    est.max(2.0 * l1(&apply(alt, false)) / (3.0 * n as f64))
}
