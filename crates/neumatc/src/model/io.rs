//! Model files: a standard safetensors file whose `__metadata__` describes the model, written atomically.
//!
//! Layout (every tensor little-endian, row-major, in the model's dtype `F32` or `F64`):
//!
//! | tensor | shape |
//! |---|---|
//! | `mlp.{i}.weight` | `widths[i] × widths[i+1]` |
//! | `mlp.{i}.bias` | `1 × widths[i+1]` |
//! | `latent.{component}` | `latentDim × rows·cols` (one per result component: `inverse`, `U`, `S`, ...) |
//!
//! `__metadata__` holds `"format": "neumatc"`, `"formatVersion": "1"` and `"neumatc"`: the JSON of
//! [`NeuMatC::metadata`] (operation, spec, domain, shapes, latent dimension, dtype, device, MLP widths,
//! `ω` and activation, the training family's description, the training report, and a CRC32 `checksum`).
//! The checksum covers every tensor's bytes (in the table's order) and then that JSON without its
//! `checksum` field, so that a flipped byte anywhere in the data or the metadata is detected.
//! The header's keys are sorted: one model always gives the same bytes.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::{Device, Tensor};
use safetensors::tensor::{Metadata, TensorView};
use safetensors::{SafeTensorError, SafeTensors};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Activation, Dtype, Mlp, NeuMatC};
use crate::device::DeviceSpec;
use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::family::Family;
use crate::matrix::FloatVec;
use crate::model::TrainReport;
use crate::op::{OpSpec, Operation};

/// Version of the model file format this library writes (and the newest it reads).
pub const FORMAT_VERSION: u32 = 1;

/// Bytes of the little-endian header length that starts every safetensors file.
const LEN_BYTES: usize = 8;

/// Largest header safetensors reads (its own limit, 100 MB).
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// The JSON metadata of a model file (what [`NeuMatC::metadata`] gave when it was saved), read without
/// loading its tensors: only the 8-byte header length and the header are read, and the length is checked
/// against the file's size before anything is allocated.
///
/// Errors: [`Error::Format`] for a file that is not a readable neumatc model (too short, foreign,
/// truncated, newer format); [`Error::Io`], whose message names the path, when the file cannot be read.
///
/// ```no_run
/// let meta = neumatc::model::read_metadata("inverse-64.neumatc").unwrap();
/// println!("{} on {}", meta["operation"], meta["family"]["kind"]);
/// ```
pub fn read_metadata(path: impl AsRef<Path>) -> Result<Value> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|e| io_error(path, "cannot open", e))?;
    let size = file.metadata().map_err(|e| io_error(path, "cannot read", e))?.len();
    let mut prefix = Vec::with_capacity(LEN_BYTES + 1);
    Read::by_ref(&mut file).take(LEN_BYTES as u64 + 1).read_to_end(&mut prefix).map_err(|e| io_error(path, "cannot read", e))?;
    let n = header_len(&prefix, size, path)?;
    let mut header = vec![0u8; n];
    file.seek(SeekFrom::Start(LEN_BYTES as u64)).map_err(|e| io_error(path, "cannot read", e))?;
    file.read_exact(&mut header).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => format_error(path, "the file is truncated (it shrank while being read)"),
        _ => io_error(path, "cannot read", e),
    })?;
    let (table, meta) = parse_header(&header, path)?;
    check_data_len(&table, size - (LEN_BYTES + n) as u64, path)?;
    Ok(meta)
}

