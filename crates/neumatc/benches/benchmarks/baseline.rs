//! The exact and the paper's approximate baselines, batched, at n = 64 and 256 (512 for the LU
//! inverse, SVD and QR), batches of 1 and 16, each printing the error of its result:
//!
//! - exact (faer, f64): LU inverse, LU solve, SVD (thin and rank 20), QR, Cholesky and eigh (of the SPD
//!   family), expm;
//! - randomized: RSVD and CRSVD at rank 20 (default oversampling and power iterations);
//! - iterative / parametric inverses: Newton–Schulz (NNI; n = 64, and n = 256 for one matrix), COI
//!   (building its 16-node grid, then interpolating), ZNN along a grid of 16 parameters (n = 64).

use std::cell::OnceCell;

use criterion::{Criterion, Throughput, criterion_group};
use faer::MatRef;
use neumatc::baseline::{self, Coi, CoiConfig, NniConfig, RsvdConfig, SvdBatch, ZnnConfig};
use neumatc::metrics::{self, ComponentView};
use neumatc::{MatrixBatch, Operation};

use super::timed;

/// The paper-style `RelErr` of `op`'s result, given as its components (mean over the batch).
fn rel_err(op: Operation, a: &MatrixBatch, parts: &[&MatrixBatch], rhs: Option<&[f64]>) -> String {
    let views: Vec<ComponentView<'_>> = parts.iter().map(|m| ComponentView::new(m.batch, m.rows, m.cols, &m.data[..])).collect();
    let err = metrics::rel_err(op, a, &views, rhs, None).expect("finite result");
    format!("RelErr_{} {err:.2e}", op.name())
}

fn svd_err(a: &MatrixBatch, s: &SvdBatch) -> String {
    rel_err(Operation::Svd, a, &[&s.u, &s.s, &s.v], None)
}

fn inverse_err(a: &MatrixBatch, x: &MatrixBatch) -> String {
    format!("RelErr_inv {:.2e}", metrics::rel_err_inverse(a, &x.data).expect("finite result"))
}

/// `max_p ‖A E − E A‖_F / (‖A‖_F ‖E‖_F)`: there is no exact reference for `expm` but itself, so its
/// printed check is the commutator (a necessary condition, as in `NeuMatC::check`).
fn expm_err(a: &MatrixBatch, e: &MatrixBatch) -> String {
    let n = a.rows;
    let worst = (0..a.batch)
        .map(|i| {
            let am = MatRef::from_row_major_slice(a.matrix(i), n, n);
            let em = MatRef::from_row_major_slice(e.matrix(i), n, n);
            (am * em - em * am).norm_l2() / (am.norm_l2() * em.norm_l2())
        })
        .fold(0.0, f64::max);
    format!("commutator ‖AE − EA‖/(‖A‖‖E‖) ≤ {worst:.2e}")
}

fn exact(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline");
    for n in [64usize, 256, 512] {
        let (fam, spd) = (super::family(n), super::spd_family(n));
        let b: Vec<f64> = (0..n).map(|i| 1.0 + i as f64 / n as f64).collect();
        for batch in [1usize, 16] {
            let params = super::params(batch);
            let a = fam.at(&params).expect("in domain");
            group.throughput(Throughput::Elements(batch as u64));
            let id = |what: &str| format!("cpu_{what}_n{n}_b{batch}");
            timed(&mut group, &id("lu_inverse"), || baseline::inverse(&a).expect("invertible"), |x| inverse_err(&a, x));
            timed(&mut group, &id("svd"), || baseline::svd(&a, None).expect("converges"), |s| svd_err(&a, s));
            timed(&mut group, &id("svd_r20"), || baseline::svd(&a, Some(20)).expect("converges"), |s| svd_err(&a, s));
            timed(&mut group, &id("qr"), || baseline::qr(&a).expect("finite"), |f| rel_err(Operation::Qr, &a, &[&f.q, &f.r], None));
            if n > 256 {
                continue;
            }
            timed(
                &mut group,
                &id("lu_solve"),
                || baseline::solve(&a, &b).expect("invertible"),
                |x| rel_err(Operation::Solve, &a, &[x], Some(&b)),
            );
            let s = spd.at(&params).expect("in domain");
            timed(&mut group, &id("cholesky"), || baseline::cholesky(&s).expect("SPD"), |l| rel_err(Operation::Cholesky, &s, &[l], None));
            timed(
                &mut group,
                &id("eigh"),
                || baseline::eigh(&s).expect("converges"),
                |e| rel_err(Operation::Eigh, &s, &[&e.values, &e.vectors], None),
            );
            timed(&mut group, &id("expm"), || baseline::expm(&a).expect("finite"), |e| expm_err(&a, e));
            let rsvd = RsvdConfig { rank: 20, ..Default::default() };
            timed(&mut group, &id("rsvd_r20"), || baseline::rsvd(&a, &rsvd).expect("converges"), |s| svd_err(&a, s));
            timed(&mut group, &id("crsvd_r20"), || baseline::crsvd(&a, &rsvd).expect("converges"), |s| svd_err(&a, s));
        }
    }
    group.finish();
}

fn iterative(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline");
    let nni = NniConfig::default();
    for (n, batch) in [(64usize, 1usize), (64, 16), (256, 1)] {
        let a = super::family(n).at(&super::params(batch)).expect("in domain");
        group.throughput(Throughput::Elements(batch as u64));
        timed(
            &mut group,
            &format!("cpu_newton_schulz_inverse_n{n}_b{batch}"),
            || baseline::newton_schulz_inverse(&a, &nni).expect("converges"),
            |(x, iters)| format!("{}, iterations {iters:?}", inverse_err(&a, x)),
        );
    }
    for n in [64usize, 256] {
        let fam = super::family(n);
        let cfg = CoiConfig::default();
        group.throughput(Throughput::Elements(1));
        timed(
            &mut group,
            &format!("cpu_coi_new_n{n}"),
            || Coi::new(&fam, &cfg).expect("invertible at the nodes"),
            |coi| format!("{} nodes", coi.nodes().len()),
        );
        let built = OnceCell::new();
        let coi = || built.get_or_init(|| Coi::new(&fam, &cfg).expect("invertible at the nodes"));
        for batch in [1usize, 16] {
            let params = super::params(batch);
            let a = fam.at(&params).expect("in domain");
            group.throughput(Throughput::Elements(batch as u64));
            timed(
                &mut group,
                &format!("cpu_coi_inverse_n{n}_b{batch}"),
                || coi().inverse(&params).expect("in domain"),
                |x| inverse_err(&a, x),
            );
        }
    }
    // ZNN integrates along the grid, one interval after the other: 16 parameters at n = 64.
    let (n, batch) = (64usize, 16usize);
    let fam = super::family(n);
    let params = super::params(batch);
    let a = fam.at(&params).expect("in domain");
    let znn = ZnnConfig::default();
    group.throughput(Throughput::Elements(batch as u64));
    timed(
        &mut group,
        &format!("cpu_znn_inverse_n{n}_b{batch}"),
        || baseline::znn_inverse(&fam, &params, &znn).expect("stable"),
        |x| inverse_err(&a, x),
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = super::config();
    targets = exact, iterative
}
