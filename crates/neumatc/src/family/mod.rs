//! Parametric matrix families `A(p)`, `p` in a box domain of `R^k`.
//!
//! Built-in generators ([`SyntheticFamily`], the paper's §3.1 family; [`SpdFourierFamily`], its 2-D SPD
//! family of Table 6; [`ControlledRankFamily`], its controlled-parametric-rank family of Appendix I;
//! [`CdlFamily`], 3GPP CDL wideband MIMO channels; the sparse advection–diffusion–reaction operator of
//! Appendix H from [`crate::sparse`]) and the user's own matrices on a parameter grid ([`SampledFamily`],
//! real or complex). All are wrapped in [`Family`], the type the rest of the engine takes.

mod cdl;
mod controlled_rank;
mod sampled;
mod spd_fourier;
mod synthetic;

use std::sync::Arc;

pub use cdl::{CDL_PROFILES, CdlArray, CdlConfig, CdlFamily, CdlProfile, MAX_ELEMENTS, RAY_OFFSETS, RAYS_PER_CLUSTER};
pub use controlled_rank::{ControlledRankConfig, ControlledRankFactors, ControlledRankFamily};
pub use sampled::SampledFamily;
pub use spd_fourier::{DEFAULT_SPD_SCALE, SpdFourierConfig, SpdFourierFamily};
pub use synthetic::{SyntheticConfig, SyntheticFamily};

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef, Par};

pub use crate::domain::Domain;
use crate::error::parse_options;
use crate::error::{Error, Result};
use crate::matrix::MatrixBatch;
use crate::matrix::param_batch;

/// A source of parametric matrices. Cheap to clone (shares its data).
#[derive(Debug, Clone)]
pub enum Family {
    /// The paper's §3.1 synthetic family.
    Synthetic(Arc<SyntheticFamily>),
    /// The paper's 2-D SPD family (Table 6).
    SpdFourier(Arc<SpdFourierFamily>),
    /// The paper's controlled-parametric-rank family (Appendix I).
    ControlledRank(Arc<ControlledRankFamily>),
    /// The user's matrices on a parameter grid.
    Sampled(Arc<SampledFamily>),
    /// 3GPP TR 38.901 CDL wideband MIMO channels or their MMSE Gram matrices (complex).
    Cdl(Arc<CdlFamily>),
    /// The sparse advection–diffusion–reaction operator of the paper's App. H.
    Adr(Arc<crate::sparse::AdrFamily>),
}

impl Family {
    /// The paper's synthetic family `H(p) = A(p)B(p)ᵀ + εI` (see [`SyntheticConfig`]).
    pub fn synthetic(cfg: SyntheticConfig) -> Result<Self> {
        Ok(Family::Synthetic(Arc::new(SyntheticFamily::new(cfg)?)))
    }

    /// [`Family::synthetic`] from a JSON object of [`SyntheticConfig`] fields (camelCase, all optional).
    pub fn synthetic_from_json(json: &str) -> Result<Self> {
        let cfg: SyntheticConfig = parse_options("synthetic", json)?;
        Self::synthetic(cfg)
    }

    /// The paper's 2-D SPD family `A(p) = B(p)B(p)ᵀ + εI`, `p ∈ [0, 1]²` (see [`SpdFourierConfig`]).
    pub fn spd_fourier(cfg: SpdFourierConfig) -> Result<Self> {
        Ok(Family::SpdFourier(Arc::new(SpdFourierFamily::new(cfg)?)))
    }

    /// [`Family::spd_fourier`] from a JSON object of [`SpdFourierConfig`] fields (camelCase, all optional).
    pub fn spd_fourier_from_json(json: &str) -> Result<Self> {
        let cfg: SpdFourierConfig = parse_options("spdFourier", json)?;
        Self::spd_fourier(cfg)
    }

    /// The paper's controlled-parametric-rank family `H(p) = U(p)S(p)V(p)ᵀ`, `p ∈ [0, 1]`
    /// (see [`ControlledRankConfig`]).
    pub fn controlled_rank(cfg: ControlledRankConfig) -> Result<Self> {
        Ok(Family::ControlledRank(Arc::new(ControlledRankFamily::new(cfg)?)))
    }

    /// [`Family::controlled_rank`] from a JSON object of [`ControlledRankConfig`] fields (camelCase, all optional).
    pub fn controlled_rank_from_json(json: &str) -> Result<Self> {
        let cfg: ControlledRankConfig = parse_options("controlledRank", json)?;
        Self::controlled_rank(cfg)
    }

