"""A Starling inference worker: serves the logistic regression numpy_logreg.py trains.

A JointInferenceService's edgeWorker or cloudWorker runs it (workerSpec.scriptBootFile:
numpy_logreg_serving.py): the peer loads each model version with starling.serve's default loader
(the safetensors file as {name: float32 array}) and sends batches of examples; predict answers
their logits, which the Lib turns into class probabilities (softmax=True).
"""

import starling


def predict(weights, x):
    """x: float32 (n, 64); returns (n, 10) logits."""
    return x @ weights["dense0.weight"].T + weights["dense0.bias"]


def main():
    print(f"serving {starling.service()} as {starling.role()}", flush=True)
    starling.serve(predict, softmax=True)  # returns when the peer says stop


if __name__ == "__main__":
    main()
