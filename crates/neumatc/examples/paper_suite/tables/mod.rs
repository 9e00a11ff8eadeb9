//! The paper's tables, one method each (one file per table family), and the figures built from their
//! measurements. This file holds the [`Suite`] that runs them, the shared measurement of a trained model
//! ([`Suite::learn`], [`Learned`]) and the per-dataset accumulator every table uses ([`Runs`]).

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use neumatc::baseline::{self, CoiConfig, NniConfig, RsvdConfig, ZnnConfig};
use neumatc::op::OpSpec;
use neumatc::{
    Activation, ControlledRankConfig, Family, MatrixBatch, NeuMatC, Operation, Recycler, Result, SamplingConfig, SpdFourierConfig,
    Strategy, SyntheticConfig, TrainConfig, metrics, train_with,
};
use serde_json::{Value, json};

use crate::Args;

mod ablations;
mod applications;
mod exact;
mod inverse;
mod operations;
mod svd;

use crate::measure::{Ceilings, Numpy, head, mean, predict_flops, stats, time_predict};
use crate::timing::{median, time_reps};

/// Held-out parameters of every 1-D table: 100 points of a shifted grid, none of them a training sample.
fn held_out() -> Vec<f64> {
    (0..100).map(|i| (i as f64 + 0.37) / 100.0).collect()
}

fn col(key: &str, label: &str, format: &str) -> Value {
    json!({ "key": key, "label": label, "format": format })
}

/// A trained model with what it cost and reached on the held-out parameters.
pub struct Learned {
    pub model: NeuMatC,
    /// Per matrix at the held-out batch, ms.
    pub ms: f64,
    /// Mean held-out error in the operation's metric (the paper's RelErr).
    pub err: f64,
    pub train_s: f64,
    /// The inference floor for this batch, ms.
    pub floor_ms: f64,
}

impl Learned {
    fn d(&self) -> usize {
        self.model.latent_dim()
    }
}

/// Per-dataset measurements of NeuMatC in one row of a table: the medians and error statistics the
/// row reports.
#[derive(Default)]
pub struct Runs {
    pub errs: Vec<f64>,
    pub ms: Vec<f64>,
    pub train_s: Vec<f64>,
    pub floors: Vec<f64>,
    pub ds: Vec<usize>,
    /// FLOPs of one prediction per parameter (the last dataset's model).
    pub flops: f64,
}

impl Runs {
    pub fn push(&mut self, l: &Learned) {
        self.errs.push(l.err);
        self.ms.push(l.ms);
        self.train_s.push(l.train_s);
        self.floors.push(l.floor_ms);
        self.ds.push(l.d());
        self.flops = predict_flops(&l.model);
    }

    /// Median ms per matrix.
    pub fn ms(&self) -> f64 {
        median(self.ms.clone())
    }

    /// Median floor, ms per matrix.
    pub fn floor_ms(&self) -> f64 {
        median(self.floors.clone())
    }

    /// Median training seconds.
    pub fn train_s(&self) -> f64 {
        median(self.train_s.clone())
    }

    /// `{ mean, std, max, n }` of the held-out errors.
    pub fn err_stats(&self) -> Value {
        stats(&self.errs)
    }

    pub fn mean_err(&self) -> f64 {
        mean(&self.errs)
    }

    /// `"d_min–d_max"` of the latent dimensions.
    pub fn d_range(&self) -> String {
        format!("{}–{}", self.ds.iter().min().unwrap_or(&0), self.ds.iter().max().unwrap_or(&0))
    }
}

/// Median ms of per-dataset `(ms, error)` pairs.
fn median_ms(v: &[(f64, f64)]) -> f64 {
    median(v.iter().map(|x| x.0).collect())
}

