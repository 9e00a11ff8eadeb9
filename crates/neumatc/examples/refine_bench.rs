//! Iterative refinement with the learned inverse as preconditioner against exact LU solves: synthetic
//! family n = 256 (default options, seed 7), an inverse model with default options, 100 held-out
//! parameters, one shared right-hand side. Writes `bench/results/<date>-vm-refine.{json,md}`.
//!
//! `cargo run --release -p neumatc --example refine_bench -- [--n 256] [--out bench/results]`
//!
//! Times are medians of 5 runs after a warm-up, per matrix, at batch 100, every method on all threads of
//! rayon's pool. `refine` evaluates `A(p)` itself while the exact solver takes it as input, so `A(p)` is
//! timed on its own and the comparison is made both ways: `refine` given the stored `A(p)` (a sampled
//! family holding the same matrices, so the lookup is a copy) against LU alone, and `refine` with the
//! generator against generation plus LU.

use std::time::Instant;

use neumatc::{Family, NeuMatC, Operation, RefineConfig, Refined, Result, SyntheticConfig, TrainConfig, baseline, train};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::{Value, json};

mod timing;

use timing::{cpu_model, time, today};

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Mean and max over the batch of `‖b − A x‖ / ‖b‖` and `‖x − x_exact‖ / ‖x_exact‖`.
fn errors(a: &neumatc::MatrixBatch, b: &[f64], x: &[f64], exact: &[f64]) -> (f64, f64, f64, f64) {
    let n = a.rows;
    let (mut res, mut err) = (Vec::new(), Vec::new());
    for i in 0..a.batch {
        let (ai, xi, ei) = (a.matrix(i), &x[i * n..(i + 1) * n], &exact[i * n..(i + 1) * n]);
        let r: Vec<f64> = (0..n).map(|row| b[row] - ai[row * n..(row + 1) * n].iter().zip(xi).map(|(u, v)| u * v).sum::<f64>()).collect();
        res.push(norm(&r) / norm(b));
        err.push(norm(&xi.iter().zip(ei).map(|(u, v)| u - v).collect::<Vec<_>>()) / norm(ei));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    (mean(&res), max(&res), mean(&err), max(&err))
}

struct Row {
    method: String,
    ms: f64,
    errs: (f64, f64, f64, f64),
    note: String,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let n: usize = flag("--n").map_or(256, |s| s.parse().expect("--n N"));
    let out_dir = flag("--out").unwrap_or_else(|| "bench/results".into());
    let t0 = Instant::now();

    let fam = Family::synthetic(SyntheticConfig { n, seed: 7, ..Default::default() })?;
    let model: NeuMatC = train(&fam, Operation::Inverse, &TrainConfig::default())?;
    let report = model.report();
    eprintln!("trained in {:.1} s: d = {}, held-out RelErr_inv {:?}", report.seconds, model.latent_dim(), report.held_out_rel_err);
    let test: Vec<f64> = (0..100).map(|i| (i as f64 + 0.37) / 100.0).collect();
    let batch = test.len() as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let b: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();

    // A(p) on its own, and a family that holds exactly these matrices (refine then only copies them).
    let t_gen = time(|| fam.at(&test).unwrap());
    let a = fam.at(&test)?;
    let stored = Family::from_samples(1, test.clone(), a.clone())?;
    // Per parameter inside rayon tasks, as refine evaluates them (no batch of fresh memory).
    let t_lookup = time(|| test.par_iter().for_each(|&p| drop(std::hint::black_box(stored.at(&[p]).unwrap()))));
    let t_gen_each = time(|| test.par_iter().for_each(|&p| drop(std::hint::black_box(fam.at(&[p]).unwrap()))));

    let exact = baseline::solve(&a, &b)?.data;
    let t_exact = time(|| baseline::solve(&a, &b).unwrap());
    let mut rows = vec![Row {
        method: "exact LU solve (faer, f64), A(p) given".into(),
        ms: t_exact / batch * 1e3,
        errs: errors(&a, &b, &exact, &exact),
        note: String::new(),
    }];
    let summary = |r: &Refined| {
        let it: Vec<u32> = r.iterations.clone();
        let (lo, hi) = (it.iter().min().copied().unwrap_or(0), it.iter().max().copied().unwrap_or(0));
        let mean = it.iter().map(|&k| k as f64).sum::<f64>() / it.len().max(1) as f64;
        let fb = r.fell_back.iter().filter(|&&f| f).count();
        (format!("iterations {mean:.2} mean ({lo}–{hi}), {fb} fallbacks"), mean, fb)
    };
    let mut refine_stats = Vec::new();
    for tol in [1e-12, 1e-8] {
        let cfg = RefineConfig { tol, ..Default::default() };
        let t = time(|| model.refine(Some(&stored), &test, &b, &cfg).unwrap());
        let out = model.refine(Some(&stored), &test, &b, &cfg)?;
        let (note, mean_it, fb) = summary(&out);
        rows.push(Row {
            method: format!("refine tol {tol:e}, A(p) given (stored; its lookup alone {:.4} ms)", t_lookup / batch * 1e3),
            ms: t / batch * 1e3,
            errs: errors(&a, &b, &out.x, &exact),
            note: note.clone(),
        });
        let t_gen_refine = time(|| model.refine(None, &test, &b, &cfg).unwrap());
        rows.push(Row {
            method: format!("refine tol {tol:e}, A(p) generated inside (generation alone {:.4} ms)", t_gen_each / batch * 1e3),
            ms: t_gen_refine / batch * 1e3,
            errs: errors(&a, &b, &model.refine(None, &test, &b, &cfg)?.x, &exact),
            note,
        });
        refine_stats.push(json!({ "tol": tol, "meanIterations": mean_it, "fallbacks": fb, "iterations": out.iterations }));
    }
    let t_apply = time(|| model.apply(&test, &b).unwrap());
    let x_apply = model.apply(&test, &b)?.data.to_f64();
    rows.push(Row {
        method: format!("apply Ĝ(p) b ({}, no A(p))", model.dtype_name()),
        ms: t_apply / batch * 1e3,
        errs: errors(&a, &b, &x_apply, &exact),
        note: String::new(),
    });
    rows.push(Row {
        method: "A(p) generation alone (synthetic generator, batched)".into(),
        ms: t_gen / batch * 1e3,
        errs: (f64::NAN, f64::NAN, f64::NAN, f64::NAN),
        note: String::new(),
    });
    rows.push(Row {
        method: "A(p) generation (batched) + exact LU solve".into(),
        ms: (t_gen + t_exact) / batch * 1e3,
        errs: rows[0].errs,
        note: "the batch of A(p) is 100 fresh n×n f64 matrices (page faults included)".into(),
    });
    // The exact solver in refine's own pipeline: A(p) generated per parameter inside a rayon task, then LU.
    let generated_lu = || -> Vec<f64> {
        test.par_iter().flat_map_iter(|&p| baseline::solve_matrix(&fam.at(&[p]).unwrap().data, n, &b).unwrap()).collect()
    };
    let t_gen_lu = time(generated_lu);
    rows.push(Row {
        method: "A(p) generated per parameter + exact LU solve (refine's pipeline)".into(),
        ms: t_gen_lu / batch * 1e3,
        errs: errors(&a, &b, &generated_lu(), &exact),
        note: String::new(),
    });

    for r in &rows {
        eprintln!(
            "{:<60} {:>9.4} ms  res {:.2e} (max {:.2e})  err {:.2e} (max {:.2e})  {}",
            r.method, r.ms, r.errs.0, r.errs.1, r.errs.2, r.errs.3, r.note
        );
    }
    let ms = |prefix: &str| rows.iter().find(|r| r.method.starts_with(prefix)).map_or(f64::NAN, |r| r.ms);
    let exact_ms = rows[0].ms;
    let gen_exact_ms = ms("A(p) generated per parameter + exact");
    let speedups = json!({
        "refine1e-12VsLu": exact_ms / ms("refine tol 1e-12, A(p) given"),
        "refine1e-8VsLu": exact_ms / ms("refine tol 1e-8, A(p) given"),
        "refine1e-12GeneratedVsGenerationPlusLu": gen_exact_ms / ms("refine tol 1e-12, A(p) generated"),
        "refine1e-8GeneratedVsGenerationPlusLu": gen_exact_ms / ms("refine tol 1e-8, A(p) generated"),
        "applyVsLu": exact_ms / ms("apply"),
    });

    let (date, cpu) = (today(), cpu_model());
    let threads = rayon::current_num_threads();
    let command = match args[1..].join(" ") {
        rest if rest.is_empty() => "cargo run --release -p neumatc --example refine_bench".to_string(),
        rest => format!("cargo run --release -p neumatc --example refine_bench -- {rest}"),
    };
    let json = json!({
        "machine": { "cpu": cpu, "threads": threads }, "command": command, "n": n, "batch": test.len(),
        "model": { "latentDim": model.latent_dim(), "trainSeconds": report.seconds, "heldOutRelErrInv": report.held_out_rel_err, "dtype": model.dtype_name() },
        "refine": refine_stats, "speedups": speedups, "seconds": t0.elapsed().as_secs_f64(),
        "rows": rows.iter().map(|r| json!({ "method": r.method, "msPerMatrix": r.ms, "meanResidual": r.errs.0, "maxResidual": r.errs.1,
            "meanRelErr": r.errs.2, "maxRelErr": r.errs.3, "note": r.note })).collect::<Vec<Value>>(),
    });
    std::fs::create_dir_all(&out_dir)?;
    let base = format!("{out_dir}/{date}-vm-refine");
    std::fs::write(format!("{base}.json"), serde_json::to_string_pretty(&json).unwrap_or_default())?;
    let e = |v: f64| if v.is_nan() { "—".to_string() } else { format!("{v:.2e}") };
    let mut md = format!(
        "# Refinement with the learned inverse vs exact LU solves (synthetic n = {n}, seed 7, 100 held-out parameters)\n\n\
         Machine: {cpu}, {threads} threads. Command: `{command}`.\n\
         Model: inverse, default options ({}, d = {}, trained in {:.1} s, held-out RelErr_inv {}). One shared right-hand \
         side b (uniform in [−0.5, 0.5], seed 11).\n\
         Per-matrix times at batch 100 (medians of 5 after warm-up, every method on all threads). `refine` evaluates A(p) itself: \
         \"A(p) given\" passes a sampled family holding the same matrices the LU solve gets (its lookup is a copy, included), \
         \"generated inside\" uses the synthetic generator and is compared with the same per-parameter pipeline around LU \
         (generate A(p) in a rayon task, then solve). Residual = ‖b − Ax‖/‖b‖, \
         error = ‖x − x_LU‖/‖x_LU‖ (mean, max in brackets).\n\n\
         | method | ms/matrix @100 | residual | error vs LU | notes |\n| --- | --- | --- | --- | --- |\n",
        model.dtype_name(),
        model.latent_dim(),
        report.seconds,
        report.held_out_rel_err.map_or("—".into(), e)
    );
    for r in &rows {
        md += &format!(
            "| {} | {:.4} | {} ({}) | {} ({}) | {} |\n",
            r.method,
            r.ms,
            e(r.errs.0),
            e(r.errs.1),
            e(r.errs.2),
            e(r.errs.3),
            r.note
        );
    }
    md += &format!(
        "\nSpeed-ups: refine (A(p) given) vs LU: {:.1}× at tol 1e-12, {:.1}× at 1e-8; with generation in both: {:.1}× / {:.1}×; \
         apply vs LU: {:.0}× (apply does not reach the tolerance: see its residual).\n",
        speedups["refine1e-12VsLu"].as_f64().unwrap_or(f64::NAN),
        speedups["refine1e-8VsLu"].as_f64().unwrap_or(f64::NAN),
        speedups["refine1e-12GeneratedVsGenerationPlusLu"].as_f64().unwrap_or(f64::NAN),
        speedups["refine1e-8GeneratedVsGenerationPlusLu"].as_f64().unwrap_or(f64::NAN),
        speedups["applyVsLu"].as_f64().unwrap_or(f64::NAN),
    );
    std::fs::write(format!("{base}.md"), &md)?;
    println!("{md}");
    eprintln!("wrote {base}.json and {base}.md in {:.0} s", t0.elapsed().as_secs_f64());
    Ok(())
}
