"""Weights as safetensors files: float32 numpy arrays by name. Torch tensors are accepted by duck
typing (``detach().cpu().numpy()``), so the Lib never imports torch."""

import math
import os
from typing import Any, Dict, Mapping

import numpy as np
from safetensors.numpy import load_file, save_file

from .errors import StarlingError


def to_numpy(name: str, value: Any) -> np.ndarray:
    """One tensor as a contiguous float32 array; StarlingError if it is not real numbers or not finite."""
    if hasattr(value, "detach") and callable(value.detach):  # a torch tensor (or alike)
        value = value.detach()
        if hasattr(value, "cpu") and callable(value.cpu):
            value = value.cpu()
        value = value.numpy()
    elif not isinstance(value, np.ndarray) and hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()  # other array libraries with a .numpy()
    try:
        array = np.asarray(value)
    except Exception as error:
        raise StarlingError(f"weight {name!r} is not an array: {error}") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.iscomplexobj(array):
        raise StarlingError(f"weight {name!r} must hold real numbers, holds {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        raise StarlingError(f"weight {name!r} has values that are not finite (NaN or infinity)")
    return array


def to_arrays(weights: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    if not isinstance(weights, Mapping) and not hasattr(weights, "items"):
        raise StarlingError("weights must be a mapping from tensor name to array")
    arrays = {}
    for name, value in weights.items():
        if not isinstance(name, str) or not name:
            raise StarlingError(f"a weight name must be a non-empty string, not {name!r}")
        arrays[name] = to_numpy(name, value)
    if not arrays:
        raise StarlingError("no weights to submit")
    return arrays


def write(path: str, arrays: Dict[str, np.ndarray]) -> None:
    """Writes a safetensors file atomically (a temporary file renamed over the path)."""
    partial = f"{path}.partial"
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save_file(arrays, partial)
        os.replace(partial, path)
    except OSError as error:
        raise StarlingError(f"cannot write the update {path}: {error.strerror or error}") from None


def read(path: str) -> Dict[str, np.ndarray]:
    """Reads a safetensors file as float32 arrays by name."""
    try:
        tensors = load_file(path)
    except FileNotFoundError:
        raise StarlingError(f"the global model {path} does not exist") from None
    except Exception as error:
        raise StarlingError(f"cannot read the global model {path}: {error}") from None
    arrays = {}
    for name, value in tensors.items():
        array = np.asarray(value, dtype=np.float32)
        arrays[name] = array if array.flags.writeable else array.copy()  # safe to update in place
    return arrays


def metric_values(metrics: Mapping[str, Any]) -> Dict[str, float]:
    """Metrics as finite floats by name (numpy and torch scalars are converted with float())."""
    values = {}
    for name, value in (metrics or {}).items():
        if not isinstance(name, str) or not name:
            raise StarlingError(f"a metric name must be a non-empty string, not {name!r}")
        if hasattr(value, "item") and callable(value.item):
            value = value.item()
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise StarlingError(f"metric {name!r} is not a number: {value!r}") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise StarlingError(f"metric {name!r} must be a finite number, is {value!r}")
        values[name] = number
    return values
