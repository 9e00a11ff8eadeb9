//! 3GPP TR 38.901 CDL wideband MIMO channels: reproducibility, the encoded power-delay profiles against
//! the literal table values, unit average gain, the Gram form's structure and conditioning, frequency
//! selectivity and smoothness, beam squint, and option / domain errors.
//!
//! The 256 × 256 timing is `#[ignore]`d (seconds in release, far longer in debug):
//! `cargo test -p neumatc --release --test cdl -- --ignored --nocapture`.

use std::time::Instant;

use faer::{Mat, Side, c64};
use neumatc::family::{CdlArray, CdlConfig, CdlFamily};

fn cdl(cfg: CdlConfig) -> CdlFamily {
    CdlFamily::new(cfg).unwrap()
}

fn channel_cfg() -> CdlConfig {
    CdlConfig { form: "channel".into(), ..Default::default() }
}

fn norm(v: &[c64]) -> f64 {
    v.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt()
}

fn diff(a: &[c64], b: &[c64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).norm_sqr()).sum::<f64>().sqrt()
}

fn bits(v: &[c64]) -> Vec<(u64, u64)> {
    v.iter().map(|z| (z.re.to_bits(), z.im.to_bits())).collect()
}

/// Frequencies evenly spread over the family's band, edges included.
fn band(fam: &CdlFamily, count: usize) -> Vec<f64> {
    let (lo, hi) = (fam.domain().lo[0], fam.domain().hi[0]);
    (0..count).map(|i| lo + (hi - lo) * i as f64 / (count - 1) as f64).collect()
}

#[test]
fn same_seed_is_bit_identical_and_different_seeds_differ() {
    for profile in ["A", "B", "C", "D", "E"] {
        let cfg = CdlConfig { profile: profile.into(), seed: 7, ..channel_cfg() };
        let fam = cdl(cfg.clone());
        let f = band(&fam, 5);
        let a = fam.channel(&f).unwrap();
        let b = cdl(cfg.clone()).channel(&f).unwrap();
        assert_eq!(bits(&a), bits(&b), "{profile}");
        // A batch is the same as its frequencies one by one.
        for (i, &fi) in f.iter().enumerate() {
            assert_eq!(bits(&fam.channel(&[fi]).unwrap()), bits(&a[i * 64..(i + 1) * 64]), "{profile} f = {fi}");
        }
        let c = cdl(CdlConfig { seed: 8, ..cfg }).channel(&f).unwrap();
        assert!(diff(&a, &c) > 0.1 * norm(&a), "{profile}: seeds 7 and 8 give the same H");
    }
}

