"""A worker whose training is trivial: the update is the global model plus a small change.

Used by Benchmarks/round/run to measure what a round costs the peers (transfer, aggregation,
memory), not what training costs. PARAMETERS (an extra spec parameter) sets the model size.
"""
import numpy as np

import starling

params = starling.parameters()
size = int(float(params.get("parameters", 1_000_000)))
# A different change per worker, so the updates are different blobs (identical ones would be
# fetched once: blobs are content-addressed).
step = np.float32(0.001 * (1 + sum(map(ord, starling.context().worker))))
for rnd in starling.rounds():
    weights = rnd.global_weights()
    if weights is None:
        weights = {"w": np.zeros(size, dtype=np.float32)}
    weights = {name: value + step for name, value in weights.items()}
    rnd.submit(weights, num_samples=1, metrics={"loss": 1.0 / rnd.number})
