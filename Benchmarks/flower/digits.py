#!/usr/bin/env python3
"""The digits task on Flower's legacy gRPC engine: fl.server.start_server + --clients
fl.client.start_client processes on 127.0.0.1. Client i trains on DIR/digits-i.csv; the server
evaluates the final global model (after the last round) on DIR/test.csv with the strategy's
evaluate_fn. CSVs: numeric columns, label last, features already in [0, 1] (a non-numeric first
line is taken as a header and skipped). FedAvg over all clients, every round.

Models in numpy: multinomial logistic regression (weights [10, 64], bias [10], zero init) or a
64-32-10 ReLU MLP (PyTorch-style init: uniform +-1/sqrt(fan_in), weights and biases, from --seed).
Each client, every round: --epochs of minibatch SGD (--batch, --lr) on the mean softmax
cross-entropy, shuffled every epoch (its own generator seeded by (--seed, client id)).

Prints one JSON line; wall_seconds is the whole run, start-up included. Every process started is
ended (own process group each) whatever happens."""
import argparse
import json
import os
import sys
import tempfile
import time

WALL_START = time.perf_counter()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (sets FLWR_TELEMETRY_ENABLED=0, FLWR_DISABLE_UPDATE_CHECK=1)

import numpy as np  # noqa: E402

CLASSES, FEATURES, HIDDEN = 10, 64, 32


def read_csv(path):
    with open(path) as f:
        first = f.readline().split(",")
    try:
        [float(x) for x in first]
        skip = 0
    except ValueError:
        skip = 1
    data = np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.float64, ndmin=2)
    x = data[:, :-1].astype(np.float32)
    y = data[:, -1].astype(np.int64)
    if x.shape[1] != FEATURES or y.min() < 0 or y.max() >= CLASSES:
        raise ValueError(f"{path}: expected {FEATURES} features and labels 0-9, got {data.shape}")
    return x, y


def init_params(model, seed):
    if model == "logreg":
        return [np.zeros((CLASSES, FEATURES), np.float32), np.zeros(CLASSES, np.float32)]
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in ((FEATURES, HIDDEN), (HIDDEN, CLASSES)):
        bound = 1.0 / np.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return out


def forward(params, x):
    """Logits, and the hidden activations for the MLP."""
    if len(params) == 2:
        return x @ params[0].T + params[1], None
    hidden = np.maximum(x @ params[0].T + params[1], 0)
    return hidden @ params[2].T + params[3], hidden


def softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def loss_and_accuracy(params, x, y):
    logits, _ = forward(params, x)
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = float(-log_p[np.arange(len(y)), y].mean())
    return loss, float((logits.argmax(axis=1) == y).mean())


def gradients(params, x, y):
    logits, hidden = forward(params, x)
    d = softmax(logits)
    d[np.arange(len(y)), y] -= 1
    d /= len(y)  # d(mean cross-entropy)/d(logits)
    if hidden is None:
        return [d.T @ x, d.sum(axis=0)]
    d_hidden = (d @ params[2]) * (hidden > 0)
    return [d_hidden.T @ x, d_hidden.sum(axis=0), d.T @ hidden, d.sum(axis=0)]


def train(params, x, y, epochs, lr, batch, rng):
    params = [p.astype(np.float32, copy=True) for p in params]
    lr = np.float32(lr)
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch):
            idx = order[start:start + batch]
            for p, g in zip(params, gradients(params, x[idx], y[idx])):
                p -= lr * g.astype(np.float32)
    return params


