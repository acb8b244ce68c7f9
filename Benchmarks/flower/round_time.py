#!/usr/bin/env python3
"""Flower round time on the legacy gRPC engine (fl.server.start_server + N fl.client.start_client
processes on 127.0.0.1), trivial training: each client's fit returns the received float32 array of
P values plus 0.001. FedAvg, min_fit_clients = min_available_clients = N, no federated evaluation.

A round is timed in the server process, from the start of configure_fit to the end of aggregate_fit
(sending P floats to N clients, their fit, receiving N x P floats, FedAvg's aggregation). The first
--warmup rounds are run and dropped. Peak RSS: the server process and client 0, each sampled every
50 ms with its children (psutil), and the kernel's VmHWM of the process; the larger is reported.

Prints one JSON line. Every process started is ended (own process group each) whatever happens."""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (sets FLWR_TELEMETRY_ENABLED=0, FLWR_DISABLE_UPDATE_CHECK=1)


def run_server(args):
    import numpy as np
    import flwr as fl
    from flwr.server.strategy import FedAvg

    class TimedFedAvg(FedAvg):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.started, self.rounds = {}, []

        def configure_fit(self, server_round, parameters, client_manager):
            self.started[server_round] = time.perf_counter()
            return super().configure_fit(server_round, parameters, client_manager)

        def aggregate_fit(self, server_round, results, failures):
            out = super().aggregate_fit(server_round, results, failures)
            self.rounds.append({"round": server_round,
                                "seconds": time.perf_counter() - self.started[server_round],
                                "results": len(results), "failures": len(failures)})
            return out

    n = args.clients
    initial = np.zeros(args.parameters, dtype=np.float32)
    strategy = TimedFedAvg(
        fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=n, min_evaluate_clients=0,
        min_available_clients=n,
        initial_parameters=fl.common.ndarrays_to_parameters([initial]))
    del initial
    fl.server.start_server(
        server_address=f"127.0.0.1:{args.port}",
        config=fl.server.ServerConfig(num_rounds=args.rounds + args.warmup),
        strategy=strategy, grpc_max_message_length=_common.GRPC_MAX_MESSAGE_LENGTH)
    _common.emit_role_result({"rounds": strategy.rounds})


def run_client(args):
    import numpy as np
    import flwr as fl

    class TrivialClient(fl.client.NumPyClient):
        def get_parameters(self, config):
            return [np.zeros(args.parameters, dtype=np.float32)]

        def fit(self, parameters, config):
            return [p + np.float32(0.001) for p in parameters], 100, {}

        def evaluate(self, parameters, config):
            return 0.0, 1, {}

    fl.client.start_client(server_address=f"127.0.0.1:{args.port}",
                           client=TrivialClient().to_client(), insecure=True,
                           grpc_max_message_length=_common.GRPC_MAX_MESSAGE_LENGTH)
    _common.emit_role_result({})


def orchestrate(args):
    wall_start = time.perf_counter()
    _common.exit_on_signals()
    port = _common.free_port()
    me = [sys.executable, os.path.abspath(__file__), "--clients", str(args.clients),
          "--parameters", str(args.parameters), "--rounds", str(args.rounds),
          "--warmup", str(args.warmup), "--port", str(port)]
    with tempfile.TemporaryDirectory(prefix="flower-round-") as logdir:
        procs = _common.Processes(logdir)
        sampler = _common.RssSampler(0.05)
        try:
            server = procs.start("server", me + ["--role", "server"])
            sampler.watch(server.pid)
            sampler.start()
            _common.wait_for_port(port, server, timeout=60)
            clients = [procs.start(f"client-{i}", me + ["--role", "client"])
                       for i in range(args.clients)]
            sampler.watch(clients[0].pid)
            try:
                server.wait(timeout=args.timeout)
            except Exception:
                raise RuntimeError(f"server did not finish within {args.timeout} s")
            sampler.stop()
            result = _common.role_result(procs.output(server))
            if server.returncode != 0 or result is None:
                raise RuntimeError("server failed:\n" + procs.errors(server))
            try:  # the clients leave once the server has sent them its reconnect/shutdown
                clients[0].wait(timeout=30)
            except Exception:
                pass
            client_result = _common.role_result(procs.output(clients[0])) or {}
            rounds = [r for r in result["rounds"] if r["round"] > args.warmup]
            if len(rounds) != args.rounds or any(r["failures"] or r["results"] != args.clients
                                                 for r in rounds):
                raise RuntimeError(f"unexpected rounds: {result['rounds']}")
            seconds = [r["seconds"] for r in rounds]
            print(json.dumps({
                "benchmark": "round", "impl": "flower-legacy-grpc", "clients": args.clients,
                "parameters": args.parameters, "round_seconds": seconds,
                "median_round_seconds": statistics.median(seconds),
                "server_peak_rss_bytes": max(sampler.peak[server.pid], result["vmhwm_bytes"]),
                "client_peak_rss_bytes": max(sampler.peak[clients[0].pid],
                                             client_result.get("vmhwm_bytes", 0)),
                "wall_seconds": time.perf_counter() - wall_start,
                "warmup_rounds": args.warmup,
            }, separators=(",", ":")), flush=True)
        finally:
            sampler.stopped.set()
            procs.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--parameters", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=1, help="rounds run first and dropped")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the whole run")
    _common.add_role_arguments(parser)
    _common.run_role(parser.parse_args(), run_server, run_client, orchestrate)


if __name__ == "__main__":
    main()
