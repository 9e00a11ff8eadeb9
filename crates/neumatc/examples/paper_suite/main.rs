//! The benchmark suite: the paper's tables reproduced side by side with the project's exact, randomized
//! and parametric baselines and with NumPy on the same matrices, in one run, on this machine. Writes
//! `bench/results/<date>-<machine>[-quick].json` (schema in `bench/report.mjs`, which renders the Markdown
//! report, the SVG figures and the README's results section from it).
//!
//! `cargo run --release -p neumatc --example paper_suite -- [--quick] [--datasets N] [--datasets-for table6=1,…] [--size-for table12=256] [--only table1,table2,…]
//!  [--python PATH] [--machine NAME] [--out DIR] [--max-size N]`
//! (`npm run bench` runs it with the Python that `bench/python.mjs` sets up, then the report.)
//!
//! Protocol (the paper's §3 and App. F): per dataset a fresh family (seed = dataset index), 100 held-out
//! parameters never used in training, times per matrix at batch 100, medians of several runs after
//! warm-up, every method on all threads of this machine, ground truth in f64. Dataset counts are those
//! of the paper (20) unless `--datasets` or `--quick` says fewer; the report states the count used.

mod measure;
mod tables;

use std::time::Instant;

use serde_json::{Value, json};

// Each example uses a subset of the shared timing helpers.
#[allow(dead_code)]
#[path = "../timing/mod.rs"]
mod timing;

/// Command-line options.
pub struct Args {
    pub quick: bool,
    pub datasets: usize,
    /// `--datasets-for table6=1,table7=3`: per-table dataset counts.
    pub datasets_for: std::collections::HashMap<String, usize>,
    /// `--size-for table12=256`: per-table matrix size (Table 12 only, rank n/5).
    pub size_for: std::collections::HashMap<String, usize>,
    pub only: Option<Vec<String>>,
    pub python: Option<String>,
    pub machine: String,
    pub out: String,
    pub max_size: usize,
    pub raw: Vec<String>,
}

impl Args {
    fn parse() -> Self {
        let raw: Vec<String> = std::env::args().skip(1).collect();
        let flag = |name: &str| raw.iter().position(|a| a == name).and_then(|i| raw.get(i + 1)).cloned();
        let quick = raw.iter().any(|a| a == "--quick");
        let num = |name: &str, dflt: usize| flag(name).map_or(dflt, |v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number")));
        Self {
            quick,
            datasets: num("--datasets", if quick { 1 } else { 20 }),
            datasets_for: per_table(flag("--datasets-for"), "--datasets-for"),
            size_for: per_table(flag("--size-for"), "--size-for"),
            only: flag("--only").map(|o| o.split(',').map(str::to_string).collect()),
            python: flag("--python").or_else(|| std::env::var("NEUMATC_PYTHON").ok()).filter(|p| !p.is_empty()),
            machine: flag("--machine").unwrap_or_else(|| "vm".into()),
            out: flag("--out").unwrap_or_else(|| format!("{}/../../bench/results", env!("CARGO_MANIFEST_DIR"))),
            max_size: num("--max-size", if quick { 512 } else { 4096 }),
            raw,
        }
    }

    /// Whether the table `id` runs (all of them unless `--only` names some).
    pub fn runs(&self, id: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.iter().any(|x| x == id))
    }
}

/// Parses `table=N,table=N` (a per-table option).
fn per_table(value: Option<String>, name: &str) -> std::collections::HashMap<String, usize> {
    value
        .map(|v| {
            v.split(',')
                .map(|kv| {
                    let (k, n) = kv.split_once('=').unwrap_or_else(|| panic!("{name} takes table=N,…"));
                    (k.to_string(), n.parse().unwrap_or_else(|_| panic!("{name} takes table=N,…")))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn rustc_version() -> String {
    std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn os_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|r| format!("Linux {}", r.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.into())
}

fn mem_gib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(0, |kb| (kb as f64 / 1048576.0).round() as u64)
}

/// The result document (schema in `bench/report.mjs`); `complete` is false for the partial saves
/// made after each table.
fn result_json(args: &Args, suite: &tables::Suite, ceilings: &measure::Ceilings, seconds: f64, complete: bool) -> Value {
    let date = timing::today();
    let tag = format!("{date}-{}{}", args.machine, if args.quick { "-quick" } else { "" });
    let command = if args.raw.is_empty() {
        "cargo run --release -p neumatc --example paper_suite".to_string()
    } else {
        format!("cargo run --release -p neumatc --example paper_suite -- {}", args.raw.join(" "))
    };
    json!({
        "schema": 1,
        "suite": "neumatc paper suite",
        "date": date,
        "tag": tag,
        "quick": args.quick,
        "complete": complete,
        "datasets": args.datasets,
        "command": std::env::var("NEUMATC_SUITE_COMMAND").unwrap_or(command),
        "seconds": seconds,
        "machine": {
            "cpu": timing::cpu_model(), "cores": std::thread::available_parallelism().map_or(1, |t| t.get()),
            "threadsUsed": rayon::current_num_threads(), "memGiB": mem_gib(),
            "os": os_name(), "rustc": rustc_version(), "neumatc": env!("CARGO_PKG_VERSION"),
            "numpy": suite.numpy.version.clone().map_or(Value::Null, Value::String),
            "node": std::env::var("NEUMATC_NODE_VERSION").map_or(Value::Null, Value::String),
            "paper": "the paper's figures were measured on an Intel Core i7-12700KF (12 cores) with an RTX 3060 Ti, PyTorch 2.5",
        },
        "ceilings": ceilings.json(),
        "tables": suite.tables,
        "targets": suite.targets,
        "figures": suite.figures,
    })
}

/// Writes the result to `<out>/<tag>.json` through a temporary file; returns the path.
fn save(args: &Args, result: &Value) -> neumatc::Result<std::path::PathBuf> {
    std::fs::create_dir_all(&args.out)?;
    let tag = result["tag"].as_str().unwrap_or("suite");
    let path = std::path::Path::new(&args.out).join(format!("{tag}.json"));
    let text = serde_json::to_string_pretty(result).map_err(std::io::Error::other)?;
    measure::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

fn main() -> neumatc::Result<()> {
    let args = Args::parse();
    let t0 = Instant::now();
    eprintln!("measuring this machine's ceilings (memory bandwidth, GEMM peak) …");
    let ceilings = measure::Ceilings::measure();
    eprintln!("{}", ceilings.json());
    let mut suite = tables::Suite::new(&args, ceilings);
    suite.run_all(&mut |s| {
        let path = save(&args, &result_json(&args, s, &ceilings, t0.elapsed().as_secs_f64(), false))?;
        eprintln!("(partial result saved to {})", path.display());
        Ok(())
    })?;
    let path = save(&args, &result_json(&args, &suite, &ceilings, t0.elapsed().as_secs_f64(), true))?;
    eprintln!("wrote {} in {:.0} s", path.display(), t0.elapsed().as_secs_f64());
    println!("{}", path.display());
    Ok(())
}
