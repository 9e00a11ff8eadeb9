//! The structure checks of every operation on one matrix at n = 64 and 256: the paper-style error
//! [`OpSpec::rel_err`] (`‖AĜ − I‖²_F/n`, `‖ÛŜV̂ᵀ − A‖²_F/‖A‖²_F`, ...: one to two `O(n³)` products) and,
//! for the operations with orthonormal factors, [`OpSpec::orthogonality_defect`]. Both are timed on the
//! exact result (`OpSpec::exact`), so the printed values show the f64 floor. (The sketched training
//! residual `R(G)Ω` is crate-private and not benched.) cholesky and eigh take the SPD family.

use criterion::{Criterion, criterion_group};
use neumatc::Operation;
use neumatc::op::OpSpec;

fn residuals(c: &mut Criterion) {
    let mut group = c.benchmark_group("residual");
    let p = [0.37];
    for n in [64usize, 256] {
        for op in Operation::ALL {
            let fam = if matches!(op, Operation::Cholesky | Operation::Eigh) { super::spd_family(n) } else { super::family(n) };
            let a = fam.at(&p).expect("in domain").data;
            let rhs = (op == Operation::Solve).then(|| (0..n).map(|i| 1.0 + i as f64 / n as f64).collect());
            let spec = OpSpec::new(op, n, n, None, rhs).expect("valid spec");
            let g = spec.exact(&a, &p).expect("exact result");
            let exact = (op == Operation::Expm).then_some(&g[..]);
            let name = op.name();
            super::timed(
                &mut group,
                &format!("cpu_rel_err_{name}_n{n}"),
                || spec.rel_err(&a, &g, exact).expect("finite"),
                |e| format!("{e:.2e} on the exact result"),
            );
            if spec.orthogonality_defect(&g).is_some() {
                super::timed(
                    &mut group,
                    &format!("cpu_orthogonality_{name}_n{n}"),
                    || spec.orthogonality_defect(&g).expect("has orthonormal factors"),
                    |e| format!("{e:.2e} on the exact result"),
                );
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = super::config();
    targets = residuals
}
