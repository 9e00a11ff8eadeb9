//! 3GPP TR 38.901 clustered delay line (CDL) wideband MIMO channels `H(f)` and their regularised Gram
//! matrices `H(f)ᴴH(f) + σ²I`, the parameter being the frequency `f` (or a subcarrier index).
//!
//! The model is §7.7.1 of TR 38.901 (v16.1 / v17.0, unchanged for CDL-A…E): the cluster tables
//! 7.7.1-1 … 7.7.1-5 ([`CdlProfile`]), 20 rays per cluster at the offsets of Table 7.5-3
//! ([`RAY_OFFSETS`]) scaled by the table's cluster-wise rms angle spreads (eq. 7.7-0a), random coupling
//! of the rays within each cluster (§7.7.1 step 2, as §7.5 step 8), random initial phases (step 3 / §7.5
//! step 10), delays scaled by the delay spread (§7.7.3), and the channel coefficient of eq. 7.5-22 with
//! isotropic, single-polarised (vertical) elements: the cross-polarisation ratio of the tables (XPR) and
//! the element field patterns of §7.3 do not enter, and there is no Doppler (a static channel). The
//! optional angle scaling of §7.7.5.1 is not applied.

use std::f64::consts::{PI, TAU};

use faer::linalg::matmul::triangular::BlockStructure;
use faer::linalg::matmul::{self, triangular};
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatMut, MatRef, Par, c64};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::Domain;
use crate::error::parse_options;
use crate::error::{Error, Result};

/// Rays per cluster `M` (TR 38.901 §7.7.1: 20 rays in each non-specular cluster).
pub const RAYS_PER_CLUSTER: usize = 20;

/// Ray offset angles `α_m` within a cluster for an rms angle spread of 1° (TR 38.901 Table 7.5-3), in
/// degrees, ray `m = 1…20` in the table's order.
pub const RAY_OFFSETS: [f64; RAYS_PER_CLUSTER] = [
    0.0447, -0.0447, 0.1413, -0.1413, 0.2492, -0.2492, 0.3715, -0.3715, 0.5129, -0.5129, 0.6797, -0.6797, 0.8844, -0.8844, 1.1481, -1.1481,
    1.5195, -1.5195, 2.1551, -2.1551,
];

/// Most antenna elements on one side (receive or transmit). 256 (a 16 × 16 panel) is the size the
/// generator is tuned for; the cap only keeps the precomputed steering matrices (elements × rays × 16
/// bytes, 7.5 MiB at 4096 elements and 460 rays) and the output in reasonable bounds.
pub const MAX_ELEMENTS: usize = 4096;

/// One row of a CDL table: normalised delay (`τ/DS`), power (dB), AOD, AOA, ZOD, ZOA (degrees).
type Row = [f64; 6];

/// One CDL model of TR 38.901 §7.7.1.
///
/// The numbers are TR 38.901 v16.1.0 / v17.0.0 Tables 7.7.1-1 … 7.7.1-5, transcribed from NVIDIA
/// Sionna (`NVlabs/sionna`, `src/sionna/phy/channel/tr38901/models/v16_1/CDL-A.json`, `…/v16_1/CDL-D.json`,
/// `…/v19_2/CDL-C.json`, `sionna/channel/tr38901/models/CDL-B.json`, `…/CDL-E.json`) and checked entry by
/// entry against InterDigital NeoRadium (`InterDigitalInc/NeoRadium`, `neoradium/cdl.py`, "based on 3GPP
/// TR 38.901 V17.1.0", `clusterInfo` and `perClusterParams`): the two agree on every delay, power, angle,
/// cluster-wise spread and XPR. (MathWorks' older TR 38.900 v14.2 implementation lists XPR 7 dB for
/// CDL-A; TR 38.901 says 10 dB, as both sources above.)
#[derive(Debug)]
pub struct CdlProfile {
    /// "A" … "E".
    pub name: &'static str,
    /// The TR 38.901 table number, e.g. "7.7.1-1".
    pub table: &'static str,
    /// Per cluster: normalised delay, power in dB, AOD, AOA, ZOD, ZOA in degrees. For the LOS models
    /// (CDL-D, CDL-E) rows 0 and 1 are cluster 1's specular (LOS) ray and its Laplacian part.
    pub clusters: &'static [[f64; 6]],
    /// Cluster-wise rms azimuth spread of departure `c_ASD`, degrees.
    pub c_asd: f64,
    /// Cluster-wise rms azimuth spread of arrival `c_ASA`, degrees.
    pub c_asa: f64,
    /// Cluster-wise rms zenith spread of departure `c_ZSD`, degrees.
    pub c_zsd: f64,
    /// Cluster-wise rms zenith spread of arrival `c_ZSA`, degrees.
    pub c_zsa: f64,
    /// Cross-polarisation power ratio, dB (listed for completeness; unused by the single-polarised model).
    pub xpr_db: f64,
    /// Whether row 0 is a specular LOS ray (CDL-D, CDL-E).
    pub los: bool,
}

