"""The application's client of a JointInferenceService (docs/workers.md, "Calling a service"): the
Open Inference Protocol v2 (KServe / Triton REST) over HTTP, JSON tensors, with urllib only.

    result = starling.infer("digits", x)          # x: [n, f] numbers
    result.classes, result.scores, result.computed_at
"""

import dataclasses
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional

import numpy as np

from . import constants
from .errors import StarlingError


@dataclasses.dataclass(frozen=True)
class InferenceResult:
    """One answer of the service."""

    scores: np.ndarray  # float32 [n, K]: per example, class probabilities
    classes: np.ndarray  # int64 [n]: per example, the class chosen
    computed_at: List[str]  # per example: "edge", "cloud" or "edge-fallback"
    version: Optional[str]  # the answer's model_version (None when the service gave none)
    parameters: Dict[str, Any]  # the answer's parameters: computed_at (one word, or "mixed"), fallback_reason on fallback


def infer(service: str, x: Any, url: str = constants.DEFAULT_INFERENCE_URL,
          timeout: float = constants.INFERENCE_TIMEOUT) -> InferenceResult:
    """Sends x ([n, f] numbers, or [f] for one example) to POST {url}/v2/models/{service}/infer as
    one FP32 input named "input" and returns the answer. A refusal raises StarlingError with the
    server's {"error"} text and its HTTP status (error.status); no answer raises it with status None."""
    array = np.asarray(x, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] < 1:
        raise StarlingError(f"x must be [examples, features] (or [features] for one example), has shape {list(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise StarlingError("x has values that are not finite (NaN or infinity)")
    body = {"inputs": [{"name": "input", "shape": list(array.shape), "datatype": "FP32",
                        "data": array.reshape(-1).tolist()}]}
    address = f"{url.rstrip('/')}/v2/models/{urllib.parse.quote(service, safe='')}/infer"
    request = urllib.request.Request(address, data=json.dumps(body, separators=(",", ":")).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        raise StarlingError(f"the service {service} refused the request ({error.code}): {_error_text(error)}",
                            status=error.code) from None
    except urllib.error.URLError as error:
        raise StarlingError(f"cannot reach the service {service} at {address}: {error.reason}") from None
    except (socket.timeout, TimeoutError):
        raise StarlingError(f"the service {service} did not answer within {timeout:g} s") from None
    return _result(service, text, len(array))


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read().decode("utf-8"))
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return body["error"]
    except Exception:
        pass
    return str(error.reason)


def _result(service: str, text: bytes, count: int) -> InferenceResult:
    try:
        answer = json.loads(text.decode("utf-8"))
    except ValueError:
        raise StarlingError(f"the service {service}'s answer is not JSON: {text[:200]!r}") from None
    outputs = {output.get("name"): output for output in answer.get("outputs", []) if isinstance(output, dict)} \
        if isinstance(answer, dict) else {}
    missing = [name for name in ("scores", "class", "computed_at") if name not in outputs]
    if missing:
        raise StarlingError(f"the service {service}'s answer lacks the output(s) {', '.join(missing)}: {text[:200]!r}")
    try:
        scores = np.asarray(outputs["scores"]["data"], dtype=np.float32).reshape(outputs["scores"]["shape"])
        classes = np.asarray(outputs["class"]["data"], dtype=np.int64).reshape(-1)
        computed_at = [str(value) for value in np.asarray(outputs["computed_at"]["data"]).reshape(-1).tolist()]
    except (KeyError, TypeError, ValueError) as error:
        raise StarlingError(f"the service {service}'s outputs are malformed: {error}") from None
    if scores.ndim != 2 or len(scores) != count or len(classes) != count or len(computed_at) != count:
        raise StarlingError(f"the service {service} answered for {len(classes)} examples, not {count}")
    version = answer.get("model_version")
    return InferenceResult(scores=scores, classes=classes, computed_at=computed_at,
                           version=None if version is None else str(version),
                           parameters=dict(answer.get("parameters") or {}))
