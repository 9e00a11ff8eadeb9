//! Trains a learned inverse on the synthetic family and compares it with the LU baseline.
//!
//! `cargo run --release -p neumatc --example train_inverse -- '{"n":256}' '{"steps":2000}'`
//! (first argument: family options, second: training options, both JSON and optional).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use neumatc::{Family, Operation, TrainConfig, baseline, metrics, train_with};

fn main() -> neumatc::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let fam = Family::synthetic_from_json(args.get(1).map_or("{}", String::as_str))?;
    let cfg = TrainConfig::from_json(args.get(2).map_or("{}", String::as_str))?;
    let mut last_step = usize::MAX;
    let model = train_with(
        &fam,
        Operation::Inverse,
        &cfg,
        &mut |p| {
            if p.phase != "optimize" || p.step / 200 != last_step / 200 {
                eprintln!(
                    "{:>9} step {:>5}/{} loss {:.3e} data {:.3e} structure {:.3e} P_F {:?} colloc {} t={:.2}s",
                    p.phase, p.step, p.steps, p.loss, p.data_loss, p.structure_loss, p.failure_prob, p.collocation, p.elapsed
                );
                last_step = p.step;
            }
        },
        &AtomicBool::new(false),
    )?;
    println!("{}", serde_json::to_string_pretty(model.report()).unwrap());

    let test: Vec<f64> = (0..100).map(|i| (i as f64 + 0.5) / 100.0).collect();
    let a = fam.at(&test)?;
    for _ in 0..3 {
        model.predict(&test)?;
    }
    let t = Instant::now();
    let reps = 10;
    let mut pred = None;
    for _ in 0..reps {
        pred = Some(model.predict(&test)?);
    }
    let t_model = t.elapsed().as_secs_f64() / reps as f64 / 100.0;
    let t = Instant::now();
    for _ in 0..reps {
        model.predict(&test[..1])?;
    }
    println!("ms/matrix @1: model {:.4}", t.elapsed().as_secs_f64() / reps as f64 * 1e3);
    let g = pred.unwrap().components.remove(0).data.to_f64();
    let t = Instant::now();
    let exact = baseline::inverse(&a)?;
    let t_lu = t.elapsed().as_secs_f64() / 100.0;
    println!(
        "held-out(100 grid) RelErr_inv model {:.3e}  LU {:.3e}",
        metrics::rel_err_inverse(&a, &g)?,
        metrics::rel_err_inverse(&a, &exact.data)?
    );
    println!("ms/matrix @100: model {:.4}  LU {:.4}  speed-up {:.1}x", t_model * 1e3, t_lu * 1e3, t_lu / t_model);
    Ok(())
}