/// TR 38.901 Table 7.7.1-1, CDL-A (NLOS).
const CDL_A: [Row; 23] = [
    [0.0000, -13.4, -178.1, 51.3, 50.2, 125.4],
    [0.3819, 0.0, -4.2, -152.7, 93.2, 91.3],
    [0.4025, -2.2, -4.2, -152.7, 93.2, 91.3],
    [0.5868, -4.0, -4.2, -152.7, 93.2, 91.3],
    [0.4610, -6.0, 90.2, 76.6, 122.0, 94.0],
    [0.5375, -8.2, 90.2, 76.6, 122.0, 94.0],
    [0.6708, -9.9, 90.2, 76.6, 122.0, 94.0],
    [0.5750, -10.5, 121.5, -1.8, 150.2, 47.1],
    [0.7618, -7.5, -81.7, -41.9, 55.2, 56.0],
    [1.5375, -15.9, 158.4, 94.2, 26.4, 30.1],
    [1.8978, -6.6, -83.0, 51.9, 126.4, 58.8],
    [2.2242, -16.7, 134.8, -115.9, 171.6, 26.0],
    [2.1718, -12.4, -153.0, 26.6, 151.4, 49.2],
    [2.4942, -15.2, -172.0, 76.6, 157.2, 143.1],
    [2.5119, -10.8, -129.9, -7.0, 47.2, 117.4],
    [3.0582, -11.3, -136.0, -23.0, 40.4, 122.7],
    [4.0810, -12.7, 165.4, -47.2, 43.3, 123.2],
    [4.4579, -16.2, 148.4, 110.4, 161.8, 32.6],
    [4.5695, -18.3, 132.7, 144.5, 10.8, 27.2],
    [4.7966, -18.9, -118.6, 155.3, 16.7, 15.2],
    [5.0066, -16.6, -154.1, 102.0, 171.7, 146.0],
    [5.3043, -19.9, 126.5, -151.8, 22.7, 150.7],
    [9.6586, -29.7, -56.2, 55.2, 144.9, 156.1],
];

/// TR 38.901 Table 7.7.1-2, CDL-B (NLOS).
const CDL_B: [Row; 23] = [
    [0.0000, 0.0, 9.3, -173.3, 105.8, 78.9],
    [0.1072, -2.2, 9.3, -173.3, 105.8, 78.9],
    [0.2155, -4.0, 9.3, -173.3, 105.8, 78.9],
    [0.2095, -3.2, -34.1, 125.5, 115.3, 63.3],
    [0.2870, -9.8, -65.4, -88.0, 119.3, 59.9],
    [0.2986, -1.2, -11.4, 155.1, 103.2, 67.5],
    [0.3752, -3.4, -11.4, 155.1, 103.2, 67.5],
    [0.5055, -5.2, -11.4, 155.1, 103.2, 67.5],
    [0.3681, -7.6, -67.2, -89.8, 118.2, 82.6],
    [0.3697, -3.0, 52.5, 132.1, 102.0, 66.3],
    [0.5700, -8.9, -72.0, -83.6, 100.4, 61.6],
    [0.5283, -9.0, 74.3, 95.3, 98.3, 58.0],
    [1.1021, -4.8, -52.2, 103.7, 103.4, 78.2],
    [1.2756, -5.7, -50.5, -87.8, 102.5, 82.0],
    [1.5474, -7.5, 61.4, -92.5, 101.4, 62.4],
    [1.7842, -1.9, 30.6, -139.1, 103.0, 78.0],
    [2.0169, -7.6, -72.5, -90.6, 100.0, 60.9],
    [2.8294, -12.2, -90.6, 58.6, 115.2, 82.9],
    [3.0219, -9.8, -77.6, -79.0, 100.5, 60.8],
    [3.6187, -11.4, -82.6, 65.8, 119.6, 57.3],
    [4.1067, -14.9, -103.6, 52.7, 118.7, 59.9],
    [4.2790, -9.2, 75.6, 88.7, 117.8, 60.1],
    [4.7834, -11.3, -77.6, -60.4, 115.7, 62.3],
];

/// TR 38.901 Table 7.7.1-3, CDL-C (NLOS). (Cluster 6's delay 0.6366 is the table's, not 2/π.)
#[allow(clippy::approx_constant)]
const CDL_C: [Row; 24] = [
    [0.0000, -4.4, -46.6, -101.0, 97.2, 87.6],
    [0.2099, -1.2, -22.8, 120.0, 98.6, 72.1],
    [0.2219, -3.5, -22.8, 120.0, 98.6, 72.1],
    [0.2329, -5.2, -22.8, 120.0, 98.6, 72.1],
    [0.2176, -2.5, -40.7, -127.5, 100.6, 70.1],
    [0.6366, 0.0, 0.3, 170.4, 99.2, 75.3],
    [0.6448, -2.2, 0.3, 170.4, 99.2, 75.3],
    [0.6560, -3.9, 0.3, 170.4, 99.2, 75.3],
    [0.6584, -7.4, 73.1, 55.4, 105.2, 67.4],
    [0.7935, -7.1, -64.5, 66.5, 95.3, 63.8],
    [0.8213, -10.7, 80.2, -48.1, 106.1, 71.4],
    [0.9336, -11.1, -97.1, 46.9, 93.5, 60.5],
    [1.2285, -5.1, -55.3, 68.1, 103.7, 90.6],
    [1.3083, -6.8, -64.3, -68.7, 104.2, 60.1],
    [2.1704, -8.7, -78.5, 81.5, 93.0, 61.0],
    [2.7105, -13.2, 102.7, 30.7, 104.2, 100.7],
    [4.2589, -13.9, 99.2, -16.4, 94.9, 62.3],
    [4.6003, -13.9, 88.8, 3.8, 93.1, 66.7],
    [5.4902, -15.8, -101.9, -13.7, 92.2, 52.9],
    [5.6077, -17.1, 92.2, 9.7, 106.7, 61.8],
    [6.3065, -16.0, 93.3, 5.6, 93.0, 51.9],
    [6.6374, -15.7, 106.6, 0.7, 92.9, 61.7],
    [7.0427, -21.6, 119.5, -21.9, 105.2, 58.0],
    [8.6523, -22.8, -123.8, 33.6, 107.8, 57.0],
];

