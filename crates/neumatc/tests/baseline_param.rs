//! The randomized and parametric baselines: RSVD and CRSVD (low-rank recovery, power iterations,
//! seeding, the shared test matrix, singular values against nalgebra), NNI (convergence to the LU
//! inverse, honest iteration counts), COI (exact at its nodes, spectral accuracy between them) and
//! ZNNI (tracking the exact inverse along a grid), and the error codes of bad input.

mod common;
use common::{matmul, transpose};
use nalgebra::DMatrix;
use neumatc::baseline::{self, Coi, CoiConfig, NniConfig, RsvdConfig, SvdBatch, ZnnConfig};
use neumatc::{Error, Family, MatrixBatch, SyntheticConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn fro(m: &[f64]) -> f64 {
    m.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn diff(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// `‖a − b‖_F / ‖b‖_F`.
fn rel(a: &[f64], b: &[f64]) -> f64 {
    fro(&diff(a, b)) / fro(b)
}

fn gaussian(len: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..len).map(|_| StandardNormal.sample(rng)).collect()
}

/// Orthonormal `m × k` (k ≤ m) from nalgebra's QR of a Gaussian matrix, row-major.
fn orthonormal(m: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let g = DMatrix::from_row_slice(m, k, &gaussian(m * k, rng));
    let q = g.qr().q();
    (0..m * k).map(|i| q[(i / k, i % k)]).collect()
}

/// `U diag(sigma) Vᵀ` (m × n) with random orthonormal `U`, `V`: a matrix with known singular values.
fn with_spectrum(m: usize, n: usize, sigma: &[f64], seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = sigma.len();
    let u = orthonormal(m, k, &mut rng);
    let v = orthonormal(n, k, &mut rng);
    let us: Vec<f64> = u.iter().enumerate().map(|(i, x)| x * sigma[i % k]).collect();
    matmul(&us, &transpose(&v, n, k), m, k, n)
}

/// Matrix `i` of an SVD batch reassembled: `U diag(S) Vᵀ`.
fn reassemble(svd: &SvdBatch, i: usize) -> Vec<f64> {
    let (m, n, r) = (svd.u.rows, svd.v.rows, svd.u.cols);
    let s = svd.s.matrix(i);
    let us: Vec<f64> = svd.u.matrix(i).iter().enumerate().map(|(j, x)| x * s[j % r]).collect();
    matmul(&us, &transpose(svd.v.matrix(i), n, r), m, r, n)
}

/// `‖XᵀX − I‖_max` of an `rows × r` row-major `x`.
fn orthogonality_defect(x: &[f64], rows: usize, r: usize) -> f64 {
    let xtx = matmul(&transpose(x, rows, r), x, r, rows, r);
    xtx.iter().enumerate().map(|(i, v)| (v - if i / r == i % r { 1.0 } else { 0.0 }).abs()).fold(0.0, f64::max)
}

fn one(rows: usize, cols: usize, data: Vec<f64>) -> MatrixBatch {
    MatrixBatch::new(1, rows, cols, data).unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> &'static str {
    r.expect_err("expected an error").code()
}

// ------------------------------------------------------------------------------------------------
// RSVD / CRSVD
// ------------------------------------------------------------------------------------------------

#[test]
fn rsvd_recovers_an_exactly_low_rank_matrix() {
    for (m, n) in [(40, 30), (30, 40)] {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let k = 5;
        let a = matmul(&gaussian(m * k, &mut rng), &gaussian(k * n, &mut rng), m, k, n);
        for cfg in [RsvdConfig { rank: k, oversample: 0, power_iters: 0, seed: 3 }, RsvdConfig { rank: k, ..Default::default() }] {
            let svd = baseline::rsvd(&one(m, n, a.clone()), &cfg).unwrap();
            assert_eq!((svd.u.rows, svd.u.cols, svd.s.rows, svd.s.cols, svd.v.rows, svd.v.cols), (m, k, k, 1, n, k));
            let err = rel(&reassemble(&svd, 0), &a);
            assert!(err < 1e-12, "{m}×{n} {cfg:?}: ‖USVᵀ − A‖/‖A‖ = {err:.2e}");
            assert!(orthogonality_defect(&svd.u.data, m, k) < 1e-13 && orthogonality_defect(&svd.v.data, n, k) < 1e-13);
        }
    }
}

#[test]
fn rsvd_singular_values_match_nalgebra() {
    let (m, n) = (48, 36);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let exact_rank = 8;
    let a = matmul(&gaussian(m * exact_rank, &mut rng), &gaussian(exact_rank * n, &mut rng), m, exact_rank, n);
    let exact = DMatrix::from_row_slice(m, n, &a).singular_values();
    let svd = baseline::rsvd(&one(m, n, a), &RsvdConfig { rank: 6, ..Default::default() }).unwrap();
    for (i, s) in svd.s.data.iter().enumerate() {
        assert!((s - exact[i]).abs() < 1e-12 * exact[0], "σ_{i}: {s} vs {}", exact[i]);
    }
    // A full-rank matrix with decaying spectrum: the leading singular values come out accurate.
    let sigma: Vec<f64> = (0..n).map(|i| 0.7f64.powi(i as i32)).collect();
    let a = with_spectrum(m, n, &sigma, 5);
    let svd = baseline::rsvd(&one(m, n, a), &RsvdConfig { rank: 10, power_iters: 2, ..Default::default() }).unwrap();
    let worst = svd.s.data.iter().zip(&sigma).map(|(s, t)| (s - t).abs() / t).fold(0.0, f64::max);
    eprintln!("rsvd sigma worst {worst:.2e}");
    assert!(worst < 1e-10, "decaying spectrum, q = 2: worst relative σ error {worst:.2e}");
    assert!(svd.s.data.windows(2).all(|w| w[0] >= w[1]), "S must be descending");
}

#[test]
fn power_iterations_reduce_the_error_on_a_slowly_decaying_spectrum() {
    let n = 64;
    let sigma: Vec<f64> = (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let a = with_spectrum(n, n, &sigma, 7);
    let rank = 10;
    // Eckart–Young: the best rank-10 approximation error in the Frobenius norm.
    let optimal = sigma[rank..].iter().map(|s| s * s).sum::<f64>().sqrt();
    let errors: Vec<f64> = (0..4)
        .map(|q| {
            let svd = baseline::rsvd(&one(n, n, a.clone()), &RsvdConfig { rank, oversample: 5, power_iters: q, seed: 11 }).unwrap();
            fro(&diff(&reassemble(&svd, 0), &a)) / optimal
        })
        .collect();
    // Measured (seed 11): 1.353, 1.0097, 1.00086, 1.00010 times the optimal error.
    eprintln!("rsvd error / optimal by q: {errors:?}");
    assert!(errors.windows(2).all(|w| w[1] < w[0]), "error / optimal by q = 0..3: {errors:?}");
    assert!(errors[0] > 1.05 && errors[2] < 1.01 && errors[3] >= 1.0 - 1e-12, "error / optimal: {errors:?}");
}

#[test]
fn rsvd_is_reproducible_and_seeded_per_matrix() {
    let n = 32;
    let sigma: Vec<f64> = (0..n).map(|i| 0.9f64.powi(i as i32)).collect();
    let a = with_spectrum(n, n, &sigma, 2);
    let cfg = RsvdConfig { rank: 4, oversample: 2, power_iters: 0, seed: 9 };
    let single = one(n, n, a.clone());
    let first = baseline::rsvd(&single, &cfg).unwrap();
    assert_eq!(first, baseline::rsvd(&single, &cfg).unwrap(), "same seed, same result");
    let other = baseline::rsvd(&single, &RsvdConfig { seed: 10, ..cfg.clone() }).unwrap();
    assert!(rel(&other.s.data, &first.s.data) > 1e-6, "another seed must give another sketch");
    // The same matrix twice in one batch gets two independent test matrices...
    let twice = MatrixBatch::new(2, n, n, [a.clone(), a.clone()].concat()).unwrap();
    let both = baseline::rsvd(&twice, &cfg).unwrap();
    assert!(rel(both.s.matrix(1), both.s.matrix(0)) > 1e-6);
    // ...and matrix 0 of a batch gets the test matrix of a batch of one.
    assert!(rel(both.s.matrix(0), &first.s.data) < 1e-14);
    assert!(rel(&reassemble(&both, 0), &reassemble(&first, 0)) < 1e-13);
    // The thread count does not change the result.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let serial = pool.install(|| baseline::rsvd(&twice, &cfg)).unwrap();
    assert!(rel(&serial.s.data, &both.s.data) < 1e-14);
    assert!(rel(&reassemble(&serial, 1), &reassemble(&both, 1)) < 1e-13);
}

#[test]
fn crsvd_shares_one_test_matrix_across_the_batch() {
    let n = 32;
    let sigma: Vec<f64> = (0..n).map(|i| 0.9f64.powi(i as i32)).collect();
    let (a1, a2) = (with_spectrum(n, n, &sigma, 2), with_spectrum(n, n, &sigma, 3));
    let cfg = RsvdConfig { rank: 4, oversample: 2, power_iters: 0, seed: 9 };
    // The same matrix twice: identical results (one Ω), unlike rsvd.
    let twice = MatrixBatch::new(2, n, n, [a1.clone(), a1.clone()].concat()).unwrap();
    let c = baseline::crsvd(&twice, &cfg).unwrap();
    assert_eq!(c.s.matrix(0), c.s.matrix(1));
    assert_eq!(c.u.matrix(0), c.u.matrix(1));
    // crsvd of a batch = rsvd of each matrix alone (the shared Ω is rsvd's Ω for index 0).
    let pair = MatrixBatch::new(2, n, n, [a1.clone(), a2.clone()].concat()).unwrap();
    let c = baseline::crsvd(&pair, &cfg).unwrap();
    for (i, a) in [a1, a2].into_iter().enumerate() {
        let alone = baseline::rsvd(&one(n, n, a), &cfg).unwrap();
        assert!(rel(c.s.matrix(i), &alone.s.data) < 1e-14);
        assert!(rel(&reassemble(&c, i), &reassemble(&alone, 0)) < 1e-13);
    }
    assert_eq!(c, baseline::crsvd(&pair, &cfg).unwrap(), "deterministic");
}

#[test]
fn crsvd_tracks_a_parametric_family() {
    // With ε = 0 the synthetic H(p) = A(p)B(p)ᵀ has rank 3 at every p: CRSVD recovers it everywhere.
    let fam = Family::synthetic(SyntheticConfig { n: 24, rank: 3, eps: 0.0, ..Default::default() }).unwrap();
    let params: Vec<f64> = (0..20).map(|i| i as f64 / 19.0).collect();
    let a = fam.at(&params).unwrap();
    let svd = baseline::crsvd(&a, &RsvdConfig { rank: 3, oversample: 4, ..Default::default() }).unwrap();
    let worst = (0..a.batch).map(|i| rel(&reassemble(&svd, i), a.matrix(i))).fold(0.0, f64::max);
    eprintln!("crsvd family worst {worst:.2e}");
    assert!(worst < 1e-11, "worst ‖USVᵀ − A(p)‖/‖A(p)‖ = {worst:.2e}");
}

#[test]
fn rsvd_rejects_bad_input() {
    let a = one(6, 4, (0..24).map(f64::from).collect());
    let ok = RsvdConfig { rank: 2, ..Default::default() };
    assert_eq!(code(baseline::rsvd(&a, &RsvdConfig { rank: 0, ..ok.clone() })), "INVALID_OPTION");
    assert_eq!(code(baseline::rsvd(&a, &RsvdConfig { rank: 5, ..ok.clone() })), "INVALID_OPTION");
    assert_eq!(code(baseline::crsvd(&a, &RsvdConfig { power_iters: 101, ..ok.clone() })), "INVALID_OPTION");
    // rank + oversample beyond min(m, n) is clamped, not an error.
    let svd = baseline::rsvd(&a, &RsvdConfig { rank: 4, oversample: 100, ..ok.clone() }).unwrap();
    assert_eq!(svd.s.data.len(), 4);
    let short = MatrixBatch { batch: 1, rows: 6, cols: 4, data: vec![0.0; 23] };
    assert_eq!(code(baseline::rsvd(&short, &ok)), "SHAPE_MISMATCH");
    let nan = MatrixBatch { batch: 1, rows: 2, cols: 2, data: vec![1.0, f64::NAN, 0.0, 1.0] };
    assert_eq!(code(baseline::crsvd(&nan, &RsvdConfig { rank: 1, ..ok.clone() })), "INVALID_INPUT");
    assert_eq!(code(RsvdConfig::from_json(r#"{"rnak": 3}"#)), "INVALID_OPTION");
    assert_eq!(code(RsvdConfig::from_json(r#"{"rank": 0}"#)), "INVALID_OPTION");
    let empty = MatrixBatch { batch: 0, rows: 6, cols: 4, data: vec![] };
    assert_eq!(baseline::rsvd(&empty, &ok).unwrap().u.data.len(), 0);
}

// ------------------------------------------------------------------------------------------------
// NNI
// ------------------------------------------------------------------------------------------------

/// A Gaussian matrix shifted by `3√n·I` (condition number a handful).
fn well_conditioned(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let shift = 3.0 * (n as f64).sqrt();
    gaussian(n * n, &mut rng).into_iter().enumerate().map(|(i, z)| z + if i / n == i % n { shift } else { 0.0 }).collect()
}

fn identity(n: usize) -> Vec<f64> {
    (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 }).collect()
}

#[test]
fn newton_schulz_converges_to_the_lu_inverse() {
    let n = 32;
    let data: Vec<f64> = (0..3).flat_map(|s| well_conditioned(n, 20 + s)).collect();
    let a = MatrixBatch::new(3, n, n, data).unwrap();
    let (x, iters) = baseline::newton_schulz_inverse(&a, &NniConfig::default()).unwrap();
    let lu = baseline::inverse(&a).unwrap();
    assert_eq!(iters.len(), 3);
    for (i, &steps) in iters.iter().enumerate() {
        let residual = fro(&diff(&matmul(a.matrix(i), x.matrix(i), n, n, n), &identity(n))) / (n as f64).sqrt();
        assert!(residual <= 1e-10, "matrix {i}: scaled residual {residual:.2e}");
        assert!(rel(x.matrix(i), lu.matrix(i)) < 1e-10, "matrix {i}: vs LU {:.2e}", rel(x.matrix(i), lu.matrix(i)));
        eprintln!("nni matrix {i}: {steps} steps, residual {residual:.2e}, vs LU {:.2e}", rel(x.matrix(i), lu.matrix(i)));
        // Measured: 9 steps each, scaled residual 3e-12–6e-11, 5e-12–9e-11 from LU.
        assert!((5..=20).contains(&steps), "matrix {i}: {steps} steps");
    }
}

#[test]
fn newton_schulz_returns_its_last_iterate_when_out_of_steps() {
    let n = 16;
    let a = one(n, n, well_conditioned(n, 5));
    let cfg = NniConfig { max_iters: 3, tol: 1e-10 };
    let (x, iters) = baseline::newton_schulz_inverse(&a, &cfg).unwrap();
    assert_eq!(iters, vec![3]);
    let residual = fro(&diff(&matmul(&a.data, &x.data, n, n, n), &identity(n))) / (n as f64).sqrt();
    assert!(residual > 1e-3 && residual < 1.0, "three steps leave residual {residual:.2e}");
    // A singular matrix: the iteration stalls (towards the pseudo-inverse) but stays finite.
    let mut s = well_conditioned(n, 6);
    let row: Vec<f64> = s[..n].to_vec();
    s[n..2 * n].copy_from_slice(&row);
    let (_, iters) = baseline::newton_schulz_inverse(&one(n, n, s), &NniConfig { max_iters: 60, tol: 1e-10 }).unwrap();
    assert_eq!(iters, vec![60]);
}

#[test]
fn newton_schulz_rejects_bad_input() {
    let cfg = NniConfig::default();
    assert_eq!(code(baseline::newton_schulz_inverse(&one(2, 3, vec![1.0; 6]), &cfg)), "SHAPE_MISMATCH");
    assert_eq!(code(baseline::newton_schulz_inverse(&one(2, 2, vec![0.0; 4]), &cfg)), "SINGULAR");
    assert_eq!(code(baseline::newton_schulz_inverse(&one(2, 2, vec![1e308, 1e308, 1e308, -1e308]), &cfg)), "NO_CONVERGENCE");
    let nan = MatrixBatch { batch: 1, rows: 2, cols: 2, data: vec![1.0, f64::INFINITY, 0.0, 1.0] };
    assert_eq!(code(baseline::newton_schulz_inverse(&nan, &cfg)), "INVALID_INPUT");
    let eye = one(2, 2, identity(2));
    assert_eq!(code(baseline::newton_schulz_inverse(&eye, &NniConfig { tol: -1.0, ..cfg.clone() })), "INVALID_OPTION");
    assert_eq!(code(baseline::newton_schulz_inverse(&eye, &NniConfig { max_iters: 20_000, ..cfg.clone() })), "INVALID_OPTION");
    assert_eq!(code(NniConfig::from_json(r#"{"maxIter": 3}"#)), "INVALID_OPTION");
    // Tiny and huge scales do not under- or overflow the start.
    for scale in [1e-150, 1e150] {
        let (x, _) = baseline::newton_schulz_inverse(&one(2, 2, vec![2.0 * scale, 0.0, 0.0, 4.0 * scale]), &cfg).unwrap();
        assert!((x.data[0] * scale - 0.5).abs() < 1e-12 && (x.data[3] * scale - 0.25).abs() < 1e-12);
    }
}

// ------------------------------------------------------------------------------------------------
// COI
// ------------------------------------------------------------------------------------------------

fn synthetic16() -> Family {
    Family::synthetic(SyntheticConfig { n: 16, rank: 3, ..Default::default() }).unwrap()
}

/// Largest `‖X(p) − A(p)⁻¹‖_F / ‖A(p)⁻¹‖_F` over `params`.
fn worst_inverse_error(fam: &Family, params: &[f64], x: &MatrixBatch) -> f64 {
    let exact = baseline::inverse(&fam.at(params).unwrap()).unwrap();
    (0..x.batch).map(|i| rel(x.matrix(i), exact.matrix(i))).fold(0.0, f64::max)
}

#[test]
fn coi_is_exact_at_its_nodes_and_accurate_between_them() {
    let fam = synthetic16();
    let coi = Coi::new(&fam, &CoiConfig { nodes: 24 }).unwrap();
    assert_eq!((coi.n(), coi.nodes().len()), (16, 24));
    assert_eq!((coi.nodes()[0], coi.nodes()[23]), (0.0, 1.0));
    let at_nodes = coi.inverse(coi.nodes()).unwrap();
    let err = worst_inverse_error(&fam, coi.nodes(), &at_nodes);
    eprintln!("coi 24 nodes, at the nodes: {err:.2e}");
    assert!(err < 1e-14, "at the nodes: {err:.2e}");
    // Between the nodes (midpoints of a uniform grid, none of them a node). This family's inverse has
    // complex singularities close to [0, 1] (H(p) itself is interpolated to 1e-9 by 24 nodes), so the
    // interpolant converges slowly. Measured (seed 0): 7.9e-3 at 24 nodes, 1.1e-6 at 64, 9.3e-10 at 96;
    // an independent barycentric interpolation of the same LU inverses gives the same numbers.
    let between: Vec<f64> = (0..200).map(|i| (i as f64 + 0.5) / 200.0).collect();
    let err = worst_inverse_error(&fam, &between, &coi.inverse(&between).unwrap());
    eprintln!("coi 24 nodes, between: {err:.2e}");
    assert!(err < 2e-2, "24 nodes, between the nodes: {err:.2e}");
    let coi = Coi::new(&fam, &CoiConfig { nodes: 96 }).unwrap();
    let err = worst_inverse_error(&fam, &between, &coi.inverse(&between).unwrap());
    eprintln!("coi 96 nodes, between: {err:.2e}");
    assert!(err < 1e-8, "96 nodes, between the nodes: {err:.2e}");
}

#[test]
fn coi_error_falls_as_nodes_grow() {
    let fam = synthetic16();
    let between: Vec<f64> = (0..101).map(|i| (i as f64 + 0.37) / 101.5).collect();
    let errors: Vec<f64> = [8, 16, 32, 64, 96]
        .iter()
        .map(|&nodes| {
            let coi = Coi::new(&fam, &CoiConfig { nodes }).unwrap();
            worst_inverse_error(&fam, &between, &coi.inverse(&between).unwrap())
        })
        .collect();
    eprintln!("coi errors by nodes 8, 16, 32, 64, 96: {errors:?}");
    // Geometric decay (spectral convergence of Chebyshev interpolation of an analytic function).
    assert!(errors.windows(2).all(|w| w[1] < 0.3 * w[0]), "errors by nodes 8, 16, 32, 64, 96: {errors:?}");
}

#[test]
fn coi_rejects_bad_input() {
    let fam = synthetic16();
    assert_eq!(code(Coi::new(&fam, &CoiConfig { nodes: 1 })), "INVALID_OPTION");
    assert_eq!(code(Coi::new(&fam, &CoiConfig { nodes: 5000 })), "INVALID_OPTION");
    assert_eq!(code(CoiConfig::from_json(r#"{"node": 3}"#)), "INVALID_OPTION");
    let coi = Coi::new(&fam, &CoiConfig { nodes: 4 }).unwrap();
    assert_eq!(code(coi.inverse(&[0.5, 1.5])), "OUT_OF_DOMAIN");
    assert_eq!(code(coi.inverse(&[f64::NAN])), "INVALID_INPUT");
    assert_eq!(coi.inverse(&[]).unwrap().batch, 0);
    // A 2-parameter family: 65² nodes is over the cap of 4096.
    let grid = vec![0.0, 0.0, 1.0, 1.0];
    let two = Family::from_samples(2, grid, MatrixBatch::new(2, 2, 2, [identity(2), identity(2)].concat()).unwrap()).unwrap();
    assert_eq!(code(Coi::new(&two, &CoiConfig { nodes: 65 })), "INVALID_OPTION");
}

// ------------------------------------------------------------------------------------------------
// ZNNI
// ------------------------------------------------------------------------------------------------

#[test]
fn znn_tracks_the_exact_inverse_along_a_grid() {
    let fam = synthetic16();
    let grid: Vec<f64> = (0..50).map(|i| i as f64 / 49.0).collect();
    let x = baseline::znn_inverse(&fam, &grid, &ZnnConfig::default()).unwrap();
    assert_eq!((x.batch, x.rows, x.cols), (50, 16, 16));
    let err = worst_inverse_error(&fam, &grid, &x);
    eprintln!("znn default: {err:.2e}");
    // Measured: 1.95e-7 (γ = 10, 4 RK4 steps between grid points); 4.4e-9 with 16.
    assert!(err < 1e-5, "default ZNN: worst relative error {err:.2e}");
    let finer = baseline::znn_inverse(&fam, &grid, &ZnnConfig { substeps: 16, ..Default::default() }).unwrap();
    let err_fine = worst_inverse_error(&fam, &grid, &finer);
    eprintln!("znn 16 substeps: {err_fine:.2e}");
    assert!(err_fine < err / 10.0, "16 substeps: {err_fine:.2e} vs 4: {err:.2e}");
    // A coarse grid that does not start at the domain edge, with a repeated point.
    let grid = [0.2, 0.3, 0.3, 0.45];
    let x = baseline::znn_inverse(&fam, &grid, &ZnnConfig::default()).unwrap();
    assert_eq!(x.matrix(1), x.matrix(2));
    let err = worst_inverse_error(&fam, &grid, &x);
    eprintln!("znn coarse grid: {err:.2e}");
    assert!(err < 1e-3, "coarse grid: {err:.2e}");
}

#[test]
fn znn_rejects_bad_input() {
    let fam = synthetic16();
    let cfg = ZnnConfig::default();
    assert_eq!(code(baseline::znn_inverse(&fam, &[0.5, 0.4], &cfg)), "INVALID_INPUT");
    assert_eq!(code(baseline::znn_inverse(&fam, &[0.5, 1.2], &cfg)), "OUT_OF_DOMAIN");
    assert_eq!(code(baseline::znn_inverse(&fam, &[0.1, f64::NAN], &cfg)), "INVALID_INPUT");
    assert_eq!(code(baseline::znn_inverse(&fam, &[0.1, 0.2], &ZnnConfig { substeps: 0, ..cfg.clone() })), "INVALID_OPTION");
    assert_eq!(code(baseline::znn_inverse(&fam, &[0.1, 0.2], &ZnnConfig { gamma: f64::NAN, ..cfg.clone() })), "INVALID_OPTION");
    assert_eq!(code(ZnnConfig::from_json(r#"{"gamma": -1}"#)), "INVALID_OPTION");
    // RK4 far outside its stability region blows up: reported, not returned.
    let grid: Vec<f64> = (0..50).map(|i| i as f64 / 49.0).collect();
    let blow_up = baseline::znn_inverse(&fam, &grid, &ZnnConfig { gamma: 1e6, substeps: 1 });
    assert_eq!(code(blow_up), "NO_CONVERGENCE");
    let grid = vec![0.0, 0.0, 1.0, 1.0];
    let two = Family::from_samples(2, grid, MatrixBatch::new(2, 2, 2, [identity(2), identity(2)].concat()).unwrap()).unwrap();
    assert_eq!(code(baseline::znn_inverse(&two, &[0.0, 0.0], &cfg)), "INVALID_OPTION");
    assert_eq!(baseline::znn_inverse(&fam, &[], &cfg).unwrap().batch, 0);
}
