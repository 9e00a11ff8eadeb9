//! Engine errors -> JS errors with a stable `code` (STYLE.md §3).
//!
//! Sync calls return `napi::Result<T, Code>`; napi-rs throws those as a JS `Error` whose `code`
//! is the engine's [`neumatc::Error::code`]. Promises (AsyncTask `reject`, the training thread's
//! deferred) cannot carry a custom status through `napi::Error<Status>`, so they build the coded
//! JS error object on the JS thread ([`coded_rejection`]) and reject with that very object.

use napi::Env;
use napi::bindgen_prelude::JsError;

/// The JS `err.code` of an error: one of `neumatc::Error::CODES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl From<napi::Status> for Code {
    fn from(_: napi::Status) -> Self {
        Code("INTERNAL")
    }
}

/// Result of a sync export: the error carries the engine code.
pub type Result<T> = napi::Result<T, Code>;

/// The whole `source()` chain of an error, joined with `: `.
pub fn message_of(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let part = s.to_string();
        if !msg.contains(&part) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
        src = s.source();
    }
    msg
}

/// A failure that was never meant to be seen (a panic, a napi call that failed).
pub const INTERNAL: &str = "INTERNAL";

/// An engine error as a coded napi error (sync path).
pub fn to_napi(e: neumatc::Error) -> napi::Error<Code> {
    napi::Error::new(Code(e.code()), message_of(&e))
}

/// A napi-level failure (not an engine error) as an `INTERNAL` coded error.
pub fn napi_internal(e: napi::Error) -> napi::Error<Code> {
    napi::Error::new(Code(INTERNAL), format!("{}: {}", e.status.as_ref(), e.reason))
}

/// An engine failure flattened to what crosses threads: its code and its message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

impl From<neumatc::Error> for Failure {
    fn from(e: neumatc::Error) -> Self {
        Failure { code: e.code(), message: message_of(&e) }
    }
}

impl Failure {
    /// A panic payload as an `INTERNAL` failure.
    pub fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Failure { code: INTERNAL, message: format!("panic in the engine: {what}") }
    }
}

/// Builds the coded JS error object on the JS thread and wraps it so that a promise rejected
/// with the returned `napi::Error` rejects with exactly that object (same `code` as sync calls).
pub fn coded_rejection(env: &Env, failure: &Failure) -> napi::Error {
    let js = JsError::from(napi::Error::new(Code(failure.code), failure.message.clone())).into_unknown(*env);
    napi::Error::from(js)
}