/// TR 38.901 Table 7.7.1-4, CDL-D (LOS): row 0 is cluster 1's specular ray, row 1 its Laplacian part
/// (K-factor −0.2 − (−13.5) = 13.3 dB).
const CDL_D: [Row; 14] = [
    [0.000, -0.2, 0.0, -180.0, 98.5, 81.5],
    [0.000, -13.5, 0.0, -180.0, 98.5, 81.5],
    [0.035, -18.8, 89.2, 89.2, 85.5, 86.9],
    [0.612, -21.0, 89.2, 89.2, 85.5, 86.9],
    [1.363, -22.8, 89.2, 89.2, 85.5, 86.9],
    [1.405, -17.9, 13.0, 163.0, 97.5, 79.4],
    [1.804, -20.1, 13.0, 163.0, 97.5, 79.4],
    [2.596, -21.9, 13.0, 163.0, 97.5, 79.4],
    [1.775, -22.9, 34.6, -137.0, 98.5, 78.2],
    [4.042, -27.8, -64.5, 74.5, 88.4, 73.6],
    [7.937, -23.6, -32.9, 127.7, 91.3, 78.3],
    [9.424, -24.8, 52.6, -119.6, 103.8, 87.0],
    [9.708, -30.0, -132.1, -9.1, 80.3, 70.6],
    [12.525, -27.7, 77.2, -83.8, 86.5, 72.9],
];

/// TR 38.901 Table 7.7.1-5, CDL-E (LOS): row 0 is cluster 1's specular ray, row 1 its Laplacian part
/// (K-factor −0.03 − (−22.03) = 22 dB).
const CDL_E: [Row; 15] = [
    [0.0000, -0.03, 0.0, -180.0, 99.6, 80.4],
    [0.0000, -22.03, 0.0, -180.0, 99.6, 80.4],
    [0.5133, -15.8, 57.5, 18.2, 104.2, 80.4],
    [0.5440, -18.1, 57.5, 18.2, 104.2, 80.4],
    [0.5630, -19.8, 57.5, 18.2, 104.2, 80.4],
    [0.5440, -22.9, -20.1, 101.8, 99.4, 80.8],
    [0.7112, -22.4, 16.2, 112.9, 100.8, 86.3],
    [1.9092, -18.6, 9.3, -155.5, 98.8, 82.7],
    [1.9293, -20.8, 9.3, -155.5, 98.8, 82.7],
    [1.9589, -22.6, 9.3, -155.5, 98.8, 82.7],
    [2.6426, -22.3, 19.0, -143.3, 100.8, 82.9],
    [3.7136, -25.6, 32.7, -94.7, 96.4, 88.0],
    [5.4524, -20.2, 0.5, 147.0, 98.9, 81.0],
    [12.0034, -29.8, 55.9, -36.2, 95.6, 88.6],
    [20.6419, -29.2, 57.6, -26.0, 104.6, 78.3],
];

/// The five CDL models of TR 38.901 §7.7.1, CDL-A … CDL-E.
pub static CDL_PROFILES: [CdlProfile; 5] = [
    CdlProfile { name: "A", table: "7.7.1-1", clusters: &CDL_A, c_asd: 5.0, c_asa: 11.0, c_zsd: 3.0, c_zsa: 3.0, xpr_db: 10.0, los: false },
    CdlProfile { name: "B", table: "7.7.1-2", clusters: &CDL_B, c_asd: 10.0, c_asa: 22.0, c_zsd: 3.0, c_zsa: 7.0, xpr_db: 8.0, los: false },
    CdlProfile { name: "C", table: "7.7.1-3", clusters: &CDL_C, c_asd: 2.0, c_asa: 15.0, c_zsd: 3.0, c_zsa: 7.0, xpr_db: 7.0, los: false },
    CdlProfile { name: "D", table: "7.7.1-4", clusters: &CDL_D, c_asd: 5.0, c_asa: 8.0, c_zsd: 3.0, c_zsa: 3.0, xpr_db: 11.0, los: true },
    CdlProfile { name: "E", table: "7.7.1-5", clusters: &CDL_E, c_asd: 5.0, c_asa: 11.0, c_zsd: 3.0, c_zsa: 7.0, xpr_db: 8.0, los: true },
];

impl CdlProfile {
    /// The profile named "A" … "E", if any.
    pub fn by_name(name: &str) -> Option<&'static CdlProfile> {
        CDL_PROFILES.iter().find(|p| p.name == name)
    }
}

/// A uniform planar array of isotropic elements in the y–z plane: `rows` along z, `cols` along y. A
/// uniform linear array (along y) is `rows = 1`. Element `(r, c)` sits at `(0, c·d, r·d)` and is entry
/// `r·cols + c` of the antenna index.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CdlArray {
    /// Element rows (along z, vertical). At least 1. Default 1.
    pub rows: usize,
    /// Element columns (along y, horizontal). At least 1. Default 8.
    pub cols: usize,
    /// Element spacing `d/λ` in wavelengths at the carrier frequency. Positive. Default 0.5.
    pub spacing: f64,
}

impl Default for CdlArray {
    fn default() -> Self {
        Self { rows: 1, cols: 8, spacing: 0.5 }
    }
}

impl CdlArray {
    /// Number of elements, `rows · cols`.
    pub fn elements(&self) -> usize {
        self.rows * self.cols
    }
}