impl NeuMatC {
    /// Writes the model to `path` (conventionally `*.neumatc`; see the module documentation for the
    /// layout).
    ///
    /// Atomic: the bytes go to a temporary file in the same directory (`.{name}.tmp-{pid}-{counter}`),
    /// are flushed to disk (`fsync`), and the temporary file is renamed over `path`; then the directory is
    /// synced (best effort). On any error the temporary file is removed and an existing file at `path` is
    /// left untouched. Errors are [`Error::Io`] whose message names the path.
    ///
    /// ```no_run
    /// # fn demo(model: &neumatc::NeuMatC) -> neumatc::Result<()> {
    /// model.save("inverse-64.neumatc")?;
    /// let back = neumatc::NeuMatC::load("inverse-64.neumatc")?;
    /// assert_eq!(back.metadata(), model.metadata());
    /// # Ok(()) }
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        let name = path.file_name().ok_or_else(|| {
            io_error(path, "cannot save", std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path does not name a file"))
        })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
        let tmp = dir.join(tmp_name);
        // `create_new`: never truncate a file this call did not create (and never remove one below).
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| io_error(path, "cannot save", e))?;
        let written = file.write_all(&bytes).and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error(path, "cannot save", e));
        }
        // Make the rename itself durable. Best effort: not every platform can open and sync a directory.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// The bytes [`NeuMatC::save`] writes. The same model always gives the same bytes.
    ///
    /// ```no_run
    /// # fn demo(model: &neumatc::NeuMatC) -> neumatc::Result<()> {
    /// let bytes = model.to_bytes()?;
    /// let back = neumatc::NeuMatC::from_bytes(&bytes, "in memory".as_ref())?;
    /// assert_eq!(back.to_bytes()?, bytes);
    /// # Ok(()) }
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let tensors = self.raw_tensors()?;
        let meta = self.metadata_for(&tensors);
        let dtype = st_dtype(self.dtype);
        let views = tensors
            .iter()
            .map(|t| Ok((t.name.clone(), TensorView::new(dtype, t.shape.clone(), &t.bytes)?)))
            .collect::<std::result::Result<Vec<_>, SafeTensorError>>()
            .map_err(|e| Error::Internal(format!("cannot serialise the model: {e}")))?;
        let info = [("format", "neumatc".to_string()), ("formatVersion", FORMAT_VERSION.to_string()), ("neumatc", meta.to_string())];
        let info = info.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let bytes = safetensors::serialize(views, Some(info)).map_err(|e| Error::Internal(format!("cannot serialise the model: {e}")))?;
        sorted_header(bytes)
    }

    /// Reads a model written by [`NeuMatC::save`]. A model trained on CUDA loads here too: its weights
    /// live on the CPU, and [`NeuMatC::device`] still names the training device.
    ///
    /// Errors: [`Error::OutOfMemory`] when the file is larger than the available memory (checked before
    /// reading it); [`Error::Io`], whose message names the path, when it cannot be read (missing file,
    /// permissions, a directory); otherwise as [`NeuMatC::from_bytes`].
    ///
    /// ```no_run
    /// let model = neumatc::NeuMatC::load("inverse-64.neumatc").unwrap();
    /// let g = model.predict(&[0.5]).unwrap();
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<NeuMatC> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| io_error(path, "cannot open", e))?;
        let size = file.metadata().map_err(|e| io_error(path, "cannot read", e))?.len();
        // The bytes and the decoded tensors are held at once.
        crate::matrix::check_alloc("loading the model file", usize::try_from(size).unwrap_or(usize::MAX), 2, 1)?;
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(size).read_to_end(&mut bytes).map_err(|e| io_error(path, "cannot read", e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Reads a model from the bytes of a model file; `origin` names it in error messages.
    ///
    /// Never panics and never allocates according to what the header claims: every problem is an
    /// [`Error::Format`] naming it — too short or truncated, not a safetensors file, a safetensors file
    /// without neumatc metadata, a newer format version, an unknown operation, activation or dtype, a
    /// missing or extra tensor, a tensor whose dtype or shape disagrees with the metadata, inconsistent
    /// metadata, non-finite weights, or a checksum mismatch (corrupt data or metadata).
    ///
    /// ```
    /// let err = neumatc::NeuMatC::from_bytes(b"not a model", "x.neumatc".as_ref()).unwrap_err();
    /// assert_eq!(err.code(), "FORMAT");
    /// ```
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<NeuMatC> {
        let n = header_len(bytes, bytes.len() as u64, origin)?;
        let (table, meta) = parse_header(&bytes[LEN_BYTES..LEN_BYTES + n], origin)?;
        check_data_len(&table, (bytes.len() - LEN_BYTES - n) as u64, origin)?;
        let st = SafeTensors::deserialize(bytes).map_err(|e| format_error(origin, format!("corrupt tensor table: {e}")))?;
        decode(meta, &st, origin)
    }

    /// The JSON metadata written into model files (what `neumatc info` shows): `formatVersion`,
    /// `libraryVersion`, `operation`, `spec`, `domain`, `shapes` (`[{name, rows, cols}]`), `latentDim`,
    /// `dtype`, `device`, `mlp` (`{widths, omega, activation}`), `family` ([`NeuMatC::family_info`]),
    /// `report` ([`TrainReport`]) and `checksum` (`"crc32:…"`, see the module documentation).
    /// Non-finite report figures are written as `null` (JSON has no NaN) and read back as their defaults.
    ///
    /// ```no_run
    /// # fn demo(model: &neumatc::NeuMatC) {
    /// let meta = model.metadata();
    /// assert_eq!(meta["latentDim"], model.latent_dim());
    /// # }
    /// ```
    pub fn metadata(&self) -> Value {
        // Cannot fail: the MLP's weights are CPU tensors of the model's dtype.
        let tensors = self.raw_tensors().expect("the model's weights convert to bytes");
        self.metadata_for(&tensors)
    }

    /// The metadata, with the checksum over `tensors` (in file order) and the rest of the metadata.
    fn metadata_for(&self, tensors: &[RawTensor]) -> Value {
        let shapes: Vec<Value> = self
            .spec
            .op
            .components()
            .iter()
            .zip(&self.shapes)
            .map(|(name, &(rows, cols))| json!({ "name": name, "rows": rows, "cols": cols }))
            .collect();
        let mut meta = json!({
            "formatVersion": FORMAT_VERSION,
            "libraryVersion": env!("CARGO_PKG_VERSION"),
            "operation": self.spec.op.name(),
            "spec": self.spec,
            "domain": self.domain,
            "shapes": shapes,
            "latentDim": self.latent_dim,
            "dtype": self.dtype.name(),
            "device": self.device.name(),
            "mlp": { "widths": self.mlp.widths(), "omega": self.mlp.omega, "activation": self.mlp.activation },
            "family": self.family_info,
            "report": self.report,
        });
        meta.sort_all_objects();
        let sum = checksum(tensors.iter().map(|t| t.bytes.as_slice()), &meta);
        if let Value::Object(m) = &mut meta {
            m.insert("checksum".into(), sum.into());
        }
        meta.sort_all_objects();
        meta
    }

    /// Every tensor of the file, in file order.
    fn raw_tensors(&self) -> Result<Vec<RawTensor>> {
        let mut out = Vec::with_capacity(2 * self.mlp.layers.len() + self.latent.len());
        for (i, (w, b)) in self.mlp.layers.iter().enumerate() {
            out.push(RawTensor { name: weight_name(i), shape: w.dims().to_vec(), bytes: tensor_bytes(w, self.dtype)? });
            out.push(RawTensor { name: bias_name(i), shape: b.dims().to_vec(), bytes: tensor_bytes(b, self.dtype)? });
        }
        for ((name, latent), &(rows, cols)) in self.spec.op.components().iter().zip(&self.latent).zip(&self.shapes) {
            let bytes = match latent {
                FloatVec::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                FloatVec::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            };
            out.push(RawTensor { name: latent_name(name), shape: vec![self.latent_dim, rows * cols], bytes });
        }
        Ok(out)
    }
}

/// One tensor as stored.
struct RawTensor {
    name: String,
    shape: Vec<usize>,
    /// Little-endian values.
    bytes: Vec<u8>,
}

fn weight_name(layer: usize) -> String {
    format!("mlp.{layer}.weight")
}

fn bias_name(layer: usize) -> String {
    format!("mlp.{layer}.bias")
}

fn latent_name(component: &str) -> String {
    format!("latent.{component}")
}

fn st_dtype(dtype: Dtype) -> safetensors::Dtype {
    match dtype {
        Dtype::F32 => safetensors::Dtype::F32,
        Dtype::F64 => safetensors::Dtype::F64,
    }
}

fn tensor_bytes(t: &Tensor, dtype: Dtype) -> Result<Vec<u8>> {
    let flat = t.to_device(&Device::Cpu)?.to_dtype(dtype.candle())?.flatten_all()?;
    Ok(match dtype {
        Dtype::F32 => flat.to_vec1::<f32>()?.iter().flat_map(|x| x.to_le_bytes()).collect(),
        Dtype::F64 => flat.to_vec1::<f64>()?.iter().flat_map(|x| x.to_le_bytes()).collect(),
    })
}

/// CRC32 of `tensors` then of `meta` (sorted keys) without its `checksum` field, as `"crc32:xxxxxxxx"`.
fn checksum<'a>(tensors: impl IntoIterator<Item = &'a [u8]>, meta: &Value) -> String {
    let mut hasher = crc32fast::Hasher::new();
    for t in tensors {
        hasher.update(t);
    }
    let mut meta = meta.clone();
    if let Value::Object(m) = &mut meta {
        m.remove("checksum");
    }
    meta.sort_all_objects();
    hasher.update(meta.to_string().as_bytes());
    format!("crc32:{:08x}", hasher.finalize())
}