def run_server(args):
    import flwr as fl
    from flwr.server.strategy import FedAvg

    test_x, test_y = read_csv(os.path.join(args.csv_dir, "test.csv"))
    final = {}

    def evaluate_fn(server_round, parameters, config):
        if server_round < args.rounds:
            return None  # only the model after the last round is evaluated
        loss, accuracy = loss_and_accuracy(parameters, test_x, test_y)
        final.update(round=server_round, loss=loss, accuracy=accuracy)
        return loss, {"accuracy": accuracy}

    n = args.clients
    strategy = FedAvg(
        fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=n, min_evaluate_clients=0,
        min_available_clients=n, evaluate_fn=evaluate_fn,
        initial_parameters=fl.common.ndarrays_to_parameters(init_params(args.model, args.seed)))
    fl.server.start_server(server_address=f"127.0.0.1:{args.port}",
                           config=fl.server.ServerConfig(num_rounds=args.rounds),
                           strategy=strategy,
                           grpc_max_message_length=_common.GRPC_MAX_MESSAGE_LENGTH)
    _common.emit_role_result(final)


def run_client(args):
    import flwr as fl

    x, y = read_csv(os.path.join(args.csv_dir, f"digits-{args.cid}.csv"))
    rng = np.random.default_rng([args.seed, args.cid])

    class DigitsClient(fl.client.NumPyClient):
        def get_parameters(self, config):
            return init_params(args.model, args.seed)

        def fit(self, parameters, config):
            return train(parameters, x, y, args.epochs, args.lr, args.batch, rng), len(y), {}

        def evaluate(self, parameters, config):
            loss, accuracy = loss_and_accuracy(parameters, x, y)
            return loss, len(y), {"accuracy": accuracy}

    fl.client.start_client(server_address=f"127.0.0.1:{args.port}",
                           client=DigitsClient().to_client(), insecure=True,
                           grpc_max_message_length=_common.GRPC_MAX_MESSAGE_LENGTH)
    _common.emit_role_result({"examples": int(len(y))})


def orchestrate(args):
    _common.exit_on_signals()
    csv_dir = os.path.abspath(args.csv_dir)
    for name in ["test.csv"] + [f"digits-{i}.csv" for i in range(args.clients)]:
        if not os.path.isfile(os.path.join(csv_dir, name)):
            sys.exit(f"missing {os.path.join(csv_dir, name)}")
    port = _common.free_port()
    me = [sys.executable, os.path.abspath(__file__), "--model", args.model,
          "--rounds", str(args.rounds), "--epochs", str(args.epochs), "--lr", repr(args.lr),
          "--batch", str(args.batch), "--clients", str(args.clients), "--alpha", repr(args.alpha),
          "--seed", str(args.seed), "--csv-dir", csv_dir, "--port", str(port)]
    with tempfile.TemporaryDirectory(prefix="flower-digits-") as logdir:
        procs = _common.Processes(logdir)
        try:
            server = procs.start("server", me + ["--role", "server"])
            _common.wait_for_port(port, server, timeout=60)
            for i in range(args.clients):
                procs.start(f"client-{i}", me + ["--role", "client", "--cid", str(i)])
            try:
                server.wait(timeout=args.timeout)
            except Exception:
                raise RuntimeError(f"server did not finish within {args.timeout} s")
            result = _common.role_result(procs.output(server))
            if server.returncode != 0 or not result or "accuracy" not in result:
                raise RuntimeError("server failed:\n" + procs.errors(server))
            print(json.dumps({
                "benchmark": "digits", "impl": "flower-legacy-grpc", "model": args.model,
                "accuracy": result["accuracy"], "loss": result["loss"],
                "wall_seconds": time.perf_counter() - WALL_START,
                "rounds": args.rounds, "epochs": args.epochs, "lr": args.lr, "batch": args.batch,
                "clients": args.clients, "alpha": args.alpha, "seed": args.seed,
            }, separators=(",", ":")), flush=True)
        finally:
            procs.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["logreg", "mlp"], default="logreg")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.5,
                        help="Dirichlet alpha of the split; the CSVs are already split, so it is "
                             "only reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv-dir", required=True)
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the whole run")
    _common.add_role_arguments(parser)
    parser.add_argument("--cid", type=int, help=argparse.SUPPRESS)
    _common.run_role(parser.parse_args(), run_server, run_client, orchestrate)


if __name__ == "__main__":
    main()
