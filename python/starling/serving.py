"""Inference workers (docs/workers.md, "Inference workers"): a peer serving a JointInferenceService
starts the service's script with STARLING_ROLE edge or cloud; the script hands its predict function
to serve(), which loads each model version the peer orders and answers the peer's batches with class
probabilities, in order, on one long-lived connection:

    -> {"request":"worker-serve","task":T,"worker":W,"token":K}
    <- {"ok":true,"role":"edge","service":"NAME"}
    <- {"job":"load","version":V,"model":"/abs/path.safetensors"}    -> {"loaded":V} or {"loaded":V,"error":"..."}
    <- {"job":"infer","batch":ID,"version":V,"shape":[n,f],"data_f32":B64} -> {"batch":ID,"classes":K,"scores_f32":B64}
    (B64: base64 of little-endian float32 values, row-major; "data"/"scores" as JSON numbers are read too)
                                                                           or {"batch":ID,"error":"..."}
    <- {"job":"stop"}
"""

import base64
import json
import socket
import time
from typing import Any, Callable, Dict, Optional

import numpy as np

from . import constants, tensors
from .context import SERVING_ROLES, context
from .errors import StarlingError
from .peer import _UNREACHABLE, check_parent, orphan_exit, start_watchdog

LOAD, INFER, STOP = "load", "infer", "stop"  # the job kinds of a serving connection
KINDS = (LOAD, INFER, STOP)

Loader = Callable[[str], Any]
Predictor = Callable[[Any, np.ndarray], Any]


def serve(predict: Predictor, load: Optional[Loader] = None, softmax: bool = False) -> None:
    """Serves the peer's inference jobs until it says stop or closes the connection (then returns).

    load(path) -> model reads one model version (default: the safetensors file as a dict of float32
    numpy arrays by name). predict(model, x) gets x as a float32 array [n, f] and returns [n, K]
    scores: class probabilities, or logits with softmax=True (the Lib applies the softmax). A model
    that fails to load leaves the previous one served; an exception in predict, or scores that are
    not probabilities, become that batch's error answer; neither ends serving. A peer that runs no
    such worker (code no-worker) ends the process with status 0."""
    ctx = context()
    if ctx.role not in SERVING_ROLES:
        raise StarlingError(
            f"starling.serve() is for inference workers (STARLING_ROLE edge or cloud); this process has role {ctx.role!r}")
    start_watchdog()
    connection = _connect(ctx.socket)
    try:
        reader = connection.makefile("rb")
        hello = {"request": "worker-serve", "task": ctx.task, "worker": ctx.worker, "token": ctx.token}
        _write(connection, hello)
        welcome = _read(reader)
        if welcome is None:
            raise StarlingError("the peer closed the connection without answering worker-serve")
        if "error" in welcome:
            if welcome.get("code") == "no-worker":
                raise SystemExit(0)
            raise StarlingError(f"the peer refused worker-serve: {welcome['error']}")
        if welcome.get("ok") is not True:
            raise StarlingError(f"the peer's answer to worker-serve is not what was expected: {welcome}")
        server = Server(predict, load or tensors.read, softmax)
        while True:
            job = _read(reader)
            if job is None:
                return
            answer = server.answer(job)
            if answer is None:
                return
            _write(connection, answer)
    finally:
        connection.close()