/// Options of [`CdlFamily`]. Every field has a default; JSON uses camelCase names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CdlConfig {
    /// CDL model: "A", "B", "C" (NLOS), "D", "E" (LOS) of TR 38.901 Tables 7.7.1-1 … 7.7.1-5 (see
    /// [`CdlProfile`]). Default "A".
    pub profile: String,
    /// rms delay spread `DS` in seconds: cluster `n` has delay `τ_n = τ_n,model · DS` (§7.7.3). At least 0
    /// (0 gives a frequency-flat channel). Default 100e-9 (100 ns, "nominal" in Table 7.7.3-1).
    pub delay_spread: f64,
    /// Carrier (centre) frequency `f_c` in Hz. Positive. Default 28e9.
    pub carrier: f64,
    /// Bandwidth `B` in Hz: the parameter is the frequency `f ∈ [f_c − B/2, f_c + B/2]`. In `(0, f_c)`.
    /// Ignored (and not checked) when `subcarriers` is set. Default 100e6.
    pub bandwidth: f64,
    /// Number of subcarriers `N`, at least 2. When set, the parameter is instead the (continuous)
    /// subcarrier index `k ∈ [0, N − 1]` at frequency `f = f_c + (k − (N − 1)/2)·Δf`, and `bandwidth` is
    /// ignored; `N·Δf` must be below `f_c`. Default `None` (the parameter is the frequency in Hz).
    pub subcarriers: Option<usize>,
    /// Subcarrier spacing `Δf` in Hz, used with `subcarriers`. Positive (checked even when unused).
    /// Default 120e3 (numerology 3, FR2).
    pub subcarrier_spacing: f64,
    /// Receive array. Default a ULA of 8 elements at half a wavelength.
    pub rx: CdlArray,
    /// Transmit array. Default a ULA of 8 elements at half a wavelength.
    pub tx: CdlArray,
    /// Beam squint: when true the steering phases use the actual wavelength (`d/λ(f) = spacing · f/f_c`),
    /// when false the carrier wavelength at every frequency (a narrowband array model). Default false.
    pub beam_squint: bool,
    /// Seed of the ray couplings and ray phases (ChaCha8, reproducible across platforms). Default 0.
    pub seed: u64,
    /// What the family returns: "channel", `H(f)` (`n_r × n_t`), or "gram", the MMSE Gram matrix
    /// `H(f)ᴴH(f) + σ²I` (`n_t × n_t`, Hermitian positive definite). Default "gram".
    pub form: String,
    /// Per-receive-antenna SNR in dB, defining `σ² = n_t · 10^(−snrDb/10)`: with `n_t` unit-power streams
    /// and `E|h_ij|² = 1` each receive antenna gets signal power `n_t`. In `[−100, 200]`. Default 20.
    pub snr_db: f64,
}

