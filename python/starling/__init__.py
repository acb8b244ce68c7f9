"""Starling's Python Lib for training workers.

    import starling
    x, y = starling.dataset()
    params = starling.parameters()
    for rnd in starling.rounds():
        weights = rnd.global_weights()      # None in round 1
        ...
        rnd.submit(weights, num_samples=len(x), metrics={"loss": loss})

See docs/workers.md.
"""

from . import constants
from .context import Context, context, parameters
from .data import Dataset, dataset
from .errors import StarlingError
from .evaluation import is_evaluator, serve_evaluations
from .rounds import Round, rounds

__version__ = "0.1.0"

__all__ = [
    "Context", "Dataset", "Round", "StarlingError", "constants", "context", "dataset", "is_evaluator", "parameters",
    "rounds", "serve_evaluations",
]
