//! Wideband MIMO targets of issue 7: CDL channels at 28 GHz, MMSE Gram inverses and channel SVDs learned
//! from a few exact solves on a grid of frequencies, held-out error and time against the exact complex
//! solvers.
//!
//! `cargo run --release -p neumatc --example wireless -- [inverse|svd] [antennas per side, default 64]
//!  [band Hz, default 50e6] [training options JSON]`

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use neumatc::complex::{self, ComplexBatch};
use neumatc::{CdlArray, CdlConfig, Family, Operation, TrainConfig, train};

mod timing;

fn main() -> neumatc::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let op = Operation::parse(args.get(1).map_or("inverse", String::as_str))?;
    let antennas: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(64);
    let band: f64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(50e6);
    let side = (antennas as f64).sqrt().round() as usize;
    let array = if side * side == antennas {
        CdlArray { rows: side, cols: side, spacing: 0.5 }
    } else {
        CdlArray { rows: 1, cols: antennas, spacing: 0.5 }
    };
    let form = if op == Operation::Svd { "channel" } else { "gram" };
    let delay_spread: f64 = std::env::var("DS").ok().and_then(|v| v.parse().ok()).unwrap_or(CdlConfig::default().delay_spread);
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "A".into());
    let cfg_fam =
        CdlConfig { bandwidth: band, delay_spread, profile, rx: array.clone(), tx: array, form: form.into(), ..Default::default() };
    let generator = Family::cdl(cfg_fam)?;
    let (lo, hi) = (generator.domain().lo[0], generator.domain().hi[0]);
    let grid: Vec<f64> = (0..200).map(|i| lo + (hi - lo) * i as f64 / 199.0).collect();
    let t = Instant::now();
    let a_grid = generator.at_complex(&grid)?;
    let gen_s = t.elapsed().as_secs_f64();
    let fam = Family::from_samples_complex(1, grid.clone(), &a_grid)?;
    let mut cfg = TrainConfig::from_json(args.get(4).map_or("{}", String::as_str))?;
    if args.get(4).is_none() {
        cfg.sampling.supervised = 40; // 20 % of the grid
        cfg.sampling.enrich = 0;
        if op == Operation::Svd {
            cfg.rank = Some(16);
        }
    }
    let model = train(
        &fam,
        op,
        &cfg,
        &mut |p| {
            if let Some(m) = &p.message {
                eprintln!("[{}] {m}", p.phase);
            }
        },
        &AtomicBool::new(false),
    )?;
    let r = model.report();
    eprintln!(
        "trained in {:.1} s: d = {}, supervised {} (+{}), report held-out {:?}, warnings {:?}",
        r.seconds, r.latent_dim, r.supervised, r.supervised_added, r.held_out_rel_err, r.warnings
    );
    // Held out: 100 frequencies off the grid (between its points), never seen in training.
    let held: Vec<f64> = (0..100).map(|i| lo + (hi - lo) * (i as f64 + 0.5) / 100.0).collect();
    let a = generator.at_complex(&held)?;
    let pred = model.predict(&held)?;
    let parts: Vec<_> = pred.components.iter().map(|c| complex::complex_component(model.spec(), c)).collect();
    let cb = |c: &complex::ComplexComponent| ComplexBatch::new(c.batch, c.rows, c.cols, c.re.to_f64(), c.im.as_ref().unwrap().to_f64());
    let (err, floor) = match op {
        Operation::Inverse => (complex::rel_err_inverse(&a, &cb(&parts[0])?)?, 0.0),
        _ => {
            let rank = model.spec().rank;
            let ex = complex::svd(&a, Some(rank))?;
            (
                complex::rel_err_svd(&a, &cb(&parts[0])?, &parts[1].re.to_f64(), &cb(&parts[2])?)?,
                complex::rel_err_svd(&a, &ex.u, &ex.s.data, &ex.v)?,
            )
        }
    };
    let t_model = timing::time(|| model.predict(&held).unwrap()) / 100.0;
    let t_exact = match op {
        Operation::Inverse => timing::time(|| complex::inverse(&a).unwrap()),
        _ => timing::time(|| complex::svd(&a, Some(model.spec().rank)).unwrap()),
    } / 100.0;
    println!(
        "{} {antennas}x{antennas} CDL-{} DS {:.0} ns band {:.0} MHz: held-out RelErr {err:.3e} (exact rank floor {floor:.3e}), model {:.4} ms/matrix, exact {:.4} ms/matrix ({:.1}x), training {:.1} s, grid generation {:.2} s",
        op.name(),
        generator.describe()["options"]["profile"].as_str().unwrap_or("?"),
        delay_spread * 1e9,
        band / 1e6,
        t_model * 1e3,
        t_exact * 1e3,
        t_exact / t_model,
        r.seconds,
        gen_s
    );
    Ok(())
}