#[test]
fn power_delay_profile_matches_the_tables() {
    let ds = 300e-9;
    // TR 38.901 Table 7.7.1-1 (CDL-A): clusters 1, 2, 23 have normalised delays 0, 0.3819, 9.6586 and
    // powers −13.4, 0, −29.7 dB.
    let a = cdl(CdlConfig { profile: "A".into(), delay_spread: ds, ..Default::default() });
    let pdp = a.power_delay_profile();
    assert_eq!(pdp.len(), 23);
    let total: f64 = pdp.iter().map(|&(_, p)| p).sum();
    assert!((total - 1.0).abs() < 1e-12, "powers sum to {total}");
    // The normalising constant: the table's powers in linear scale sum to 1/p_2 (cluster 2 at 0 dB).
    let norm = 1.0 / pdp[1].1;
    for (cluster, delay, power_db) in [(1, 0.0, -13.4), (2, 0.3819, 0.0), (23, 9.6586, -29.7)] {
        let (tau, p) = pdp[cluster - 1];
        assert!((tau - delay * ds).abs() < 1e-18, "CDL-A cluster {cluster}: delay {tau}");
        let want = 10f64.powf(power_db / 10.0) / norm;
        assert!((p - want).abs() < 1e-12 * want.max(1e-3), "CDL-A cluster {cluster}: power {p} vs {want}");
    }
    // Sum of the 23 dB values of Table 7.7.1-1 in linear scale, computed independently:
    // python3 -c "print(sum(10**(p/10) for p in [-13.4,0,-2.2,-4,-6,-8.2,-9.9,-10.5,-7.5,-15.9,-6.6,-16.7,
    //   -12.4,-15.2,-10.8,-11.3,-12.7,-16.2,-18.3,-18.9,-16.6,-19.9,-29.7]))"  -> 3.467660484618398
    assert!((norm - 3.467_660_484_618_398).abs() < 1e-12, "CDL-A linear power sum {norm}");

    // TR 38.901 Table 7.7.1-4 (CDL-D): cluster 1 is a specular ray at −0.2 dB plus a Laplacian part at
    // −13.5 dB (both at delay 0, K = 13.3 dB); cluster 5 (row 6 here) has delay 1.405 and power −17.9 dB.
    let d = cdl(CdlConfig { profile: "D".into(), delay_spread: ds, ..Default::default() });
    let pdp = d.power_delay_profile();
    assert_eq!(pdp.len(), 14);
    assert_eq!((pdp[0].0, pdp[1].0), (0.0, 0.0));
    let k_db = 10.0 * (pdp[0].1 / pdp[1].1).log10();
    assert!((k_db - 13.3).abs() < 1e-9, "CDL-D K-factor {k_db} dB");
    let norm_d = 10f64.powf(-0.2 / 10.0) / pdp[0].1;
    let (tau, p) = pdp[5];
    assert!((tau - 1.405 * ds).abs() < 1e-18, "CDL-D cluster 5 delay {tau}");
    assert!((p - 10f64.powf(-17.9 / 10.0) / norm_d).abs() < 1e-15, "CDL-D cluster 5 power {p}");
    // CDL-E: K = 22 dB.
    let e = cdl(CdlConfig { profile: "E".into(), ..Default::default() }).power_delay_profile();
    assert!((10.0 * (e[0].1 / e[1].1).log10() - 22.0).abs() < 1e-9);
    // The table's own cluster spreads are exposed too.
    assert_eq!((d.profile().c_asd, d.profile().c_asa, d.profile().c_zsd, d.profile().c_zsa), (5.0, 8.0, 3.0, 3.0));
    assert_eq!(a.profile().table, "7.7.1-1");
}

#[test]
fn average_entry_power_is_one() {
    // Over 300 seeds × 5 frequencies × 16 entries of a 4 × 4 channel.
    for profile in ["A", "C", "D"] {
        let (mut sum, mut count) = (0.0, 0usize);
        for seed in 0..300 {
            let fam = cdl(CdlConfig {
                profile: profile.into(),
                seed,
                rx: CdlArray { rows: 2, cols: 2, spacing: 0.5 },
                tx: CdlArray { rows: 1, cols: 4, spacing: 0.5 },
                ..channel_cfg()
            });
            let h = fam.channel(&band(&fam, 5)).unwrap();
            sum += h.iter().map(|z| z.norm_sqr()).sum::<f64>();
            count += h.len();
        }
        let mean = sum / count as f64;
        println!("CDL-{profile}: E|h_ij|^2 = {mean:.4}");
        assert!((mean - 1.0).abs() < 0.04, "CDL-{profile}: E|h_ij|^2 = {mean}");
    }
}

