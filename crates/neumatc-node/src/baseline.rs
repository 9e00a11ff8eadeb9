//! Exact pointwise baselines (LU inverse, ...): sync twins and AsyncTasks sharing one inner fn.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;

use crate::convert::{NativeMatrix, matrix_batch};
use crate::error::{Failure, Result, to_napi};

fn inverse_inner(batch: u32, rows: u32, cols: u32, data: Vec<f64>) -> neumatc::Result<neumatc::MatrixBatch> {
    let a = matrix_batch(batch, rows, cols, data)?;
    neumatc::baseline::inverse_into(&a, neumatc::baseline::Threads::All, &crate::pool::Pool)
}

/// Exact inverse (LU) of every matrix in the batch, on the JS thread.
#[napi(catch_unwind)]
pub fn baseline_inverse_sync(batch: u32, rows: u32, cols: u32, data: &[f64]) -> Result<NativeMatrix> {
    inverse_inner(batch, rows, cols, data.to_vec()).map(NativeMatrix::from).map_err(to_napi)
}

/// Exact inverse (LU) on the libuv pool; `data` is copied on the JS thread first.
#[napi(catch_unwind, ts_return_type = "Promise<NativeMatrix>")]
pub fn baseline_inverse(batch: u32, rows: u32, cols: u32, data: &[f64]) -> AsyncTask<InverseTask> {
    AsyncTask::new(InverseTask { batch, rows, cols, data: Some(data.to_vec()), failure: None })
}

/// `baselineInverse` off the JS thread.
pub struct InverseTask {
    batch: u32,
    rows: u32,
    cols: u32,
    data: Option<Vec<f64>>,
    failure: Option<Failure>,
}

impl Task for InverseTask {
    type Output = neumatc::MatrixBatch;
    type JsValue = NativeMatrix;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let data = self.data.take().unwrap_or_default();
        let (b, r, c) = (self.batch, self.rows, self.cols);
        crate::task::run(&mut self.failure, || inverse_inner(b, r, c, data))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(NativeMatrix::from(output))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<Self::JsValue> {
        Err(crate::task::rejection(&env, self.failure.take(), err))
    }
}
