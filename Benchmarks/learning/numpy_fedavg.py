#!/usr/bin/env python3
"""FedAvg in numpy, the way a Python server would do it at best: the N updates already stacked in one
(N, P) float32 array (built before timing), the sample weights normalised, then one np.tensordot.
Prints one JSON line shaped like starling-bench's. OPENBLAS_NUM_THREADS (if set) is reported."""
import argparse
import json
import os
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--updates", type=int, required=True)
parser.add_argument("--parameters", type=int, required=True)
parser.add_argument("--repeat", type=int, default=3)
args = parser.parse_args()

n, p = args.updates, args.parameters
stacked = np.empty((n, p), dtype=np.float32)
base = (np.arange(p, dtype=np.int64) & 1023).astype(np.float32) * np.float32(0.0009765625)
for k in range(n):
    stacked[k] = base + np.float32(k * 0.001)
samples = np.array([100 + 7 * k for k in range(n)], dtype=np.float64)
weights = (samples / samples.sum()).astype(np.float32)

# CPU time of the process (all BLAS threads), as starling-bench reports its thread's CPU time: on a
# shared machine other processes' time slices do not count. Wall time is reported too.
best, best_wall = float("inf"), 0.0
for _ in range(args.repeat):
    wall, start = time.perf_counter(), time.process_time()
    result = np.tensordot(weights, stacked, axes=1)
    cpu = time.process_time() - start
    if cpu < best:
        best, best_wall = cpu, time.perf_counter() - wall
assert result.shape == (p,)
print(json.dumps({
    "benchmark": "aggregate", "impl": "numpy-tensordot", "updates": n, "parameters": p,
    "seconds": best, "gbps": n * p * 4 / best / 1e9, "wall_seconds": best_wall,
    "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"), "numpy": np.__version__,
}, separators=(",", ":")))