#[test]
fn gram_is_hermitian_positive_definite_and_conditioned() {
    let panel = CdlArray { rows: 8, cols: 8, spacing: 0.5 };
    let fam = cdl(CdlConfig { profile: "A".into(), rx: panel, tx: panel, snr_db: 20.0, ..Default::default() });
    let (n, sigma2) = (fam.cols(), fam.noise_variance());
    assert_eq!((fam.rows(), n), (64, 64));
    assert!((sigma2 - 64.0 * 0.01).abs() < 1e-12);
    let f = band(&fam, 9);
    let a = fam.at_complex(&f).unwrap();
    let h = fam.channel(&f).unwrap();
    let (mut cmin, mut cmax) = (f64::INFINITY, 0.0f64);
    for (i, fi) in f.iter().enumerate() {
        let ai = &a[i * n * n..(i + 1) * n * n];
        let hi = &h[i * n * n..(i + 1) * n * n];
        // Hermitian to 1e-12 relative (in fact exactly).
        let scale = norm(ai);
        for r in 0..n {
            for c in 0..n {
                assert!((ai[r * n + c] - ai[c * n + r].conj()).norm() <= 1e-12 * scale, "f = {fi}: ({r}, {c})");
            }
        }
        // A = HᴴH + σ²I against the channel.
        let m = Mat::<c64>::from_fn(n, n, |r, c| {
            (0..n).map(|k| hi[k * n + r].conj() * hi[k * n + c]).sum::<c64>() + if r == c { sigma2 } else { 0.0 }
        });
        let dev: f64 = (0..n * n).map(|k| (ai[k] - m[(k / n, k % n)]).norm_sqr()).sum::<f64>().sqrt();
        assert!(dev <= 1e-12 * scale, "f = {fi}: A differs from HᴴH + σ²I by {dev}");
        let am = Mat::<c64>::from_fn(n, n, |r, c| ai[r * n + c]);
        let eig = am.self_adjoint_eigenvalues(Side::Lower).unwrap();
        let (lmin, lmax) = (eig[0], eig[n - 1]);
        assert!(lmin >= sigma2 * (1.0 - 1e-9), "f = {fi}: λ_min {lmin} < σ² {sigma2}");
        // λ_max(HᴴH) ≤ ‖H‖_F², so cond ≤ (‖H‖_F² + σ²)/σ².
        let bound = (norm(hi).powi(2) + sigma2) / sigma2;
        let cond = lmax / lmin;
        assert!(cond.is_finite() && cond <= bound, "f = {fi}: cond {cond} > {bound}");
        (cmin, cmax) = (cmin.min(cond), cmax.max(cond));
    }
    println!("CDL-A 64 × 64 (8 × 8 UPA each side), 20 dB, 100 MHz at 28 GHz: cond(A(f)) in [{cmin:.1}, {cmax:.1}]");
}

#[test]
fn channel_is_frequency_selective_and_smooth() {
    let fam = cdl(channel_cfg());
    let fc = 28e9;
    let h0 = fam.channel(&[fc]).unwrap();
    let h5 = fam.channel(&[fc + 5e6]).unwrap();
    let h1k = fam.channel(&[fc + 1e3]).unwrap();
    let scale = norm(&h0);
    let far = diff(&h0, &h5) / scale;
    let near = diff(&h0, &h1k) / scale;
    println!("‖H(fc + 5 MHz) − H(fc)‖/‖H‖ = {far:.3e}, ‖H(fc + 1 kHz) − H(fc)‖/‖H‖ = {near:.3e}");
    // 5 MHz is well beyond the coherence bandwidth (~1/(2π·DS) ≈ 1.6 MHz) of a 100 ns channel.
    assert!(far > 0.1, "H barely changes over 5 MHz: {far}");
    // |dH/df| ≤ 2π·τ_max·Σ|g| ⇒ over 1 kHz at most 2π·1e3·966 ns·√rays ≈ 0.13 in the worst case; in
    // practice ~2π·1e3·(rms delay) ≈ 1e-3.
    assert!(near > 0.0 && near < 5e-3, "H is not smooth at 1 kHz: {near}");
    // And the difference is first order: halving the step halves it.
    let h05k = fam.channel(&[fc + 500.0]).unwrap();
    let ratio = diff(&h0, &h05k) / (near * scale);
    assert!((ratio - 0.5).abs() < 0.01, "finite differences are not linear: {ratio}");
}