impl Default for CdlConfig {
    fn default() -> Self {
        Self {
            profile: "A".into(),
            delay_spread: 100e-9,
            carrier: 28e9,
            bandwidth: 100e6,
            subcarriers: None,
            subcarrier_spacing: 120e3,
            rx: CdlArray::default(),
            tx: CdlArray::default(),
            beam_squint: false,
            seed: 0,
            form: "gram".into(),
            snr_db: 20.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Channel,
    Gram,
}

/// A CDL channel realisation over a band: `H(f) = Σ_n Σ_m g_{n,m} e^{−j2πfτ_n} a_r(n,m,f) b_t(n,m,f)ᵀ`
/// (`n_r × n_t`), and its Gram form `A(f) = H(f)ᴴH(f) + σ²I` (`n_t × n_t`).
///
/// Rays: each non-specular cluster `n` of the table has `M = 20` rays with power `P_n/M` and phase
/// `Φ_{n,m}` uniform on `[−π, π)`; ray `m` has angles `φ_AOD = φ_n,AOD + c_ASD·α_{σ₁(m)}`,
/// `φ_AOA = φ_n,AOA + c_ASA·α_{σ₂(m)}`, `θ_ZOD = θ_n,ZOD + c_ZSD·α_{σ₃(m)}`,
/// `θ_ZOA = θ_n,ZOA + c_ZSA·α_{σ₄(m)}` (eq. 7.7-0a), `α` the offsets of Table 7.5-3 and `σ₁…σ₄` four
/// independent uniformly random permutations of the 20 rays per cluster (the random coupling of §7.7.1
/// step 2). Zenith angles are wrapped into `[0°, 180°]` (`θ → 360° − θ`, as §7.5 step 7). The specular ray
/// of CDL-D / CDL-E is one ray at cluster 1's angles with its table power and phase 0 (the spec's
/// `exp(−j2πd_3D/λ)`, with the distance a whole number of wavelengths). Powers `P_n` are the table's dB
/// column in linear scale divided by their sum (specular ray included), so `Σ|g|² = 1` and, the antennas
/// being isotropic with unit gain, `E|h_ij|² = 1` over the phases.
///
/// Steering: the receive vector of element `(r, c)` is `exp(j2π(d/λ)(c·sinθ·sinφ + r·cosθ))` at the ray's
/// `(θ_ZOA, φ_AOA)`; the transmit vector is the same expression at `(θ_ZOD, φ_AOD)`. As in eq. 7.5-22 the
/// transmit factor enters unconjugated (`b_tᵀ`): written `a_t^H` with `a_t = conj(b_t)`. `d/λ` is the
/// configured spacing, times `f/f_c` with `beamSquint`.
///
/// Random draws, in order, from `ChaCha8Rng::seed_from_u64(seed)`: for each non-specular table row, the
/// four permutations (Fisher–Yates, `σ₁…σ₄`), then the 20 phases.
///
/// ```
/// use neumatc::family::{CdlConfig, CdlFamily};
/// let fam = CdlFamily::new(CdlConfig { form: "channel".into(), ..Default::default() }).unwrap();
/// assert_eq!((fam.rows(), fam.cols()), (8, 8));
/// let h = fam.at_complex(&[28e9, 28.01e9]).unwrap(); // 2 × 8 × 8, row-major
/// assert_eq!(h.len(), 2 * 64);
/// ```
#[derive(Debug)]
pub struct CdlFamily {
    cfg: CdlConfig,
    profile: &'static CdlProfile,
    domain: Domain,
    form: Form,
    nr: usize,
    nt: usize,
    sigma2: f64,
    /// (delay in s, normalised power) per table row.
    pdp: Vec<(f64, f64)>,
    /// Per ray: delay in s.
    delays: Vec<f64>,
    /// Per ray: `(f_c·τ) mod 1`, the carrier's part of the delay phase in turns.
    carrier_turns: Vec<f64>,
    /// Per ray: `sqrt(P_n/M)·e^{jΦ}`.
    gains: Vec<c64>,
    /// Steering phases at the carrier, `2π(d/λ)(c·sinθ·sinφ + r·cosθ)`: `n_r × rays`, `n_t × rays`.
    rx_phase: Mat<f64>,
    tx_phase: Mat<f64>,
    /// `e^{j·phase}` at the carrier (empty with beam squint, where they are built per frequency).
    rx_steer: Mat<c64>,
    tx_steer: Mat<c64>,
}

fn cis(theta: f64) -> c64 {
    let (s, c) = theta.sin_cos();
    c64::new(c, s)
}

/// A zenith angle in degrees, wrapped into `[0°, 180°]`, in radians.
fn wrap_zenith(deg: f64) -> f64 {
    let t = deg.rem_euclid(360.0);
    (if t > 180.0 { 360.0 - t } else { t }).to_radians()
}

/// A uniformly random permutation of `0..M` (Fisher–Yates on `u32` draws, portable).
fn permutation(rng: &mut ChaCha8Rng) -> [usize; RAYS_PER_CLUSTER] {
    let mut p: [usize; RAYS_PER_CLUSTER] = std::array::from_fn(|i| i);
    for i in (1..RAYS_PER_CLUSTER).rev() {
        let j = rng.random_range(0..=i as u32) as usize;
        p.swap(i, j);
    }
    p
}

/// `(sinθ·sinφ, cosθ)` for a zenith `θ` and azimuth `φ` in degrees (zenith wrapped into `[0°, 180°]`).
fn direction(zenith_deg: f64, azimuth_deg: f64) -> (f64, f64) {
    let theta = wrap_zenith(zenith_deg);
    (theta.sin() * azimuth_deg.to_radians().sin(), theta.cos())
}

/// Steering phases `2π·spacing·(c·u + r·v)` of every element (row-major over the panel) for every ray.
fn phases(array: &CdlArray, dirs: &[(f64, f64)]) -> Mat<f64> {
    Mat::from_fn(array.elements(), dirs.len(), |e, k| {
        let (r, c) = ((e / array.cols) as f64, (e % array.cols) as f64);
        let (u, v) = dirs[k];
        TAU * array.spacing * (c * u + r * v)
    })
}

fn steer(phase: MatRef<'_, f64>, ratio: f64) -> Mat<c64> {
    Mat::from_fn(phase.nrows(), phase.ncols(), |i, k| cis(phase[(i, k)] * ratio))
}

fn check_array(array: &CdlArray, side: &'static str, rows: &'static str, cols: &'static str, spacing: &'static str) -> Result<()> {
    if array.rows == 0 {
        return Err(Error::option(rows, format!("{side} array needs at least 1 element row, got 0")));
    }
    if array.cols == 0 {
        return Err(Error::option(cols, format!("{side} array needs at least 1 element column, got 0")));
    }
    if array.rows.saturating_mul(array.cols) > MAX_ELEMENTS {
        return Err(Error::option(side, format!("{} × {} elements exceed the maximum of {MAX_ELEMENTS}", array.rows, array.cols)));
    }
    if !(array.spacing.is_finite() && array.spacing > 0.0) {
        return Err(Error::option(spacing, format!("must be a positive number of wavelengths, got {}", array.spacing)));
    }
    Ok(())
}

impl CdlFamily {
    /// Validates the options and draws the realisation (ray couplings and phases) from `cfg.seed`.
    /// Every bad option is an `INVALID_OPTION` error naming it.
    pub fn new(cfg: CdlConfig) -> Result<Self> {
        let profile = CdlProfile::by_name(&cfg.profile)
            .ok_or_else(|| Error::option("profile", format!("must be one of \"A\", \"B\", \"C\", \"D\", \"E\", got {:?}", cfg.profile)))?;
        if !(cfg.delay_spread.is_finite() && cfg.delay_spread >= 0.0) {
            return Err(Error::option("delaySpread", format!("must be a finite number of seconds ≥ 0, got {}", cfg.delay_spread)));
        }
        if !(cfg.carrier.is_finite() && cfg.carrier > 0.0) {
            return Err(Error::option("carrier", format!("must be a positive frequency in Hz, got {}", cfg.carrier)));
        }
        if !(cfg.subcarrier_spacing.is_finite() && cfg.subcarrier_spacing > 0.0) {
            return Err(Error::option("subcarrierSpacing", format!("must be a positive frequency in Hz, got {}", cfg.subcarrier_spacing)));
        }
        let domain = match cfg.subcarriers {
            None => {
                if !(cfg.bandwidth.is_finite() && cfg.bandwidth > 0.0 && cfg.bandwidth < cfg.carrier) {
                    return Err(Error::option(
                        "bandwidth",
                        format!("must be positive and below the carrier ({} Hz), got {}", cfg.carrier, cfg.bandwidth),
                    ));
                }
                Domain { lo: vec![cfg.carrier - cfg.bandwidth / 2.0], hi: vec![cfg.carrier + cfg.bandwidth / 2.0] }
            }
            Some(n) => {
                if n < 2 {
                    return Err(Error::option("subcarriers", format!("must be at least 2, got {n}")));
                }
                if n as f64 * cfg.subcarrier_spacing >= cfg.carrier {
                    return Err(Error::option(
                        "subcarriers",
                        format!("{n} subcarriers of {} Hz span more than the carrier ({} Hz)", cfg.subcarrier_spacing, cfg.carrier),
                    ));
                }
                Domain { lo: vec![0.0], hi: vec![(n - 1) as f64] }
            }
        };
        check_array(&cfg.rx, "rx", "rx.rows", "rx.cols", "rx.spacing")?;
        check_array(&cfg.tx, "tx", "tx.rows", "tx.cols", "tx.spacing")?;
        let form = match cfg.form.as_str() {
            "channel" => Form::Channel,
            "gram" => Form::Gram,
            other => return Err(Error::option("form", format!("must be \"channel\" or \"gram\", got {other:?}"))),
        };
        if !(cfg.snr_db.is_finite() && (-100.0..=200.0).contains(&cfg.snr_db)) {
            return Err(Error::option("snrDb", format!("must be a number of dB in [-100, 200], got {}", cfg.snr_db)));
        }

        // Powers: dB column in linear scale, normalised to sum 1 (specular ray included).
        let lin: Vec<f64> = profile.clusters.iter().map(|row| 10f64.powf(row[1] / 10.0)).collect();
        let total: f64 = lin.iter().sum();
        let pdp: Vec<(f64, f64)> = profile.clusters.iter().zip(&lin).map(|(row, &p)| (row[0] * cfg.delay_spread, p / total)).collect();

        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut delays = Vec::new();
        let mut gains = Vec::new();
        let mut rx_dirs = Vec::new();
        let mut tx_dirs = Vec::new();
        for (n, (row, &(tau, p))) in profile.clusters.iter().zip(&pdp).enumerate() {
            let [_, _, aod, aoa, zod, zoa] = *row;
            if profile.los && n == 0 {
                delays.push(tau);
                gains.push(c64::new(p.sqrt(), 0.0));
                rx_dirs.push(direction(zoa, aoa));
                tx_dirs.push(direction(zod, aod));
                continue;
            }
            let perm: [[usize; RAYS_PER_CLUSTER]; 4] = std::array::from_fn(|_| permutation(&mut rng));
            let amp = (p / RAYS_PER_CLUSTER as f64).sqrt();
            for m in 0..RAYS_PER_CLUSTER {
                let phi: f64 = rng.random_range(-PI..PI);
                delays.push(tau);
                gains.push(cis(phi) * amp);
                let off = |i: usize| RAY_OFFSETS[perm[i][m]];
                tx_dirs.push(direction(zod + profile.c_zsd * off(2), aod + profile.c_asd * off(0)));
                rx_dirs.push(direction(zoa + profile.c_zsa * off(3), aoa + profile.c_asa * off(1)));
            }
        }
        let carrier_turns = delays.iter().map(|&tau| (cfg.carrier * tau).fract()).collect();
        let rx_phase = phases(&cfg.rx, &rx_dirs);
        let tx_phase = phases(&cfg.tx, &tx_dirs);
        let (rx_steer, tx_steer) =
            if cfg.beam_squint { (Mat::new(), Mat::new()) } else { (steer(rx_phase.as_ref(), 1.0), steer(tx_phase.as_ref(), 1.0)) };
        let (nr, nt) = (cfg.rx.elements(), cfg.tx.elements());
        let sigma2 = nt as f64 * 10f64.powf(-cfg.snr_db / 10.0);
        Ok(Self { cfg, profile, domain, form, nr, nt, sigma2, pdp, delays, carrier_turns, gains, rx_phase, tx_phase, rx_steer, tx_steer })
    }

    /// [`CdlFamily::new`] from a JSON object of [`CdlConfig`] fields (camelCase, all optional).
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: CdlConfig = parse_options("cdl", json)?;
        Self::new(cfg)
    }

    /// The options it was built from.
    pub fn config(&self) -> &CdlConfig {
        &self.cfg
    }

    /// The CDL table in use.
    pub fn profile(&self) -> &'static CdlProfile {
        self.profile
    }

