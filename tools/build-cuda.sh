#!/usr/bin/env bash
# The opt-in CUDA addon: ts/cuda/neumatc.<platform>.node, copied to dist/cuda/ by build:ts and loaded
# with NEUMATC_BACKEND=cuda (or auto). Needs the CPU build first (`npm run build`): the loader, the
# typings and dist/ come from it; this build writes neither ts/native.js nor ts/native.d.ts.
#
#   npm run build:cuda
#
# Cargo builds into target/cuda so the CUDA artifacts never replace the CPU addon's in target/release.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/cuda-toolchain.sh
# shellcheck source=/dev/null
source .cuda/env.sh
# --dts is relative to --output-dir: the type file goes to target/cuda/, thrown away (it equals ts/native.d.ts).
npx napi build --platform --release --features cuda \
  --manifest-path crates/neumatc-node/Cargo.toml --target-dir target/cuda \
  --output-dir ts/cuda --no-js --dts ../../target/cuda/native.d.ts
npm run build:ts
