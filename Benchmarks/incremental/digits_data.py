"""The data of the incremental-learning benchmark (Benchmarks/incremental/run), from the UCI digits
in data/digits/digits.csv.gz (features scaled to [0, 1] as `Digits.load()` does):

- test.csv: a stratified held-out fifth (the accuracy before and after each deploy);
- initial.safetensors: a logistic regression with 10 outputs trained on the digits 0-4 only (the
  job's version 1, which cannot know the other half);
- base.csv: 60 training rows of the digits 0-4 (the dataset the job starts with, fewer new rows
  than the trigger asks for);
- batch-1.csv ... batch-N.csv: disjoint batches of the remaining training rows, of every class in
  proportion, each one appended at the start of a cycle;
- body.json: one held-out digit as the HTTP endpoint takes it (what wrk posts).

    python digits_data.py --digits data/digits/digits.csv.gz --out DIR --batches 3 --batch-rows 350

Deterministic for a given --seed. Needs numpy and safetensors.
"""
import argparse
import gzip
import json
import os

import numpy as np
from safetensors.numpy import save_file

CLASSES = 10
BASE_ROWS = 60


def stratified_split(labels, test_fraction, random):
    """Per class, the rounded fraction of its rows for the test part; both parts keep row order."""
    test = []
    for label in range(CLASSES):
        rows = np.flatnonzero(labels == label)
        random.shuffle(rows)
        test.extend(rows[: int(round(len(rows) * test_fraction))])
    test = np.sort(np.array(test))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def train_logreg(x, y, epochs, learning_rate, batch, random):
    """Softmax regression with CLASSES outputs by minibatch gradient descent (the builtin:logreg layout)."""
    weight = np.zeros((CLASSES, x.shape[1]), dtype=np.float64)
    bias = np.zeros(CLASSES, dtype=np.float64)
    for _ in range(epochs):
        order = random.permutation(len(y))
        for start in range(0, len(y), batch):
            rows = order[start:start + batch]
            z = x[rows] @ weight.T + bias
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(rows)), y[rows]] -= 1
            weight -= learning_rate * (p.T @ x[rows]) / len(rows)
            bias -= learning_rate * p.mean(0)
    return weight.astype(np.float32), bias.astype(np.float32)


def write_csv(path, x, y):
    with open(path, "w") as out:
        for features, label in zip(x, y):
            out.write(",".join(repr(float(v)) for v in features) + f",{int(label)}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--batch-rows", type=int, default=350)
    parser.add_argument("--seed", type=int, default=5)
    arguments = parser.parse_args()
    random = np.random.default_rng(arguments.seed)
    with gzip.open(arguments.digits, "rt") as source:
        rows = np.loadtxt(source, delimiter=",", dtype=np.float64)
    x, y = (rows[:, :-1] / 16).astype(np.float32), rows[:, -1].astype(np.int64)
    train, test = stratified_split(y, 0.2, random)

    low = train[y[train] < 5]
    base = low[:BASE_ROWS]
    rest = np.setdiff1d(train, base)
    needed = arguments.batches * arguments.batch_rows
    if needed > len(rest):
        raise SystemExit(f"digits_data: {arguments.batches} batches of {arguments.batch_rows} rows need {needed} "
                         f"training rows; there are {len(rest)}")
    # Every batch holds every class in proportion: deal the shuffled rows of each class round-robin.
    shuffled = random.permutation(rest)
    by_class = sorted(shuffled, key=lambda row: y[row])
    dealt = [by_class[i::arguments.batches] for i in range(arguments.batches)]
    batches = [random.permutation(np.array(rows))[: arguments.batch_rows] for rows in dealt]

    weight, bias = train_logreg(x[low], y[low], epochs=20, learning_rate=0.5, batch=32, random=random)
    os.makedirs(arguments.out, exist_ok=True)
    save_file({"dense0.weight": weight, "dense0.bias": bias}, os.path.join(arguments.out, "initial.safetensors"))
    write_csv(os.path.join(arguments.out, "test.csv"), x[test], y[test])
    write_csv(os.path.join(arguments.out, "base.csv"), x[base], y[base])
    for index, rows in enumerate(batches, start=1):
        write_csv(os.path.join(arguments.out, f"batch-{index}.csv"), x[rows], y[rows])
    body = {"inputs": [{"name": "input", "shape": [1, 64], "datatype": "FP32", "data": [float(v) for v in x[test[0]]]}]}
    with open(os.path.join(arguments.out, "body.json"), "w") as out:
        json.dump(body, out)
    initial = (np.argmax(x[test] @ weight.T + bias, 1) == y[test]).mean()
    print(json.dumps({"test_rows": int(len(test)), "base_rows": BASE_ROWS, "batches": arguments.batches,
                      "batch_rows": arguments.batch_rows, "initial_test_accuracy": float(initial)}))


if __name__ == "__main__":
    main()