/// safetensors writes `__metadata__` from a `HashMap`, whose order changes from run to run: rewrites the
/// header with sorted keys (padded with spaces to a multiple of 8 bytes, as safetensors does).
fn sorted_header(bytes: Vec<u8>) -> Result<Vec<u8>> {
    let bad = || Error::Internal("safetensors wrote an unreadable header".into());
    let n = bytes.get(..LEN_BYTES).and_then(|b| <[u8; LEN_BYTES]>::try_from(b).ok()).map(u64::from_le_bytes).ok_or_else(bad)?;
    let end = usize::try_from(n).ok().and_then(|n| n.checked_add(LEN_BYTES)).filter(|&e| e <= bytes.len()).ok_or_else(bad)?;
    let mut header: Value = serde_json::from_slice(&bytes[LEN_BYTES..end]).map_err(|_| bad())?;
    header.sort_all_objects();
    let mut text = header.to_string().into_bytes();
    text.resize(text.len().next_multiple_of(LEN_BYTES), b' ');
    let mut out = Vec::with_capacity(LEN_BYTES + text.len() + bytes.len() - end);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[end..]);
    Ok(out)
}

fn format_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Format { path: path.to_path_buf(), reason: reason.into() }
}

/// An [`Error::Io`] of the same kind whose message names `path`.
fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(e.kind(), format!("{path:?}: {what}: {e}")))
}

