"""A worker whose training is trivial: the update is the global model plus a small change.

Used by Benchmarks/round/run to measure what a round costs the peers (transfer, aggregation,
memory), not what training costs. PARAMETERS (an extra spec parameter) sets the model size.
"""
import numpy as np

import starling

params = starling.parameters()
size = int(float(params.get("parameters", 1_000_000)))
for rnd in starling.rounds():
    weights = rnd.global_weights()
    if weights is None:
        weights = {"w": np.zeros(size, dtype=np.float32)}
    weights = {name: value + np.float32(0.001) for name, value in weights.items()}
    rnd.submit(weights, num_samples=1, metrics={"loss": 1.0 / rnd.number})
