//! The exact baselines against NumPy, every operation, same matrices.

use super::*;

impl Suite<'_> {
    pub(super) fn exact_vs_numpy(&mut self) -> Result<()> {
        let sizes: &[usize] = if self.args.quick { &[256] } else { &[256, 512, 1024] };
        let mut rows = vec![];
        let mut worst: (f64, String) = (0.0, String::new());
        for &n in sizes.iter().filter(|&&n| n <= self.args.max_size) {
            let batch = if n >= 1024 { 8 } else { 20 };
            let params: Vec<f64> = (0..batch).map(|i| (i as f64 + 0.37) / batch as f64).collect();
            let general = Family::synthetic(SyntheticConfig { n, seed: 0, ..Default::default() })?.at(&params)?;
            let spd = Family::synthetic(SyntheticConfig { n, seed: 0, spd: true, ..Default::default() })?.at(&params)?;
            let rhs: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64 / 7.0).collect();
            for op in
                [Operation::Inverse, Operation::Solve, Operation::Svd, Operation::Qr, Operation::Cholesky, Operation::Eigh, Operation::Expm]
            {
                let a = if matches!(op, Operation::Cholesky | Operation::Eigh) { &spd } else { &general };
                let spec = OpSpec::new(op, n, n, None, (op == Operation::Solve).then(|| rhs.clone()))?;
                let (ms, err) = exact_baseline(&spec, a, self.reps())?;
                let rhs_file = std::env::temp_dir().join(format!("neumatc-suite-{}-rhs.f64", std::process::id()));
                let mut extra: Vec<String> = vec!["--reps".into(), self.reps().to_string()];
                if op == Operation::Solve {
                    std::fs::write(&rhs_file, rhs.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>())?;
                    extra.extend(["--rhs".into(), rhs_file.to_string_lossy().into_owned()]);
                }
                let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                let np = self.numpy.time(numpy_op(op), a, &extra);
                let _ = std::fs::remove_file(&rhs_file);
                let ratio = np.map(|(s, _)| ms / (s * 1e3));
                if let Some(r) = ratio
                    && r > worst.0
                {
                    worst = (r, format!("{} n = {n}", op.name()));
                }
                eprintln!("  {} n={n}: faer {ms:.3} ms, NumPy {:?}", op.name(), np.map(|x| x.0 * 1e3));
                rows.push(json!({
                    "op": op.name(), "n": n, "batch": batch, "faerMs": ms, "faerErr": err,
                    "numpyMs": np.map(|x| x.0 * 1e3), "numpyErr": np.map(|x| x.1), "ratio": ratio,
                    "gflops": exact_flops(op, n, n) / 1e9,
                }));
            }
        }
        self.tables.push(json!({
            "id": "exact", "title": "Exact baselines: neumatc (faer, f64) against NumPy/SciPy on the same matrices",
            "setup": "Synthetic family (§3.1, seed 0; SPD variant H Hᵀ for cholesky and eigh), per-matrix time of the batched call \
                      (NumPy's stacked call, neumatc's batched baseline) at batch 20 (8 at n = 1024), medians after a warm-up, both on all threads. \
                      Errors in each operation's metric (expm: NumPy's against SciPy's expm of the transpose).",
            "columns": [col("op", "operation", "text"), col("n", "n", "int"), col("faerMs", "neumatc ms", "ms"), col("numpyMs", "NumPy ms", "ms"),
                        col("ratio", "neumatc ÷ NumPy", "x"), col("faerErr", "neumatc error", "sci"), col("numpyErr", "NumPy error", "sci"),
                        col("gflops", "GFLOP (analytic)", "sci")],
            "rows": rows,
            "notes": ["ratio below 1: neumatc's baseline is faster; the target is at most 1.5 (the issue)."],
        }));
        if self.numpy.available() {
            let met = worst.0 <= 1.5;
            self.target(
                "exact baselines vs NumPy",
                "every exact baseline within 1.5× of NumPy",
                format!("worst {:.2}× ({})", worst.0, worst.1),
                met,
                if met { String::new() } else { format!("{} is slower than NumPy's LAPACK (OpenBLAS) routine", worst.1) },
            );
        }
        Ok(())
    }
}
