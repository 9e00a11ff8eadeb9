//! # neumatc
//!
//! Fast parametric matrix operations, learned NeuMatC-style: for a matrix family `A(p)` the result of an
//! operation (the inverse, a solve, SVD, QR, Cholesky, eigh, expm) is approximated as `G(p) = Φ_θ(p) · C`, a sine MLP times a latent tensor,
//! trained from a few exact solves plus the operation's algebraic structure at collocation points, with
//! failure-informed adaptive sampling (Wang et al., *NeuMatC*, arXiv 2511.22934). Inference for a batch
//! of parameters is one small MLP pass and one GEMM.
//!
//! ```
//! use std::sync::atomic::AtomicBool;
//! use neumatc::{baseline, metrics, train, Family, Operation, SyntheticConfig, TrainConfig};
//!
//! let fam = Family::synthetic(SyntheticConfig { n: 16, rank: 4, seed: 2, ..Default::default() }).unwrap();
//! let cfg = TrainConfig { steps: 300, ..Default::default() };
//! let model = train(&fam, Operation::Inverse, &cfg).unwrap();
//! let p = [0.31, 0.77];
//! let a = fam.at(&p).unwrap();
//! let g = model.predict(&p).unwrap().components[0].data.to_f64();
//! assert!(metrics::rel_err_inverse(&a, &g).unwrap() < 1e-3);
//! let exact = baseline::inverse(&a).unwrap();
//! assert!(metrics::rel_err_inverse(&a, &exact.data).unwrap() < 1e-20);
//! ```

pub mod baseline;
pub mod device;
pub mod domain;
pub mod error;
pub mod family;
pub mod linalg;
pub mod matrix;
pub mod metrics;
pub mod model;
pub mod op;
pub mod sampling;
pub mod sparse;
pub mod train;

/// Complex matrices in one place, as before the engine was layered: the storage and embedding
/// ([`matrix::complex`]), the exact kernels ([`linalg::complex`]), the metrics ([`metrics::complex`]) and
/// the complex view of a prediction ([`model::complex_component`]).
pub mod complex {
    pub use crate::linalg::complex::{ComplexSvd, inverse, svd};
    pub use crate::matrix::complex::{ComplexBatch, embedding_defect};
    pub use crate::metrics::complex::{inverse_residuals, rel_err_inverse, rel_err_svd, svd_errors};
    pub use crate::model::{ComplexComponent, complex_component};
}

pub use device::DeviceSpec;
pub use domain::Domain;
pub use error::{Error, Result};
pub use family::{
    CdlArray, CdlConfig, CdlFamily, ControlledRankConfig, ControlledRankFactors, ControlledRankFamily, Family, SampledFamily,
    SpdFourierConfig, SpdFourierFamily, SyntheticConfig, SyntheticFamily,
};
pub use matrix::complex::ComplexBatch;
pub use matrix::{BufferSource, FloatSlice, FloatVec, FreshBuffers, MatrixBatch, Recycler};
#[allow(deprecated)]
pub use model::SineMlp;
pub use model::TrainReport;
pub use model::{
    Activation, CheckOptions, CheckReport, Component, ComponentData, DeviceModel, DevicePrediction, Dtype, Mlp, NeuMatC, PredictOptions,
    Prediction, RefineConfig, Refined,
};
pub use op::Operation;
pub use sampling::{SamplingConfig, Strategy};
pub use train::{Method, Phase, Progress, StructureLoss, TrainConfig, train, train_with};
