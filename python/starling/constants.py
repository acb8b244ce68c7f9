"""Every timing and limit of the Lib, in one place."""

#: Seconds between two polls while the peer answers {"job": "wait"}.
POLL_INTERVAL = 0.05

#: Seconds the peer may stay unreachable (socket gone, connection refused) before the worker exits.
UNREACHABLE_TIMEOUT = 10.0

#: Seconds between two connection attempts while the peer is unreachable.
RETRY_INTERVAL = 0.2

#: Seconds between two checks of the parent process (the peer) by the watchdog thread.
PARENT_CHECK_INTERVAL = 0.5

#: Exit status of a worker whose peer is gone (unreachable, or its parent process changed).
ORPHAN_EXIT_STATUS = 3

#: Seconds a connected request may take (send and answer) before it fails.
REQUEST_TIMEOUT = 30.0

#: Largest answer line read from the peer, in bytes.
MAX_ANSWER_BYTES = 1 << 20

#: Longest failure reason sent with worker-fail, in characters (longer ones are cut).
MAX_REASON_LENGTH = 1000

#: Longest line of an inference worker's connection, either way (LocalAPILimits.serveLineBytesMax).
SERVE_LINE_BYTES_MAX = 16 << 20

#: Seconds an inference worker waits for the peer to take one answer before it gives up.
SERVE_ANSWER_TIMEOUT = 60.0

#: How far from 1 an example's class probabilities may sum (LearningLimits.classScoreSumTolerance).
PROBABILITY_SUM_TOLERANCE = 0.01

#: The inference service's address when starling.infer is given none.
DEFAULT_INFERENCE_URL = "http://127.0.0.1:8000"

#: Seconds starling.infer waits for an answer by default.
INFERENCE_TIMEOUT = 5.0

#: Classes one confusion matrix of starling.evaluate() may have (the peer's ModelEvaluationLimits.classesMax).
EVAL_CLASSES_MAX = 256