/// The header length declared by the first 8 bytes of `prefix`, checked against the file's size `file_len`
/// (`prefix` holds at least the first 9 bytes of the file when it has them).
fn header_len(prefix: &[u8], file_len: u64, origin: &Path) -> Result<usize> {
    let fail = |reason: String| Err(format_error(origin, reason));
    let Some(len_bytes) = prefix.get(..LEN_BYTES).and_then(|b| <[u8; LEN_BYTES]>::try_from(b).ok()) else {
        return if file_len == 0 {
            fail("the file is empty, not a neumatc model file".into())
        } else {
            fail(format!("the file is too short ({file_len} bytes) to be a neumatc model file"))
        };
    };
    let n = u64::from_le_bytes(len_bytes);
    let rest = file_len.saturating_sub(LEN_BYTES as u64);
    if n > rest {
        // A model file's header is JSON: when it starts like one, the file was cut short.
        return if n <= MAX_HEADER_BYTES && prefix.get(LEN_BYTES) == Some(&b'{') {
            fail(format!("the file is truncated: its header needs {n} bytes but only {rest} follow"))
        } else {
            fail(format!("not a neumatc model file (its first 8 bytes declare a header of {n} bytes, larger than the file)"))
        };
    }
    if n > MAX_HEADER_BYTES {
        return fail(format!("not a neumatc model file (its header of {n} bytes is above safetensors' limit of {MAX_HEADER_BYTES})"));
    }
    usize::try_from(n).or_else(|_| fail(format!("not a neumatc model file (header of {n} bytes)")))
}

