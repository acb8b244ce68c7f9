"""A Starling training worker: multinomial logistic regression on the digits data, numpy only.

The peer starts it (trainScriptBootFile: numpy_logreg.py) with its dataset: a CSV of 64 features in
[0, 1] per row, the label (0 to 9) last. Each round it starts from the global model (zeros in round
1), runs `epochs` epochs of minibatch SGD and submits its weights; FedAvg averages them.
"""

import numpy as np

import starling

CLASSES = 10


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def evaluate(weight, bias, x, y):
    """Mean cross-entropy and accuracy of the model on (x, y)."""
    probabilities = softmax(x @ weight.T + bias)
    loss = -np.mean(np.log(probabilities[np.arange(len(y)), y] + 1e-12))
    accuracy = np.mean(probabilities.argmax(axis=1) == y)
    return float(loss), float(accuracy)


def central_evaluation(weights, x, y):
    """Scores a global model on the coordinator's evaluation data (aggregationWorker.evaluation)."""
    loss, accuracy = evaluate(weights["dense0.weight"], weights["dense0.bias"], x, y)
    return {"loss": loss, "accuracy": accuracy}


def main():
    # Started by the coordinator's peer to score global models centrally: serves, then exits.
    starling.serve_evaluations(central_evaluation)
    x, y = starling.dataset()  # x: float32 (n, 64), y: int64 (n,)
    params = starling.parameters()
    batch_size = int(params["batch_size"])
    learning_rate = float(params["learning_rate"])
    epochs = int(params["epochs"])
    mu = float(params.get("proximal_mu", 0.0))  # FedProx's proximal term; 0 for FedAvg
    if len(y) == 0 or y.min() < 0 or y.max() >= CLASSES:
        raise ValueError(f"labels must be 0...{CLASSES - 1}")
    samples, features = x.shape
    targets = np.eye(CLASSES, dtype=np.float32)[y]
    shuffle = np.random.default_rng(starling.context().seed)
    print(f"{samples} samples, {features} features; batch {batch_size}, rate {learning_rate}, {epochs} epochs")

    for rnd in starling.rounds():
        weights = rnd.global_weights()
        if weights is None:  # round 1: the same start on every worker
            weight = np.zeros((CLASSES, features), dtype=np.float32)
            bias = np.zeros(CLASSES, dtype=np.float32)
        else:
            weight, bias = weights["dense0.weight"], weights["dense0.bias"]
        start_weight, start_bias = weight.copy(), bias.copy()
        # The round's starting (global) model, scored on this worker's data when the round validates.
        validation = evaluate(weight, bias, x, y) if rnd.validate else None

        for _ in range(epochs):
            order = shuffle.permutation(samples)
            for first in range(0, samples, batch_size):
                batch = order[first:first + batch_size]
                error = (softmax(x[batch] @ weight.T + bias) - targets[batch]) / len(batch)
                weight_gradient = error.T @ x[batch] + mu * (weight - start_weight)
                bias_gradient = error.sum(axis=0) + mu * (bias - start_bias)
                weight -= learning_rate * weight_gradient
                bias -= learning_rate * bias_gradient

        metrics = {"loss": evaluate(weight, bias, x, y)[0]}  # the training loss of this update
        if validation is not None:
            metrics["val_loss"], metrics["accuracy"] = validation
        rnd.submit({"dense0.weight": weight, "dense0.bias": bias}, num_samples=samples, metrics=metrics)
        print(f"round {rnd.number}: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))


if __name__ == "__main__":
    main()
