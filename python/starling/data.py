"""The worker's local data file: csv (numeric columns, label last, optional header) or npz."""

import io
from typing import NamedTuple, Optional

import numpy as np

from .errors import StarlingError


class Dataset(NamedTuple):
    x: np.ndarray  # float32, (n, d)
    y: np.ndarray  # int64, (n,)


def dataset(path: Optional[str] = None, format: Optional[str] = None) -> Dataset:
    """Loads the worker's data: STARLING_DATASET_PATH in STARLING_DATASET_FORMAT unless a path (and
    format: csv or npz, else taken from the file name) is given. Returns (x, y): x float32 of shape
    (n, d) (npz arrays of more dimensions are flattened to d), y int64 of shape (n,)."""
    if path is None:
        from .context import context

        ctx = context()
        path, format = ctx.dataset_path, format or ctx.dataset_format
    if format is None:
        format = "npz" if str(path).endswith(".npz") else "csv"
    if format == "csv":
        return _load_csv(path)
    if format == "npz":
        return _load_npz(path)
    raise StarlingError(f"unknown dataset format {format!r} (csv or npz)")


def _labels(values: np.ndarray, path: str) -> np.ndarray:
    if values.size and not np.all(np.isfinite(values)):
        raise StarlingError(f"{path}: a label is not a finite number")
    labels = values.astype(np.int64)
    if not np.array_equal(labels, values):
        raise StarlingError(f"{path}: labels must be integers (the last column of a csv, y of an npz)")
    return labels


def _load_csv(path: str) -> Dataset:
    try:
        with open(path, "r", encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise StarlingError(f"cannot read the dataset {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise StarlingError(f"{path}: not a text csv file") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and not _numeric_row(lines[0]):
        lines = lines[1:]  # a header
    if not lines:
        raise StarlingError(f"{path}: no rows")
    try:
        table = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise StarlingError(f"{path}: not a numeric csv ({error})") from None
    if table.shape[1] < 2:
        raise StarlingError(f"{path}: needs at least one feature column and the label column")
    return Dataset(np.ascontiguousarray(table[:, :-1], dtype=np.float32), _labels(table[:, -1], path))


def _numeric_row(line: str) -> bool:
    try:
        for field in line.split(","):
            float(field)
    except ValueError:
        return False
    return True


def _load_npz(path: str) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in ("x", "y") if name not in archive.files]
            if missing:
                raise StarlingError(f"{path}: no array named {' or '.join(repr(m) for m in missing)} (needs x and y)")
            x, y = archive["x"], archive["y"]
    except StarlingError:
        raise
    except (OSError, ValueError) as error:
        raise StarlingError(f"cannot read the dataset {path}: {error}") from None
    if x.ndim < 1 or y.ndim < 1:
        raise StarlingError(f"{path}: x and y must be arrays with one row per sample")
    n = x.shape[0]
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1 or y.shape[0] != n:
        raise StarlingError(f"{path}: y must have one label per row of x ({n}), has shape {y.shape}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_) or np.iscomplexobj(x):
        raise StarlingError(f"{path}: x must be real numbers, is {x.dtype}")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_) or np.iscomplexobj(y):
        raise StarlingError(f"{path}: y must be integer labels, is {y.dtype}")
    features = x.reshape(n, -1) if x.ndim != 2 else x
    labels = y.astype(np.int64) if (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_) else _labels(y.astype(np.float64), path)
    return Dataset(np.ascontiguousarray(features, dtype=np.float32), labels)
