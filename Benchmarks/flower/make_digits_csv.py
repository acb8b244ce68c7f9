#!/usr/bin/env python3
"""Test data for digits.py (Starling's harness writes its own): scikit-learn's digits, features
/16 into [0, 1], stratified 80/20 split (seed 0), the training part split over --clients by
Dirichlet(--alpha) label proportions (seed 0). Writes DIR/digits-<i>.csv and DIR/test.csv,
no header, label last. Needs scikit-learn (not in requirements.txt)."""
import argparse
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--clients", type=int, default=5)
parser.add_argument("--alpha", type=float, default=0.5)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

x, y = load_digits(return_X_y=True)
x = x / 16.0
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, stratify=y, random_state=args.seed)
rng = np.random.default_rng(args.seed)
parts = [[] for _ in range(args.clients)]
for label in range(10):
    idx = rng.permutation(np.flatnonzero(y_train == label))
    cuts = (np.cumsum(rng.dirichlet([args.alpha] * args.clients))[:-1] * len(idx)).astype(int)
    for part, chunk in zip(parts, np.split(idx, cuts)):
        part.extend(chunk.tolist())
os.makedirs(args.dir, exist_ok=True)


def write(path, xs, ys):
    np.savetxt(path, np.column_stack([xs, ys]), delimiter=",", fmt="%.6g")


for i, part in enumerate(parts):
    if not part:
        raise SystemExit(f"client {i} got no examples; try another seed")
    write(os.path.join(args.dir, f"digits-{i}.csv"), x_train[part], y_train[part])
write(os.path.join(args.dir, "test.csv"), x_test, y_test)
print(" ".join(f"digits-{i}:{len(p)}" for i, p in enumerate(parts)), f"test:{len(y_test)}")
