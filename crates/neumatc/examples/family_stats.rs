//! Condition-number range of the synthetic family over a grid of `p`, for a few seeds.
//!
//! `cargo run --release -p neumatc --example family_stats -- '{"n":256}' 5`

use neumatc::{Family, baseline};

fn main() -> neumatc::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let base: serde_json::Value = serde_json::from_str(args.get(1).map_or("{}", String::as_str)).expect("JSON options");
    let seeds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    for seed in 0..seeds {
        let mut opts = base.clone();
        opts["seed"] = seed.into();
        let fam = Family::synthetic_from_json(&opts.to_string())?;
        let p: Vec<f64> = (0..200).map(|i| (i as f64 + 0.5) / 200.0).collect();
        let a = fam.at(&p)?;
        let conds: Vec<f64> = (0..a.batch).map(|i| baseline::condition_number(a.matrix(i), a.rows)).collect();
        let (lo, hi) = conds.iter().fold((f64::INFINITY, 0.0f64), |(l, h), &c| (l.min(c), h.max(c)));
        println!("seed {seed}: cond(H(p)) over 200 points in [{lo:.1}, {hi:.1}]");
    }
    Ok(())
}
