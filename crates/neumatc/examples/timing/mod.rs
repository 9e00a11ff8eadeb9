//! Timing helpers shared by the benchmark examples (`mod timing;`).

use std::time::Instant;

/// The median of `v` (the upper one for an even length).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of `f` over 5 runs after one warm-up.
pub fn time<T>(mut f: impl FnMut() -> T) -> f64 {
    std::hint::black_box(f());
    median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}