/// Parses the header: the safetensors tensor table and the neumatc metadata (checked to be from a format
/// version this library reads).
fn parse_header(header: &[u8], origin: &Path) -> Result<(Metadata, Value)> {
    let fail = |reason: String| format_error(origin, reason);
    let value: Value = serde_json::from_slice(header).map_err(|_| fail("not a neumatc model file (its header is not JSON)".into()))?;
    let info = match value.get("__metadata__") {
        Some(Value::Object(m)) if m.get("format").and_then(Value::as_str) == Some("neumatc") => m.clone(),
        _ if value.is_object() => return Err(fail("a safetensors file but not a neumatc model (no neumatc metadata)".into())),
        _ => return Err(fail("not a neumatc model file (its header is not a JSON object)".into())),
    };
    let table: Metadata =
        serde_json::from_value(value).map_err(|e| fail(format!("not a neumatc model file (invalid safetensors header: {e})")))?;
    let version = info.get("formatVersion").and_then(Value::as_str).unwrap_or("");
    let version: u64 = version.parse().map_err(|_| fail(format!("unreadable format version {version:?}")))?;
    check_version(version, origin)?;
    let text = info.get("neumatc").and_then(Value::as_str).ok_or_else(|| fail("the neumatc metadata is missing".into()))?;
    let meta: Value = serde_json::from_str(text).map_err(|e| fail(format!("corrupt neumatc metadata (not JSON: {e})")))?;
    if !meta.is_object() {
        return Err(fail("corrupt neumatc metadata (not a JSON object)".into()));
    }
    match meta.get("formatVersion").and_then(Value::as_u64) {
        Some(inner) if inner == version => Ok((table, meta)),
        Some(inner) => {
            check_version(inner, origin)?;
            Err(fail(format!("inconsistent metadata: format version {version} in the header, {inner} in the neumatc metadata")))
        }
        None => Err(fail("inconsistent metadata: the neumatc metadata has no format version".into())),
    }
}

fn check_version(version: u64, origin: &Path) -> Result<()> {
    if version > u64::from(FORMAT_VERSION) {
        return Err(format_error(
            origin,
            format!("format version {version} is newer than this library reads ({FORMAT_VERSION}); upgrade neumatc"),
        ));
    }
    if version == 0 {
        return Err(format_error(origin, "unknown format version 0"));
    }
    Ok(())
}

/// Checks that the data section (`have` bytes after the header) is exactly what the tensor table needs.
fn check_data_len(table: &Metadata, have: u64, origin: &Path) -> Result<()> {
    let need = table.data_len() as u64;
    if have < need {
        return Err(format_error(
            origin,
            format!("the file is truncated: its tensors need {need} bytes but only {have} follow the header"),
        ));
    }
    if have > need {
        return Err(format_error(origin, format!("{} unexpected bytes after the tensors", have - need)));
    }
    Ok(())
}

/// The neumatc metadata as read (names are parsed and checked by [`decode`]).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredMeta {
    operation: String,
    spec: StoredSpec,
    domain: Domain,
    shapes: Vec<StoredShape>,
    latent_dim: usize,
    dtype: String,
    device: String,
    mlp: StoredMlp,
    family: Value,
    report: Value,
    checksum: String,
}

#[derive(serde::Deserialize)]
struct StoredSpec {
    op: String,
    rows: usize,
    cols: usize,
    #[serde(default)]
    rank: usize,
    #[serde(default)]
    rhs: Option<Vec<f64>>,
    #[serde(default)]
    complex: bool,
}

#[derive(serde::Deserialize)]
struct StoredShape {
    name: String,
    rows: usize,
    cols: usize,
}

#[derive(serde::Deserialize)]
struct StoredMlp {
    widths: Vec<usize>,
    omega: f64,
    activation: String,
}

