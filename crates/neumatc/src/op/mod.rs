//! What is approximated: the matrix operations and their result components.

use crate::{Error, Result};

/// A matrix operation NeuMatC can learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Operation {
    /// `G(p) = A(p)⁻¹`; structure residual `R(p) = A(p) G(p) − I`; metric `RelErr_inv`.
    Inverse,
}

impl Operation {
    /// Parses the name used in TS, the CLI and model files (`"inverse"`).
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "inverse" => Ok(Operation::Inverse),
            "solve" | "svd" | "qr" | "cholesky" | "eigh" | "expm" => {
                Err(Error::option("operation", format!("`{name}` is not available in this version; supported: inverse")))
            }
            other => Err(Error::option("operation", format!("unknown operation `{other}`; supported: inverse"))),
        }
    }

    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Inverse => "inverse",
        }
    }

    /// Names of the result components, in order.
    pub fn components(self) -> &'static [&'static str] {
        match self {
            Operation::Inverse => &["inverse"],
        }
    }

    /// Shape (rows, cols) of each component for an `rows × cols` input, checking the input fits.
    pub fn component_shapes(self, rows: usize, cols: usize) -> Result<Vec<(usize, usize)>> {
        match self {
            Operation::Inverse => {
                if rows != cols {
                    return Err(Error::ShapeMismatch { op: "inverse", expected: vec![rows, rows], got: vec![rows, cols] });
                }
                Ok(vec![(rows, rows)])
            }
        }
    }
}
