//! Inversion: Table 1 (accuracy and speed against every baseline), Table 4 and Figure 4 (time vs size and
//! vs batch), Table 5 (amortization of training) and Table 6 (two parameters).

use super::*;

impl Suite<'_> {
    /// The default inverse model of the synthetic family at `n`, seed 0 (trained once, shared).
    pub(super) fn inverse_model(&mut self, n: usize) -> Result<()> {
        if !self.inverse_models.contains_key(&n) {
            let fam = Family::synthetic(SyntheticConfig { n, seed: 0, ..Default::default() })?;
            let cfg = TrainConfig { seed: 0, ..Default::default() };
            let learned = self.learn(&fam, Operation::Inverse, &cfg, &held_out(), Some(&format!("inverse n = {n}")))?;
            self.inverse_models.insert(n, learned);
        }
        Ok(())
    }

    pub(super) fn table1(&mut self) -> Result<()> {
        let n = if self.args.quick { 256 } else { 1024 }.min(self.args.max_size);
        let test = held_out();
        let (mut runs, mut conds) = (Runs::default(), vec![]);
        for seed in 0..self.datasets_of("table1") {
            let l = if seed == 0 {
                self.inverse_model(n)?;
                &self.inverse_models[&n]
            } else {
                let fam = Family::synthetic(SyntheticConfig { n, seed, ..Default::default() })?;
                &self.learn(&fam, Operation::Inverse, &TrainConfig { seed, ..Default::default() }, &test, None)?
            };
            runs.push(l);
            conds.push(l.model.report().condition_candidates_max.unwrap_or(l.model.report().condition_max));
        }
        let model_ms = runs.ms();
        let worst = runs.errs.iter().copied().zip(&conds).fold((0.0f64, 0.0f64), |w, (e, &c)| if e > w.0 { (e, c) } else { w });
        let mut rows = vec![json!({
            "method": "NeuMatC (f32)", "note": format!("worst dataset {:.1e} (max cond A(p) {:.1e})", worst.0, worst.1), "ms": model_ms, "floorMs": runs.floor_ms(), "gflops": runs.flops / 1e9,
            "relErr": runs.err_stats(), "trainS": runs.train_s(), "d": runs.d_range(),
            "paperMs": 4.3, "paperErr": "7.2e-4 ± 1.8e-4",
        })];
        // Baselines on the first datasets (their cost does not depend on the dataset).
        let (mut lu, mut np, mut nni, mut coi, mut znn) = (vec![], vec![], vec![], vec![], vec![]);
        let nni_count = if n >= 1024 { 4 } else { 10 };
        let znn_count = if n >= 1024 { 12 } else { 40 };
        let mut nni_iters = vec![];
        let mut coi_build = vec![];
        for seed in 0..self.baseline_datasets("table1") {
            let fam = Family::synthetic(SyntheticConfig { n, seed, ..Default::default() })?;
            let a = fam.at(&test)?;
            let spec = OpSpec::new(Operation::Inverse, n, n, None, None)?;
            // The exact solvers' cost is the same for every matrix: 20 of the held-out ones are timed.
            let a20 = head(&a, 20);
            lu.push(exact_baseline(&spec, &a20, 3)?);
            if let Some(x) = self.numpy.time("inv", &a20, &["--reps", "3"]) {
                np.push((x.0 * 1e3, x.1));
            }
            let few = head(&a, nni_count);
            let cfg = NniConfig::default();
            let t = Instant::now();
            let (x, iters) = baseline::newton_schulz_inverse(&few, &cfg)?;
            nni.push((t.elapsed().as_secs_f64() / few.batch as f64 * 1e3, metrics::rel_err_inverse(&few, &x.data)?));
            nni_iters.extend(iters);
            let t = Instant::now();
            let c = baseline::Coi::new(&fam, &CoiConfig::default())?;
            coi_build.push(t.elapsed().as_secs_f64());
            let t = time_reps(3, 1, || c.inverse(&test).expect("in domain"));
            coi.push((t / test.len() as f64 * 1e3, metrics::rel_err_inverse(&a, &c.inverse(&test)?.data)?));
            drop(c);
            // ZNNI integrates along p from the first held-out point: the first `znn_count` of them.
            let grid = &test[..znn_count];
            let t = Instant::now();
            let x = baseline::znn_inverse(&fam, grid, &ZnnConfig::default())?;
            znn.push((t.elapsed().as_secs_f64() / grid.len() as f64 * 1e3, metrics::rel_err_inverse(&fam.at(grid)?, &x.data)?));
            eprintln!(
                "  baselines dataset {seed}: LU {:?} NumPy {:?} NNI {:?} COI {:?} ZNNI {:?}",
                lu.last(),
                np.last(),
                nni.last(),
                coi.last(),
                znn.last()
            );
        }
        let n3 = (n as f64).powi(3);
        let row = |method: &str, v: &[(f64, f64)], gflops: f64, paper_ms: f64, paper_err: &str, note: String| {
            let mut r = baseline_row(method, v, gflops, paper_ms, paper_err);
            r["note"] = json!(note);
            r
        };
        let lu_ms = median_ms(&lu);
        rows.push(row("LU (neumatc, faer f64)", &lu, 2.0 * n3 / 1e9, f64::NAN, "", String::new()));
        let np_ms = (!np.is_empty()).then(|| median_ms(&np));
        if np_ms.is_some() {
            rows.push(row("LU (NumPy inv, f64)", &np, 2.0 * n3 / 1e9, 34.0, "MP", String::new()));
        }
        let it = mean(&nni_iters.iter().map(|&i| i as f64).collect::<Vec<_>>());
        rows.push(row(
            "NNI (Newton–Schulz, tol 1e-10)",
            &nni,
            it * 4.0 * n3 / 1e9,
            270.0,
            "9.2e-1 ± 3.5e-1",
            format!("{nni_count} matrices, {it:.0} iterations"),
        ));
        rows.push(row(
            "COI (16 Chebyshev nodes)",
            &coi,
            2.0 * 16.0 * (n * n) as f64 / 1e9,
            4100.0,
            "4.5e-3 ± 4.6e-5",
            format!("+ {:.1} s for the 16 exact inverses", mean(&coi_build)),
        ));
        rows.push(row(
            "ZNNI (γ = 10, 4 RK4 steps)",
            &znn,
            4.0 * 12.0 * 2.0 * n3 / 1e9,
            1500.0,
            "3.5e-3 ± 9.3e-6",
            format!("first {znn_count} held-out points, integrated along p"),
        ));
        for r in rows.iter_mut() {
            let ms = r["ms"].as_f64().unwrap_or(f64::NAN);
            r["vsNumpy"] = np_ms.map_or(Value::Null, |v| json!(v / ms));
            r["vsLu"] = json!(lu_ms / ms);
        }
        self.amortization.push((format!("inverse n = {n}"), runs.train_s(), model_ms, lu_ms, np_ms));
        let ds = self.datasets_of("table1");
        let bd = self.baseline_datasets("table1");
        self.tables.push(json!({
            "id": "table1", "title": format!("Table 1 — inversion, synthetic family, n = {n}"),
            "setup": format!("Synthetic family §3.1 (rank 20, ε = 1, default scale), {ds} dataset(s) (seed = index), 40 supervised samples, \
                              100 held-out parameters each, batch 100, default training options. NeuMatC rows: median time and \
                              mean ± std RelErr_inv over the {ds} datasets; baselines on the first {bd}, LU and NumPy on 20 of the held-out \
                              matrices each (NumPy at the faster of all BLAS threads and one)."),
            "columns": [col("method", "method", "text"), col("ms", "ms/matrix", "ms"), col("floorMs", "floor ms", "ms"), col("gflops", "GFLOP/matrix", "sci"),
                        col("relErr", "RelErr_inv", "pm"), col("trainS", "training s", "s"), col("d", "d", "text"), col("vsNumpy", "× vs NumPy", "x"),
                        col("vsLu", "× vs LU", "x"), col("paperMs", "paper ms", "ms"), col("paperErr", "paper RelErr", "text"), col("note", "note", "text")],
            "rows": rows,
            "notes": ["paper: i7-12700KF (12 cores), NumPy LU; here: this machine's cores, same run.",
                      "NNI and ZNNI are timed on a few matrices (their cost per matrix is the same for every matrix)."],
        }));
        if let Some(np_ms) = np_ms {
            let speed = np_ms / model_ms;
            let err = runs.mean_err();
            let met = speed >= 50.0 && err <= 1e-4;
            let label = format!("inversion n = {n}, batch 100");
            self.target(
                &label,
                "≥ 50× NumPy inv at RelErr_inv ≤ 1e-4",
                format!("{speed:.0}× at {err:.1e}"),
                met,
                if met { String::new() } else { format!("NeuMatC {model_ms:.3} ms vs floor {:.3} ms", runs.floor_ms()) },
            );
        }
        let vs_floor = model_ms / runs.floor_ms();
        let (bytes_s, flops_s) = self.ceil.floor_parts(&self.inverse_models[&n].model, 100);
        self.target(
            &format!("inference floor, inverse n = {n}, batch 100"),
            "within 2× of the floor",
            format!("{vs_floor:.2}× the floor"),
            vs_floor <= 2.0,
            format!("floor per matrix: bytes {:.3} ms, FLOPs {:.3} ms", bytes_s * 10.0, flops_s * 10.0),
        );
        Ok(())
    }

    pub(super) fn table4(&mut self) -> Result<()> {
        let sizes: Vec<usize> = [256, 512, 1024, 2048, 4096].into_iter().filter(|&n| n <= self.args.max_size).collect();
        let paper = [(256, 2.6), (512, 7.8), (1024, 4.1), (2048, 16.0), (4096, 63.0)];
        let mut rows = vec![];
        let (mut model_pts, mut floor_pts, mut lu_pts, mut np_pts) = (vec![], vec![], vec![], vec![]);
        for n in sizes {
            // Batch 100, fewer where 100 results would not fit in a quarter of this machine's memory.
            let batch = 100usize.min(((neumatc::matrix::available_memory() as f64 / 4.0) / (4.0 * (n * n) as f64)) as usize).max(1);
            let test: Vec<f64> = held_out().into_iter().take(batch).collect();
            // Training holds the supervised solutions, the basis and its f64 work arrays: measured, about
            // 200 n² doubles at its peak (n = 4096 was killed by the kernel's OOM killer at 24 GiB).
            let need = 200.0 * 8.0 * (n * n) as f64;
            if need > neumatc::matrix::available_memory() as f64 {
                let note = format!(
                    "not trained: needs about {:.0} GB, {:.0} GB available",
                    need / 1e9,
                    neumatc::matrix::available_memory() as f64 / 1e9
                );
                eprintln!("  n = {n}: {note}");
                rows.push(json!({ "n": n, "note": note }));
                continue;
            }
            let l = match self.inverse_model(n) {
                Ok(()) => &self.inverse_models[&n],
                Err(e) => {
                    eprintln!("  n = {n}: {e}");
                    rows.push(json!({ "n": n, "note": format!("not trained: {e}") }));
                    continue;
                }
            };
            let (d, err, train_s) = (l.d(), l.err, l.train_s);
            let cond = l.model.report().condition_candidates_max.unwrap_or(l.model.report().condition_max);
            let ms = time_predict(&l.model, &test, &self.pool, self.reps()) / batch as f64 * 1e3;
            let floor = self.ceil.floor(&l.model, batch) / batch as f64 * 1e3;
            let few = Family::synthetic(SyntheticConfig { n, seed: 0, ..Default::default() })?
                .at(&test[..batch.min(if n >= 2048 { 2 } else { 8 })])?;
            let spec = OpSpec::new(Operation::Inverse, n, n, None, None)?;
            let (lu_ms, _) = exact_baseline(&spec, &few, if n >= 2048 { 1 } else { 3 })?;
            let np = self.numpy.time("inv", &few, &["--reps", if n >= 2048 { "1" } else { "3" }]).map(|x| x.0 * 1e3);
            let paper_ms = paper.iter().find(|p| p.0 == n).map(|p| p.1);
            eprintln!("  n={n} batch {batch}: {ms:.3} ms (floor {floor:.3}), LU {lu_ms:.2} ms, NumPy {np:?}");
            model_pts.push([n as f64, ms]);
            floor_pts.push([n as f64, floor]);
            lu_pts.push([n as f64, lu_ms]);
            if let Some(v) = np {
                np_pts.push([n as f64, v]);
            }
            if batch >= 100 {
                self.floor_checks.push((format!("inverse n = {n} (Table 4)"), ms / floor));
            }
            rows.push(
                json!({ "n": n, "batch": batch, "ms": ms, "floorMs": floor, "vsFloor": ms / floor, "relErr": err, "d": d, "trainS": train_s,
                              "cond": cond, "luMs": lu_ms, "numpyMs": np, "vsNumpy": np.map(|v| v / ms), "paperMs": paper_ms }),
            );
            // Large models are not needed again; their C (d × n² f32) is hundreds of MB.
            if n >= 2048 {
                self.inverse_models.remove(&n);
            }
        }
        self.tables.push(json!({
            "id": "table4", "title": "Table 4 — NeuMatC inference time vs matrix size (inverse, CPU)",
            "setup": "Synthetic family (seed 0), default training at each n, per-matrix time at batch 100 (fewer where the results would not fit \
                      in a quarter of the free memory), buffers recycled between calls; LU and NumPy timed on a few of the same matrices.",
            "columns": [col("n", "n", "int"), col("batch", "batch", "int"), col("ms", "NeuMatC ms", "ms"), col("floorMs", "floor ms", "ms"),
                        col("vsFloor", "× floor", "x"), col("relErr", "RelErr_inv", "sci"), col("d", "d", "int"), col("trainS", "training s", "s"),
                        col("cond", "max cond A(p)", "sci"), col("luMs", "LU ms", "ms"), col("numpyMs", "NumPy ms", "ms"), col("vsNumpy", "× vs NumPy", "x"), col("paperMs", "paper CPU ms", "ms"),
                        col("note", "note", "text")],
            "rows": rows,
            "notes": ["The floor is max(output + C bytes ÷ write bandwidth, FLOPs ÷ GEMM peak) at this machine's measured ceilings.",
                      "max cond A(p): the largest condition number training saw (samples and candidates); where the family passes close to a \
                       singular matrix the inverse varies sharply in p and the default model is less accurate (its report says so)."],
        }));
        self.figures.push(json!({
            "id": "time-vs-size", "title": "Inverse: time per matrix vs matrix size (batch 100)",
            "x": { "label": "matrix size n", "log": true }, "y": { "label": "ms per matrix", "log": true },
            "series": [ { "name": "NeuMatC", "points": model_pts }, { "name": "floor", "points": floor_pts, "dashed": true },
                        { "name": "LU (faer)", "points": lu_pts }, { "name": "NumPy inv", "points": np_pts } ],
        }));
        Ok(())
    }

    pub(super) fn fig4_batch(&mut self) -> Result<()> {
        let n = 256.min(self.args.max_size);
        let batches: &[usize] = if self.args.quick { &[1, 4, 16, 64, 256, 1024] } else { &[1, 4, 16, 64, 256, 1024, 4096] };
        let (mut model_pts, mut floor_pts, mut lu_pts, mut rows) = (vec![], vec![], vec![], vec![]);
        self.inverse_model(n)?;
        let fam = Family::synthetic(SyntheticConfig { n, seed: 0, ..Default::default() })?;
        let spec = OpSpec::new(Operation::Inverse, n, n, None, None)?;
        for &b in batches {
            let params: Vec<f64> = (0..b).map(|i| (i as f64 + 0.37) / b as f64).collect();
            let l = &self.inverse_models[&n];
            let ms = time_predict(&l.model, &params, &self.pool, self.reps() * 2) / b as f64 * 1e3;
            let floor = self.ceil.floor(&l.model, b) / b as f64 * 1e3;
            let lu_ms = if b <= 256 { Some(exact_baseline(&spec, &fam.at(&params)?, 3)?.0) } else { None };
            model_pts.push([b as f64, ms]);
            floor_pts.push([b as f64, floor]);
            if let Some(v) = lu_ms {
                lu_pts.push([b as f64, v]);
            }
            if b >= 100 {
                self.floor_checks.push((format!("inverse n = {n}, batch {b}"), ms / floor));
            }
            rows.push(
                json!({ "batch": b, "ms": ms, "floorMs": floor, "vsFloor": ms / floor, "luMs": lu_ms, "vsLu": lu_ms.map(|v| v / ms) }),
            );
        }
        let err = self.inverse_models[&n].err;
        self.tables.push(json!({
            "id": "fig4", "title": format!("Figure 4 — time per matrix vs number of inferred parameters (inverse, n = {n})"),
            "setup": format!("The default model of Table 4 at n = {n} (held-out RelErr_inv {err:.1e}); LU on the same batches up to 256."),
            "columns": [col("batch", "parameters", "int"), col("ms", "NeuMatC ms/matrix", "ms"), col("floorMs", "floor ms", "ms"), col("vsFloor", "× floor", "x"),
                        col("luMs", "LU ms/matrix", "ms"), col("vsLu", "× vs LU", "x")],
            "rows": rows, "notes": [],
        }));
        self.figures.push(json!({
            "id": "time-vs-batch", "title": format!("Inverse n = {n}: time per matrix vs number of parameters"),
            "x": { "label": "parameters in the batch", "log": true }, "y": { "label": "ms per matrix", "log": true },
            "series": [ { "name": "NeuMatC", "points": model_pts }, { "name": "floor", "points": floor_pts, "dashed": true },
                        { "name": "LU (faer)", "points": lu_pts } ],
        }));
        Ok(())
    }

    pub(super) fn table5(&mut self) -> Result<()> {
        let mut rows = vec![];
        for (label, train_s, model_ms, exact_ms, np_ms) in self.amortization.clone() {
            let gain = exact_ms - model_ms;
            let break_even = if gain > 0.0 { Some((train_s * 1e3 / gain).ceil()) } else { None };
            let np_break_even = np_ms.filter(|v| *v > model_ms).map(|v| (train_s * 1e3 / (v - model_ms)).ceil());
            for batch in [100usize, 512, 1024, 2048, 4096, 16384] {
                let b = batch as f64;
                let total = train_s * 1e3 + b * model_ms;
                rows.push(json!({ "task": label, "batch": batch, "exactMs": b * exact_ms, "numpyMs": np_ms.map(|v| v * b), "trainMs": train_s * 1e3,
                                  "inferMs": b * model_ms, "totalMs": total, "vsExact": b * exact_ms / total, "vsNumpy": np_ms.map(|v| v * b / total),
                                  "breakEven": break_even, "breakEvenNumpy": np_break_even }));
            }
            self.target(
                &format!("break-even batch, {label}"),
                "reported (Table 5)",
                format!(
                    "{} matrices vs faer, {} vs NumPy",
                    break_even.map_or("never".into(), |v| v.to_string()),
                    np_break_even.map_or("—".into(), |v| v.to_string())
                ),
                true,
                String::new(),
            );
        }
        self.tables.push(json!({
            "id": "table5", "title": "Table 5 — amortization: training + inference against exact solves, as the batch grows (CPU)",
            "setup": "From the dataset-0 models of Tables 1 and 2: total time to produce `batch` results, NeuMatC including its whole training, \
                      against the exact baselines at their measured per-matrix cost. The paper's Table 5 is on the GPU (SVD 512: 6.2 s training, \
                      2.15× at 512, 28.75× at 2048 against cuSOLVER).",
            "columns": [col("task", "task", "text"), col("batch", "batch", "int"), col("exactMs", "faer ms", "ms"), col("numpyMs", "NumPy ms", "ms"),
                        col("trainMs", "NeuMatC train ms", "ms"), col("inferMs", "NeuMatC infer ms", "ms"), col("vsExact", "× vs faer", "x"),
                        col("vsNumpy", "× vs NumPy", "x"), col("breakEven", "break-even batch (faer)", "int"), col("breakEvenNumpy", "break-even (NumPy)", "int")],
            "rows": rows, "notes": [],
        }));
        Ok(())
    }

    pub(super) fn table6(&mut self) -> Result<()> {
        let quick = self.args.quick;
        let n = if quick { 64 } else { 128 };
        let cfg_json = if quick {
            r#"{"sampling":{"supervised":125}}"#
        } else {
            r#"{"sampling":{"supervised":125,"collocation":600,"candidates":1000},"hidden":[128,128,128],"steps":3000,"omega":4,"accuracy":0.0001}"#
        };
        let datasets = if quick { 1 } else { self.datasets_of("table6") };
        let grid: Vec<f64> = (0..2500).flat_map(|i| [(i / 50) as f64 / 49.0, (i % 50) as f64 / 49.0]).collect();
        let test: Vec<f64> = (0..100).flat_map(|i| grid[(i * 25 + 12) * 2..(i * 25 + 12) * 2 + 2].to_vec()).collect();
        let mut runs = Runs::default();
        for seed in 0..datasets {
            let src = Family::spd_fourier(SpdFourierConfig { n, seed, rank: Some(16), ..Default::default() })?;
            let fam = Family::from_samples(2, grid.clone(), src.at(&grid)?)?;
            let mut cfg = TrainConfig::from_json(cfg_json)?;
            cfg.seed = seed;
            runs.push(&self.learn(&fam, Operation::Inverse, &cfg, &test, None)?);
        }
        let rows = vec![
            json!({ "method": "NeuMatC (f32)", "ms": runs.ms(), "relErr": runs.err_stats(), "trainS": runs.train_s(), "d": format!("{:?}", runs.ds), "options": cfg_json }),
            json!({ "method": "paper", "ms": 0.37, "relErr": "4.8e-4 ± 2.4e-5" }),
        ];
        self.tables.push(json!({
            "id": "table6", "title": format!("Table 6 — 2-D inversion, SPD Fourier family, n = {n}"),
            "setup": format!("A(p) = B(p)B(p)ᵀ + εI with B (n × 16) a Fourier series in (p₁, p₂), a 50 × 50 grid, 5 % (125 points) supervised, \
                              100 other grid points held out, {datasets} dataset(s)."),
            "columns": [col("method", "method", "text"), col("ms", "ms/matrix", "ms"), col("relErr", "RelErr_inv", "pm"), col("trainS", "training s", "s"),
                        col("d", "d", "text"), col("options", "training options", "text")],
            "rows": rows, "notes": [],
        }));
        Ok(())
    }
}
