#!/usr/bin/env python3
"""Flower's FedAvg aggregation alone: N updates of one float32 array of P values, sample counts
100 + 7k, built before timing. --function aggregate (default) times
flwr.server.strategy.aggregate.aggregate on (ndarrays, count) pairs; --function inplace times
aggregate_inplace, which FedAvg's aggregate_fit calls by default (inplace=True), on FitRes whose
parameters are serialized as on the wire, so its time includes their deserialization.
Best of --repeat by CPU time (time.process_time(), as the other baselines); its wall time too.
Prints one JSON line shaped like starling-bench's."""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402,F401  (sets FLWR_TELEMETRY_ENABLED=0, FLWR_DISABLE_UPDATE_CHECK=1)

import numpy as np  # noqa: E402
import flwr  # noqa: E402
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters  # noqa: E402
from flwr.server.strategy.aggregate import aggregate, aggregate_inplace  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--updates", type=int, required=True)
parser.add_argument("--parameters", type=int, required=True)
parser.add_argument("--repeat", type=int, default=3)
parser.add_argument("--function", choices=["aggregate", "inplace"], default="aggregate")
args = parser.parse_args()

n, p = args.updates, args.parameters
base = (np.arange(p, dtype=np.int64) & 1023).astype(np.float32) * np.float32(0.0009765625)
counts = [100 + 7 * k for k in range(n)]


def build():
    """Fresh inputs for one timed call (aggregate_inplace overwrites what it is given)."""
    if args.function == "aggregate":
        return [([base + np.float32(k * 0.001)], counts[k]) for k in range(n)]
    ok = Status(code=Code.OK, message="")
    return [(None, FitRes(status=ok, parameters=ndarrays_to_parameters([base + np.float32(k * 0.001)]),
                          num_examples=counts[k], metrics={})) for k in range(n)]


function = aggregate if args.function == "aggregate" else aggregate_inplace
best, best_wall = float("inf"), 0.0
for _ in range(args.repeat):
    results = build()
    wall, start = time.perf_counter(), time.process_time()
    out = function(results)
    cpu = time.process_time() - start
    wall = time.perf_counter() - wall
    if cpu < best:
        best, best_wall = cpu, wall
    del results
assert len(out) == 1 and out[0].shape == (p,)
weights = np.array(counts, dtype=np.float64) / sum(counts)
expected = float(base[1]) + float(np.dot(weights, np.arange(n) * 0.001))
assert abs(float(out[0][1]) - expected) < 1e-4, (float(out[0][1]), expected)
print(json.dumps({
    "benchmark": "aggregate", "impl": "flower-aggregate" if args.function == "aggregate"
    else "flower-aggregate-inplace", "updates": n, "parameters": p,
    "seconds": best, "wall_seconds": best_wall, "gbps": n * p * 4 / best / 1e9,
    "dtype": str(out[0].dtype), "flwr": flwr.__version__, "numpy": np.__version__,
    "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
}, separators=(",", ":")))