class Server:
    """The answers to the jobs of one connection, in order (the model served is kept between them)."""

    def __init__(self, predict: Predictor, load: Loader, softmax: bool = False) -> None:
        self.predict = predict
        self.load = load
        self.softmax = softmax
        self.model: Any = None
        self.version: Optional[int] = None  # the version of the model served; None before the first load

    def answer(self, job: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The answer to one job; None for stop. A job of a kind this Lib does not know is an error."""
        kind = job.get("job")
        if kind == STOP:
            return None
        if kind == LOAD:
            version, path = job.get("version"), job.get("model")
            if not isinstance(version, int) or not isinstance(path, str):
                raise StarlingError(f"the peer's load job lacks version or model: {str(job)[:200]}")
            try:
                model = self.load(path)
            except Exception as error:
                return {"loaded": version, "error": f"cannot load {path}: {_describe(error)}"}
            self.model, self.version = model, version
            return {"loaded": version}
        if kind == INFER:
            batch = job.get("batch")
            if not isinstance(batch, int):
                raise StarlingError(f"the peer's infer job has no batch number: {str(job)[:200]}")
            try:
                data = job.get("data")
                if isinstance(job.get("data_f32"), str):
                    data = np.frombuffer(base64.b64decode(job["data_f32"], validate=True), dtype="<f4")
                classes, scores = self._score(job.get("shape"), data)
            except Exception as error:
                return {"batch": batch, "error": _describe(error)}
            scores_f32 = np.asarray(scores, dtype="<f4").tobytes()
            return {"batch": batch, "classes": classes, "scores_f32": base64.b64encode(scores_f32).decode("ascii")}
        raise StarlingError(
            f"the peer sends a serving job of kind {kind!r}, which this worker Lib does not know "
            f"(it knows {', '.join(KINDS)}): use the Lib of the peer's version")

    def _score(self, shape: Any, data: Any):
        if self.version is None:
            raise StarlingError("no model is loaded (the peer's load failed)")
        if (not isinstance(shape, list) or len(shape) != 2 or not all(isinstance(d, int) for d in shape)
                or shape[0] < 0 or shape[1] < 1 or not isinstance(data, (list, np.ndarray))
                or len(data) != shape[0] * shape[1]):
            raise StarlingError(f"shape {shape} is not [examples, features] of the "
                                f"{len(data) if isinstance(data, (list, np.ndarray)) else 'no'} values sent")
        x = np.asarray(data, dtype=np.float32).reshape(shape)
        scores = self.predict(self.model, x)
        if hasattr(scores, "detach") and callable(scores.detach):  # a torch tensor, without importing torch
            scores = scores.detach().cpu().numpy()
        scores = np.asarray(scores, dtype=np.float64)
        if scores.ndim != 2 or scores.shape[0] != shape[0] or scores.shape[1] < 1:
            raise StarlingError(f"predict returned scores of shape {list(scores.shape)} for {shape[0]} examples; "
                                f"[{shape[0]}, classes] is needed")
        if self.softmax and scores.size:
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            scores /= scores.sum(axis=1, keepdims=True)
        if not np.all(np.isfinite(scores)) or np.any(scores < 0):
            raise StarlingError("predict returned a score that is negative or not finite; class probabilities are "
                                "needed (serve logits with softmax=True)")
        sums = scores.sum(axis=1)
        off = np.nonzero(np.abs(sums - 1) > constants.PROBABILITY_SUM_TOLERANCE)[0]
        if off.size:
            raise StarlingError(f"the scores of example {off[0]} sum to {sums[off[0]]:.6g}, not 1; class probabilities "
                                "are needed (serve logits with softmax=True)")
        return int(scores.shape[1]), scores.reshape(-1)


def _describe(error: BaseException) -> str:
    if isinstance(error, StarlingError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _connect(path: str) -> socket.socket:
    """A connection to the peer's socket, tried again while nobody serves it; after
    UNREACHABLE_TIMEOUT seconds the process exits (orphan), as a training worker's does."""
    unreachable_since = None
    while True:
        check_parent()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(path)
            connection.settimeout(None)  # jobs come whenever the service has examples
            return connection
        except OSError as error:
            connection.close()
            if error.errno not in _UNREACHABLE:
                raise StarlingError(f"cannot connect to the peer at {path}: {error}") from None
            now = time.monotonic()
            unreachable_since = unreachable_since or now
            if now - unreachable_since >= constants.UNREACHABLE_TIMEOUT:
                orphan_exit(f"the peer cannot be reached at {path} for {constants.UNREACHABLE_TIMEOUT:g} s ({error.strerror})")
            time.sleep(constants.RETRY_INTERVAL)


def _write(connection: socket.socket, message: Dict[str, Any]) -> None:
    line = (json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
    connection.settimeout(constants.SERVE_ANSWER_TIMEOUT)
    try:
        connection.sendall(line)
    except socket.timeout:
        raise StarlingError(f"the peer has not read an answer for {constants.SERVE_ANSWER_TIMEOUT:g} s") from None
    finally:
        connection.settimeout(None)


def _read(reader) -> Optional[Dict[str, Any]]:
    """The next line as a JSON object; None at the end of the stream."""
    try:
        line = reader.readline(constants.SERVE_LINE_BYTES_MAX + 1)
    except ConnectionResetError:
        return None
    if not line:
        return None
    if len(line) > constants.SERVE_LINE_BYTES_MAX:
        raise StarlingError(f"the peer sent a line longer than {constants.SERVE_LINE_BYTES_MAX} bytes")
    try:
        message = json.loads(line.decode("utf-8"))
    except ValueError:
        raise StarlingError(f"the peer's serving line is not JSON: {line[:200]!r}") from None
    if not isinstance(message, dict):
        raise StarlingError(f"the peer's serving line is not a JSON object: {line[:200]!r}")
    return message
