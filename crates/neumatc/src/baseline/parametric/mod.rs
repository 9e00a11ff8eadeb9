//! The paper's inversion baselines besides LU: NNI, pointwise (Newton–Schulz iteration, its ref. [31]),
//! and two parametric ones that use the continuity of `A(p)`: COI (interpolation of precomputed inverses
//! along `p`, after Zahm & Nouy, ref. [27]) and ZNNI (a Zhang neural network integrated along `p`,
//! refs. [31, 37]).
//!
//! They are baselines, implemented as products but reported honestly: NNI returns its last iterate and
//! its iteration count whether or not it met the tolerance, COI is exact only at its nodes, and ZNNI
//! carries the integration error of its ODE along the grid.

mod coi;
mod nni;
mod znn;

use faer::Par;

pub use coi::{Coi, CoiConfig};
pub use nni::{NniConfig, newton_schulz_inverse};
pub use znn::{ZnnConfig, znn_inverse};

/// Below this order a single matrix is multiplied on one thread (thread start-up would dominate).
const PARALLEL_GEMM_MIN_N: usize = 96;

fn gemm_par(n: usize) -> Par {
    if n >= PARALLEL_GEMM_MIN_N && rayon::current_num_threads() > 1 { Par::rayon(0) } else { Par::Seq }
}
