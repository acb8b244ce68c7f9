"""Evaluation workers of an IncrementalLearningJob (docs/workers.md, "Evaluation workers
(IncrementalLearningJob)"): the peer starts the job's eval worker script with STARLING_ROLE=eval on a
CSV of its evaluation rows, STARLING_EVAL_MODELS (model name -> safetensors path, e.g. candidate and
deployed) and STARLING_EVAL_OUTPUT. The script hands its predict function to evaluate(), which writes
one confusion matrix per model there and ends the process: the peer computes the metrics itself, and
no row leaves it.

    {"models": {"candidate": {"confusion": [[...], ...]}, "deployed": {...}}}

Row t, column p of a matrix counts the rows of true class t predicted as class p.
"""

import json
import os
import sys
from typing import Any, Callable, Dict

import numpy as np

from . import constants, tensors
from .context import EVAL, context
from .data import dataset
from .errors import StarlingError

Predictor = Callable[[Dict[str, np.ndarray], np.ndarray], Any]


def is_model_evaluator() -> bool:
    """True in a process the peer started to evaluate a job's models (STARLING_ROLE=eval)."""
    return context().role == EVAL


def evaluate(predict: Predictor, exit_when_done: bool = True) -> bool:
    """In an evaluation worker (STARLING_ROLE=eval): loads the evaluation rows (starling.dataset()),
    and for each model of STARLING_EVAL_MODELS reads its weights ({name: float32 array}) and calls
    predict(weights, x) with x float32 (n, f); predict returns the classes (n,) or scores (n, classes),
    of which each row's largest is the class (numpy, lists or a torch tensor). Then it writes the
    confusion matrices (classes: the largest label or prediction + 1) to STARLING_EVAL_OUTPUT
    atomically and exits the process with status 0 (exit_when_done), or returns True. If predict
    raises, or returns something else, the message goes to standard error and the process exits with
    status 1, which the peer reports as the evaluation's failure. In any other role it returns False at
    once, so a script calls it first thing and goes on to serve() or rounds() when it returns."""
    ctx = context()
    if ctx.role != EVAL:
        return False
    try:
        x, y = dataset()
        if y.size and y.min() < 0:
            raise StarlingError(f"the evaluation rows have a negative label ({int(y.min())})")
        matrices = {}
        for name, path in sorted(ctx.eval_models.items()):
            weights = tensors.read(path)
            try:
                predictions = predict(weights, x)
            except Exception as error:
                raise StarlingError(f"model {name}: predict raised {type(error).__name__}: {error}") from None
            matrices[name] = confusion(y, classes_of(predictions, len(y), name))
        write(ctx.eval_output, matrices)
    except StarlingError as error:
        print(f"starling: evaluation failed: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    if exit_when_done:
        sys.exit(0)
    return True


def classes_of(predictions: Any, count: int, name: str = "the model") -> np.ndarray:
    """The class of each of `count` examples: predictions as classes (n,), or the largest of scores (n, k)."""
    if hasattr(predictions, "detach") and callable(predictions.detach):  # a torch tensor, without importing torch
        predictions = predictions.detach().cpu().numpy()
    try:
        array = np.asarray(predictions)
    except Exception as error:
        raise StarlingError(f"model {name}: predict returned something that is not an array: {error}") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.iscomplexobj(array):
        raise StarlingError(f"model {name}: predict returned {array.dtype} values, not numbers")
    if array.ndim == 2 and array.shape[0] == count and array.shape[1] >= 1:
        if not np.all(np.isfinite(array)):
            raise StarlingError(f"model {name}: predict returned a score that is not finite")
        return array.argmax(axis=1).astype(np.int64)
    if array.ndim == 1 and array.shape[0] == count:
        if array.size and not np.all(np.isfinite(array)):
            raise StarlingError(f"model {name}: predict returned a class that is not finite")
        classes = array.astype(np.int64)
        if not np.array_equal(classes, array) or (classes.size and classes.min() < 0):
            raise StarlingError(f"model {name}: predict returned classes that are not whole numbers of 0 or more")
        return classes
    raise StarlingError(f"model {name}: predict returned shape {list(array.shape)} for {count} examples; "
                        f"classes [{count}] or scores [{count}, classes] are needed")


def confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """The matrix of truth against predicted, of the largest label or prediction + 1 classes."""
    truth = np.asarray(truth, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    classes = int(max(truth.max(initial=-1), predicted.max(initial=-1))) + 1
    if classes > constants.EVAL_CLASSES_MAX:
        raise StarlingError(f"class {classes - 1} is beyond the {constants.EVAL_CLASSES_MAX} classes an evaluation may have")
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def write(path: str, matrices: Dict[str, np.ndarray]) -> None:
    """Writes the result file atomically (a temporary file renamed over the path)."""
    text = json.dumps({"models": {name: {"confusion": matrix.tolist()} for name, matrix in matrices.items()}},
                      separators=(",", ":"))
    partial = f"{path}.partial"
    try:
        with open(partial, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(partial, path)
    except OSError as error:
        raise StarlingError(f"cannot write the evaluation result {path}: {error.strerror or error}") from None
