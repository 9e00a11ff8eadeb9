//! The applications of issue 7: the paper's App. H sparse PDE solves (Table 11) and wideband MIMO channels
//! (CDL, complex MMSE inverses and channel SVDs).

use std::time::Instant;

use neumatc::complex::{self, ComplexBatch, ComplexComponent};
use neumatc::sparse::{AdrConfig, KrylovConfig, krylov_sequence};
use neumatc::{CdlArray, CdlConfig, Family, Operation, Result, SamplingConfig, TrainConfig, train};
use serde_json::json;

use super::{Suite, col};
use crate::measure::{mean, time_predict};
use crate::timing::time_reps;

impl Suite<'_> {
    /// Table 11: 200 systems of the advection–diffusion–reaction operator, NeuMatC (`solve`, sparse
    /// training) against GMRES + ILU(0) warm-started along `p` (the Krylov-recycling pattern) and the exact
    /// sparse LU, all in this run.
    pub(super) fn table11(&mut self) -> Result<()> {
        let grids: &[usize] = if self.args.quick { &[100] } else { &[100, 316] };
        let params: Vec<f64> = (0..200).map(|i| (i as f64 + 0.37) / 200.0).collect();
        let mut rows = vec![];
        for &grid in grids {
            let fam = Family::adr(AdrConfig { grid, ..Default::default() })?;
            let op = fam.sparse().expect("sparse family");
            let n = op.n();
            eprintln!("table11: n = {n}: Krylov baseline …");
            let kry = krylov_sequence(op, &params, &KrylovConfig::default())?;
            let kry_ms = kry.seconds * 1e3;
            let kry_err = mean(&kry.residuals);
            eprintln!("table11: n = {n}: Krylov {kry_ms:.0} ms, mean residual {kry_err:.2e}; exact sparse LU …");
            let t = Instant::now();
            let exact = op.solve_exact(&params)?;
            let lu_ms = t.elapsed().as_secs_f64() * 1e3;
            let lu_err = mean(&(0..200).map(|i| op.relative_residual(params[i], &exact[i * n..(i + 1) * n])).collect::<Vec<_>>());
            drop(exact);
            eprintln!("table11: n = {n}: LU {lu_ms:.0} ms; training …");
            let cfg =
                TrainConfig::from_json(r#"{"omega": 3.0, "steps": 3000, "accuracy": 1e-7, "sampling": {"supervised": 40, "enrich": 40}}"#)?;
            let t = Instant::now();
            let model = train(&fam, Operation::Solve, &cfg)?;
            let train_ms = t.elapsed().as_secs_f64() * 1e3;
            let x = model.predict(&params)?.components[0].data.to_f64();
            let errs: Vec<f64> = (0..200).map(|i| op.relative_residual(params[i], &x[i * n..(i + 1) * n])).collect();
            drop(x);
            let infer_ms = time_predict(&model, &params, &self.pool, self.reps()) * 1e3;
            let r = model.report();
            let nm_err = mean(&errs);
            let worst = errs.iter().copied().fold(0.0, f64::max);
            eprintln!(
                "table11: n = {n}: NeuMatC train {train_ms:.0} ms, infer {infer_ms:.2} ms, residual {nm_err:.2e} (max {worst:.2e}), d = {}",
                r.latent_dim
            );
            rows.push(json!({ "n": n, "method": "Krylov (GMRES(50) + ILU(0), warm start)", "trainMs": null, "inferMs": kry_ms, "relErr": kry_err,
                              "speedup": 1.0, "inferSpeedup": 1.0, "note": format!("{:.1} iterations per system", mean(&kry.iterations.iter().map(|&i| i as f64).collect::<Vec<_>>())) }));
            rows.push(
                json!({ "n": n, "method": "exact sparse LU (faer, symbolic once)", "trainMs": null, "inferMs": lu_ms, "relErr": lu_err,
                              "speedup": kry_ms / lu_ms, "inferSpeedup": kry_ms / lu_ms, "note": "" }),
            );
            rows.push(json!({ "n": n, "method": "NeuMatC (solve)", "trainMs": train_ms, "inferMs": infer_ms, "relErr": nm_err,
                              "speedup": kry_ms / (train_ms + infer_ms), "inferSpeedup": kry_ms / infer_ms,
                              "note": format!("d = {}, {} + {} exact solves, max residual {worst:.2e}", r.latent_dim, r.supervised, r.supervised_added) }));
            self.target(
                &format!("Table 11 inference, n = {n}"),
                "≥ 1000× the Krylov baseline at ‖Ax − b‖/‖b‖ ≤ 1.1e-3",
                format!("{:.0}× at {nm_err:.2e}", kry_ms / infer_ms),
                kry_ms / infer_ms >= 1000.0 && nm_err <= 1.1e-3,
                String::new(),
            );
            self.target(
                &format!("Table 11 total (training + inference), n = {n}"),
                "speed-up over the Krylov baseline above the paper's 3.96×",
                format!("{:.2}× ({train_ms:.0} + {infer_ms:.1} ms vs {kry_ms:.0} ms)", kry_ms / (train_ms + infer_ms)),
                kry_ms / (train_ms + infer_ms) > 3.96,
                "the baseline here is compiled Rust on the same 2 cores (the paper's GCRO-DR ran in Python); faer's sparse LU \
                 is faster than it at this tolerance"
                    .into(),
            );
        }
        self.tables.push(json!({
            "id": "table11", "title": "Table 11 — 200 parametric sparse systems (advection–diffusion–reaction, App. H)",
            "setup": "−Δu + v(p)·∇u + u = 1 on (0,1)², v = 50(cos 2πp, sin 2πp), second-order finite differences, Dirichlet; 200 parameters \
                      (i + 0.37)/200 in order along p. Krylov: restarted GMRES(50), ILU(0) rebuilt per system (faster here than reusing it), \
                      warm start from the previous solution, tol 1e-3. NeuMatC: `solve` trained on the sparse family (ω = 3, accuracy 1e-7, \
                      40 supervised + up to 40 basis-refinement exact solves), held-out residuals on the 200 parameters, inference = one \
                      predict of all 200 (median). RelErr = mean ‖A(p)x − b‖/‖b‖.",
            "columns": [col("n", "n", "int"), col("method", "method", "text"), col("trainMs", "training ms", "ms"), col("inferMs", "inference ms (200 systems)", "ms"),
                        col("relErr", "RelErr", "sci"), col("speedup", "overall × vs Krylov", "x"), col("inferSpeedup", "inference × vs Krylov", "x"), col("note", "note", "text")],
            "rows": rows,
            "notes": ["Paper (n = 10⁵, Python): Krylov recycling 5.19e5 ms at 1.12e-3; NeuMatC 1.31e5 ms training + 8.01 ms inference at 1.11e-3, 3.96× overall."],
        }));
        Ok(())
    }
}