/// A baseline's row: median ms and error statistics of its per-dataset `(ms, error)` pairs.
fn baseline_row(method: &str, v: &[(f64, f64)], gflops: f64, paper_ms: f64, paper_err: &str) -> Value {
    json!({ "method": method, "ms": median_ms(v), "gflops": gflops, "relErr": stats(&v.iter().map(|x| x.1).collect::<Vec<_>>()),
            "paperMs": paper_ms, "paperErr": paper_err })
}

/// The exact result of `op` for every matrix of `a` (joint layout), `expm` only (its metric needs it).
fn exact_joint(spec: &OpSpec, a: &MatrixBatch, params: &[f64], k: usize) -> Result<Option<Vec<f64>>> {
    if spec.op != Operation::Expm {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(a.batch * spec.output_len());
    for i in 0..a.batch {
        out.extend(spec.exact(a.matrix(i), &params[i * k..(i + 1) * k])?);
    }
    Ok(Some(out))
}

/// Time per matrix (ms) and mean error of the faer baseline of `spec.op` on `a`.
fn exact_baseline(spec: &OpSpec, a: &MatrixBatch, reps: usize) -> Result<(f64, f64)> {
    let b = a.batch as f64;
    let rank = Some(spec.rank).filter(|&r| r > 0);
    let (secs, err) = match spec.op {
        Operation::Inverse => {
            let t = time_reps(reps, 1, || baseline::inverse(a).expect("invertible"));
            (t, metrics::rel_err_inverse(a, &baseline::inverse(a)?.data)?)
        }
        Operation::Svd => {
            let t = time_reps(reps, 1, || baseline::svd(a, rank).expect("svd"));
            let s = baseline::svd(a, rank)?;
            let joint: Vec<f64> = (0..a.batch).flat_map(|i| [s.u.matrix(i), s.s.matrix(i), s.v.matrix(i)].concat()).collect();
            (t, mean(&metrics::rel_err_op(spec, a, &joint, None)?))
        }
        Operation::Qr => {
            let t = time_reps(reps, 1, || baseline::qr(a).expect("qr"));
            let q = baseline::qr(a)?;
            let joint: Vec<f64> = (0..a.batch).flat_map(|i| [q.q.matrix(i), q.r.matrix(i)].concat()).collect();
            (t, mean(&metrics::rel_err_op(spec, a, &joint, None)?))
        }
        Operation::Cholesky => {
            let t = time_reps(reps, 1, || baseline::cholesky(a).expect("spd"));
            (t, mean(&metrics::rel_err_op(spec, a, &baseline::cholesky(a)?.data, None)?))
        }
        Operation::Eigh => {
            let t = time_reps(reps, 1, || baseline::eigh(a).expect("symmetric"));
            let e = baseline::eigh(a)?;
            let joint: Vec<f64> = (0..a.batch).flat_map(|i| [e.values.matrix(i), e.vectors.matrix(i)].concat()).collect();
            (t, mean(&metrics::rel_err_op(spec, a, &joint, None)?))
        }
        Operation::Expm => (time_reps(reps, 1, || baseline::expm(a).expect("expm")), 0.0),
        Operation::Solve => {
            let rhs = spec.rhs.clone().unwrap_or_default();
            let t = time_reps(reps, 1, || baseline::solve(a, &rhs).expect("solve"));
            (t, mean(&metrics::rel_err_op(spec, a, &baseline::solve(a, &rhs)?.data, None)?))
        }
        _ => (f64::NAN, f64::NAN),
    };
    Ok((secs / b * 1e3, err))
}

/// NumPy's name for an operation.
fn numpy_op(op: Operation) -> &'static str {
    match op {
        Operation::Inverse => "inv",
        other => other.name(),
    }
}

