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

/// An engine computation on the libuv pool, for the exports whose sync twin calls the same `*_inner`
/// fn: `work` runs in `compute` (its inputs already copied on the JS thread), `finish` converts its
/// output to the JS value on the JS thread, and a failure rejects with the coded engine error.
pub struct EngineTask<T, J> {
    work: Option<Box<dyn FnOnce() -> neumatc::Result<T> + Send>>,
    finish: fn(T) -> J,
    failure: Option<Failure>,
}

impl<T, J> EngineTask<T, J> {
    /// A task that runs `work` off the JS thread and resolves with `finish` of its output.
    pub fn new(work: impl FnOnce() -> neumatc::Result<T> + Send + 'static, finish: fn(T) -> J) -> Self {
        EngineTask { work: Some(Box::new(work)), finish, failure: None }
    }
}

impl<T: Send + 'static, J: napi::bindgen_prelude::ToNapiValue + napi::bindgen_prelude::TypeName> napi::Task for EngineTask<T, J> {
    type Output = T;
    type JsValue = J;

    fn compute(&mut self) -> napi::Result<T> {
        let work = self.work.take().ok_or_else(|| napi::Error::from_reason("task already ran"))?;
        run(&mut self.failure, work)
    }

    fn resolve(&mut self, _env: Env, output: T) -> napi::Result<J> {
        Ok((self.finish)(output))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<J> {
        Err(rejection(&env, self.failure.take(), err))
    }
}