    /// The band `[f_c − B/2, f_c + B/2]` in Hz, or `[0, N − 1]` (subcarrier index) with `subcarriers`.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Rows of the matrix the form returns: `n_r` for "channel", `n_t` for "gram".
    pub fn rows(&self) -> usize {
        match self.form {
            Form::Channel => self.nr,
            Form::Gram => self.nt,
        }
    }

    /// Columns of the matrix the form returns, `n_t`.
    pub fn cols(&self) -> usize {
        self.nt
    }

    /// Receive antennas `n_r`.
    pub fn rx_antennas(&self) -> usize {
        self.nr
    }

    /// Transmit antennas `n_t`.
    pub fn tx_antennas(&self) -> usize {
        self.nt
    }

    /// Number of rays (20 per cluster, 1 for a specular LOS ray).
    pub fn rays(&self) -> usize {
        self.gains.len()
    }

    /// `σ² = n_t · 10^(−snrDb/10)`, the diagonal shift of the Gram form.
    pub fn noise_variance(&self) -> f64 {
        self.sigma2
    }

    /// The frequency in Hz of parameter `p` (itself, or `f_c + (p − (N − 1)/2)·Δf` with `subcarriers`).
    pub fn frequency(&self, p: f64) -> f64 {
        self.cfg.carrier + self.offset(p)
    }

