//! One error type for the whole engine, with a stable machine-readable [`Error::code`].

use std::path::PathBuf;

/// Everything that can go wrong in the engine. Bindings map [`Error::code`] to their own error classes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A buffer or matrix does not have the shape the call needs.
    #[error("{op}: expected shape {expected:?}, got {got:?}")]
    ShapeMismatch { op: &'static str, expected: Vec<usize>, got: Vec<usize> },
    /// An option is out of its range or inconsistent with the others.
    #[error("invalid option `{name}`: {reason}")]
    InvalidOption { name: &'static str, reason: String },
    /// Input data is unusable (NaN/Inf, wrong length, ...).
    #[error("{what}: {reason}")]
    InvalidInput { what: &'static str, reason: String },
    /// A parameter lies outside the domain the family or model knows.
    #[error("parameter {p:?} (index {index}) is outside the domain [{lo:?}, {hi:?}]")]
    OutOfDomain { index: usize, p: Vec<f64>, lo: Vec<f64>, hi: Vec<f64> },
    /// The matrix is singular to working precision.
    #[error("{op}: A(p) is singular to working precision at p = {p:?}")]
    Singular { op: &'static str, p: Vec<f64> },
    /// The operation needs a symmetric positive definite matrix (Cholesky) and `A(p)` is not one.
    #[error("{op}: matrix is not symmetric positive definite at p = {p:?}")]
    NotPositiveDefinite { op: &'static str, p: Vec<f64> },
    /// The matrix is so ill-conditioned that the operation cannot be learned or trusted.
    #[error("{op}: matrix is ill-conditioned at p = {p:?} (condition estimate {cond:.3e})")]
    IllConditioned { op: &'static str, p: Vec<f64>, cond: f64 },
    /// An iterative method did not converge.
    #[error("{op}: no convergence after {iters} iterations")]
    NoConvergence { op: &'static str, iters: usize },
    /// CUDA was asked for but is not there.
    #[error("CUDA device {0} is not available (built without `cuda`, or no GPU)")]
    DeviceUnavailable(usize),
    /// A model file is truncated, corrupt, foreign or from a newer format.
    #[error("{path:?}: {reason}")]
    Format { path: PathBuf, reason: String },
    /// The work would need more memory than the machine has available.
    #[error("{what} needs {need_mib} MiB but only {available_mib} MiB of memory is available")]
    OutOfMemory { what: &'static str, need_mib: u64, available_mib: u64 },
    /// Work was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An error inside candle.
    #[error(transparent)]
    Tensor(#[from] candle_core::Error),
    /// A broken internal invariant (a bug): reported instead of panicking.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Result` with the engine's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A stable code callers can branch on (`"SHAPE_MISMATCH"`, `"SINGULAR"`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Error::ShapeMismatch { .. } => "SHAPE_MISMATCH",
            Error::InvalidOption { .. } => "INVALID_OPTION",
            Error::InvalidInput { .. } => "INVALID_INPUT",
            Error::OutOfDomain { .. } => "OUT_OF_DOMAIN",
            Error::Singular { .. } => "SINGULAR",
            Error::NotPositiveDefinite { .. } => "NOT_POSITIVE_DEFINITE",
            Error::IllConditioned { .. } => "ILL_CONDITIONED",
            Error::NoConvergence { .. } => "NO_CONVERGENCE",
            Error::DeviceUnavailable(_) => "DEVICE_UNAVAILABLE",
            Error::Format { .. } => "FORMAT",
            Error::OutOfMemory { .. } => "OUT_OF_MEMORY",
            Error::Cancelled => "CANCELLED",
            Error::Io(_) => "IO",
            Error::Tensor(_) => "TENSOR",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// Every code [`Error::code`] can return, for binding tests.
    pub const CODES: &'static [&'static str] = &[
        "SHAPE_MISMATCH",
        "INVALID_OPTION",
        "INVALID_INPUT",
        "OUT_OF_DOMAIN",
        "SINGULAR",
        "NOT_POSITIVE_DEFINITE",
        "ILL_CONDITIONED",
        "NO_CONVERGENCE",
        "DEVICE_UNAVAILABLE",
        "FORMAT",
        "OUT_OF_MEMORY",
        "CANCELLED",
        "IO",
        "TENSOR",
        "INTERNAL",
    ];

    pub(crate) fn option(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidOption { name, reason: reason.into() }
    }

    pub(crate) fn input(what: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput { what, reason: reason.into() }
    }
}

/// Parses a JSON object of options (`T`'s serde rules: camelCase, defaults, unknown fields refused); a
/// malformed one is [`Error::InvalidOption`] named `name` with serde's message.
pub(crate) fn parse_options<T: serde::de::DeserializeOwned>(name: &'static str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::option(name, e.to_string()))
}
