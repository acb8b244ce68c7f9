"""The round loop: poll the peer, yield a Round per announced round, submit or fail it."""

import atexit
import numbers
import os
import sys
import threading
import time
import traceback
from typing import Any, Dict, Iterator, Mapping, Optional

from . import constants, evaluation, jobs, tensors
from .context import EVAL, SERVING_ROLES, Context, context
from .errors import StarlingError
from .peer import PeerClient, start_watchdog

_OPEN, _SUBMITTED, _REFUSED, _FAILED = "open", "submitted", "refused", "failed"

_lock = threading.Lock()
_current: Optional["Round"] = None  # the round the loop body is working on (or left)
_hooks_installed = False


class Round:
    """One round the peer announced to this worker. Submit it once, or fail it."""

    def __init__(self, ctx: Context, client: PeerClient, epoch: int, number: int,
                 model: Optional[str], validate: bool, deadline: float) -> None:
        self.number = number  # the round number (1, 2, ...)
        self.epoch = epoch  # the coordinator's lease epoch that announced it
        self.model = model  # path of the global model (safetensors), None in round 1
        self.validate = validate  # True: report accuracy (or another validation metric) this round
        self.deadline = deadline  # UNIX seconds after which the round closes without this worker
        self._ctx = ctx
        self._client = client
        self._state = _OPEN

    def __repr__(self) -> str:
        return (f"Round(number={self.number}, epoch={self.epoch}, model={self.model!r}, "
                f"validate={self.validate}, deadline={self.deadline})")

    def global_weights(self) -> Optional[Dict[str, Any]]:
        """The global model as float32 numpy arrays by tensor name, read from the file each call; None
        in round 1 (initialise the model from STARLING_SEED then, the same way on every worker)."""
        if self.model is None:
            return None
        return tensors.read(self.model)

    @property
    def update_path(self) -> str:
        """Where submit() writes this round's update."""
        return os.path.join(self._ctx.work_dir, f"update-{self.number}.safetensors")

    def submit(self, weights: Mapping[str, Any], num_samples: int,
               metrics: Optional[Mapping[str, Any]] = None) -> str:
        """Writes the weights (numpy arrays or torch tensors, cast to float32) to
        STARLING_WORK_DIR/update-<round>.safetensors and sends worker-submit. Returns the peer's
        message; raises StarlingError with the peer's reason when it refuses the update."""
        if self._state != _OPEN:
            raise StarlingError(f"round {self.number} was already {self._state}: a round is submitted once")
        arrays = tensors.to_arrays(weights)
        if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples < 1:
            raise StarlingError(f"num_samples must be a positive integer, not {num_samples!r}")
        values = tensors.metric_values(metrics or {})
        path = self.update_path
        tensors.write(path, arrays)
        self._state = _REFUSED  # until the peer accepts: never sent twice
        answer = self._client.request({
            "command": "worker-submit", "task": self._ctx.task, "worker": self._ctx.worker,
            "token": self._ctx.token, "epoch": self.epoch, "round": self.number,
            "update": os.path.abspath(path), "num_samples": int(num_samples), "metrics": values,
        })
        if answer.get("ok") is True:
            self._state = _SUBMITTED
            return str(answer.get("message", ""))
        if answer.get("ok") is False:
            raise StarlingError(f"round {self.number}: the peer refused the update: {answer.get('message', '')}")
        raise StarlingError(f"round {self.number}: unexpected answer to worker-submit: {answer}")

    def fail(self, reason: str) -> str:
        """Tells the peer this worker cannot finish the round (worker-fail). Returns the peer's message."""
        if self._state not in (_OPEN, _REFUSED):
            raise StarlingError(f"round {self.number} was already {self._state}")
        answer = self._send_fail(str(reason), once=False)
        if answer.get("ok") is False:
            raise StarlingError(f"round {self.number}: the peer refused worker-fail: {answer.get('message', '')}")
        return str(answer.get("message", ""))

    def _send_fail(self, reason: str, once: bool) -> Dict[str, Any]:
        self._state = _FAILED
        if len(reason) > constants.MAX_REASON_LENGTH:
            reason = reason[: constants.MAX_REASON_LENGTH - 1] + "…"
        message = {
            "command": "worker-fail", "task": self._ctx.task, "worker": self._ctx.worker,
            "token": self._ctx.token, "epoch": self.epoch, "round": self.number, "reason": reason,
        }
        return self._client.send_once(message) if once else self._client.request(message)