#[test]
fn beam_squint_matters_off_carrier_only() {
    let ula = CdlArray { rows: 1, cols: 64, spacing: 0.5 };
    let base = CdlConfig { rx: ula, tx: ula, bandwidth: 4e9, profile: "C".into(), ..channel_cfg() };
    let plain = cdl(base.clone());
    let squint = cdl(CdlConfig { beam_squint: true, ..base });
    let fc = 28e9;
    let (a, b) = (plain.channel(&[fc]).unwrap(), squint.channel(&[fc]).unwrap());
    assert!(diff(&a, &b) <= 1e-12 * norm(&a), "beam squint changes H at the carrier");
    let edge = fc + 2e9;
    let (a, b) = (plain.channel(&[edge]).unwrap(), squint.channel(&[edge]).unwrap());
    let rel = diff(&a, &b) / norm(&a);
    println!("beam squint at fc + 2 GHz (64-element ULAs): relative change {rel:.3}");
    assert!(rel > 0.1, "beam squint barely matters at the band edge: {rel}");
}

#[test]
fn subcarrier_parameter_maps_to_frequency() {
    let n = 64;
    let sub = cdl(CdlConfig { subcarriers: Some(n), subcarrier_spacing: 120e3, ..channel_cfg() });
    assert_eq!((sub.domain().lo[0], sub.domain().hi[0]), (0.0, (n - 1) as f64));
    let hz = cdl(channel_cfg());
    for k in [0.0, 10.5, 31.5, 63.0] {
        let f = 28e9 + (k - 31.5) * 120e3;
        assert_eq!(sub.frequency(k), f);
        let (a, b) = (sub.channel(&[k]).unwrap(), hz.channel(&[f]).unwrap());
        assert!(diff(&a, &b) <= 1e-9 * norm(&a), "k = {k}");
    }
    assert_eq!(sub.channel(&[64.0]).unwrap_err().code(), "OUT_OF_DOMAIN");
}

