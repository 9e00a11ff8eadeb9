//! Accuracy per second of training for several training configurations on one family.
//!
//! `cargo run --release -p neumatc --example compare_methods -- '{"n":256}' '{}' '{"method":"plain","steps":300}' ...`
//! Prints one JSON line per configuration: options, training seconds, held-out RelErr_inv on 100 points.

use std::time::Instant;

use neumatc::{Family, Operation, TrainConfig, metrics, train};

fn main() -> neumatc::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fam_json = args.first().map_or("{}", String::as_str);
    let fam = Family::synthetic_from_json(fam_json)?;
    let test: Vec<f64> = (0..100).map(|i| (0.5 + (i + 1) as f64 * 0.618_033_988_749_894_9) % 1.0).collect();
    let a = fam.at(&test)?;
    for opts in args.iter().skip(1) {
        let cfg = TrainConfig::from_json(opts)?;
        let t = Instant::now();
        let model = train(&fam, Operation::Inverse, &cfg)?;
        let seconds = t.elapsed().as_secs_f64();
        let g = model.predict(&test)?.components.remove(0).data.to_f64();
        let rel = metrics::rel_err_inverse(&a, &g)?;
        let r = model.report();
        println!(
            "{}",
            serde_json::json!({
                "family": serde_json::from_str::<serde_json::Value>(fam_json).unwrap_or_default(),
                "options": serde_json::from_str::<serde_json::Value>(opts).unwrap_or_default(),
                "seconds": seconds, "heldOutRelErr": rel, "latentDim": r.latent_dim, "steps": r.steps,
                "collocation": r.collocation_final, "collocationSeconds": r.collocation_seconds, "optimizeSeconds": r.optimize_seconds,
            })
        );
    }
    Ok(())
}
