//! Complex families end to end: embedding, training on the embedding, complex results and metrics.

use std::sync::atomic::AtomicBool;

use neumatc::complex::{self, ComplexBatch};
use neumatc::{DeviceSpec, Family, Operation, Result, TrainConfig, train, train_with};

#[macro_use]
mod common;
use rand::{Rng, SeedableRng};

/// `A(p) = S + cos(2πp)·B + i·sin(2πp)·C`-style smooth complex family on a grid of `count` points,
/// diagonally dominant so it stays well-conditioned.
fn family(n: usize, count: usize, seed: u64) -> (Vec<f64>, ComplexBatch) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |len: usize| -> Vec<f64> { (0..len).map(|_| rng.random_range(-1.0..1.0) / (n as f64).sqrt()).collect() };
    let (b_re, b_im, c_re, c_im) = (draw(n * n), draw(n * n), draw(n * n), draw(n * n));
    let params: Vec<f64> = (0..count).map(|i| i as f64 / (count - 1) as f64).collect();
    let (mut re, mut im) = (Vec::new(), Vec::new());
    for &p in &params {
        let (c, s) = ((std::f64::consts::TAU * p).cos(), (std::f64::consts::TAU * p).sin());
        for k in 0..n * n {
            let diag = if k % (n + 1) == 0 { 2.0 } else { 0.0 };
            re.push(diag + c * b_re[k] + s * c_re[k]);
            im.push(c * b_im[k] + s * c_im[k] + 0.5 * p * b_re[k]);
        }
    }
    let a = ComplexBatch::new(count, n, n, re, im).unwrap();
    (params, a)
}

/// `A(p) = X(p) Y(p)ᴴ` with smooth complex `n × r` factors: rank `r` exactly, separated singular values.
fn low_rank(n: usize, r: usize, count: usize, seed: u64) -> (Vec<f64>, ComplexBatch) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |len: usize| -> Vec<f64> { (0..len).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let (x0, x1, y0, y1) = (draw(2 * n * r), draw(2 * n * r), draw(2 * n * r), draw(2 * n * r));
    let params: Vec<f64> = (0..count).map(|i| i as f64 / (count - 1) as f64).collect();
    let (mut re, mut im) = (Vec::new(), Vec::new());
    for &p in &params {
        let t = 0.6 * p;
        let f = |a: &[f64], b: &[f64], i: usize, j: usize, part: usize| {
            let k = 2 * (i * r + j) + part;
            (a[k] + t * b[k]) * (3.0 - j as f64)
        };
        for i in 0..n {
            for k in 0..n {
                let (mut zr, mut zi) = (0.0, 0.0);
                for j in 0..r {
                    let (xr, xi) = (f(&x0, &x1, i, j, 0), f(&x0, &x1, i, j, 1));
                    let (yr, yi) = (f(&y0, &y1, k, j, 0) / 3.0, f(&y0, &y1, k, j, 1) / 3.0);
                    // x · conj(y)
                    zr += xr * yr + xi * yi;
                    zi += xi * yr - xr * yi;
                }
                re.push(zr);
                im.push(zi);
            }
        }
    }
    (params, ComplexBatch::new(count, n, n, re, im).unwrap())
}

fn held_out(params: &[f64]) -> Vec<f64> {
    params.windows(2).step_by(3).map(|w| w[0]).collect()
}

fn complex_inverse_trains_on_the_embedding_and_predicts_complex_inverses(dev: DeviceSpec) -> Result<()> {
    let (n, count) = (12, 121);
    let (params, a) = family(n, count, 3);
    let fam = Family::from_samples_complex(1, params.clone(), &a).unwrap();
    assert!(fam.is_complex());
    assert_eq!((fam.rows(), fam.cols()), (2 * n, 2 * n));
    assert_eq!(fam.complex_shape(), (n, n));
    let cfg = TrainConfig { steps: 600, seed: 1, device: dev, ..Default::default() };
    let model = train(&fam, Operation::Inverse, &cfg).unwrap();
    assert!(model.is_complex());
    let p = held_out(&params);
    let pred = model.predict(&p).unwrap();
    let g = complex::complex_component(model.spec(), &pred.components[0]);
    assert_eq!((g.batch, g.rows, g.cols), (p.len(), n, n));
    let g = ComplexBatch::new(g.batch, n, n, g.re.to_f64(), g.im.expect("complex").to_f64()).unwrap();
    let a_p = fam.at_complex(&p).unwrap();
    let err = complex::rel_err_inverse(&a_p, &g).unwrap();
    println!("complex inverse n = {n}: held-out RelErr_inv {err:.3e}, report {:?}", model.report().held_out_rel_err);
    assert!(err < 1e-4, "held-out complex RelErr_inv {err}");
    // Stored compactly: the first block column [Re G; Im G] of E(G), half the embedding's values.
    assert_eq!((pred.components[0].rows, pred.components[0].cols), (2 * n, n));
    assert_eq!(model.shapes(), &[(2 * n, n)]);
    // Other entry points refuse complex models clearly instead of answering for the embedding.
    assert_eq!(model.apply(&p[..1], &vec![1.0; 2 * n]).unwrap_err().code(), "INVALID_OPTION");
    // The exact complex baseline is exact.
    let exact = complex::inverse(&a_p).unwrap();
    assert!(complex::rel_err_inverse(&a_p, &exact).unwrap() < 1e-26);
    Ok(())
}
device_test!(complex_inverse_trains_on_the_embedding_and_predicts_complex_inverses);