/// Analytic FLOPs per matrix of the exact dense algorithms (LAPACK operation counts, square `n`, `m × n`
/// for the SVD): LU inverse `2n³`; thin SVD with both factors `≈ 4m²n + 8mn² + 9n³` (Golub & Van Loan,
/// R-SVD); Householder QR with `Q` formed `4n³ − (4/3)n³`; Cholesky `n³/3`; symmetric eigensolver with
/// vectors `≈ 9n³`; expm (Padé 13, `s` squarings) `≈ (6 + s + 4/3)·2n³`, taken with `s = 3`; solve `(2/3)n³`.
fn exact_flops(op: Operation, m: usize, n: usize) -> f64 {
    let (m, n) = (m as f64, n as f64);
    match op {
        Operation::Inverse => 2.0 * n.powi(3),
        Operation::Svd => 4.0 * m * m * n + 8.0 * m * n * n + 9.0 * n.powi(3),
        Operation::Qr => (4.0 - 4.0 / 3.0) * n.powi(3),
        Operation::Cholesky => n.powi(3) / 3.0,
        Operation::Eigh => 9.0 * n.powi(3),
        Operation::Expm => (6.0 + 3.0 + 4.0 / 3.0) * 2.0 * n.powi(3),
        Operation::Solve => 2.0 / 3.0 * n.powi(3),
        _ => f64::NAN,
    }
}

/// Everything the suite produced so far.
pub struct Suite<'a> {
    args: &'a Args,
    ceil: Ceilings,
    pool: Recycler,
    pub numpy: Numpy,
    pub tables: Vec<Value>,
    pub targets: Vec<Value>,
    pub figures: Vec<Value>,
    /// Default inverse models of the synthetic family, seed 0, by `n` (shared by Tables 1, 4 and Fig. 4).
    inverse_models: HashMap<usize, Learned>,
    /// `(label, training s, NeuMatC ms, faer ms, NumPy ms)` for Table 5's amortization.
    amortization: Vec<(String, f64, f64, f64, Option<f64>)>,
    curves: Vec<Value>,
    /// `(row, NeuMatC time ÷ floor)` of every NeuMatC measurement at batch ≥ 100.
    floor_checks: Vec<(String, f64)>,
}

impl<'a> Suite<'a> {
    pub fn new(args: &'a Args, ceil: Ceilings) -> Self {
        Self {
            args,
            ceil,
            pool: Recycler::default(),
            numpy: Numpy::new(args.python.clone()),
            tables: vec![],
            targets: vec![],
            figures: vec![],
            inverse_models: HashMap::new(),
            amortization: vec![],
            curves: vec![],
            floor_checks: vec![],
        }
    }

