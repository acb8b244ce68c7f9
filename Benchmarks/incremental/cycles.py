"""The measuring half of Benchmarks/incremental/run: with the peers up and the job serving version 1,
runs a window of load with no swap, then CYCLES cycles, each started by appending one batch, and
prints one JSON object (docs/benchmarks.md, "Incremental learning").

Per cycle: T0 is the moment `starling dataset append` starts (its rows make the train trigger's
condition true); the job's state is polled every POLL_SECONDS through each peer's local API
(`{"command":"tasks"}` on DIR/starling.sock) and each step is timestamped when it first shows on
either peer; the cycle ends when the edge serves the new version (`servedVersion`). wrk runs from
just before T0 until LOAD_AFTER_SECONDS after serving and is stopped with SIGINT, so its latency
percentiles and errors are the swap window's. Each cycle starts after a pause drawn uniformly from
the check period (seeded). The accuracy on the held-out digits is read through `starling infer JOB
--input test.csv --json` before the first cycle and after each deploy. After the cycles, a rollback
to the version before swaps the model under the same load with no training around it.

Exits 1 with the reason when a step never appears within --step-timeout seconds of the one
before, a stage fails, a cycle is not deployed, or a command fails.
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

POLL_SECONDS = 0.05
LOAD_LEAD_SECONDS = 0.2  # wrk's connections are up before T0
LOAD_AFTER_SECONDS = 0.5  # and it goes on past the swap, to see a request the swap might break
# The steps of a deployed cycle, in order, each named by the figure its arrival ends.
MILESTONES = (("train", "running", "trigger_seconds"), ("eval", "running", "training_seconds"),
              ("deploy", "waiting", "evaluation_seconds"), ("deploy", "completed", "deploy_seconds"))


class Failure(Exception):
    pass


def tasks(data_dir):
    """The peer's `tasks` answer, or None when it does not answer (a poll tolerates a busy peer)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(2)
            connection.connect(os.path.join(data_dir, "starling.sock"))
            connection.sendall(b'{"command":"tasks"}\n')
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = connection.recv(1 << 16)
                if not chunk:
                    break
                answer += chunk
        return json.loads(answer)
    except (OSError, ValueError):
        return None


def job(data_dir, name):
    answer = tasks(data_dir)
    for task in (answer or {}).get("tasks", []):
        if task.get("name") == name:
            return task.get("job")
    return None


def describe(arguments):
    """Where the job stands on each peer, for a failure's message."""
    parts = []
    for peer_name, peer in (("cloud", arguments.cloud), ("edge", arguments.edge)):
        state = job(peer, arguments.job)
        if state is None:
            parts.append(f"{peer_name}: no answer")
            continue
        parts.append(f"{peer_name}: {state.get('stage')}/{state.get('status')}, served {state.get('servedVersion')}"
                     + "".join(f", {key} {state[key]!r}" for key in ("trainCheck", "waitingFor", "servingFailure")
                               if state.get(key)))
    return "; ".join(parts)


def accuracy(arguments):
    done = subprocess.run([arguments.bin, "infer", arguments.job, "--input", os.path.join(arguments.data, "test.csv"),
                           "--peer", arguments.edge, "--json", "--batch", "32"], capture_output=True, text=True)
    if done.returncode != 0:
        raise Failure(f"starling infer {arguments.job} failed: {done.stderr.strip()}")
    report = json.loads(done.stdout)
    return report["accuracy"], report.get("edge_versions", [])


def parse_wrk(text):
    def ms(value, unit):
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    def latency(percent):
        found = re.search(rf"^\s*{percent}%\s+([0-9.]+)(us|ms|s|m)\s*$", text, re.M)
        return ms(*found.groups()) if found else None

    slowest = re.search(r"^\s*Latency\s+\S+\s+\S+\s+([0-9.]+)(us|ms|s|m)", text, re.M)
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    requests = re.search(r"(\d+) requests in ([0-9.]+)(us|ms|s|m)", text)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if not rate or not requests:
        raise Failure(f"wrk printed no summary:\n{text}")
    non_2xx = int(errors.group(1)) if errors else 0
    socket_errors = sum(map(int, sockets.groups())) if sockets else 0
    return {"requests": int(requests.group(1)), "seconds": ms(*requests.groups()[1:]) / 1000,
            "requests_per_second": float(rate.group(1)), "p50_ms": latency(50), "p99_ms": latency(99),
            "max_ms": ms(*slowest.groups()) if slowest else None, "non_2xx": non_2xx, "socket_errors": socket_errors, "failed_requests": non_2xx + socket_errors}


