//! Model files: round trips (bit-identical predictions, equal metadata and report, the same bytes again),
//! atomic saves, and loading hostile input — truncated at every byte, flipped bytes, foreign files, lying
//! header lengths and shapes, inconsistent metadata, newer versions, a proptest fuzz — which must never
//! panic and always end in a FORMAT error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use neumatc::model::{FORMAT_VERSION, read_metadata};
use neumatc::{
    ComponentData, DeviceSpec, Dtype, Error, Family, NeuMatC, Operation, Prediction, SamplingConfig, SyntheticConfig, TrainConfig, train,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestRunner};
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;
use serde_json::{Value, json};

fn tiny_cfg() -> TrainConfig {
    TrainConfig {
        steps: 50,
        seed: 1,
        hidden: vec![16, 16],
        sampling: SamplingConfig { supervised: 12, collocation: 16, candidates: 32, add_every: 40, add: 4, ..Default::default() },
        validation: 8,
        ..Default::default()
    }
}

fn tiny_family() -> Family {
    Family::synthetic(SyntheticConfig { n: 8, rank: 2, seed: 3, ..Default::default() }).unwrap()
}

/// The f32 inverse model the corruption tests share, trained once.
fn inverse_model() -> &'static NeuMatC {
    static MODEL: OnceLock<NeuMatC> = OnceLock::new();
    MODEL.get_or_init(|| train(&tiny_family(), Operation::Inverse, &tiny_cfg()).unwrap())
}

/// Its file's bytes.
fn inverse_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| inverse_model().to_bytes().unwrap())
}

/// 16 parameters spread over [0, 1].
fn params() -> Vec<f64> {
    (0..16).map(|i| (i as f64 + 0.37) / 16.0).collect()
}

/// Every predicted value as bits, per component.
fn bits(p: &Prediction) -> Vec<Vec<u64>> {
    p.components
        .iter()
        .map(|c| match &c.data {
            ComponentData::F32(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
            ComponentData::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
        })
        .collect()
}

fn predict_bits(model: &NeuMatC) -> Vec<Vec<u64>> {
    bits(&model.predict(&params()).unwrap())
}

/// A fresh, empty directory under cargo's scratch space.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("io-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// File names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn from_bytes(bytes: &[u8]) -> neumatc::Result<NeuMatC> {
    NeuMatC::from_bytes(bytes, Path::new("test.neumatc"))
}

/// The reason of a FORMAT error (anything else fails the test).
fn format_reason<T>(r: neumatc::Result<T>, what: &str) -> String {
    match r {
        Err(Error::Format { reason, .. }) => reason,
        Err(e) => panic!("{what}: expected a FORMAT error, got {} ({e})", e.code()),
        Ok(_) => panic!("{what}: expected a FORMAT error, got a model"),
    }
}

/// Everything a loaded model must share with the saved one.
fn assert_same_model(saved: &NeuMatC, loaded: &NeuMatC) {
    assert_eq!(predict_bits(saved), predict_bits(loaded), "predictions are not bit-identical");
    assert_eq!(saved.metadata(), loaded.metadata());
    assert_eq!(saved.report(), loaded.report());
    assert_eq!(saved.spec(), loaded.spec());
    assert_eq!(saved.domain(), loaded.domain());
    assert_eq!(saved.shapes(), loaded.shapes());
    assert_eq!((saved.latent_dim(), saved.dtype(), saved.device()), (loaded.latent_dim(), loaded.dtype(), loaded.device()));
    assert_eq!(saved.family_info(), loaded.family_info());
    assert_eq!(saved.to_bytes().unwrap(), loaded.to_bytes().unwrap(), "saving the loaded model gives other bytes");
}