/// Checks the metadata against itself and the tensors against the metadata (all before building
/// anything), then the checksum, then builds the model.
fn decode(meta: Value, st: &SafeTensors<'_>, origin: &Path) -> Result<NeuMatC> {
    let fail = |reason: String| format_error(origin, reason);
    let inconsistent = |reason: String| format_error(origin, format!("inconsistent metadata: {reason}"));
    let stored = StoredMeta::deserialize(&meta).map_err(|e| fail(format!("invalid neumatc metadata: {e}")))?;

    // Operation and spec.
    let op = Operation::parse(&stored.operation).map_err(|_| fail(format!("unknown operation `{}`", stored.operation)))?;
    let s = &stored.spec;
    if s.op != stored.operation {
        return Err(inconsistent(format!("operation `{}` but spec for `{}`", stored.operation, s.op)));
    }
    if s.rows == 0 || s.cols == 0 {
        return Err(inconsistent(format!("empty {}×{} matrices", s.rows, s.cols)));
    }
    if s.rank != 0 && op != Operation::Svd {
        return Err(inconsistent(format!("a rank ({}) for `{}`", s.rank, op.name())));
    }
    let rank = (op == Operation::Svd).then_some(s.rank);
    let spec = if s.complex { OpSpec::new_complex(op, s.rows, s.cols, rank) } else { OpSpec::new(op, s.rows, s.cols, rank, s.rhs.clone()) }
        .map_err(|e| inconsistent(e.to_string()))?;

    // Component shapes.
    let comps = spec.components();
    let names: Vec<&str> = stored.shapes.iter().map(|c| c.name.as_str()).collect();
    if names != op.components() {
        return Err(inconsistent(format!("components {names:?}, `{}` has {:?}", op.name(), op.components())));
    }
    for (c, stored_c) in comps.iter().zip(&stored.shapes) {
        if (c.rows, c.cols) != (stored_c.rows, stored_c.cols) {
            return Err(inconsistent(format!(
                "component `{}` is {}×{}, the spec makes it {}×{}",
                c.name, stored_c.rows, stored_c.cols, c.rows, c.cols
            )));
        }
    }
    let shapes: Vec<(usize, usize)> = comps.iter().map(|c| (c.rows, c.cols)).collect();

    // MLP and domain.
    let widths = &stored.mlp.widths;
    let d = stored.latent_dim;
    if widths.len() < 2 || widths.contains(&0) {
        return Err(inconsistent(format!("MLP widths {widths:?} (needs at least two, none zero)")));
    }
    if widths.last() != Some(&d) {
        return Err(inconsistent(format!("MLP widths {widths:?} do not end with the latent dimension {d}")));
    }
    let domain = stored.domain;
    if domain.lo.len() != widths[0] || domain.hi.len() != widths[0] {
        return Err(inconsistent(format!(
            "domain bounds of lengths {} and {} for {} parameters (the MLP's input width)",
            domain.lo.len(),
            domain.hi.len(),
            widths[0]
        )));
    }
    if domain.lo.iter().zip(&domain.hi).any(|(lo, hi)| !(lo.is_finite() && hi.is_finite() && lo <= hi)) {
        return Err(inconsistent(format!("domain [{:?}, {:?}] (needs finite lo ≤ hi)", domain.lo, domain.hi)));
    }
    let omega = stored.mlp.omega;
    if !omega.is_finite() {
        return Err(inconsistent(format!("MLP frequency ω = {omega}")));
    }
    let activation: Activation = serde_json::from_value(Value::String(stored.mlp.activation.clone()))
        .map_err(|_| fail(format!("unknown activation `{}`", stored.mlp.activation)))?;
    let dtype = match stored.dtype.as_str() {
        "f32" => Dtype::F32,
        "f64" => Dtype::F64,
        other => return Err(fail(format!("unknown dtype `{other}` (this library reads f32 and f64)"))),
    };
    let device = DeviceSpec::parse(&stored.device).map_err(|_| fail(format!("unknown device `{}`", stored.device)))?;

    // The tensors the metadata calls for, in file order, against the table.
    let mut expected: Vec<(String, Vec<usize>)> = Vec::with_capacity(2 * widths.len() + comps.len());
    for (i, w) in widths.windows(2).enumerate() {
        expected.push((weight_name(i), vec![w[0], w[1]]));
        expected.push((bias_name(i), vec![1, w[1]]));
    }
    for c in &comps {
        let m = c.rows.checked_mul(c.cols).ok_or_else(|| inconsistent(format!("component `{}` is too large", c.name)))?;
        expected.push((latent_name(c.name), vec![d, m]));
    }
    let mut views = Vec::with_capacity(expected.len());
    for (name, shape) in &expected {
        let view = st.tensor(name).map_err(|_| fail(format!("missing tensor `{name}`")))?;
        if view.dtype() != st_dtype(dtype) {
            return Err(fail(format!("tensor `{name}` is {:?}, the model is {}", view.dtype(), dtype.name())));
        }
        if view.shape() != shape.as_slice() {
            return Err(fail(format!("tensor `{name}` has shape {:?}, the metadata says {shape:?}", view.shape())));
        }
        views.push(view);
    }
    if st.len() != expected.len() {
        let extra = st.names().into_iter().find(|n| !expected.iter().any(|(e, _)| e == n)).unwrap_or_default().to_string();
        return Err(fail(format!("unexpected tensor `{extra}`")));
    }

    // Every byte of data and metadata is what was written.
    if checksum(views.iter().map(|v| v.data()), &meta) != stored.checksum {
        return Err(fail("data checksum mismatch: the file is corrupt".into()));
    }

    // Build.
    let values = |i: usize| -> Result<FloatVec> {
        let (name, _) = &expected[i];
        decode_values(views[i].data(), dtype).ok_or_else(|| fail(format!("tensor `{name}` holds non-finite values (NaN or ±Inf)")))
    };
    let mut layers = Vec::with_capacity(widths.len() - 1);
    for (i, w) in widths.windows(2).enumerate() {
        let weight = tensor_of(values(2 * i)?, (w[0], w[1]))?;
        let bias = tensor_of(values(2 * i + 1)?, (1, w[1]))?;
        layers.push((weight, bias));
    }
    let first_latent = 2 * layers.len();
    let latent = (0..comps.len()).map(|j| values(first_latent + j)).collect::<Result<Vec<_>>>()?;

    let mut report = stored.report;
    if let Value::Object(m) = &mut report {
        // Non-finite figures were written as null: read them back as their defaults.
        m.retain(|_, v| !v.is_null());
    }
    let report: TrainReport = serde_json::from_value(report).map_err(|e| fail(format!("invalid training report: {e}")))?;
    let family = rebuild_family(&stored.family, &spec, &domain).map_err(|reason| fail(format!("training family: {reason}")))?;

    Ok(NeuMatC {
        spec,
        domain,
        shapes,
        latent_dim: d,
        mlp: Mlp { layers, omega, activation },
        latent,
        dtype,
        device,
        report,
        family,
        family_info: stored.family,
    })
}

