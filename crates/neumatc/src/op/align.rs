//! Aligning exact results along `p`: singular and eigen vectors are defined up to order and sign (phase,
//! for complex ones), so consecutive training samples are matched to a reference before they are fitted.

use faer::c64;

/// Greedy matching of `r` reference slots to `r` current vectors by `score[i * r + j]` (reference `i`
/// vs current `j`), largest first: returns, per reference slot, the current vector it gets.
pub(crate) fn greedy_match(score: &[f64], r: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..r * r).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let mut slot_of = vec![usize::MAX; r];
    let mut used = vec![false; r];
    for idx in order {
        let (i, j) = (idx / r, idx % r);
        if slot_of[i] == usize::MAX && !used[j] {
            slot_of[i] = j;
            used[j] = true;
        }
    }
    slot_of
}

/// Rotates the phases (and order) of the complex singular triplets in the stacked joint result `g`
/// (`U_E` 2m × r, `S` r, `V_E` 2n × r, row-major) to match `reference`: the triplets are matched
/// greedily by `|⟨u_ref, u⟩ + ⟨v_ref, v⟩|` (complex inner products), and each pair `(u, v)` is
/// multiplied by `e^{−iα}`, `α` the argument of that overlap.
pub(crate) fn align_complex_svd(reference: &[f64], g: &mut [f64], m: usize, n: usize, r: usize) {
    let (u_off, s_off, v_off) = (0, 2 * m * r, 2 * m * r + r);
    let col = |buf: &[f64], off: usize, rows: usize, j: usize| -> Vec<c64> {
        (0..rows).map(|i| c64::new(buf[off + i * r + j], buf[off + (rows + i) * r + j])).collect()
    };
    let dot = |x: &[c64], y: &[c64]| x.iter().zip(y).map(|(a, b)| a.conj() * b).sum::<c64>();
    let ref_u: Vec<Vec<c64>> = (0..r).map(|j| col(reference, u_off, m, j)).collect();
    let ref_v: Vec<Vec<c64>> = (0..r).map(|j| col(reference, v_off, n, j)).collect();
    let cur_u: Vec<Vec<c64>> = (0..r).map(|j| col(g, u_off, m, j)).collect();
    let cur_v: Vec<Vec<c64>> = (0..r).map(|j| col(g, v_off, n, j)).collect();
    let overlap: Vec<c64> = (0..r * r).map(|idx| dot(&ref_u[idx / r], &cur_u[idx % r]) + dot(&ref_v[idx / r], &cur_v[idx % r])).collect();
    let slot_of = greedy_match(&overlap.iter().map(|z| z.norm()).collect::<Vec<_>>(), r);
    let values: Vec<f64> = (0..r).map(|j| g[s_off + j]).collect();
    for i in 0..r {
        let j = slot_of[i];
        let z = overlap[i * r + j];
        let phase = if z.norm() > 0.0 { z.conj() / z.norm() } else { c64::new(1.0, 0.0) };
        g[s_off + i] = values[j];
        for (off, rows, cur) in [(u_off, m, &cur_u[j]), (v_off, n, &cur_v[j])] {
            for row in 0..rows {
                let w = cur[row] * phase;
                g[off + row * r + i] = w.re;
                g[off + (rows + row) * r + i] = w.im;
            }
        }
    }
}