/// Saves, loads and compares; checks the file is a standard safetensors file of the documented layout.
fn round_trip(model: &NeuMatC, name: &str) -> NeuMatC {
    let dir = scratch(name);
    let path = dir.join("model.neumatc");
    model.save(&path).unwrap();
    assert_eq!(listing(&dir), ["model.neumatc"]);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes, model.to_bytes().unwrap(), "save and to_bytes differ");
    assert_eq!(bytes, model.to_bytes().unwrap(), "to_bytes is not reproducible");

    let loaded = NeuMatC::load(&path).unwrap();
    assert_same_model(model, &loaded);
    assert_eq!(read_metadata(&path).unwrap(), model.metadata());

    // Layout, as any safetensors reader sees it.
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let dtype = match model.dtype() {
        Dtype::F32 => safetensors::Dtype::F32,
        Dtype::F64 => safetensors::Dtype::F64,
    };
    let meta = model.metadata();
    let widths: Vec<usize> = serde_json::from_value(meta["mlp"]["widths"].clone()).unwrap();
    assert_eq!(widths[0], model.param_dim());
    assert_eq!(*widths.last().unwrap(), model.latent_dim());
    assert_eq!(st.len(), 2 * (widths.len() - 1) + model.shapes().len());
    for (i, w) in widths.windows(2).enumerate() {
        assert_eq!(st.tensor(&format!("mlp.{i}.weight")).unwrap().shape(), [w[0], w[1]]);
        assert_eq!(st.tensor(&format!("mlp.{i}.bias")).unwrap().shape(), [1, w[1]]);
    }
    for (name, &(rows, cols)) in model.operation().components().iter().zip(model.shapes()) {
        assert_eq!(st.tensor(&format!("latent.{name}")).unwrap().shape(), [model.latent_dim(), rows * cols]);
    }
    assert!(st.tensors().iter().all(|(_, t)| t.dtype() == dtype));
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let info = header.metadata().as_ref().unwrap();
    assert_eq!(info["format"], "neumatc");
    assert_eq!(info["formatVersion"], FORMAT_VERSION.to_string());
    assert_eq!(serde_json::from_str::<Value>(&info["neumatc"]).unwrap(), meta);

    // The metadata.
    assert_eq!(meta["formatVersion"], FORMAT_VERSION);
    assert_eq!(meta["libraryVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(meta["operation"], model.operation().name());
    assert_eq!(meta["dtype"], model.dtype_name());
    assert_eq!(meta["device"], "cpu");
    assert_eq!(meta["latentDim"], model.latent_dim());
    assert_eq!(meta["family"], *model.family_info());
    assert_eq!(meta["report"], serde_json::to_value(model.report()).unwrap());
    assert!(meta["checksum"].as_str().unwrap().starts_with("crc32:"));
    assert!(meta.get("createdAt").is_none(), "files must be reproducible");
    let _ = std::fs::remove_dir_all(&dir);
    loaded
}

#[test]
fn round_trip_inverse_f32() {
    let model = inverse_model();
    assert_eq!(model.dtype(), Dtype::F32);
    let loaded = round_trip(model, "inverse");
    assert!(loaded.family().is_some(), "the synthetic family is rebuilt");
    assert_eq!(loaded.family().unwrap().describe(), *model.family_info());
}

#[test]
fn round_trip_svd_f64_rank_2() {
    let cfg = TrainConfig { dtype: Dtype::F64, rank: Some(2), ..tiny_cfg() };
    let model = train(&tiny_family(), Operation::Svd, &cfg).unwrap();
    let loaded = round_trip(&model, "svd");
    assert_eq!(loaded.spec().rank, 2);
    assert_eq!(loaded.shapes(), [(8, 2), (2, 1), (8, 2)]);
    assert_eq!(loaded.dtype(), Dtype::F64);
}

#[test]
fn round_trip_solve() {
    // Values without a short decimal form: the right-hand side must come back bit for bit.
    let rhs: Vec<f64> = (0..8).map(|i| (i as f64 + 1.0) / 3.0 - 0.1).collect();
    let model = train(&tiny_family(), Operation::Solve, &TrainConfig { rhs: Some(rhs.clone()), ..tiny_cfg() }).unwrap();
    let loaded = round_trip(&model, "solve");
    let back = loaded.spec().rhs.as_ref().unwrap();
    assert_eq!(back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), rhs.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
}

#[test]
fn round_trip_sampled_family() {
    // The user's matrices are not kept in the file: the family description is, and `family()` is None.
    let params: Vec<f64> = (0..40).map(|i| i as f64 / 39.0).collect();
    let fam = Family::from_samples(1, params.clone(), tiny_family().at(&params).unwrap()).unwrap();
    let model = train(&fam, Operation::Inverse, &tiny_cfg()).unwrap();
    let loaded = round_trip(&model, "sampled");
    assert!(loaded.family().is_none());
    assert_eq!(loaded.family_info()["kind"], "samples");
}

#[test]
fn save_replaces_an_existing_file() {
    let dir = scratch("replace");
    let path = dir.join("model.neumatc");
    std::fs::write(&path, b"an older file").unwrap();
    inverse_model().save(&path).unwrap();
    assert_same_model(inverse_model(), &NeuMatC::load(&path).unwrap());
    // Over a model of another operation.
    let svd = train(&tiny_family(), Operation::Svd, &TrainConfig { rank: Some(2), ..tiny_cfg() }).unwrap();
    svd.save(&path).unwrap();
    assert_eq!(NeuMatC::load(&path).unwrap().operation(), Operation::Svd);
    assert_eq!(listing(&dir), ["model.neumatc"], "temporary files left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failing_save_leaves_nothing_behind() {
    let dir = scratch("failing-save");
    std::fs::write(dir.join("keep.txt"), b"untouched").unwrap();
    // A missing directory: IO, naming the path.
    let missing = dir.join("no-such-dir").join("model.neumatc");
    let e = inverse_model().save(&missing).unwrap_err();
    assert_eq!(e.code(), "IO");
    assert!(e.to_string().contains("no-such-dir"), "{e}");
    // A path that is a directory: the rename fails, the temporary file is removed, the directory stays.
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("inside.txt"), b"x").unwrap();
    let e = inverse_model().save(&sub).unwrap_err();
    assert_eq!(e.code(), "IO");
    assert!(e.to_string().contains("sub"), "{e}");
    assert_eq!(listing(&dir), ["keep.txt", "sub"], "temporary files left behind");
    assert_eq!(listing(&sub), ["inside.txt"]);
    assert_eq!(std::fs::read(dir.join("keep.txt")).unwrap(), b"untouched");
    // A path without a file name.
    assert_eq!(inverse_model().save(Path::new("/")).unwrap_err().code(), "IO");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn io_errors_name_the_path() {
    let dir = scratch("io-errors");
    let missing = dir.join("missing.neumatc");
    for e in [NeuMatC::load(&missing).map(|_| ()).unwrap_err(), read_metadata(&missing).map(|_| ()).unwrap_err()] {
        assert_eq!(e.code(), "IO");
        assert!(e.to_string().contains("missing.neumatc"), "{e}");
        match e {
            Error::Io(io) => assert_eq!(io.kind(), std::io::ErrorKind::NotFound),
            other => panic!("{other}"),
        }
    }
    // A directory opens but cannot be read.
    let e = NeuMatC::load(&dir).map(|_| ()).unwrap_err();
    assert!(matches!(e.code(), "IO" | "FORMAT"), "{e}");
    assert!(e.to_string().contains("io-errors"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Byte ranges of a model file: the end of the header and every tensor's (start, end, name).
fn sections(bytes: &[u8]) -> (usize, Vec<(usize, usize, String)>) {
    let (n, table) = SafeTensors::read_metadata(bytes).unwrap();
    let data = 8 + n;
    let mut tensors: Vec<(usize, usize, String)> =
        table.tensors().into_iter().map(|(name, info)| (data + info.data_offsets.0, data + info.data_offsets.1, name)).collect();
    tensors.sort();
    (data, tensors)
}

#[test]
fn truncated_at_every_byte() {
    let bytes = inverse_bytes();
    let (data, tensors) = sections(bytes);
    assert_eq!(tensors.last().unwrap().1, bytes.len());
    let t = std::time::Instant::now();
    for len in 0..bytes.len() {
        let reason = format_reason(from_bytes(&bytes[..len]), &format!("truncated to {len} bytes"));
        match len {
            0 => assert!(reason.contains("empty"), "{reason}"),
            1..8 => assert!(reason.contains("too short"), "{reason}"),
            8 => assert!(reason.contains("not a neumatc model file"), "{reason}"),
            _ => assert!(reason.contains("truncated"), "at {len} (header ends at {data}): {reason}"),
        }
    }
    eprintln!(
        "truncated_at_every_byte: {} lengths (header 8..{data}, {} tensors {:?}) in {:.2} s",
        bytes.len(),
        tensors.len(),
        tensors.iter().map(|(s, e, n)| format!("{n} {s}..{e}")).collect::<Vec<_>>(),
        t.elapsed().as_secs_f64()
    );
    // read_metadata on files cut in the length, the header and each tensor.
    let dir = scratch("truncated");
    let path = dir.join("cut.neumatc");
    let mut cuts = vec![0, 3, 8, 9, data / 2, data - 1, data];
    cuts.extend(tensors.iter().map(|(s, e, _)| (s + e) / 2));
    for cut in cuts {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        format_reason(read_metadata(&path), &format!("read_metadata, cut at {cut}"));
        format_reason(NeuMatC::load(&path), &format!("load, cut at {cut}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flipped_bytes_are_detected() {
    let bytes = inverse_bytes();
    let (data, _) = sections(bytes);
    let original = predict_bits(inverse_model());
    let t = std::time::Instant::now();
    let (mut loaded, mut failed) = (0, 0);
    for pos in 0..bytes.len() {
        for mask in [0x01u8, 0x20, 0xff] {
            let mut b = bytes.to_vec();
            b[pos] ^= mask;
            match from_bytes(&b) {
                // Only a change that keeps the file equivalent may load: `1e-5` → `1E-5`, or a last digit of
                // a 17-digit float that parses to the same f64 (the checksum covers the parsed metadata).
                Ok(m) => {
                    assert!(pos < data, "a flip at {pos} in the data section went unnoticed");
                    assert_eq!(predict_bits(&m), original, "a flip at {pos} loaded a different model");
                    loaded += 1;
                }
                Err(Error::Format { reason, .. }) => {
                    if pos >= data {
                        assert!(reason.contains("checksum mismatch"), "flip at {pos}: {reason}");
                    }
                    failed += 1;
                }
                Err(e) => panic!("flip {mask:#x} at {pos}: {} ({e})", e.code()),
            }
        }
    }
    eprintln!(
        "flipped_bytes_are_detected: {} flips, {failed} FORMAT errors, {loaded} still-equivalent loads, {:.2} s",
        3 * bytes.len(),
        t.elapsed().as_secs_f64()
    );
}

#[test]
fn foreign_files_are_format_errors() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0".to_vec();
    png.extend([0u8; 64]);
    let mut random = vec![0u8; 4096];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for b in &mut random {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *b = state as u8;
    }
    let with_header = |h: &str| -> Vec<u8> {
        let mut b = (h.len() as u64).to_le_bytes().to_vec();
        b.extend(h.as_bytes());
        b
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "empty"),
        ("png", png, "not a neumatc model file"),
        ("random", random, "not a neumatc model file"),
        ("json text", br#"{"weights": [1, 2, 3], "name": "model"}"#.to_vec(), "not a neumatc model file"),
        ("zero header", vec![0; 8], "not a neumatc model file"),
        ("header not JSON", with_header("hello world!"), "not a neumatc model file"),
        ("header not UTF-8", [&2u64.to_le_bytes()[..], &[0xff, 0xfe]].concat(), "not a neumatc model file"),
        ("header a JSON array", with_header("[1, 2]  "), "not a neumatc model file"),
        ("empty safetensors", with_header("{}"), "a safetensors file but not a neumatc model (no neumatc metadata)"),
        ("other format", with_header(r#"{"__metadata__":{"format":"pt"}}"#), "no neumatc metadata"),
    ];
    let dir = scratch("foreign");
    for (what, bytes, expect) in cases {
        let reason = format_reason(from_bytes(&bytes), what);
        assert!(reason.contains(expect), "{what}: {reason}");
        let path = dir.join(format!("{}.neumatc", what.replace(' ', "-")));
        std::fs::write(&path, &bytes).unwrap();
        let e = NeuMatC::load(&path).map(|_| ()).unwrap_err();
        assert_eq!(e.code(), "FORMAT", "{what}: {e}");
        assert!(e.to_string().contains(&*path.to_string_lossy()), "the message names the file: {e}");
        format_reason(read_metadata(&path), what);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn foreign_safetensors_file() {
    let data: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    let view = TensorView::new(safetensors::Dtype::F32, vec![2, 2], &data).unwrap();
    let bytes = safetensors::serialize([("weight", view.clone())], None).unwrap();
    let reason = format_reason(from_bytes(&bytes), "foreign safetensors");
    assert_eq!(reason, "a safetensors file but not a neumatc model (no neumatc metadata)");
    let info = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes = safetensors::serialize([("weight", view)], Some(info)).unwrap();
    assert!(format_reason(from_bytes(&bytes), "pytorch safetensors").contains("no neumatc metadata"));
}

#[test]
fn huge_declared_header_lengths() {
    for n in [u64::MAX, 1 << 40, 100_000_001, 1 << 20] {
        for tail in [&b""[..], b"{\"__metadata__\":", &[0u8; 100]] {
            let mut b = n.to_le_bytes().to_vec();
            b.extend(tail);
            let reason = format_reason(from_bytes(&b), &format!("header length {n}"));
            assert!(reason.contains("larger than the file") || reason.contains("truncated"), "{n}: {reason}");
        }
    }
    // Lengths that overflow once the 8 length bytes are added.
    let mut b = (u64::MAX - 4).to_le_bytes().to_vec();
    b.extend(b"{}");
    format_reason(from_bytes(&b), "overflowing header length");
}

/// A file's tensors: name, dtype, shape, bytes.
type Tensors = Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)>;

/// A model file with `edit` applied to its neumatc metadata, its `__metadata__` and its tensors; with
/// `fix_checksum` the checksum is recomputed as the format defines it (tensors in file order — MLP layers,
/// then the latent tensors in component order — then the metadata without `checksum`, keys sorted).
fn rewrite(bytes: &[u8], fix_checksum: bool, edit: impl FnOnce(&mut Value, &mut HashMap<String, String>, &mut Tensors)) -> Vec<u8> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    let mut info = header.metadata().clone().unwrap();
    let mut meta: Value = serde_json::from_str(&info["neumatc"]).unwrap();
    let mut tensors: Tensors = st.tensors().into_iter().map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.data().to_vec())).collect();
    edit(&mut meta, &mut info, &mut tensors);
    if fix_checksum {
        let layers = meta["mlp"]["widths"].as_array().unwrap().len() - 1;
        let mut order: Vec<String> = (0..layers).flat_map(|i| [format!("mlp.{i}.weight"), format!("mlp.{i}.bias")]).collect();
        order.extend(meta["shapes"].as_array().unwrap().iter().map(|s| format!("latent.{}", s["name"].as_str().unwrap())));
        let mut hasher = crc32fast::Hasher::new();
        for name in order {
            if let Some(t) = tensors.iter().find(|t| t.0 == name) {
                hasher.update(&t.3);
            }
        }
        let mut rest = meta.clone();
        rest.as_object_mut().unwrap().remove("checksum");
        rest.sort_all_objects();
        hasher.update(rest.to_string().as_bytes());
        meta["checksum"] = format!("crc32:{:08x}", hasher.finalize()).into();
    }
    info.insert("neumatc".into(), meta.to_string());
    let views: Vec<(String, TensorView<'_>)> =
        tensors.iter().map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap())).collect();
    safetensors::serialize(views, Some(info)).unwrap()
}

fn edit_meta(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    rewrite(inverse_bytes(), false, |meta, _, _| edit(meta))
}

#[test]
fn rewrite_without_edits_loads() {
    // The helper itself: an unedited rewrite (other key order) loads as the same model.
    let m = from_bytes(&rewrite(inverse_bytes(), false, |_, _, _| {})).unwrap();
    assert_same_model(inverse_model(), &m);
    let m = from_bytes(&rewrite(inverse_bytes(), true, |_, _, _| {})).unwrap();
    assert_same_model(inverse_model(), &m);
}

#[test]
fn newer_format_version() {
    let newer = rewrite(inverse_bytes(), false, |meta, info, _| {
        info.insert("formatVersion".into(), "2".into());
        meta["formatVersion"] = 2.into();
    });
    let reason = format_reason(from_bytes(&newer), "format version 2");
    assert_eq!(reason, "format version 2 is newer than this library reads (1); upgrade neumatc");
    let dir = scratch("newer");
    let path = dir.join("v2.neumatc");
    std::fs::write(&path, &newer).unwrap();
    assert!(format_reason(read_metadata(&path), "read_metadata v2").contains("newer"));
    let _ = std::fs::remove_dir_all(&dir);
    // Only the header says 7; only the metadata says 7.
    let seven = rewrite(inverse_bytes(), false, |_, info, _| {
        info.insert("formatVersion".into(), "7".into());
    });
    assert_eq!(format_reason(from_bytes(&seven), "7"), "format version 7 is newer than this library reads (1); upgrade neumatc");
    let seven = edit_meta(|m| m["formatVersion"] = 7.into());
    assert!(format_reason(from_bytes(&seven), "inner 7").contains("format version 7 is newer"));
    let zero = edit_meta(|m| m["formatVersion"] = 0.into());
    assert!(format_reason(from_bytes(&zero), "inner 0").contains("unknown format version 0"));
    let zero = rewrite(inverse_bytes(), false, |_, info, _| {
        info.insert("formatVersion".into(), "zero".into());
    });
    assert!(format_reason(from_bytes(&zero), "zero").contains("format version"));
}

#[test]
fn inconsistent_metadata_is_named() {
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("unknown operation `transpose`", Box::new(|m| m["operation"] = "transpose".into())),
        ("spec for `svd`", Box::new(|m| m["spec"]["op"] = "svd".into())),
        ("unknown activation `swish`", Box::new(|m| m["mlp"]["activation"] = "swish".into())),
        ("unknown dtype `f16`", Box::new(|m| m["dtype"] = "f16".into())),
        ("tensor `mlp.0.weight` is F32, the model is f64", Box::new(|m| m["dtype"] = "f64".into())),
        ("unknown device `tpu`", Box::new(|m| m["device"] = "tpu".into())),
        ("domain bounds of lengths 2 and 1", Box::new(|m| m["domain"]["lo"] = json!([0.0, 0.0]))),
        ("needs finite lo ≤ hi", Box::new(|m| m["domain"]["lo"] = json!([2.0]))),
        ("invalid neumatc metadata", Box::new(|m| m["domain"]["hi"] = json!([null]))),
        ("do not end with the latent dimension", Box::new(|m| m["latentDim"] = (m["latentDim"].as_u64().unwrap() + 1).into())),
        ("tensor `mlp.0.weight` has shape", Box::new(|m| m["mlp"]["widths"][1] = 17.into())),
        ("MLP widths", Box::new(|m| m["mlp"]["widths"] = json!([1]))),
        ("a rank (3) for `inverse`", Box::new(|m| m["spec"]["rank"] = 3.into())),
        ("components [\"x\"]", Box::new(|m| m["shapes"][0]["name"] = "x".into())),
        ("component `inverse` is 9×8", Box::new(|m| m["shapes"][0]["rows"] = 9.into())),
        ("empty 0×8 matrices", Box::new(|m| m["spec"]["rows"] = 0.into())),
        ("inconsistent metadata", Box::new(|m| m["spec"]["cols"] = 9.into())),
        ("inconsistent metadata: the neumatc metadata has no format version", Box::new(|m| m["formatVersion"] = Value::Null)),
        ("invalid neumatc metadata: missing field `checksum`", Box::new(|m| drop(m.as_object_mut().unwrap().remove("checksum")))),
        ("invalid neumatc metadata: missing field `mlp`", Box::new(|m| drop(m.as_object_mut().unwrap().remove("mlp")))),
        ("invalid neumatc metadata", Box::new(|m| m["latentDim"] = (-1).into())),
        // Each change that passes the checks is caught by the checksum.
        (
            "data checksum mismatch: the file is corrupt",
            Box::new(|m| m["mlp"]["omega"] = (m["mlp"]["omega"].as_f64().unwrap() * 1.5).into()),
        ),
        ("data checksum mismatch", Box::new(|m| m["report"]["seconds"] = 1234.5.into())),
        ("data checksum mismatch", Box::new(|m| m["checksum"] = "crc32:00000000".into())),
        ("data checksum mismatch", Box::new(|m| m["device"] = "cuda:1".into())),
    ];
    for (expect, edit) in cases {
        let reason = format_reason(from_bytes(&edit_meta(edit)), expect);
        assert!(reason.contains(expect), "expected {expect:?}, got {reason:?}");
    }
}

#[test]
fn lying_sizes_fail_without_allocating() {
    // Matrices of 2^20 × 2^20 (a latent tensor of 2^40 values per latent dimension), and sizes whose
    // product overflows: refused from the metadata before anything is built.
    for n in [1u64 << 20, 1 << 32, u64::MAX] {
        let bytes = edit_meta(|m| {
            m["spec"]["rows"] = n.into();
            m["spec"]["cols"] = n.into();
            m["shapes"][0]["rows"] = n.into();
            m["shapes"][0]["cols"] = n.into();
        });
        let reason = format_reason(from_bytes(&bytes), &format!("n = {n}"));
        assert!(reason.contains("latent.inverse") || reason.contains("too large"), "{n}: {reason}");
    }
    let bytes = edit_meta(|m| {
        m["latentDim"] = (1u64 << 40).into();
        m["mlp"]["widths"] = json!([1, 16, 16, 1u64 << 40]);
    });
    assert!(format_reason(from_bytes(&bytes), "huge latentDim").contains("has shape"));
    // The family description asks for a huge family: refused before it is built.
    let fix = rewrite(inverse_bytes(), true, |m, _, _| m["family"]["options"]["n"] = 16384.into());
    assert!(format_reason(from_bytes(&fix), "huge family").contains("disagrees with the model's 8×8"));

    // A tensor table declaring huge tensors (valid offsets, data that is not there; and an overflow).
    let meta = serde_json::to_string(&inverse_model().metadata()).unwrap();
    for (shape, end) in [(json!([1u64 << 30, 1u64 << 30]), json!(1u64 << 62)), (json!([1u64 << 40, 1u64 << 40]), json!(16))] {
        let header = json!({
            "__metadata__": { "format": "neumatc", "formatVersion": "1", "neumatc": meta },
            "latent.inverse": { "dtype": "F32", "shape": shape, "data_offsets": [0, end] },
        })
        .to_string();
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend(header.as_bytes());
        b.extend([0u8; 16]);
        let reason = format_reason(from_bytes(&b), "huge table");
        assert!(reason.contains("truncated") || reason.contains("invalid safetensors header"), "{reason}");
    }
}

#[test]
fn tensors_against_the_metadata() {
    let missing = rewrite(inverse_bytes(), true, |_, _, t| t.retain(|t| t.0 != "mlp.1.bias"));
    assert_eq!(format_reason(from_bytes(&missing), "missing"), "missing tensor `mlp.1.bias`");
    let extra = rewrite(inverse_bytes(), true, |_, _, t| t.push(("extra".into(), safetensors::Dtype::F32, vec![1], vec![0; 4])));
    assert_eq!(format_reason(from_bytes(&extra), "extra"), "unexpected tensor `extra`");
    let reshaped = rewrite(inverse_bytes(), true, |_, _, t| {
        let w = t.iter_mut().find(|t| t.0 == "mlp.2.weight").unwrap();
        assert_ne!(w.2[0], w.2[1]);
        w.2 = vec![w.2[1], w.2[0]];
    });
    assert!(format_reason(from_bytes(&reshaped), "reshaped").contains("tensor `mlp.2.weight` has shape"));
    let f64s = rewrite(inverse_bytes(), true, |_, _, t| {
        let w = t.iter_mut().find(|t| t.0 == "mlp.0.bias").unwrap();
        w.1 = safetensors::Dtype::F64;
        w.2[1] /= 2;
    });
    assert!(format_reason(from_bytes(&f64s), "f64 bias").contains("tensor `mlp.0.bias` is F64"));
    // Non-finite weights behind a valid checksum.
    for bad in [f32::NAN, f32::INFINITY] {
        let nan = rewrite(inverse_bytes(), true, |_, _, t| {
            let w = t.iter_mut().find(|t| t.0 == "latent.inverse").unwrap();
            w.3[8..12].copy_from_slice(&bad.to_le_bytes());
        });
        assert_eq!(format_reason(from_bytes(&nan), "nan"), "tensor `latent.inverse` holds non-finite values (NaN or ±Inf)");
    }
    // Valid changes behind a valid checksum load: a model trained on CUDA loads on the CPU.
    let cuda = from_bytes(&rewrite(inverse_bytes(), true, |m, _, _| m["device"] = "cuda:1".into())).unwrap();
    assert_eq!(cuda.device(), DeviceSpec::Cuda(1));
    assert_eq!(predict_bits(&cuda), predict_bits(inverse_model()));
}

#[test]
fn read_metadata_reads_only_the_header() {
    let dir = scratch("read-metadata");
    let path = dir.join("model.neumatc");
    std::fs::write(&path, inverse_bytes()).unwrap();
    let meta = read_metadata(&path).unwrap();
    assert_eq!(meta, inverse_model().metadata());
    assert_eq!(meta["operation"], "inverse");
    // Corrupt data is not read: read_metadata still answers, load does not.
    let mut b = inverse_bytes().to_vec();
    *b.last_mut().unwrap() ^= 0x55;
    std::fs::write(&path, &b).unwrap();
    assert_eq!(read_metadata(&path).unwrap(), meta);
    assert!(format_reason(NeuMatC::load(&path), "corrupt data").contains("checksum"));
    // Trailing bytes.
    let mut b = inverse_bytes().to_vec();
    b.extend(b"junk");
    std::fs::write(&path, &b).unwrap();
    assert!(format_reason(read_metadata(&path), "trailing").contains("unexpected bytes"));
    assert!(format_reason(NeuMatC::load(&path), "trailing").contains("unexpected bytes"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One random change to a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Keep the first `at % (len + 1)` bytes.
    Truncate(usize),
    /// Overwrite bytes from `at % len`.
    Overwrite(usize, Vec<u8>),
    /// Insert bytes at `at % (len + 1)`.
    Insert(usize, Vec<u8>),
}

fn mutate(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for m in mutations {
        match m {
            Mutation::Truncate(at) => b.truncate(at % (b.len() + 1)),
            Mutation::Overwrite(at, new) if !b.is_empty() => {
                let start = at % b.len();
                let end = (start + new.len()).min(b.len());
                b[start..end].copy_from_slice(&new[..end - start]);
            }
            Mutation::Overwrite(..) => {}
            Mutation::Insert(at, new) => {
                let at = at % (b.len() + 1);
                b.splice(at..at, new.iter().copied());
            }
        }
    }
    b
}

#[test]
fn fuzz_mutated_files_never_panic() {
    let bytes = inverse_bytes();
    let original = predict_bits(inverse_model());
    let mutation = prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), vec(any::<u8>(), 1..16)).prop_map(|(at, b)| Mutation::Overwrite(at, b)),
        (any::<usize>(), vec(any::<u8>(), 1..16)).prop_map(|(at, b)| Mutation::Insert(at, b)),
    ];
    let config =
        ProptestConfig { cases: 256, failure_persistence: None, rng_seed: RngSeed::Fixed(20_260_501), ..ProptestConfig::default() };
    let tried = AtomicUsize::new(0);
    let (ok, format, oom) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
    let t = std::time::Instant::now();
    let result = TestRunner::new(config).run(&vec(mutation, 1..4), |mutations| {
        tried.fetch_add(1, Ordering::Relaxed);
        let b = mutate(bytes, &mutations);
        match from_bytes(&b) {
            Ok(m) => {
                prop_assert_eq!(predict_bits(&m), original.clone(), "a mutated file loaded as another model");
                ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(Error::Format { .. }) => {
                format.fetch_add(1, Ordering::Relaxed);
            }
            Err(Error::OutOfMemory { .. }) => {
                oom.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => prop_assert!(false, "{} error: {e}", e.code()),
        }
        Ok(())
    });
    eprintln!(
        "fuzz_mutated_files_never_panic: {} cases tried ({} loaded unchanged, {} FORMAT, {} OUT_OF_MEMORY) in {:.1} ms",
        tried.load(Ordering::Relaxed),
        ok.load(Ordering::Relaxed),
        format.load(Ordering::Relaxed),
        oom.load(Ordering::Relaxed),
        t.elapsed().as_secs_f64() * 1e3
    );
    result.unwrap();
    assert!(tried.load(Ordering::Relaxed) >= 256);
}
