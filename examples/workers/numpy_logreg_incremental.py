"""An IncrementalLearningJob's worker: one script for its three stages, numpy only.

The job's trainSpec, evalSpec and deploySpec all name it (workerSpec.scriptBootFile:
numpy_logreg_incremental.py), and the peer says which stage it runs by STARLING_ROLE:
- eval: scores the candidate and the deployed model on the peer's evaluation rows (the Lib writes
  their confusion matrices and exits);
- edge: serves the deployed model (the Lib turns the logits into class probabilities);
- train: trains the candidate from the deployed model on the new training rows (rounds).
The model is numpy_logreg.py's multinomial logistic regression on the digits (64 features in
[0, 1], labels 0 to 9 last).
"""

import numpy as np

import starling

CLASSES = 10


def logits(weights, x):
    """x: float32 (n, 64); returns (n, 10) logits (evaluate takes each row's largest as the class)."""
    return x @ weights["dense0.weight"].T + weights["dense0.bias"]


def softmax(values):
    shifted = values - values.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def train():
    x, y = starling.dataset()  # this cycle's training rows
    params = starling.parameters()
    batch_size = int(params.get("batch_size", 32))
    learning_rate = float(params.get("learning_rate", 0.5))
    epochs = int(params.get("epochs", 5))
    if len(y) == 0 or y.min() < 0 or y.max() >= CLASSES:
        raise ValueError(f"labels must be 0...{CLASSES - 1}")
    samples, features = x.shape
    targets = np.eye(CLASSES, dtype=np.float32)[y]
    shuffle = np.random.default_rng(starling.context().seed)
    for rnd in starling.rounds():
        weights = rnd.global_weights()  # the deployed model: the candidate starts from it
        if weights is None:
            weights = {"dense0.weight": np.zeros((CLASSES, features), dtype=np.float32),
                       "dense0.bias": np.zeros(CLASSES, dtype=np.float32)}
        weight, bias = weights["dense0.weight"], weights["dense0.bias"]
        for _ in range(epochs):
            order = shuffle.permutation(samples)
            for first in range(0, samples, batch_size):
                batch = order[first:first + batch_size]
                error = (softmax(x[batch] @ weight.T + bias) - targets[batch]) / len(batch)
                weight -= learning_rate * (error.T @ x[batch])
                bias -= learning_rate * error.sum(axis=0)
        probabilities = softmax(x @ weight.T + bias)
        loss = float(-np.mean(np.log(probabilities[np.arange(samples), y] + 1e-12)))
        rnd.submit({"dense0.weight": weight, "dense0.bias": bias}, num_samples=samples, metrics={"loss": loss})
        print(f"cycle {rnd.number}: {samples} rows, training loss {loss:.4f}", flush=True)


def main():
    starling.evaluate(logits)  # an evaluation worker: evaluates, then exits
    if starling.role() in ("edge", "cloud"):
        print(f"serving {starling.service()} as {starling.role()}", flush=True)
        starling.serve(logits, softmax=True)  # returns when the peer says stop
        return
    train()


if __name__ == "__main__":
    main()