class Load:
    """wrk against the job's endpoint from start() to stop() (SIGINT: wrk prints its summary)."""

    def __init__(self, arguments, name):
        self.arguments = arguments
        self.path = os.path.join(arguments.work, f"wrk-{name}.txt")
        self.process = None

    def start(self):
        a = self.arguments
        self.output = open(self.path, "w")
        self.process = subprocess.Popen(["wrk", f"-t{a.threads}", f"-c{a.connections}", "-d3600s", "--latency",
                                         "-s", a.lua, a.url], stdout=self.output, stderr=subprocess.STDOUT)
        time.sleep(LOAD_LEAD_SECONDS)
        if self.process.poll() is not None:
            raise Failure(f"wrk stopped at once: {open(self.path).read()}")

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise Failure("wrk did not stop on SIGINT")
        self.output.close()
        self.process = None
        return parse_wrk(open(self.path).read())

    def abandon(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def latest_round(arguments):
    rounds = [step["round"] for peer in (arguments.cloud, arguments.edge)
              for step in ((job(peer, arguments.job) or {}).get("history") or [])]
    return max(rounds, default=0)


def no_swap_window(arguments):
    """The same load and the same polling, with nothing appended: the latency without a swap."""
    load = Load(arguments, "no-swap")
    load.start()
    try:
        served = None
        began = time.monotonic()
        while time.monotonic() - began < arguments.no_swap_seconds:
            job(arguments.cloud, arguments.job)
            served = (job(arguments.edge, arguments.job) or {}).get("servedVersion")
            time.sleep(POLL_SECONDS)
    except BaseException:
        load.abandon()
        raise
    result = load.stop()
    result["served_version"] = served
    return result


def rollback_window(arguments, served):
    """A swap with no training around it: `starling model rollback JOB` (to the parent version)
    under the same load, from the request until the edge serves the parent and LOAD_AFTER_SECONDS on."""
    target = served - 1
    load = Load(arguments, "rollback")
    load.start()
    try:
        t0 = time.monotonic()
        done = subprocess.run([arguments.bin, "model", "rollback", arguments.job, "--peer", arguments.edge],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise Failure(f"starling model rollback {arguments.job} failed: {done.stderr.strip()}")
        while (job(arguments.edge, arguments.job) or {}).get("servedVersion") != target:
            if time.monotonic() - t0 > arguments.step_timeout:
                raise Failure(f"after a rollback the edge did not serve version {target} within "
                              f"{arguments.step_timeout:g} s ({describe(arguments)})")
            time.sleep(POLL_SECONDS)
        serving_seconds = time.monotonic() - t0
        time.sleep(LOAD_AFTER_SECONDS)
    except BaseException:
        load.abandon()
        raise
    return {"from_version": served, "to_version": target, "serving_seconds": serving_seconds, "load": load.stop()}


def cycle(arguments, number, served_before):
    """One cycle from the append of batch `number` to the edge serving the version it deploys."""
    after_round = latest_round(arguments)
    batch = os.path.join(arguments.data, f"batch-{number}.csv")
    load = Load(arguments, f"cycle-{number}")
    load.start()
    seen = {}  # (stage, status) -> {seconds, peer, at, text, round}
    try:
        t0 = time.monotonic()
        t0_wall = time.time()
        append = subprocess.Popen([arguments.bin, "dataset", "append", arguments.dataset, "--path", batch,
                                   "--peer", arguments.edge], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        append_seconds = None
        served_at = None
        new_version = None
        last_mark = 0.0
        while served_at is None:
            now = time.monotonic() - t0
            if append_seconds is None and append.poll() is not None:
                append_seconds = now
                if append.returncode != 0:
                    raise Failure(f"starling dataset append {batch} failed: {append.stderr.read().strip()}")
            for peer_name, peer in (("cloud", arguments.cloud), ("edge", arguments.edge)):
                report = job(peer, arguments.job)
                now = time.monotonic() - t0  # when this peer's answer came
                if report is None:
                    continue
                for step in report.get("history") or []:
                    if step["round"] <= after_round:
                        continue
                    key = (step["stage"], step["status"])
                    if key not in seen:
                        seen[key] = {"seconds": now, "peer": peer_name, "at": step["at"], "text": step["text"],
                                     "round": step["round"]}
                    if step["status"] == "failed" or "not deployed" in step["text"]:
                        raise Failure(f"cycle {number}: {step['stage']} {step['status']}: {step['text']}")
                if peer_name == "edge" and ("deploy", "completed") in seen:
                    served = report.get("servedVersion")
                    if served is not None and served > served_before:
                        served_at, new_version = now, served
                    elif report.get("servingFailure"):
                        raise Failure(f"cycle {number}: the edge does not serve: {report['servingFailure']}")
            marks = [seen[(stage, status)]["seconds"] for stage, status, _ in MILESTONES if (stage, status) in seen]
            last_mark = max(marks, default=0.0)
            if served_at is None and now - last_mark > arguments.step_timeout:
                missing = next((f"{stage}/{status}" for stage, status, _ in MILESTONES if (stage, status) not in seen),
                               f"the edge serving a version above {served_before}")
                raise Failure(f"cycle {number}: {missing} did not appear within {arguments.step_timeout:g} s "
                              f"of {'the step before' if marks else 'T0'} ({describe(arguments)})")
            time.sleep(POLL_SECONDS)
        time.sleep(LOAD_AFTER_SECONDS)
    except BaseException:
        load.abandon()
        raise
    wrk = load.stop()
    if append_seconds is None:
        append.wait()
        append_seconds = time.monotonic() - t0
        if append.returncode != 0:
            raise Failure(f"starling dataset append {batch} failed: {append.stderr.read().strip()}")
    times = {}
    previous = 0.0
    for stage, status, figure in MILESTONES:
        times[figure] = seen[(stage, status)]["seconds"] - previous
        previous = seen[(stage, status)]["seconds"]
    times["serving_seconds"] = served_at - previous
    times["total_seconds"] = served_at
    goal = arguments.check_period + times["training_seconds"] + 2
    return {"cycle": number, "version": new_version, "t0_unix": t0_wall, "append_seconds": append_seconds, **times,
            "goal_seconds": goal, "met": served_at <= goal,
            "steps": [{"stage": stage, "status": status, **seen[(stage, status)]} for stage, status, _ in MILESTONES],
            "load": wrk}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("bin", "cloud", "edge", "job", "dataset", "data", "url", "lua", "work"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--check-period", type=float, required=True)
    parser.add_argument("--no-swap-seconds", type=float, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--step-timeout", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()

    began = time.monotonic()
    while (job(arguments.edge, arguments.job) or {}).get("servedVersion") != 1:
        if time.monotonic() - began > arguments.step_timeout:
            raise Failure(f"the edge did not serve version 1 of {arguments.job} within {arguments.step_timeout:g} s "
                          f"({describe(arguments)})")
        time.sleep(POLL_SECONDS)
    print(f"version 1 serves after {time.monotonic() - began:.1f} s", file=sys.stderr)
    before, versions = accuracy(arguments)
    if versions != [1]:
        raise Failure(f"version 1 serves, yet the held-out digits were answered by versions {versions}")
    subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", arguments.lua, arguments.url], capture_output=True)  # warm-up

    no_swap = no_swap_window(arguments)
    if no_swap["served_version"] != 1:
        raise Failure(f"with nothing appended the edge went from version 1 to {no_swap['served_version']}")
    print(f"no swap: {json.dumps(no_swap)}", file=sys.stderr)
    cycles = []
    served = 1
    phases = random.Random(arguments.seed)
    for number in range(1, arguments.cycles + 1):
        # A random point of the check period (the data arrives when it arrives), not one set by the
        # previous cycle's length: the trigger wait is sampled over the whole period.
        time.sleep(phases.uniform(0, arguments.check_period))
        result = cycle(arguments, number, served)
        after, versions = accuracy(arguments)
        if versions != [result["version"]]:
            raise Failure(f"cycle {number}: version {result['version']} serves, yet the held-out digits were answered by "
                          f"versions {versions}")
        result["accuracy_before"], result["accuracy_after"] = before, after
        before, served = after, result["version"]
        cycles.append(result)
        print(f"cycle {number}: " + ", ".join(f"{k} {result[k]:.2f}" for k in
              ("trigger_seconds", "training_seconds", "evaluation_seconds", "deploy_seconds", "serving_seconds",
               "total_seconds", "goal_seconds", "accuracy_before", "accuracy_after"))
              + f"; load p99 {result['load']['p99_ms']} ms, failed {result['load']['failed_requests']}", file=sys.stderr)

    rollback = rollback_window(arguments, served)
    print(f"rollback: {json.dumps(rollback)}", file=sys.stderr)

    figures = [figure for _, _, figure in MILESTONES] + ["serving_seconds", "total_seconds", "goal_seconds"]
    summary = {figure: {"median": statistics.median(c[figure] for c in cycles), "max": max(c[figure] for c in cycles)}
               for figure in figures}
    worst = max(cycles, key=lambda c: c["total_seconds"] - c["goal_seconds"])
    swap = {"requests": sum(c["load"]["requests"] for c in cycles), "seconds": sum(c["load"]["seconds"] for c in cycles),
            "failed_requests": sum(c["load"]["failed_requests"] for c in cycles),
            "p99_ms_max": max(c["load"]["p99_ms"] for c in cycles),
            "p99_ms_median": statistics.median(c["load"]["p99_ms"] for c in cycles),
            "p50_ms_median": statistics.median(c["load"]["p50_ms"] for c in cycles),
            "max_ms": max(c["load"]["max_ms"] for c in cycles)}
    swap["requests_per_second"] = swap["requests"] / swap["seconds"]
    print(json.dumps({"check_period_seconds": arguments.check_period,
                      "load": {"threads": arguments.threads, "connections": arguments.connections,
                               "delay_ms": arguments.delay_ms},
                      "cycles": cycles, "summary": summary, "all_met": all(c["met"] for c in cycles),
                      "worst": {"cycle": worst["cycle"], "total_seconds": worst["total_seconds"],
                                "goal_seconds": worst["goal_seconds"]},
                      "swap": swap, "no_swap": no_swap, "rollback": rollback}, indent=1))


if __name__ == "__main__":
    # SIGTERM (the run script's clean-up) unwinds like Ctrl-C, so a running wrk is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        main()
    except Failure as failure:
        print(f"incremental: {failure}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("incremental: interrupted", file=sys.stderr)
        sys.exit(130)