/// One wideband-channel case of [`Suite::wireless`].
struct Channel {
    op: Operation,
    antennas: usize,
    delay_spread: f64,
    band: f64,
    rank: Option<usize>,
}

impl Suite<'_> {
    /// Wideband MIMO channels (issue 7): 3GPP CDL-A at 28 GHz, MMSE Gram inverses and channel SVDs learned
    /// from exact solves at 20 % of a 200-frequency grid (the rest are collocation candidates), held-out
    /// error at 100 frequencies between the grid points, time per matrix at batch 100 against the exact
    /// complex solvers (faer, complex arithmetic, all threads).
    pub(super) fn wireless(&mut self) -> Result<()> {
        let big = if self.args.quick { 64 } else { 256 };
        let mut cases = vec![];
        for &ds in &[10e-9, 30e-9, 100e-9] {
            cases.push(Channel { op: Operation::Inverse, antennas: 64, delay_spread: ds, band: 50e6, rank: None });
        }
        cases.push(Channel { op: Operation::Inverse, antennas: big, delay_spread: 30e-9, band: 50e6, rank: None });
        cases.push(Channel { op: Operation::Inverse, antennas: big, delay_spread: 30e-9, band: 200e6, rank: None });
        cases.push(Channel { op: Operation::Svd, antennas: 64, delay_spread: 30e-9, band: 50e6, rank: Some(16) });
        cases.push(Channel { op: Operation::Svd, antennas: 64, delay_spread: 100e-9, band: 50e6, rank: Some(16) });
        let mut rows = vec![];
        for c in cases {
            let side = (c.antennas as f64).sqrt() as usize;
            let array = CdlArray { rows: side, cols: side, spacing: 0.5 };
            let form = if c.op == Operation::Svd { "channel" } else { "gram" };
            let cfg = CdlConfig {
                bandwidth: c.band,
                delay_spread: c.delay_spread,
                rx: array,
                tx: array,
                form: form.into(),
                ..Default::default()
            };
            let generator = Family::cdl(cfg)?;
            let (lo, hi) = (generator.domain().lo[0], generator.domain().hi[0]);
            let grid: Vec<f64> = (0..200).map(|i| lo + (hi - lo) * i as f64 / 199.0).collect();
            let a_grid = generator.at_complex(&grid)?;
            let fam = Family::from_samples_complex(1, grid, &a_grid)?;
            drop(a_grid);
            let sampling = SamplingConfig { supervised: 40, enrich: 0, ..Default::default() };
            let label = format!("{} {}×{} DS {:.0} ns, {:.0} MHz", c.op.name(), c.antennas, c.antennas, c.delay_spread * 1e9, c.band / 1e6);
            eprintln!("wireless: {label} …");
            // ω (the sine MLP's frequency) chosen from {2, 3} by the training's own validation error (grid
            // points without exact solves), never by the held-out set below; both trainings are counted.
            let t = Instant::now();
            let mut best: Option<(f64, f64, neumatc::NeuMatC)> = None;
            for omega in [2.0, 3.0] {
                let cfg = TrainConfig { rank: c.rank, omega, sampling: sampling.clone(), ..Default::default() };
                let m = train(&fam, c.op, &cfg)?;
                let v = m.report().held_out_rel_err.unwrap_or(f64::INFINITY);
                if best.as_ref().is_none_or(|b| v < b.0) {
                    best = Some((v, omega, m));
                }
            }
            let (_, omega, model) = best.expect("two trainings");
            let train_s = t.elapsed().as_secs_f64();
            let held: Vec<f64> = (0..100).map(|i| lo + (hi - lo) * (i as f64 + 0.5) / 100.0).collect();
            let a = generator.at_complex(&held)?;
            let pred = model.predict(&held)?;
            let parts: Vec<ComplexComponent> = pred.components.iter().map(|p| complex::complex_component(model.spec(), p)).collect();
            let planes = |p: &ComplexComponent| {
                ComplexBatch::new(p.batch, p.rows, p.cols, p.re.to_f64(), p.im.as_ref().map(|v| v.to_f64()).unwrap_or_default())
            };
            let reps = self.reps();
            let (err, floor, exact_ms) = if c.op == Operation::Inverse {
                let err = complex::rel_err_inverse(&a, &planes(&parts[0])?)?;
                (err, None, time_reps(reps, 1, || complex::inverse(&a).expect("invertible")) * 10.0)
            } else {
                let r = c.rank.unwrap_or(1);
                let ex = complex::svd(&a, Some(r))?;
                let floor = complex::rel_err_svd(&a, &ex.u, &ex.s.data, &ex.v)?;
                let err = complex::rel_err_svd(&a, &planes(&parts[0])?, &parts[1].re.to_f64(), &planes(&parts[2])?)?;
                (err, Some(floor), time_reps(reps, 1, || complex::svd(&a, Some(r)).expect("svd")) * 10.0)
            };
            let ms = time_predict(&model, &held, &self.pool, reps) * 10.0;
            let r = model.report();
            let decay = &r.snapshot_decay;
            let at = |f: f64| decay.get(((decay.len() as f64 * f) as usize).saturating_sub(1)).copied();
            eprintln!("wireless: {label}: RelErr {err:.2e}, {ms:.4} ms vs {exact_ms:.4} ms, d = {}, {train_s:.1} s", r.latent_dim);
            let warned = r.warnings.iter().any(|w| w.contains("low-rank structure"));
            rows.push(json!({ "case": label, "relErr": err, "floor": floor, "excess": floor.map(|f| err - f), "ms": ms, "exactMs": exact_ms, "speedup": exact_ms / ms,
                              "trainS": train_s, "omega": omega, "d": r.latent_dim, "decayHalf": at(0.5), "decayLast": at(1.0),
                              "warned": if warned { "yes" } else { "no" } }));
            let (target, tol) = if c.op == Operation::Inverse {
                ("RelErr_inv ≤ 8.3e-4 and ≥ 10× exact inversion", 8.3e-4)
            } else {
                ("RelErr_svd ≤ 2.6e-4", 2.6e-4)
            };
            if c.band == 50e6 && (c.antennas == 64 || c.antennas == 256) {
                let met = err <= tol && (c.op == Operation::Svd || exact_ms / ms >= 10.0);
                let note = match floor {
                    Some(f) => format!(
                        "the exact rank-{} SVD of these channels already has RelErr_svd {f:.2e} (CDL-A with 460 rays is not rank {}); the model is {:.1e} above it",
                        c.rank.unwrap_or(0),
                        c.rank.unwrap_or(0),
                        err - f
                    ),
                    None => String::new(),
                };
                self.target(&format!("wireless {label}"), target, format!("{err:.2e}, {:.1}× exact", exact_ms / ms), met, note);
            }
        }
        self.tables.push(json!({
            "id": "wireless", "title": "Wideband MIMO channels — 3GPP CDL-A at 28 GHz, complex MMSE inverses and channel SVDs",
            "setup": "CDL-A (TR 38.901 Table 7.7.1-1), UPA ↔ UPA (8×8 or 16×16 elements, λ/2), no beam squint, 20 dB SNR, seed 0. Inverse: \
                      A(f) = H(f)ᴴH(f) + σ²I; SVD: H(f), rank 16. 200 frequencies across the band; exact solves at 40 (20 %), the rest collocation \
                      candidates (fromSamples, complex); ω ∈ {2, 3} picked by the training's own validation error (grid points without exact \
                      solves; training time counts both runs), default training options otherwise. Held out: 100 frequencies between the grid points. \
                      Times per matrix at batch 100; exact = faer in complex arithmetic, all threads. RelErr in complex arithmetic.",
            "columns": [col("case", "case", "text"), col("relErr", "held-out RelErr", "sci"), col("floor", "exact rank-r floor", "sci"), col("excess", "above floor", "sci"), col("ms", "NeuMatC ms", "ms"),
                        col("exactMs", "exact ms", "ms"), col("speedup", "× vs exact", "x"), col("trainS", "training s (both ω)", "s"), col("omega", "ω", "text"), col("d", "d", "int"),
                        col("decayHalf", "σ(ns/2)/σ1", "sci"), col("decayLast", "σ(ns)/σ1", "sci"), col("warned", "low-rank warning", "text")],
            "rows": rows,
            "notes": ["Paper (DeepMIMO, real part only): RelErr_inv 8.3e-3, RelErr_svd 2.6e-3 at 256×256.",
                      "Delay spreads are TR 38.901 Table 7.7.3-1's very short (10 ns), short (30 ns) and nominal (100 ns) values: the delay spread \
                       times the band sets how many oscillations A(f) makes across it."],
        }));
        Ok(())
    }
}
