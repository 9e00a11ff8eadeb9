//! Shared plumbing of the `AsyncTask`s: keep the engine error for `reject`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::Env;

use crate::error::{Failure, coded_rejection};

/// Runs engine work inside `compute`. On failure (or panic) the engine error is stored in
/// `slot` and a plain napi error is returned; `reject` then turns the stored failure into the
/// coded JS error via [`rejection`].
pub fn run<T>(slot: &mut Option<Failure>, work: impl FnOnce() -> neumatc::Result<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            let f = Failure::from(e);
            let err = napi::Error::from_reason(f.message.clone());
            *slot = Some(f);
            Err(err)
        }
        Err(payload) => {
            let f = Failure::from_panic(payload);
            let err = napi::Error::from_reason(f.message.clone());
            *slot = Some(f);
            Err(err)
        }
    }
}

/// The error a task's promise rejects with: the coded engine error when there is one.
pub fn rejection(env: &Env, stored: Option<Failure>, err: napi::Error) -> napi::Error {
    let failure = stored.unwrap_or_else(|| Failure { code: crate::error::INTERNAL, message: err.reason.clone() });
    coded_rejection(env, &failure)
}