    /// 3GPP TR 38.901 CDL channels `H(f)` or MMSE Gram matrices `H(f)ᴴH(f) + σ²I` over a band (see
    /// [`CdlConfig`]); complex, so [`Family::at`] gives their real embeddings.
    pub fn cdl(cfg: CdlConfig) -> Result<Self> {
        Ok(Family::Cdl(Arc::new(CdlFamily::new(cfg)?)))
    }

    /// [`Family::cdl`] from a JSON object of [`CdlConfig`] fields (camelCase, all optional).
    pub fn cdl_from_json(json: &str) -> Result<Self> {
        Ok(Family::Cdl(Arc::new(CdlFamily::from_json(json)?)))
    }

    /// The paper's App. H operator `A(p) = A0 + cos(2πp)A1 + sin(2πp)A2` (sparse, `n = grid²`; see
    /// [`crate::sparse::AdrConfig`]). Its natural operation is `solve` with `b = f ≡ 1`
    /// ([`Family::sparse`] gives the operator; [`Family::at`] is dense and refused above n = 4096).
    pub fn adr(cfg: crate::sparse::AdrConfig) -> Result<Self> {
        Ok(Family::Adr(Arc::new(crate::sparse::AdrFamily::new(cfg)?)))
    }

    /// [`Family::adr`] from a JSON object of [`crate::sparse::AdrConfig`] fields (camelCase, all optional).
    pub fn adr_from_json(json: &str) -> Result<Self> {
        let cfg: crate::sparse::AdrConfig = parse_options("adr", json)?;
        Self::adr(cfg)
    }

    /// The sparse operator of a sparse family (`None` for dense families).
    pub fn sparse(&self) -> Option<&crate::sparse::AdrFamily> {
        match self {
            Family::Adr(f) => Some(f),
            _ => None,
        }
    }

    /// The user's matrices `matrices[i] = A(params[i*k..(i+1)*k])` on a grid of parameters.
    pub fn from_samples(param_dim: usize, params: Vec<f64>, matrices: MatrixBatch) -> Result<Self> {
        Ok(Family::Sampled(Arc::new(SampledFamily::new(param_dim, params, matrices)?)))
    }

    /// The user's complex matrices on a grid (stored as real embeddings; see [`crate::complex`]).
    pub fn from_samples_complex(param_dim: usize, params: Vec<f64>, matrices: &crate::matrix::complex::ComplexBatch) -> Result<Self> {
        Ok(Family::Sampled(Arc::new(SampledFamily::new_complex(param_dim, params, matrices)?)))
    }

    /// Whether `A(p)` is complex. A complex family's [`Family::at`], [`Family::rows`] and
    /// [`Family::cols`] are those of the real embedding `[[Re, −Im], [Im, Re]]` (what training and the
    /// models use); [`Family::at_complex`] and [`Family::complex_shape`] give the complex matrices.
    pub fn is_complex(&self) -> bool {
        match self {
            Family::Sampled(f) => f.is_complex(),
            Family::Cdl(_) => true,
            _ => false,
        }
    }

    /// The complex shape `(m, n)` of a complex family; `(rows, cols)` of a real one.
    pub fn complex_shape(&self) -> (usize, usize) {
        if self.is_complex() { (self.rows() / 2, self.cols() / 2) } else { (self.rows(), self.cols()) }
    }

    /// `A(p)` of a complex family as complex matrices: (batch, m, n). A real family's matrices come back
    /// with zero imaginary parts.
    pub fn at_complex(&self, params: &[f64]) -> Result<crate::matrix::complex::ComplexBatch> {
        if let Family::Cdl(f) = self {
            let batch = self.domain().check(params)?;
            crate::matrix::check_alloc("A(p)", batch, f.rows() * f.cols(), 16)?;
            return Ok(crate::matrix::complex::ComplexBatch::from_c64(batch, f.rows(), f.cols(), &f.at_complex(params)?));
        }
        let a = self.at(params)?;
        if self.is_complex() {
            crate::matrix::complex::ComplexBatch::from_embedding(&a)
        } else {
            let im = vec![0.0; a.data.len()];
            Ok(crate::matrix::complex::ComplexBatch { batch: a.batch, rows: a.rows, cols: a.cols, re: a.data, im })
        }
    }

    /// Rows of `A(p)`.
    pub fn rows(&self) -> usize {
        match self {
            Family::Synthetic(f) => f.n(),
            Family::SpdFourier(f) => f.n(),
            Family::ControlledRank(f) => f.rows(),
            Family::Sampled(f) => f.rows(),
            Family::Cdl(f) => 2 * f.rows(),
            Family::Adr(f) => f.n(),
        }
    }

    /// Columns of `A(p)`.
    pub fn cols(&self) -> usize {
        match self {
            Family::Synthetic(f) => f.n(),
            Family::SpdFourier(f) => f.n(),
            Family::ControlledRank(f) => f.cols(),
            Family::Sampled(f) => f.cols(),
            Family::Cdl(f) => 2 * f.cols(),
            Family::Adr(f) => f.n(),
        }
    }