    /// `f − f_c` in Hz at parameter `p`.
    fn offset(&self, p: f64) -> f64 {
        match self.cfg.subcarriers {
            None => p - self.cfg.carrier,
            Some(n) => (p - (n - 1) as f64 / 2.0) * self.cfg.subcarrier_spacing,
        }
    }

    /// Power-delay profile actually encoded: (delay in s, normalised power) per table row (the specular
    /// and Laplacian parts of a LOS cluster 1 separately, both at delay 0). The powers sum to 1.
    pub fn power_delay_profile(&self) -> Vec<(f64, f64)> {
        self.pdp.clone()
    }

    /// `H(f)` at a batch of parameters: `batch × n_r × n_t`, row-major, batch-major.
    pub fn channel(&self, params: &[f64]) -> Result<Vec<c64>> {
        let batch = self.domain.check(params)?;
        let size = self.nr * self.nt;
        crate::matrix::check_alloc("H(f)", batch, size, 16)?;
        let mut out = vec![c64::new(0.0, 0.0); batch * size];
        out.par_chunks_mut(size).zip(params.par_iter()).for_each(|(o, &p)| self.channel_into(self.offset(p), o));
        Ok(out)
    }

    /// The configured form (channel or gram) at a batch of parameters: `batch × rows × cols`, row-major,
    /// batch-major.
    pub fn at_complex(&self, params: &[f64]) -> Result<Vec<c64>> {
        match self.form {
            Form::Channel => self.channel(params),
            Form::Gram => self.gram(params),
        }
    }

    /// `H(f)ᴴH(f) + σ²I` at a batch of parameters: `batch × n_t × n_t`, row-major, batch-major; exactly
    /// Hermitian (the upper triangle is the conjugate of the lower, the diagonal real).
    pub fn gram(&self, params: &[f64]) -> Result<Vec<c64>> {
        let batch = self.domain.check(params)?;
        let size = self.nt * self.nt;
        crate::matrix::check_alloc("A(f)", batch, size, 16)?;
        let mut out = vec![c64::new(0.0, 0.0); batch * size];
        out.par_chunks_mut(size)
            .zip(params.par_iter())
            .for_each_init(|| vec![c64::new(0.0, 0.0); self.nr * self.nt], |h, (o, &p)| self.gram_into(self.offset(p), h, o));
        Ok(out)
    }

    /// Writes `H(f_c + df)` row-major into `out` (`n_r · n_t` values).
    fn channel_into(&self, df: f64, out: &mut [c64]) {
        let (nr, nt, rays) = (self.nr, self.nt, self.gains.len());
        // Delay phase −2π·f·τ, split as the carrier's turns plus df·τ for accuracy.
        let g: Vec<c64> = (0..rays).map(|k| self.gains[k] * cis(-TAU * (self.carrier_turns[k] + df * self.delays[k]))).collect();
        let squinted;
        let (ar, bt) = if self.cfg.beam_squint {
            let ratio = 1.0 + df / self.cfg.carrier;
            squinted = (steer(self.rx_phase.as_ref(), ratio), steer(self.tx_phase.as_ref(), ratio));
            (squinted.0.as_ref(), squinted.1.as_ref())
        } else {
            (self.rx_steer.as_ref(), self.tx_steer.as_ref())
        };
        // Row-major H read column-major is Hᵀ = B_t diag(g) A_rᵀ (n_t × n_r).
        let lhs = Mat::from_fn(nt, rays, |t, k| bt[(t, k)] * g[k]);
        let ht = MatMut::from_column_major_slice_mut(out, nt, nr);
        matmul::matmul(ht, Accum::Replace, lhs.as_ref(), ar.transpose(), c64::new(1.0, 0.0), Par::Seq);
    }