#[test]
fn forms_and_shapes() {
    let cfg = CdlConfig {
        rx: CdlArray { rows: 2, cols: 2, spacing: 0.5 },
        tx: CdlArray { rows: 1, cols: 3, spacing: 0.5 },
        ..Default::default()
    };
    let gram = cdl(cfg.clone());
    assert_eq!((gram.rows(), gram.cols()), (3, 3));
    assert_eq!(gram.at_complex(&[28e9, 28.02e9]).unwrap().len(), 2 * 9);
    let ch = cdl(CdlConfig { form: "channel".into(), ..cfg.clone() });
    assert_eq!((ch.rows(), ch.cols()), (4, 3));
    assert_eq!(ch.at_complex(&[28e9]).unwrap(), ch.channel(&[28e9]).unwrap());
    // JSON, camelCase, every field optional; unknown fields rejected.
    let js = CdlFamily::from_json(r#"{"profile":"B","delaySpread":3e-8,"rx":{"rows":2},"beamSquint":true,"snrDb":10}"#).unwrap();
    assert_eq!((js.config().profile.as_str(), js.rx_antennas(), js.tx_antennas()), ("B", 16, 8));
    let err = CdlFamily::from_json(r#"{"profil":"B"}"#).unwrap_err();
    assert_eq!(err.code(), "INVALID_OPTION");
}

#[test]
fn bad_options_are_invalid_option_naming_the_option() {
    let cases: Vec<(CdlConfig, &str)> = vec![
        (CdlConfig { rx: CdlArray { rows: 0, ..Default::default() }, ..Default::default() }, "rx.rows"),
        (CdlConfig { tx: CdlArray { cols: 0, ..Default::default() }, ..Default::default() }, "tx.cols"),
        (CdlConfig { tx: CdlArray { rows: 100, cols: 100, spacing: 0.5 }, ..Default::default() }, "tx"),
        (CdlConfig { rx: CdlArray { spacing: f64::NAN, ..Default::default() }, ..Default::default() }, "rx.spacing"),
        (CdlConfig { delay_spread: -1e-9, ..Default::default() }, "delaySpread"),
        (CdlConfig { delay_spread: f64::NAN, ..Default::default() }, "delaySpread"),
        (CdlConfig { bandwidth: 28e9, ..Default::default() }, "bandwidth"),
        (CdlConfig { bandwidth: 30e9, ..Default::default() }, "bandwidth"),
        (CdlConfig { bandwidth: 0.0, ..Default::default() }, "bandwidth"),
        (CdlConfig { bandwidth: f64::NAN, ..Default::default() }, "bandwidth"),
        (CdlConfig { carrier: f64::NAN, ..Default::default() }, "carrier"),
        (CdlConfig { carrier: -1.0, ..Default::default() }, "carrier"),
        (CdlConfig { profile: "F".into(), ..Default::default() }, "profile"),
        (CdlConfig { profile: "CDL-A".into(), ..Default::default() }, "profile"),
        (CdlConfig { form: "inverse".into(), ..Default::default() }, "form"),
        (CdlConfig { snr_db: f64::NAN, ..Default::default() }, "snrDb"),
        (CdlConfig { snr_db: f64::INFINITY, ..Default::default() }, "snrDb"),
        (CdlConfig { subcarriers: Some(1), ..Default::default() }, "subcarriers"),
        (CdlConfig { subcarriers: Some(1 << 20), subcarrier_spacing: 1e6, ..Default::default() }, "subcarriers"),
        (CdlConfig { subcarrier_spacing: f64::NAN, ..Default::default() }, "subcarrierSpacing"),
    ];
    for (cfg, name) in cases {
        let err = CdlFamily::new(cfg.clone()).unwrap_err();
        assert_eq!(err.code(), "INVALID_OPTION", "{cfg:?}");
        assert!(matches!(&err, neumatc::Error::InvalidOption { name: n, .. } if *n == name), "{name}: {err}");
        assert!(err.to_string().contains(name), "message names the option: {err}");
    }
    // With subcarriers set the bandwidth is not used, so not checked.
    assert!(CdlFamily::new(CdlConfig { subcarriers: Some(792), bandwidth: f64::NAN, ..Default::default() }).is_ok());
}

#[test]
fn parameters_outside_the_band_are_out_of_domain() {
    let fam = cdl(CdlConfig::default());
    for p in [27.9e9, 28.051e9, 0.0, -28e9] {
        assert_eq!(fam.at_complex(&[p]).unwrap_err().code(), "OUT_OF_DOMAIN", "f = {p}");
        assert_eq!(fam.channel(&[28e9, p]).unwrap_err().code(), "OUT_OF_DOMAIN", "f = {p}");
    }
    assert_eq!(fam.at_complex(&[f64::NAN]).unwrap_err().code(), "INVALID_INPUT");
    assert!(fam.at_complex(&[27.95e9, 28.05e9]).is_ok(), "band edges are inside");
    assert!(fam.at_complex(&[]).unwrap().is_empty());
}

#[test]
#[ignore = "timing: 256 × 256 Gram at 200 frequencies (seconds in release)"]
fn timing_256x256_gram_200_frequencies() {
    let panel = CdlArray { rows: 16, cols: 16, spacing: 0.5 };
    for squint in [false, true] {
        let t = Instant::now();
        let fam = cdl(CdlConfig { rx: panel, tx: panel, beam_squint: squint, ..Default::default() });
        let build = t.elapsed().as_secs_f64();
        let f = band(&fam, 200);
        let t = Instant::now();
        let a = fam.at_complex(&f).unwrap();
        let gram = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let h = fam.channel(&f).unwrap();
        let channel = t.elapsed().as_secs_f64();
        assert_eq!(a.len(), 200 * 256 * 256);
        assert_eq!(h.len(), 200 * 256 * 256);
        println!(
            "256 × 256 CDL-A, 200 frequencies, beamSquint {squint}, {} threads: build {build:.3} s, gram {gram:.2} s, channel {channel:.2} s",
            rayon::current_num_threads()
        );
    }
}

/// The doc example of `CdlFamily`, kept runnable here too.
#[test]
fn doc_example() {
    let fam = CdlFamily::new(CdlConfig { form: "channel".into(), ..Default::default() }).unwrap();
    assert_eq!((fam.rows(), fam.cols()), (8, 8));
    let h = fam.at_complex(&[28e9, 28.01e9]).unwrap(); // 2 × 8 × 8, row-major
    assert_eq!(h.len(), 2 * 64);
}
