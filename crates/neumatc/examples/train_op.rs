//! Trains any operation on the synthetic family (or its symmetric positive definite variant) and
//! reports held-out error and time against the exact solver.
//!
//! `cargo run --release -p neumatc --example train_op -- svd '{"n":64}' '{"rank":10}' [spd]`
//! (operation; family options; training options; `spd` to learn on `A(p) = H(p)H(p)ᵀ/n + I` sampled on
//! a 1001-point grid, which cholesky and eigh need).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use neumatc::{Family, MatrixBatch, Operation, TrainConfig, train_with};

fn main() -> neumatc::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let op = Operation::parse(args.get(1).map_or("inverse", String::as_str))?;
    let mut fam = Family::synthetic_from_json(args.get(2).map_or("{}", String::as_str))?;
    let cfg = TrainConfig::from_json(args.get(3).map_or("{}", String::as_str))?;
    if args.get(4).is_some_and(|a| a == "spd") {
        let n = fam.rows();
        let grid: Vec<f64> = (0..1001).map(|i| i as f64 / 1000.0).collect();
        let h = fam.at(&grid)?;
        let mut data = Vec::with_capacity(h.data.len());
        for i in 0..h.batch {
            let hi = h.matrix(i);
            for r in 0..n {
                for c in 0..n {
                    let v: f64 = (0..n).map(|t| hi[r * n + t] * hi[c * n + t]).sum::<f64>() / n as f64;
                    data.push(v + if r == c { 1.0 } else { 0.0 });
                }
            }
        }
        fam = Family::from_samples(1, grid, MatrixBatch::new(h.batch, n, n, data)?)?;
    }
    let mut last_step = usize::MAX;
    let model = train_with(
        &fam,
        op,
        &cfg,
        &mut |p| {
            if p.phase != "optimize" || p.step / 500 != last_step / 500 {
                eprintln!(
                    "{:>11} step {:>5}/{} loss {:.3e} data {:.3e} structure {:.3e} P_F {:?} colloc {} t={:.2}s {}",
                    p.phase,
                    p.step,
                    p.steps,
                    p.loss,
                    p.data_loss,
                    p.structure_loss,
                    p.failure_prob,
                    p.collocation,
                    p.elapsed,
                    p.message.as_deref().unwrap_or("")
                );
                last_step = p.step;
            }
        },
        &AtomicBool::new(false),
    )?;
    println!("{}", serde_json::to_string_pretty(model.report()).unwrap());

    let test: Vec<f64> = match fam.pool() {
        Some(pool) => pool.iter().copied().skip(5).step_by(10).take(100).collect(),
        None => (0..100).map(|i| (i as f64 + 0.5) / 100.0).collect(),
    };
    let batch = test.len();
    let a = fam.at(&test)?;
    let spec = model.spec().clone();
    let m = spec.output_len();
    for _ in 0..3 {
        model.predict(&test)?;
    }
    let reps = 10;
    let t = Instant::now();
    let mut pred = None;
    for _ in 0..reps {
        pred = Some(model.predict(&test)?);
    }
    let t_model = t.elapsed().as_secs_f64() / reps as f64 / batch as f64;
    let joint = pred.unwrap().joint_f64();
    let t = Instant::now();
    let exact: Vec<Vec<f64>> = (0..batch).map(|i| spec.exact(a.matrix(i), &test[i..i + 1])).collect::<neumatc::Result<_>>()?;
    let t_exact = t.elapsed().as_secs_f64() / batch as f64;
    let mut err = 0.0;
    let mut orth: f64 = 0.0;
    for i in 0..batch {
        err += spec.rel_err(a.matrix(i), &joint[i * m..(i + 1) * m], Some(&exact[i]))? / batch as f64;
        orth = orth.max(spec.orthogonality_defect(&joint[i * m..(i + 1) * m]).unwrap_or(0.0));
    }
    println!("{}: held-out (grid of {batch}) RelErr {err:.3e}, max orthogonality defect {orth:.2e}", op.name());
    println!(
        "ms/matrix @{batch}: model {:.4}  exact (1 thread, one at a time) {:.4}  speed-up {:.1}x",
        t_model * 1e3,
        t_exact * 1e3,
        t_exact / t_model
    );
    Ok(())
}
