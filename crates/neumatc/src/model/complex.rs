//! The complex view of a complex model's prediction.

use super::{Component, ComponentData};
use crate::matrix::complex::planes;
use crate::op::OpSpec;

/// One predicted component of a complex model in complex form: (batch, rows, cols) row-major planes in
/// the model's dtype; `im` is `None` for the real singular values `S`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexComponent {
    /// Component name (`"inverse"`, `"U"`, `"S"`, `"V"`).
    pub name: &'static str,
    /// Number of parameters predicted.
    pub batch: usize,
    /// Rows per matrix (complex shape).
    pub rows: usize,
    /// Columns per matrix.
    pub cols: usize,
    /// Real parts.
    pub re: ComponentData,
    /// Imaginary parts (`None` for real components).
    pub im: Option<ComponentData>,
}

/// The complex form of a complex model's predicted component: the inverse `[Re G; Im G]` (`2n × n`) and
/// the singular vectors `[Re U; Im U]` (`2m × r`) are split in their two halves; `S` stays real. A
/// component of a real model is returned as is (`im: None`).
pub fn complex_component(spec: &OpSpec, c: &Component) -> ComplexComponent {
    if !spec.complex || c.name == "S" {
        return ComplexComponent { name: c.name, batch: c.batch, rows: c.rows, cols: c.cols, re: c.data.clone(), im: None };
    }
    let (rows, cols) = (c.rows / 2, c.cols);
    let (re, im) = match &c.data {
        ComponentData::F32(v) => {
            let (re, im) = planes(v, c.batch, rows, cols, cols);
            (ComponentData::F32(re), ComponentData::F32(im))
        }
        ComponentData::F64(v) => {
            let (re, im) = planes(v, c.batch, rows, cols, cols);
            (ComponentData::F64(re), ComponentData::F64(im))
        }
    };
    ComplexComponent { name: c.name, batch: c.batch, rows, cols, re, im: Some(im) }
}
