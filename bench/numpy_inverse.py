"""Times NumPy's inverse on the same matrices the Node benchmark uses (side by side, same run).

Reads a raw little-endian float64 file of `batch * n * n` values and prints one JSON object:
median seconds per matrix for one matrix and for the whole batch (np.linalg.inv on the stacked array),
and the paper's RelErr_inv of NumPy's result.
"""
import json
import sys

import numpy as np

from numpy_ops import median_time  # same folder: on sys.path when run as a script


def main():
    path, batch, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    a = np.fromfile(path, dtype="<f8").reshape(batch, n, n)
    one = median_time(lambda: np.linalg.inv(a[0]), 20)
    many = median_time(lambda: np.linalg.inv(a), 5) / batch
    g = np.linalg.inv(a)
    eye = np.eye(n)
    rel = float(np.mean([np.linalg.norm(a[i] @ g[i] - eye) ** 2 / n for i in range(batch)]))
    cfg = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = cfg.get("Build Dependencies", {}).get("blas", {}).get("name", "unknown") if isinstance(cfg, dict) else "unknown"
    print(json.dumps({"version": np.__version__, "blas": blas, "perMatrix1": one, "perMatrixBatch": many, "relErr": rel}))


if __name__ == "__main__":
    main()