/// A CPU tensor of `shape` holding `v`.
fn tensor_of(v: FloatVec, shape: (usize, usize)) -> Result<Tensor> {
    Ok(match v {
        FloatVec::F32(v) => Tensor::from_vec(v, shape, &Device::Cpu)?,
        FloatVec::F64(v) => Tensor::from_vec(v, shape, &Device::Cpu)?,
    })
}

/// Little-endian values of `dtype`; `None` when one is not finite.
fn decode_values(data: &[u8], dtype: Dtype) -> Option<FloatVec> {
    match dtype {
        Dtype::F32 => {
            let v: Vec<f32> = data.as_chunks::<4>().0.iter().map(|&b| f32::from_le_bytes(b)).collect();
            v.iter().all(|x| x.is_finite()).then_some(FloatVec::F32(v))
        }
        Dtype::F64 => {
            let v: Vec<f64> = data.as_chunks::<8>().0.iter().map(|&b| f64::from_le_bytes(b)).collect();
            v.iter().all(|x| x.is_finite()).then_some(FloatVec::F64(v))
        }
    }
}

/// The training family from its description, checked against the model. Its matrix sizes are compared
/// with the spec before it is built, so a lying description cannot make it allocate more than the
/// model's own tensors suggest.
fn rebuild_family(desc: &Value, spec: &OpSpec, domain: &Domain) -> std::result::Result<Option<Family>, String> {
    if let Some(options) = desc.get("options") {
        for (key, want) in [("n", spec.rows), ("n", spec.cols), ("rows", spec.rows), ("cols", spec.cols)] {
            if let Some(v) = options.get(key)
                && v.as_u64() != Some(want as u64)
            {
                return Err(format!("`{key}` = {v} disagrees with the model's {}×{} matrices", spec.rows, spec.cols));
            }
        }
    }
    let Some(family) = Family::from_description(desc).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if (family.rows(), family.cols()) != (spec.rows, spec.cols) {
        return Err(format!("{}×{} matrices, the model's are {}×{}", family.rows(), family.cols(), spec.rows, spec.cols));
    }
    if family.domain() != domain {
        return Err(format!(
            "domain [{:?}, {:?}] differs from the model's [{:?}, {:?}]",
            family.domain().lo,
            family.domain().hi,
            domain.lo,
            domain.hi
        ));
    }
    Ok(Some(family))
}
