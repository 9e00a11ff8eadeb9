//! The GPU check program: correctness tests of the CUDA path, then the GPU benchmark (the paper's
//! Table 4, Table 5 and Table 13 against cuBLAS/cuSOLVER), written as JSON.
//!
//! One self-contained binary for a machine with only the NVIDIA driver and the CUDA libraries (no Rust,
//! no Node): `tools/gpu-check.sh build` compiles and packs it here, `tools/gpu-check.sh run` runs it
//! there (see that script). Directly:
//!
//! `gpu_check [--device N] [--out DIR] [--machine NAME] [--quick] [--only tests,table13,table4,table5] [--max-n 2048]`
//!
//! Writes `<out>/gpu-<date>-<machine>[-quick].json`, saved after every section through a temp file and a
//! rename (a killed run keeps what it measured; `complete: true` at the end). Exit status 1 when a
//! correctness test fails.
//!
//! Protocol: synthetic family of the paper (§3.1), held-out parameters the training never saw, f32
//! models (the default), ground truth and every error in f64 on the host. Times are medians of several
//! runs after warm-up, each bracketed by device synchronisation; host↔device copies are reported
//! separately. NeuMatC's time runs from host parameters to results resident on the device (domain check,
//! MLP, one GEMM per component), the baselines' from matrices resident on the device to results there.

mod bench;
mod checks;

use std::time::Instant;

use neumatc::baseline::gpu::GpuSolver;
use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "../timing/mod.rs"]
mod timing;

/// Command-line options.
pub struct Args {
    pub device: usize,
    pub out: String,
    pub machine: String,
    pub quick: bool,
    pub only: Option<Vec<String>>,
    pub max_n: usize,
}

impl Args {
    fn parse() -> Result<Self, String> {
        let raw: Vec<String> = std::env::args().skip(1).collect();
        let known = ["--device", "--out", "--machine", "--quick", "--only", "--max-n", "--help"];
        if let Some(bad) = raw.iter().find(|a| a.starts_with("--") && !known.contains(&a.as_str())) {
            return Err(format!("unknown option {bad}"));
        }
        if raw.iter().any(|a| a == "--help") {
            return Err(String::new());
        }
        let flag = |name: &str| raw.iter().position(|a| a == name).map(|i| raw.get(i + 1).cloned().ok_or(format!("{name} takes a value")));
        let num = |name: &str, dflt: usize| -> Result<usize, String> {
            flag(name).transpose()?.map_or(Ok(dflt), |v| v.parse().map_err(|_| format!("{name} takes a number, got {v}")))
        };
        let quick = raw.iter().any(|a| a == "--quick");
        let only: Option<Vec<String>> = flag("--only").transpose()?.map(|o| o.split(',').map(str::to_string).collect());
        if let Some(bad) = only.iter().flatten().find(|s| !["tests", "table13", "table4", "table5"].contains(&s.as_str())) {
            return Err(format!("--only takes tests,table13,table4,table5; got {bad}"));
        }
        Ok(Self {
            device: num("--device", 0)?,
            out: flag("--out").transpose()?.unwrap_or_else(|| ".".into()),
            machine: flag("--machine").transpose()?.unwrap_or_else(|| "gpu".into()),
            quick,
            only,
            max_n: num("--max-n", if quick { 512 } else { 2048 })?,
        })
    }

    /// Whether section `id` runs.
    pub fn runs(&self, id: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.iter().any(|x| x == id))
    }
}

/// The results document, written atomically after every section.
pub struct Report {
    path: std::path::PathBuf,
    pub doc: Value,
}

impl Report {
    pub fn save(&self) {
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&self.doc).expect("JSON");
        if let Err(e) = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &self.path)) {
            eprintln!("could not write {}: {e}", self.path.display());
        }
    }
}

fn main() {
    let args = match Args::parse() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("gpu_check: {e}");
            }
            eprintln!(
                "usage: gpu_check [--device N] [--out DIR] [--machine NAME] [--quick] [--only tests,table13,table4,table5] [--max-n N]"
            );
            std::process::exit(2);
        }
    };
    let t0 = Instant::now();
    let solver = match GpuSolver::new(args.device) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gpu_check: no CUDA device {}: {e} (code {})", args.device, e.code());
            std::process::exit(3);
        }
    };
    let suffix = if args.quick { "-quick" } else { "" };
    std::fs::create_dir_all(&args.out).expect("create --out");
    let path = std::path::Path::new(&args.out).join(format!("gpu-{}-{}{suffix}.json", timing::today(), args.machine));
    let mut report = Report {
        path,
        doc: json!({
            "schema": "neumatc-gpu-check/1",
            "date": timing::today(),
            "machine": args.machine,
            "quick": args.quick,
            "device": checks::device_info(&solver, args.device),
            "host": { "cpu": timing::cpu_model(), "threads": rayon::current_num_threads() },
            "engine": { "version": env!("CARGO_PKG_VERSION"), "cuda_toolkit_built_with": "13.0 (nvcc 13.0.88, CUDA_COMPUTE_CAP 90)" },
            "complete": false,
        }),
    };
    println!("gpu_check on {} → {}", report.doc["device"]["name"], report.path.display());
    report.save();

    let mut failed = 0;
    if args.runs("tests") {
        let tests = checks::run_all(&solver, args.device);
        failed = tests.iter().filter(|t| t["passed"] != Value::Bool(true)).count();
        println!("tests: {} passed, {failed} failed", tests.len() - failed);
        report.doc["tests"] = Value::Array(tests);
        report.save();
    }
    let mut bench = bench::Bench::new(&solver, &args);
    report.doc["ceilings"] = bench.ceilings();
    report.save();
    for id in ["table13", "table4", "table5"] {
        if !args.runs(id) {
            continue;
        }
        let t = Instant::now();
        println!("== {id}");
        let mut section = match id {
            "table13" => bench.table13(),
            "table4" => bench.table4(),
            _ => bench.table5(),
        };
        section["seconds"] = json!(t.elapsed().as_secs_f64());
        report.doc[id] = section;
        report.save();
    }
    report.doc["targets"] = bench::targets(&report.doc);
    report.doc["seconds"] = json!(t0.elapsed().as_secs_f64());
    report.doc["complete"] = json!(true);
    report.save();
    println!("done in {:.0} s: {}", t0.elapsed().as_secs_f64(), report.path.display());
    if failed > 0 {
        std::process::exit(1);
    }
}
