"""Times NumPy/SciPy on the same matrices the Rust suite (paper_suite) uses, in the same run.

    python bench/numpy_ops.py OP FILE BATCH ROWS COLS [--reps R] [--rank R] [--rhs FILE]

FILE holds BATCH * ROWS * COLS little-endian float64 values (row-major, batch-major), as the suite
writes them. OP is one of inv, solve, svd, qr, cholesky, eigh, expm. Prints one JSON object: the NumPy
version and BLAS, the median seconds per matrix over the whole stacked batch (NumPy's own batched
call, one warm-up first, at the faster of all BLAS threads and one), and the error of NumPy's answer in the paper's metric for that operation
(machine precision expected: it shows the timing computed the right thing).
"""
import argparse
import json
import time

import numpy as np
import scipy
import scipy.linalg


def median_time(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def best_time(fn, reps):
    """Median seconds of `fn` at NumPy's best BLAS thread count: all cores, or one. On small VMs
    OpenBLAS's threads can lose to one thread (measured here: a 1024² inverse takes 250 ms on 2 threads,
    100 ms on 1), and a baseline is timed at its best settings."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return median_time(fn, reps), "default"
    results = []
    for threads in (None, 1):
        with threadpool_limits(limits=threads, user_api="blas"):
            results.append((median_time(fn, reps), threads or "all"))
    return min(results, key=lambda r: r[0])


def blas_name():
    try:
        from threadpoolctl import threadpool_info

        info = [f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, {p.get('num_threads')} threads)"
                for p in threadpool_info() if p.get("user_api") == "blas"]
        info.sort()
        if info:
            return "; ".join(info)
    except ImportError:
        pass
    cfg = np.show_config(mode="dicts")
    return cfg.get("Build Dependencies", {}).get("blas", {}).get("name", "unknown")


def rel(num, den):
    """Mean over the batch of ‖num_i‖²_F / ‖den_i‖²_F."""
    n2 = np.sum(num * num, axis=tuple(range(1, num.ndim)))
    d2 = np.sum(den * den, axis=tuple(range(1, den.ndim)))
    return float(np.mean(n2 / d2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("op", choices=["inv", "solve", "svd", "qr", "cholesky", "eigh", "expm"])
    ap.add_argument("file")
    ap.add_argument("batch", type=int)
    ap.add_argument("rows", type=int)
    ap.add_argument("cols", type=int)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rank", type=int, default=0, help="svd: score the leading RANK triplets (0: all)")
    ap.add_argument("--rhs", help="solve: file of COLS float64 values (one b for every matrix)")
    args = ap.parse_args()
    a = np.fromfile(args.file, dtype="<f8").reshape(args.batch, args.rows, args.cols)
    n = args.cols
    eye = np.eye(n)
    if args.op == "inv":
        fn = lambda: np.linalg.inv(a)
        err = lambda g: rel(a @ g - eye, np.broadcast_to(eye, a.shape))
    elif args.op == "solve":
        b = np.fromfile(args.rhs, dtype="<f8") if args.rhs else np.ones(n)
        bb = np.broadcast_to(b[:, None], (args.batch, n, 1)).copy()
        fn = lambda: np.linalg.solve(a, bb)
        err = lambda x: rel(a @ x - bb, bb)
    elif args.op == "svd":
        fn = lambda: np.linalg.svd(a, full_matrices=False)

        def err(r):
            u, s, vt = r
            k = args.rank or s.shape[-1]
            return rel((u[..., :k] * s[..., None, :k]) @ vt[..., :k, :] - a, a)
    elif args.op == "qr":
        fn = lambda: np.linalg.qr(a)
        err = lambda r: rel(r[0] @ r[1] - a, a)
    elif args.op == "cholesky":
        fn = lambda: np.linalg.cholesky(a)
        err = lambda l: rel(l @ np.swapaxes(l, -1, -2) - a, a)
    elif args.op == "eigh":
        fn = lambda: np.linalg.eigh(a)
        err = lambda r: rel((r[1] * r[0][..., None, :]) @ np.swapaxes(r[1], -1, -2) - a, a)
    else:
        fn = lambda: scipy.linalg.expm(a)
        # Against a second, independent evaluation: expm of the transpose, transposed back.
        err = lambda e: rel(e - np.swapaxes(scipy.linalg.expm(np.swapaxes(a, -1, -2)), -1, -2), e)
    seconds, threads = best_time(fn, args.reps)
    print(json.dumps({"numpy": np.__version__, "scipy": scipy.__version__, "blas": blas_name(), "op": args.op,
                      "batch": args.batch, "secondsPerMatrix": seconds / args.batch, "blasThreads": threads,
                      "relErr": err(fn())}))


if __name__ == "__main__":
    main()
