"""Starling's Python Lib for training workers, inference workers and the applications that call them.

    import starling
    x, y = starling.dataset()
    params = starling.parameters()
    for rnd in starling.rounds():
        weights = rnd.global_weights()      # None in round 1
        ...
        rnd.submit(weights, num_samples=len(x), metrics={"loss": loss})

An inference worker: starling.serve(predict). An IncrementalLearningJob's evaluation worker:
starling.evaluate(predict). An application: starling.infer(service, x).
See docs/workers.md.
"""

from . import constants
from .context import Context, context, parameters, role, service
from .data import Dataset, dataset
from .errors import StarlingError
from .evaluation import is_evaluator, serve_evaluations
from .inference import InferenceResult, infer
from .model_evaluation import evaluate, is_model_evaluator
from .rounds import Round, rounds
from .serving import serve

__version__ = "0.1.0"

__all__ = [
    "Context", "Dataset", "InferenceResult", "Round", "StarlingError", "constants", "context", "dataset", "evaluate",
    "infer", "is_evaluator", "is_model_evaluator", "parameters", "role", "rounds", "serve", "serve_evaluations", "service",
]
