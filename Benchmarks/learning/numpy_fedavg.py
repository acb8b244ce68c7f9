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

best = float("inf")
for _ in range(args.repeat):
    start = time.perf_counter()
    result = np.tensordot(weights, stacked, axes=1)
    best = min(best, time.perf_counter() - start)
assert result.shape == (p,)
print(json.dumps({
    "benchmark": "aggregate", "impl": "numpy-tensordot", "updates": n, "parameters": p,
    "seconds": best, "gbps": n * p * 4 / best / 1e9,
    "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"), "numpy": np.__version__,
}, separators=(",", ":")))