    /// Writes `H(f)ᴴH(f) + σ²I` row-major into `out` (`n_t²` values), using `h` (`n_r · n_t`) as scratch.
    fn gram_into(&self, df: f64, h: &mut [c64], out: &mut [c64]) {
        let nt = self.nt;
        self.channel_into(df, h);
        // Row-major H read column-major is Hᵀ; row-major A read column-major is Aᵀ = Hᵀ conj(H) = Hᵀ(Hᵀ)ᴴ.
        let ht = MatRef::from_column_major_slice(h, nt, self.nr);
        let mut a = MatMut::from_column_major_slice_mut(out, nt, nt);
        triangular::matmul(
            a.rb_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            ht,
            BlockStructure::Rectangular,
            ht.adjoint(),
            BlockStructure::Rectangular,
            c64::new(1.0, 0.0),
            Par::Seq,
        );
        for j in 0..nt {
            a[(j, j)] = c64::new(a[(j, j)].re + self.sigma2, 0.0);
            for i in j + 1..nt {
                a[(j, i)] = a[(i, j)].conj();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fam(cfg: CdlConfig) -> CdlFamily {
        CdlFamily::new(cfg).unwrap()
    }

    #[test]
    fn ray_offsets_are_table_7_5_3() {
        // ±0.0447, ±0.1413, …, ±2.1551: 10 symmetric pairs, increasing magnitude.
        let mags = [0.0447, 0.1413, 0.2492, 0.3715, 0.5129, 0.6797, 0.8844, 1.1481, 1.5195, 2.1551];
        for (i, m) in mags.iter().enumerate() {
            assert_eq!(RAY_OFFSETS[2 * i], *m);
            assert_eq!(RAY_OFFSETS[2 * i + 1], -*m);
        }
        // Normalised to an rms spread of about 1°.
        let rms = (RAY_OFFSETS.iter().map(|a| a * a).sum::<f64>() / 20.0).sqrt();
        assert!((rms - 1.0).abs() < 0.01, "rms {rms}");
    }

    #[test]
    fn tables_have_their_cluster_counts_and_k_factors() {
        let counts: Vec<usize> = CDL_PROFILES.iter().map(|p| p.clusters.len()).collect();
        // CDL-D and CDL-E list cluster 1 twice (specular + Laplacian).
        assert_eq!(counts, [23, 23, 24, 14, 15]);
        let k = |p: &CdlProfile| p.clusters[0][1] - p.clusters[1][1];
        assert!((k(CdlProfile::by_name("D").unwrap()) - 13.3).abs() < 1e-9);
        assert!((k(CdlProfile::by_name("E").unwrap()) - 22.0).abs() < 1e-9);
        for p in &CDL_PROFILES {
            // The strongest entry is at 0 dB (after the LOS split, the specular ray).
            let max = p.clusters.iter().map(|r| r[1]).fold(f64::NEG_INFINITY, f64::max);
            assert!(max <= 0.0 && max > -0.25, "{} max {max}", p.name);
            if p.los {
                assert_eq!(p.clusters[0][2..], p.clusters[1][2..], "{}: both parts of cluster 1 share angles", p.name);
            }
        }
    }

    #[test]
    fn wrap_zenith_folds_into_0_180() {
        for (deg, want) in [(0.0, 0.0), (90.0, 90.0), (180.0, 180.0), (185.0, 175.0), (-5.0, 5.0), (365.0, 5.0)] {
            assert!((wrap_zenith(deg) - f64::to_radians(want)).abs() < 1e-12, "{deg}");
        }
    }

    #[test]
    fn permutations_are_permutations() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut any_moved = false;
        for _ in 0..50 {
            let mut p = permutation(&mut rng);
            any_moved |= p.iter().enumerate().any(|(i, &v)| i != v);
            p.sort_unstable();
            assert_eq!(p, std::array::from_fn(|i| i));
        }
        assert!(any_moved);
    }

    #[test]
    fn ray_gains_carry_unit_power() {
        for name in ["A", "B", "C", "D", "E"] {
            let f = fam(CdlConfig { profile: name.into(), ..Default::default() });
            let total: f64 = f.gains.iter().map(|g| g.norm_sqr()).sum();
            assert!((total - 1.0).abs() < 1e-12, "{name}: {total}");
            let clusters = f.profile.clusters.len();
            let want = if f.profile.los { 1 + (clusters - 1) * 20 } else { clusters * 20 };
            assert_eq!(f.rays(), want, "{name}");
        }
    }

    /// The GEMM path against the plain double sum over rays and antennas.
    #[test]
    fn gemm_matches_the_ray_sum() {
        for (squint, profile) in [(false, "A"), (true, "D")] {
            let cfg = CdlConfig {
                profile: profile.into(),
                rx: CdlArray { rows: 2, cols: 3, spacing: 0.5 },
                tx: CdlArray { rows: 3, cols: 2, spacing: 0.7 },
                bandwidth: 4e9,
                beam_squint: squint,
                form: "channel".into(),
                seed: 11,
                ..Default::default()
            };
            let f = fam(cfg.clone());
            let freq = 29.3e9;
            let h = f.channel(&[freq]).unwrap();
            let ratio = freq / cfg.carrier;
            let ratio = if squint { ratio } else { 1.0 };
            for i in 0..6 {
                for j in 0..6 {
                    let mut want = c64::new(0.0, 0.0);
                    for k in 0..f.rays() {
                        let g = f.gains[k] * cis(-TAU * freq * f.delays[k]);
                        want += g * cis(f.rx_phase[(i, k)] * ratio) * cis(f.tx_phase[(j, k)] * ratio);
                    }
                    let got = h[i * 6 + j];
                    assert!((got - want).norm() < 1e-9, "{profile} ({i}, {j}): {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn steering_phase_of_a_known_direction() {
        // Broadside (θ = 90°, φ = 0): every element in phase; endfire along y (θ = 90°, φ = 90°): phase
        // 2π·d·c along the row; zenith (θ = 0): 2π·d·r down the columns.
        let array = CdlArray { rows: 2, cols: 3, spacing: 0.5 };
        let dirs = [direction(90.0, 0.0), direction(90.0, 90.0), direction(0.0, 33.0)];
        let ph = phases(&array, &dirs);
        for e in 0..6 {
            let (r, c) = ((e / 3) as f64, (e % 3) as f64);
            assert!(ph[(e, 0)].abs() < 1e-12);
            assert!((ph[(e, 1)] - PI * c).abs() < 1e-12);
            assert!((ph[(e, 2)] - PI * r).abs() < 1e-12);
        }
    }
}