    /// Length of one parameter vector `p`.
    pub fn param_dim(&self) -> usize {
        self.domain().dim()
    }

    /// The parameter box.
    pub fn domain(&self) -> &Domain {
        match self {
            Family::Synthetic(f) => f.domain(),
            Family::SpdFourier(f) => f.domain(),
            Family::ControlledRank(f) => f.domain(),
            Family::Sampled(f) => f.domain(),
            Family::Cdl(f) => f.domain(),
            Family::Adr(f) => f.domain(),
        }
    }

    /// `A(p)` for a batch of parameters (`params.len() = batch * param_dim`). Returns (batch, rows, cols).
    pub fn at(&self, params: &[f64]) -> Result<MatrixBatch> {
        let batch = param_batch(params, self.param_dim())?;
        crate::matrix::check_alloc("A(p)", batch, self.rows() * self.cols(), 8)?;
        match self {
            Family::Synthetic(f) => f.at(params),
            Family::SpdFourier(f) => f.at(params),
            Family::ControlledRank(f) => f.at(params),
            Family::Sampled(f) => f.at(params),
            Family::Cdl(_) => Ok(self.at_complex(params)?.embed()),
            Family::Adr(f) => {
                let n = f.n();
                let mut data = Vec::with_capacity(batch * n * n);
                for &p in params {
                    data.extend(f.dense(p)?);
                }
                Ok(MatrixBatch { batch, rows: n, cols: n, data })
            }
        }
    }

    /// The finite set of parameters this family can be evaluated at, if it has one (the grid of
    /// [`SampledFamily`]); training then draws its samples and candidates from it.
    pub fn pool(&self) -> Option<&[f64]> {
        match self {
            Family::Synthetic(_) | Family::SpdFourier(_) | Family::ControlledRank(_) | Family::Cdl(_) | Family::Adr(_) => None,
            Family::Sampled(f) => Some(f.params()),
        }
    }

    /// Rebuilds a built-in generator family from its [`Family::describe`] description; `Ok(None)` for
    /// the user's samples (the description does not hold the matrices). A malformed description is an
    /// `INVALID_OPTION` error naming the kind.
    pub fn from_description(desc: &serde_json::Value) -> Result<Option<Self>> {
        let kind = desc.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let options = || desc.get("options").map(|o| o.to_string()).unwrap_or_else(|| "{}".into());
        Ok(Some(match kind {
            "synthetic" => Self::synthetic_from_json(&options())?,
            "spdFourier" => Self::spd_fourier_from_json(&options())?,
            "controlledRank" => Self::controlled_rank_from_json(&options())?,
            "cdl" => Self::cdl_from_json(&options())?,
            "adr" => Self::adr_from_json(&options())?,
            "samples" => return Ok(None),
            other => return Err(Error::option("family", format!("unknown family kind {other:?}"))),
        }))
    }

    /// A JSON description (kind and options) for reports and model files.
    pub fn describe(&self) -> serde_json::Value {
        match self {
            Family::Synthetic(f) => serde_json::json!({ "kind": "synthetic", "options": f.config() }),
            Family::SpdFourier(f) => serde_json::json!({ "kind": "spdFourier", "options": f.config() }),
            Family::ControlledRank(f) => serde_json::json!({ "kind": "controlledRank", "options": f.config() }),
            Family::Cdl(f) => serde_json::json!({ "kind": "cdl", "options": f.config(), "noiseVariance": f.noise_variance() }),
            Family::Adr(f) => serde_json::json!({ "kind": "adr", "options": f.config() }),
            Family::Sampled(f) => serde_json::json!({
                "kind": "samples", "paramDim": f.domain().dim(), "samples": f.len(),
                "rows": f.rows(), "cols": f.cols(), "domain": f.domain(), "complex": f.is_complex(),
            }),
        }
    }
}

/// Writes the exactly symmetric `B Bᵀ + shift·I` (`n × n`, `B` is `n × r`) into `out`: only the lower
/// triangle is multiplied (half the flops), then mirrored.
pub(crate) fn gram_into(b: MatRef<'_, f64>, shift: f64, out: &mut [f64]) {
    let n = b.nrows();
    let mut a = MatMut::from_column_major_slice_mut(out, n, n);
    triangular::matmul(
        a.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        b,
        BlockStructure::Rectangular,
        b.transpose(),
        BlockStructure::Rectangular,
        1.0,
        Par::Seq,
    );
    for j in 0..n {
        a[(j, j)] += shift;
        for i in j + 1..n {
            a[(j, i)] = a[(i, j)];
        }
    }
}
