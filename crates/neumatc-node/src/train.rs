//! Training on its own thread: progress through a ThreadsafeFunction, cancellation through a
//! shared flag, the Promise settled through a deferred when the thread ends.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Object, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;

use crate::error::{Failure, INTERNAL, Result, coded_rejection, napi_internal, to_napi};
use crate::family::NativeFamily;
use crate::model::NativeModel;

/// A cancellation flag shared with a training thread. `cancel()` makes the training stop at its
/// next check and reject with code `CANCELLED`.
#[napi]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

#[napi]
impl CancelToken {
    #[napi(constructor, catch_unwind)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelToken { flag: Arc::new(AtomicBool::new(false)) }
    }

    /// Asks the training to stop.
    #[napi(catch_unwind)]
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// Whether `cancel()` was called.
    #[napi(getter, catch_unwind)]
    pub fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

type Settle = Box<dyn FnOnce(Env) -> napi::Result<NativeModel> + Send>;

/// Trains `op` on `family` with options `optionsJson` (`TrainConfig`, camelCase; defaults in
/// Rust). Runs on a dedicated thread; returns a Promise of the trained model. Option errors are
/// thrown synchronously with their code; failures during training reject with their code.
#[napi(catch_unwind, ts_return_type = "Promise<NativeModel>")]
pub fn train<'env>(
    env: &'env Env,
    family: &NativeFamily,
    op: String,
    options_json: String,
    // Receives each progress event as a JSON string (`Progress`, camelCase). Spelled out, not
    // aliased, so the generated typings show the function type.
    on_progress: Option<ThreadsafeFunction<String, Unknown<'static>, String, Status, false>>,
    cancel: &CancelToken,
) -> Result<Object<'env>> {
    let op = neumatc::Operation::parse(&op).map_err(to_napi)?;
    let cfg = neumatc::TrainConfig::from_json(&options_json).map_err(to_napi)?;
    let fam = family.inner.clone();
    let flag = cancel.flag.clone();

    let (deferred, promise) = env.create_deferred::<NativeModel, Settle>().map_err(napi_internal)?;
    // Shared with the thread so that, should the thread fail to start, the promise is still
    // settled here (an unsettled deferred would keep the event loop alive forever).
    let slot = Arc::new(Mutex::new(Some(deferred)));
    let thread_slot = slot.clone();
    let spawned = std::thread::Builder::new().name("neumatc-train".into()).spawn(move || {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut report = |p: &neumatc::Progress| {
                if let Some(cb) = on_progress.as_ref()
                    && let Ok(json) = serde_json::to_string(p)
                {
                    // Non-blocking: never stall training on the JS thread.
                    let _ = cb.call(json, ThreadsafeFunctionCallMode::NonBlocking);
                }
            };
            neumatc::train_with(&fam, op, &cfg, &mut report, &flag)
        }));
        let settle: Settle = match outcome {
            Ok(Ok(model)) => Box::new(move |_env| Ok(NativeModel { inner: Arc::new(model) })),
            Ok(Err(e)) => {
                let f = Failure::from(e);
                Box::new(move |env| Err(coded_rejection(&env, &f)))
            }
            Err(payload) => {
                let f = Failure::from_panic(payload);
                Box::new(move |env| Err(coded_rejection(&env, &f)))
            }
        };
        if let Some(deferred) = thread_slot.lock().ok().and_then(|mut d| d.take()) {
            deferred.resolve(settle);
        }
    });
    if let Err(e) = spawned {
        let failure = Failure { code: INTERNAL, message: format!("cannot start the training thread: {e}") };
        if let Some(deferred) = slot.lock().ok().and_then(|mut d| d.take()) {
            deferred.resolve(Box::new(move |env| Err(coded_rejection(&env, &failure))));
        }
    }
    Ok(promise)
}