    /// Runs every table `--only` selects; `after` is called after each (the caller saves the partial
    /// result, so a run that is killed keeps what it measured).
    pub fn run_all(&mut self, after: &mut dyn FnMut(&Self) -> Result<()>) -> Result<()> {
        type Table<'b> = (&'static str, fn(&mut Suite<'b>) -> Result<()>);
        let all: [Table<'a>; 13] = [
            ("exact", Self::exact_vs_numpy),
            ("table1", Self::table1),
            ("table2", Self::table2),
            ("table4", Self::table4),
            ("fig4", Self::fig4_batch),
            ("table5", Self::table5),
            ("table6", Self::table6),
            ("table7", Self::table7),
            ("table8", Self::table8),
            ("table9", Self::table9),
            ("table12", Self::table12),
            ("table11", Self::table11),
            ("wireless", Self::wireless),
        ];
        for (id, f) in all {
            if self.args.runs(id) {
                let t = Instant::now();
                eprintln!("== {id}");
                f(self)?;
                eprintln!("== {id} done in {:.0} s", t.elapsed().as_secs_f64());
                after(self)?;
            }
        }
        if self.args.runs("svdecay") {
            self.singular_value_decay()?;
        }
        if let Some((row, worst)) = self.floor_checks.iter().max_by(|a, b| a.1.total_cmp(&b.1)).cloned() {
            let over: Vec<String> = self.floor_checks.iter().filter(|c| c.1 > 2.0).map(|c| format!("{} {:.2}×", c.0, c.1)).collect();
            let note = if over.is_empty() {
                String::new()
            } else {
                format!("over 2×: {} (each table's floor column says which bound, FLOPs or bytes, it is)", over.join("; "))
            };
            let within = self.floor_checks.len() - over.len();
            self.target(
                "inference vs floor, every NeuMatC row at batch ≥ 100",
                "within 2× of the floor",
                format!("worst {worst:.2}× ({row}); {within} of {} rows within 2×", self.floor_checks.len()),
                over.is_empty(),
                note,
            );
        }
        if !self.curves.is_empty() {
            self.figures.push(json!({
                "id": "training-curves", "title": "Training loss (data + λ·structure) per Adam step",
                "x": { "label": "Adam step", "log": false }, "y": { "label": "loss", "log": true },
                "series": self.curves,
            }));
        }
        Ok(())
    }

    /// Datasets of the table `id`: `--datasets-for id=N`, else `--datasets`.
    fn datasets_of(&self, id: &str) -> u64 {
        self.args.datasets_for.get(id).copied().unwrap_or(self.args.datasets).max(1) as u64
    }

    /// How many datasets the exact and parametric baselines of `id` are timed on (their time does not
    /// depend on the dataset; their error barely does): all of them up to 3.
    fn baseline_datasets(&self, id: &str) -> u64 {
        self.datasets_of(id).min(3)
    }

    fn reps(&self) -> usize {
        if self.args.quick { 3 } else { 5 }
    }

    /// Trains `op` on `fam` and measures it on `test`. `curve_label` keeps the loss curve for the figure.
    fn learn(&mut self, fam: &Family, op: Operation, cfg: &TrainConfig, test: &[f64], curve_label: Option<&str>) -> Result<Learned> {
        let mut curve = Vec::new();
        let t0 = Instant::now();
        let model = train_with(
            fam,
            op,
            cfg,
            &mut |p| {
                if p.phase == "optimize" && p.loss.is_finite() && p.loss > 0.0 {
                    curve.push([p.step as f64, p.loss]);
                }
            },
            &AtomicBool::new(false),
        )?;
        let train_s = t0.elapsed().as_secs_f64();
        let spec = model.spec().clone();
        let k = fam.param_dim();
        // In chunks of at most ~1 GB of f64 matrices (at n = 4096 a hundred of them would be 13 GB).
        let per = (1usize << 30) / (8 * (fam.rows() * fam.cols()).max(spec.output_len()));
        let mut errs = Vec::with_capacity(test.len() / k);
        for chunk in test.chunks(per.clamp(1, 100) * k) {
            let a = fam.at(chunk)?;
            let joint = model.predict(chunk)?.joint_f64();
            let exact = exact_joint(&spec, &a, chunk, k)?;
            errs.extend(metrics::rel_err_op(&spec, &a, &joint, exact.as_deref())?);
        }
        let err = mean(&errs);
        let batch = test.len() / k;
        let ms = time_predict(&model, test, &self.pool, self.reps() * 2) / batch as f64 * 1e3;
        let floor_ms = self.ceil.floor(&model, batch) / batch as f64 * 1e3;
        if batch >= 100 {
            self.floor_checks.push((format!("{} n = {}", op.name(), fam.rows()), ms / floor_ms));
        }
        eprintln!(
            "  {} n={}: RelErr {err:.2e}, {ms:.4} ms/matrix (floor {floor_ms:.4}), trained {train_s:.1} s, d = {}",
            op.name(),
            fam.rows(),
            model.latent_dim()
        );
        if let Some(label) = curve_label {
            // Thinned to ~200 points: enough for the figure.
            let stride = (curve.len() / 200).max(1);
            let points: Vec<[f64; 2]> = curve.iter().step_by(stride).copied().collect();
            self.curves.push(json!({ "name": label, "points": points }));
        }
        Ok(Learned { model, ms, err, train_s, floor_ms })
    }

    fn target(&mut self, name: &str, target: &str, measured: String, met: bool, note: String) {
        self.targets.push(json!({ "name": name, "target": target, "measured": measured, "met": met, "note": note }));
    }
}
