//! Table 7: QR, Cholesky and expm.

use super::*;

impl Suite<'_> {
    pub(super) fn table7(&mut self) -> Result<()> {
        let n = if self.args.quick { 128 } else { 512 }.min(self.args.max_size);
        let test = held_out();
        let mut rows = vec![];
        for (op, paper_ms, paper_err) in [
            (Operation::Qr, 2.3, "4.1e-4 ± 2.3e-4"),
            (Operation::Cholesky, 0.79, "6.8e-4 ± 1.4e-4"),
            (Operation::Expm, 1.7, "2.4e-3 ± 2.6e-4"),
        ] {
            let spd = op == Operation::Cholesky;
            let family = |seed| Family::synthetic(SyntheticConfig { n, seed, spd, ..Default::default() });
            let mut runs = Runs::default();
            for seed in 0..self.datasets_of("table7") {
                runs.push(&self.learn(&family(seed)?, op, &TrainConfig { seed, ..Default::default() }, &test, None)?);
            }
            let a = family(0)?.at(&test[..20])?;
            let spec = OpSpec::new(op, n, n, None, None)?;
            let (ex_ms, _) = exact_baseline(&spec, &a, 3)?;
            let np = self.numpy.time(numpy_op(op), &a, &["--reps", "3"]).map(|x| x.0 * 1e3);
            let model_ms = runs.ms();
            rows.push(
                json!({ "op": op.name(), "ms": model_ms, "floorMs": runs.floor_ms(), "relErr": runs.err_stats(), "trainS": runs.train_s(),
                              "exactMs": ex_ms, "numpyMs": np, "vsExact": ex_ms / model_ms, "vsNumpy": np.map(|v| v / model_ms),
                              "paperMs": paper_ms, "paperErr": paper_err }),
            );
        }
        let ds = self.datasets_of("table7");
        self.tables.push(json!({
            "id": "table7", "title": format!("Table 7 — QR, Cholesky and expm, synthetic family, n = {n}"),
            "setup": format!("Synthetic family §3.1 (Cholesky: its SPD variant H Hᵀ), {ds} dataset(s), default training options, 100 held-out \
                              parameters, batch 100; exact baselines (faer) and NumPy/SciPy on 20 of the same matrices. RelErr: QR ‖Q̂R̂ − A‖²/‖A‖², \
                              Cholesky ‖L̂L̂ᵀ − A‖²/‖A‖², expm ‖Ĝ − e^A‖²/‖e^A‖²."),
            "columns": [col("op", "operation", "text"), col("ms", "NeuMatC ms", "ms"), col("floorMs", "floor ms", "ms"), col("relErr", "RelErr", "pm"),
                        col("trainS", "training s", "s"), col("exactMs", "faer ms", "ms"), col("numpyMs", "NumPy/SciPy ms", "ms"), col("vsExact", "× vs faer", "x"),
                        col("vsNumpy", "× vs NumPy", "x"), col("paperMs", "paper CPU ms", "ms"), col("paperErr", "paper RelErr", "text")],
            "rows": rows, "notes": [],
        }));
        Ok(())
    }
}
