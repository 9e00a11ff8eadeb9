//! Shared by the integration tests: reference dense helpers (textbook loops, independent of faer) and
//! [`device_test!`], which runs a test once per device.
#![allow(dead_code, unused_macros)]

/// `device_test!(name)` runs `fn name(dev: DeviceSpec) -> Result<()>` once per device: `name::cpu`
/// always, `name::cuda` with the `cuda` feature (skipped without a GPU unless `NEUMATC_REQUIRE_GPU=1`).
macro_rules! device_test {
    ($name:ident) => {
        mod $name {
            #[test]
            fn cpu() {
                super::$name(neumatc::DeviceSpec::Cpu).unwrap();
            }
            #[cfg(feature = "cuda")]
            #[test]
            fn cuda() {
                let dev = neumatc::DeviceSpec::Cuda(0);
                if let Err(e) = dev.device() {
                    assert!(std::env::var("NEUMATC_REQUIRE_GPU").as_deref() != Ok("1"), "{e}");
                    eprintln!("skipped: {e}");
                    return;
                }
                super::$name(dev).unwrap();
            }
        }
    };
}

/// Row-major `a (m × k) · b (k × n)`.
pub fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for l in 0..k {
            let ail = a[i * k + l];
            for j in 0..n {
                c[i * n + j] += ail * b[l * n + j];
            }
        }
    }
    c
}

/// Row-major transpose of an `m × n` matrix.
pub fn transpose(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    (0..n * m).map(|idx| a[(idx % m) * n + idx / m]).collect()
}