def _fail_quietly(rnd: Round, reason: str) -> None:
    """worker-fail in a single attempt (the process is ending); a problem is only printed."""
    try:
        rnd._send_fail(reason, once=True)
    except Exception as error:
        print(f"starling: could not report round {rnd.number} as failed: {error}", file=sys.stderr)


def _excepthook(kind, value, trace) -> None:
    global _current
    with _lock:
        rnd, _current = _current, None
    if rnd is not None and rnd._state in (_OPEN, _REFUSED):
        text = "".join(traceback.format_exception_only(kind, value)).strip() or kind.__name__
        _fail_quietly(rnd, text)
    _previous_excepthook(kind, value, trace)


def _at_exit() -> None:
    global _current
    with _lock:
        rnd, _current = _current, None
    if rnd is not None and rnd._state == _OPEN:
        _fail_quietly(rnd, f"the worker ended without submitting round {rnd.number}")


_previous_excepthook = sys.excepthook


def _install_hooks() -> None:
    global _hooks_installed, _previous_excepthook
    with _lock:
        if _hooks_installed:
            return
        _hooks_installed = True
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
    atexit.register(_at_exit)


def _abandon_check(rnd: Optional[Round], why: str) -> None:
    if rnd is not None and rnd._state == _OPEN:
        print(f"starling: round {rnd.number} {why}; reporting it failed", file=sys.stderr)
        _fail_quietly(rnd, f"round {rnd.number} {why}")


def _integer(answer: Dict[str, Any], key: str) -> int:
    value = answer.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StarlingError(f"the peer's train answer has no integer {key!r}: {answer}")
    return value


def rounds() -> Iterator[Round]:
    """Polls the peer and yields a Round for each round announced to this worker, each (epoch, round)
    once; returns when the peer answers stop. If the loop body raises, the round is reported failed
    with the exception's text when the exception ends the script; a round left without submit() or
    fail() is reported failed when the loop goes on, or when the script exits."""
    global _current
    ctx = context()
    if ctx.role == evaluation.EVALUATE:
        raise StarlingError(
            "this process was started to score global models centrally (the task's "
            "aggregationWorker.evaluation), but the script never called starling.serve_evaluations(fn) "
            "before starling.rounds(): see docs/workers.md, 'Central evaluation'")
    if ctx.role == EVAL:
        raise StarlingError(
            "this process was started to evaluate an IncrementalLearningJob's models (STARLING_ROLE=eval), but "
            "the script never called starling.evaluate(predict) before starling.rounds(): see docs/workers.md, "
            "'Evaluation workers (IncrementalLearningJob)'")
    if ctx.role in SERVING_ROLES:
        raise StarlingError(
            f"this process was started as an inference worker (STARLING_ROLE={ctx.role}) of service "
            f"{ctx.service!r}: call starling.serve(predict), not starling.rounds(); see docs/workers.md, 'Inference workers'")
    client = PeerClient(ctx.socket)
    start_watchdog()
    _install_hooks()
    with _lock:
        left, _current = _current, None
    _abandon_check(left, "was left by an earlier loop without a submission")
    poll = {"command": "worker-poll", "task": ctx.task, "worker": ctx.worker, "token": ctx.token}
    yielded = set()
    while True:
        answer = client.request(poll, retry_after_send=True)
        job = jobs.kind(answer)
        if job == jobs.STOP:
            return
        if job == jobs.WAIT:
            time.sleep(constants.POLL_INTERVAL)
            continue
        if job != jobs.TRAIN:
            raise StarlingError(f"the peer asks a training worker for a {job} job: {answer}")
        epoch, number = _integer(answer, "epoch"), _integer(answer, "round")
        if (epoch, number) in yielded:  # already worked on: wait for the next one
            time.sleep(constants.POLL_INTERVAL)
            continue
        model = answer.get("model")
        if model is not None and not isinstance(model, str):
            raise StarlingError(f"the peer's train answer has a model that is not a path: {answer}")
        deadline = answer.get("deadline")
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
            raise StarlingError(f"the peer's train answer has no numeric deadline: {answer}")
        rnd = Round(ctx, client, epoch, number, model or None, bool(answer.get("validate", False)), float(deadline))
        yielded.add((epoch, number))
        with _lock:
            _current = rnd
        yield rnd
        with _lock:
            _current = None
        _abandon_check(rnd, "ended without submit() or fail()")
