"""The jobs the peer answers worker-poll with: {"job": KIND, ...fields} (docs/workers.md, "Protocol")."""

from typing import Any, Dict

from .errors import StarlingError

WAIT = "wait"  # nothing to do yet: poll again
TRAIN = "train"  # train a round: epoch, round, model, validate, deadline
EVALUATE = "evaluate"  # score a global model (central evaluators): epoch, round, model
STOP = "stop"  # the task ended here: finish up and exit 0

KINDS = (WAIT, TRAIN, EVALUATE, STOP)


def kind(answer: Dict[str, Any]) -> str:
    """The job's kind; a StarlingError for an answer without one or of a kind this Lib does not know
    (a Lib older than its peer), so it is never taken for another job."""
    job = answer.get("job")
    if not isinstance(job, str):
        raise StarlingError(f"the peer's answer to worker-poll has no \"job\": {answer}")
    if job not in KINDS:
        raise StarlingError(
            f"the peer asks for a job of kind {job!r}, which this worker Lib does not know "
            f"(it knows {', '.join(KINDS)}): use the Lib of the peer's version")
    return job
