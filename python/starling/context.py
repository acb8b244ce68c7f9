"""The environment a peer sets for its worker, read once and checked."""

import dataclasses
import json
import os
import re
from typing import Any, Dict, Mapping, Optional

from .errors import StarlingError

_TASK_ID = re.compile(r"[0-9a-f]{64}")
_FORMATS = ("csv", "npz")

#: STARLING_ROLE values: training workers, central evaluators, inference workers (serve()), and an
#: IncrementalLearningJob's evaluation workers (evaluate()).
TRAIN, EVALUATE, EDGE, CLOUD, EVAL = "train", "evaluate", "edge", "cloud", "eval"
ROLES = (TRAIN, EVALUATE, EDGE, CLOUD, EVAL)
SERVING_ROLES = (EDGE, CLOUD)


@dataclasses.dataclass(frozen=True)
class Context:
    """Everything the peer told the worker through its environment."""

    socket: str  # STARLING_SOCKET
    task: str  # STARLING_TASK: 64 lowercase hex
    task_name: str  # STARLING_TASK_NAME
    worker: str  # STARLING_WORKER
    token: str = dataclasses.field(repr=False)  # STARLING_WORKER_TOKEN: never printed
    dataset: str = ""  # STARLING_DATASET
    dataset_path: str = ""  # STARLING_DATASET_PATH
    dataset_format: str = "csv"  # STARLING_DATASET_FORMAT: csv or npz
    work_dir: str = ""  # STARLING_WORK_DIR
    parameters: Dict[str, Any] = dataclasses.field(default_factory=dict)  # STARLING_PARAMETERS
    model_name: str = ""  # STARLING_MODEL_NAME (may be empty)
    seed: int = 0  # STARLING_SEED
    role: str = "train"  # STARLING_ROLE: train, evaluate (central evaluation), edge or cloud (serve()), eval (evaluate())
    service: str = ""  # STARLING_SERVICE: the service an inference worker serves
    eval_models: Dict[str, str] = dataclasses.field(default_factory=dict)  # STARLING_EVAL_MODELS: name -> safetensors path
    eval_output: str = ""  # STARLING_EVAL_OUTPUT: the result file an evaluation worker writes


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if value is None or value == "":
        raise StarlingError(f"{name} is not set: this script must be started by a Starling peer")
    return value


def context(environ: Optional[Mapping[str, str]] = None) -> Context:
    """Reads and checks the worker's environment (``os.environ`` unless another mapping is given).
    Raises StarlingError naming the first variable that is missing or malformed."""
    env = os.environ if environ is None else environ
    socket = _required(env, "STARLING_SOCKET")
    task = _required(env, "STARLING_TASK")
    if not _TASK_ID.fullmatch(task):
        raise StarlingError(f"STARLING_TASK is not a task id (64 lowercase hex characters): {task[:80]!r}")
    task_name = _required(env, "STARLING_TASK_NAME")
    worker = _required(env, "STARLING_WORKER")
    token = _required(env, "STARLING_WORKER_TOKEN")
    role = env.get("STARLING_ROLE", TRAIN) or TRAIN
    if role not in ROLES:
        raise StarlingError(f"STARLING_ROLE must be one of {', '.join(ROLES)}, not {role[:80]!r}")
    if role in SERVING_ROLES:  # serving needs no dataset: these may be empty or absent
        dataset = env.get("STARLING_DATASET", "")
        dataset_path = env.get("STARLING_DATASET_PATH", "")
        dataset_format = env.get("STARLING_DATASET_FORMAT", "") or "csv"
    else:
        dataset = _required(env, "STARLING_DATASET")
        dataset_path = _required(env, "STARLING_DATASET_PATH")
        dataset_format = _required(env, "STARLING_DATASET_FORMAT")
    if dataset_format not in _FORMATS:
        raise StarlingError(f"STARLING_DATASET_FORMAT must be csv or npz, not {dataset_format[:80]!r}")
    work_dir = _required(env, "STARLING_WORK_DIR")
    raw_parameters = _required(env, "STARLING_PARAMETERS")
    try:
        parameters = json.loads(raw_parameters)
    except ValueError as error:
        raise StarlingError(f"STARLING_PARAMETERS is not JSON: {error}") from None
    if not isinstance(parameters, dict):
        raise StarlingError("STARLING_PARAMETERS is not a JSON object")
    eval_models, eval_output = {}, ""
    if role == EVAL:
        raw_models = _required(env, "STARLING_EVAL_MODELS")
        try:
            eval_models = json.loads(raw_models)
        except ValueError as error:
            raise StarlingError(f"STARLING_EVAL_MODELS is not JSON: {error}") from None
        if (not isinstance(eval_models, dict) or not eval_models
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in eval_models.items())):
            raise StarlingError(f"STARLING_EVAL_MODELS is not a JSON object of model names and paths: {raw_models[:80]!r}")
        eval_output = _required(env, "STARLING_EVAL_OUTPUT")
    raw_seed = _required(env, "STARLING_SEED")
    try:
        seed = int(raw_seed)
    except ValueError:
        raise StarlingError(f"STARLING_SEED is not an integer: {raw_seed[:80]!r}") from None
    return Context(
        role=role,
        service=env.get("STARLING_SERVICE", ""),
        socket=socket,
        task=task,
        task_name=task_name,
        worker=worker,
        token=token,
        dataset=dataset,
        dataset_path=dataset_path,
        dataset_format=dataset_format,
        work_dir=work_dir,
        parameters=parameters,
        model_name=env.get("STARLING_MODEL_NAME", ""),
        seed=seed,
        eval_models=eval_models,
        eval_output=eval_output,
    )


def role() -> str:
    """STARLING_ROLE: train, evaluate, edge or cloud in an inference worker, or eval in an evaluation worker."""
    return context().role


def service() -> str:
    """STARLING_SERVICE: the service an inference worker serves ("" in other workers)."""
    return context().service


def parameters() -> Dict[str, Any]:
    """The task's worker parameters (STARLING_PARAMETERS): batch_size, learning_rate, epochs, rounds,
    aggregation, proximal_mu, and the spec's other parameters (the worker's own, then the aggregation
    worker's custom ones): numbers as numbers, true/false as booleans, other text as strings, a key
    given without a value as None. A fresh dict every call."""
    return dict(context().parameters)
