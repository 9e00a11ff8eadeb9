//! Node.js bindings for the `neumatc` engine (napi-rs 3).
//!
//! Only conversions, threading and error mapping live here; every number is computed by the
//! engine. Sync exports throw JS errors whose `code` is the engine's `Error::code()`; async
//! exports reject with the same codes (see `error.rs`).

mod baseline;
mod convert;
mod error;
mod family;
mod metrics;
mod model;
mod pool;
mod task;
mod train;

use napi_derive::napi;

pub use baseline::*;
pub use convert::*;
pub use family::*;
pub use metrics::*;
pub use model::*;
pub use train::*;

/// Every error code the engine can produce (`Error::CODES`).
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<String> {
    neumatc::Error::CODES.iter().map(|c| c.to_string()).collect()
}

/// Test hook: panics inside the engine boundary on the JS thread. The panic must come back as a JS
/// error with code `INTERNAL`, never abort the process.
#[doc(hidden)]
#[napi(catch_unwind)]
pub fn debug_panic_sync() -> error::Result<()> {
    panic!("deliberate panic (debugPanicSync test hook)")
}

/// Test hook: panics on the libuv pool; the promise must reject with code `INTERNAL`.
#[doc(hidden)]
#[napi(catch_unwind, ts_return_type = "Promise<void>")]
pub fn debug_panic() -> napi::bindgen_prelude::AsyncTask<task::EngineTask<(), ()>> {
    napi::bindgen_prelude::AsyncTask::new(task::EngineTask::new(|| panic!("deliberate panic (debugPanic test hook)"), |()| ()))
}

/// How the loaded addon was built.
#[napi(object, object_from_js = false)]
pub struct NativeBuildInfo {
    /// Whether it was built with the `cuda` feature (it then needs the CUDA driver and libraries to load).
    pub cuda: bool,
    /// The version of the crate it was built from.
    pub version: String,
}

/// How the loaded addon was built: with or without CUDA, and its version.
#[napi(catch_unwind)]
pub fn build_info() -> NativeBuildInfo {
    NativeBuildInfo { cuda: cfg!(feature = "cuda"), version: env!("CARGO_PKG_VERSION").to_string() }
}

/// The version of the engine crate the addon was built from.
#[napi(catch_unwind)]
pub fn engine_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