fn complex_svd_trains_with_phase_alignment(dev: DeviceSpec) -> Result<()> {
    let (n, count, r) = (10, 121, 3);
    let (params, a) = low_rank(n, r, count, 5);
    let fam = Family::from_samples_complex(1, params.clone(), &a).unwrap();
    let cfg = TrainConfig { steps: 800, seed: 2, rank: Some(r), device: dev, ..Default::default() };
    let model = train(&fam, Operation::Svd, &cfg).unwrap();
    let p = held_out(&params);
    let pred = model.predict(&p).unwrap();
    let parts: Vec<_> = pred.components.iter().map(|c| complex::complex_component(model.spec(), c)).collect();
    let to_batch = |c: &complex::ComplexComponent| {
        ComplexBatch::new(c.batch, c.rows, c.cols, c.re.to_f64(), c.im.as_ref().expect("complex").to_f64()).unwrap()
    };
    let (u, v) = (to_batch(&parts[0]), to_batch(&parts[2]));
    assert_eq!((u.rows, u.cols, v.rows, v.cols), (n, r, n, r));
    assert!(parts[1].im.is_none());
    let s = parts[1].re.to_f64();
    let a_p = fam.at_complex(&p).unwrap();
    let err = complex::rel_err_svd(&a_p, &u, &s, &v).unwrap();
    let exact = complex::svd(&a_p, Some(r)).unwrap();
    let floor = complex::rel_err_svd(&a_p, &exact.u, &exact.s.data, &exact.v).unwrap();
    println!("complex svd n = {n} rank {r}: held-out RelErr_svd {err:.3e} (exact rank-{r} floor {floor:.3e})");
    assert!(floor < 1e-20, "the family has rank {r}: floor {floor}");
    assert!(err < 1e-4, "held-out complex RelErr_svd {err}");
    // Orthonormal complex factors.
    let defect = model.report().held_out_orthogonality.expect("svd reports orthogonality");
    assert!(defect < 1e-2, "orthogonality defect {defect}");
    Ok(())
}
device_test!(complex_svd_trains_with_phase_alignment);

#[test]
fn complex_specs_refuse_other_operations_and_odd_shapes() {
    let (params, a) = family(4, 10, 1);
    let fam = Family::from_samples_complex(1, params, &a).unwrap();
    let cfg = TrainConfig { steps: 10, ..Default::default() };
    let err = train(&fam, Operation::Qr, &cfg).unwrap_err();
    assert_eq!(err.code(), "INVALID_OPTION");
    assert!(err.to_string().contains("complex"), "{err}");
    let bad = ComplexBatch::new(1, 2, 2, vec![f64::NAN, 0.0, 0.0, 1.0], vec![0.0; 4]);
    assert_eq!(bad.unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(ComplexBatch::from_interleaved(1, 2, 2, &[0.0; 7]).unwrap_err().code(), "SHAPE_MISMATCH");
}

/// A wideband CDL family with no low-rank structure along frequency: training warns before it
/// optimises, with the measured decay, and records the decay in the report; a narrow band does not.
fn training_warns_up_front_when_the_snapshots_have_no_low_rank_structure(dev: DeviceSpec) -> Result<()> {
    use neumatc::{CdlArray, CdlConfig};
    let array = CdlArray { rows: 1, cols: 8, spacing: 0.5 };
    let run = |delay_spread: f64, bandwidth: f64| {
        let fam = Family::cdl(CdlConfig { delay_spread, bandwidth, rx: array, tx: array, ..Default::default() }).unwrap();
        let cfg = TrainConfig {
            device: dev,
            ..TrainConfig::from_json(r#"{"steps": 200, "sampling": {"supervised": 30, "enrich": 0}}"#).unwrap()
        };
        let mut events = vec![];
        let model = train_with(
            &fam,
            Operation::Inverse,
            &cfg,
            &mut |p| {
                if let Some(m) = &p.message {
                    events.push((p.phase, m.clone()));
                }
            },
            &AtomicBool::new(false),
        )
        .unwrap();
        (model.report().clone(), events)
    };
    let (report, events) = run(300e-9, 400e6);
    let warned = events.iter().find(|(_, m)| m.contains("low-rank structure")).expect("a low-rank warning");
    assert!(matches!(warned.0.as_str(), "basis" | "collocation"), "warned during {}", warned.0);
    assert!(warned.1.contains("σ"), "the warning gives the decay: {}", warned.1);
    assert!(report.warnings.iter().any(|w| w.contains("low-rank structure")));
    assert_eq!(report.snapshot_decay.len(), 30);
    assert!((report.snapshot_decay[0] - 1.0).abs() < 1e-12);
    let (quiet, _) = run(10e-9, 20e6);
    assert!(!quiet.warnings.iter().any(|w| w.contains("low-rank structure")), "{:?}", quiet.warnings);
    assert!(quiet.snapshot_decay[20] < report.snapshot_decay[20]);
    Ok(())
}
device_test!(training_warns_up_front_when_the_snapshots_have_no_low_rank_structure);
