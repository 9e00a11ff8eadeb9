#!/usr/bin/env bash
# The GPU check program: build and pack it here (no GPU needed), run it on a GPU machine that has only the
# NVIDIA driver and the CUDA 13 libraries (no Rust, no Node, no internet).
#
#   bash tools/gpu-check.sh build   # here: CUDA toolkit from PyPI (tools/cuda-toolchain.sh), cargo build
#                                   # --features cuda --example gpu_check, packed as pack/gpu-check.tar.xz (< 64 MiB)
#   bash tools/gpu-check.sh run [gpu_check options]
#                                   # there, from the repository root: unpacks, finds the CUDA libraries,
#                                   # runs the tests + benchmark, writes gpu-<date>-<machine>.json to $OUT
#                                   # (or bench/results), exit 1 if a correctness test failed
#
# gpu_check options: --quick, --only tests,table13,table4,table5, --max-n 4096, --device N, --machine NAME.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=pack/gpu-check.tar.xz

build() {
  bash tools/cuda-toolchain.sh
  # shellcheck disable=SC1091
  source .cuda/env.sh
  echo "== cargo build --features cuda --example gpu_check (first build: candle-kernels takes 10-15 min on 2 cores)"
  CARGO_TARGET_DIR=target/cuda cargo build --release -p neumatc --features cuda --example gpu_check
  local bin=target/cuda/release/examples/gpu_check
  rm -rf pack/gpu-check && mkdir -p pack/gpu-check
  cp "$bin" pack/gpu-check/gpu_check
  strip pack/gpu-check/gpu_check 2>/dev/null || true
  tar -C pack -cJf "$pack" gpu-check
  local size
  size=$(stat -c %s "$pack")
  echo "== $pack: $((size / 1024 / 1024)) MiB ($size bytes); needs: $(readelf -d "$bin" | awk '/NEEDED/ {gsub(/[\[\]]/, "", $5); printf "%s ", $5}')"
  if (( size > 64 * 1024 * 1024 )); then
    echo "the pack is over the 64 MiB a GPU run can carry" >&2
    exit 1
  fi
}

# Directories holding the CUDA libraries on this machine: the loader cache, the usual toolkit places and
# any Python environment's nvidia wheels.
cuda_lib_dirs() {
  {
    ldconfig -p 2>/dev/null | awk '/lib(cuda|cublas|cublasLt|curand|nvrtc|cudart|cusolver|cusparse|nvJitLink)\.so/ {print $NF}' | xargs -r -n1 dirname
    ls -d /usr/local/cuda*/lib64 /usr/local/cuda*/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu 2>/dev/null
    for py in python3 /usr/bin/python3; do
      command -v "$py" > /dev/null || continue
      "$py" - <<'PY' 2>/dev/null || true
import glob, site, sys
roots = list(getattr(site, "getsitepackages", lambda: [])()) + [site.getusersitepackages()] + sys.path
for r in roots:
    for d in glob.glob(r + "/nvidia/*/lib") + glob.glob(r + "/nvidia/cu*/lib"):
        print(d)
PY
    done
    find / -xdev \( -name 'libcusolver.so.12' -o -name 'libcublasLt.so.13' \) -printf '%h\n' 2>/dev/null | head -20
  } | awk 'NF && !seen[$0]++'
}

run() {
  [[ -f "$pack" ]] || { echo "no $pack: run 'bash tools/gpu-check.sh build' on the build machine and carry it" >&2; exit 2; }
  local dir
  dir=$(mktemp -d)
  tar -C "$dir" -xJf "$pack"
  local libs
  libs=$(cuda_lib_dirs | paste -sd: -)
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "== nvidia-smi"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
  echo "== libraries"; ldd "$dir/gpu-check/gpu_check" | grep -E 'cuda|cublas|curand|nvrtc|cusolver|cusparse|nvJitLink|not found' || true
  if ldd "$dir/gpu-check/gpu_check" | grep -q 'not found'; then
    echo "missing CUDA libraries (searched: $libs)" >&2
    exit 4
  fi
  local out="${OUT:-bench/results}"
  mkdir -p "$out"
  "$dir/gpu-check/gpu_check" --out "$out" "$@"
}

case "${1:-}" in
  build) build ;;
  run) shift; run "$@" ;;
  libs) cuda_lib_dirs ;;
  *) echo "usage: bash tools/gpu-check.sh build | run [gpu_check options] | libs" >&2; exit 2 ;;
esac
