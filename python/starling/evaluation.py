"""Central evaluation (Flower's evaluate_fn): the coordinator's peer starts the task's worker script
with STARLING_ROLE=evaluate on its evaluation dataset, and the script scores each new global model
there with the function it hands to serve_evaluations()."""

import sys
import time
from typing import Any, Callable, Dict, Mapping

from . import constants, jobs, tensors
from .context import context
from .data import dataset
from .errors import StarlingError
from .peer import PeerClient, start_watchdog

EVALUATE = jobs.EVALUATE  # the STARLING_ROLE of an evaluator, named as its job

Evaluator = Callable[[Dict[str, Any], Any, Any], Mapping[str, Any]]

_served = False


def is_evaluator() -> bool:
    """True in a process the peer started to evaluate global models (STARLING_ROLE=evaluate)."""
    return context().role == EVALUATE


def served() -> bool:
    """Whether this process has called serve_evaluations() (rounds() checks it)."""
    return _served


def serve_evaluations(evaluate: Evaluator, exit_when_done: bool = True) -> bool:
    """In an evaluator process (STARLING_ROLE=evaluate): loads the evaluation dataset once, then for
    each global model the peer asks about calls evaluate(weights, x, y) -> {name: number} (for example
    {"loss": 0.3, "accuracy": 0.91}) and sends the scores back (worker-evaluated); the peer adds them
    to the round's metrics as central_<name>. When the peer answers stop it exits the process with
    status 0 (exit_when_done) or returns True. In a training worker's process it returns False at
    once, so a script calls it first thing and goes on to starling.rounds() when it returns."""
    global _served
    ctx = context()
    if ctx.role != EVALUATE:
        return False
    _served = True
    x, y = dataset()
    client = PeerClient(ctx.socket)
    start_watchdog()
    poll = {"command": "worker-poll", "task": ctx.task, "worker": ctx.worker, "token": ctx.token}
    scored = set()
    while True:
        answer = client.request(poll, retry_after_send=True)
        job = jobs.kind(answer)
        if job == jobs.STOP:
            if exit_when_done:
                sys.exit(0)
            return True
        if job == jobs.WAIT:
            time.sleep(constants.POLL_INTERVAL)
            continue
        if job != jobs.EVALUATE:
            raise StarlingError(f"the peer asks an evaluator for a {job} job: {answer}")
        epoch, number, model = answer.get("epoch"), answer.get("round"), answer.get("model")
        if not isinstance(epoch, int) or not isinstance(number, int) or not isinstance(model, str):
            raise StarlingError(f"the peer's evaluate answer lacks epoch, round or model: {answer}")
        if (epoch, number) in scored:
            time.sleep(constants.POLL_INTERVAL)
            continue
        scored.add((epoch, number))
        base = {"task": ctx.task, "worker": ctx.worker, "token": ctx.token, "epoch": epoch, "round": number}
        try:
            metrics = tensors.metric_values(evaluate(tensors.read(model), x, y) or {})
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[: constants.MAX_REASON_LENGTH]
            client.request(dict(base, command="worker-fail", reason=f"evaluation failed: {reason}"))
            print(f"starling: evaluation of round {number} failed: {reason}", file=sys.stderr)
            continue
        answer = client.request(dict(base, command="worker-evaluated", metrics=metrics))
        if answer.get("ok") is False:
            print(f"starling: the peer refused the scores of round {number}: {answer.get('message', '')}", file=sys.stderr)
