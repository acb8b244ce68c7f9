"""Shared by the Flower baseline scripts: environment, process spawning with guaranteed clean-up,
peak-RSS sampling. The scripts re-run themselves with --role server / --role client."""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

# Everything Flower runs (this process and every child) goes without telemetry or update checks.
os.environ["FLWR_TELEMETRY_ENABLED"] = "0"
os.environ["FLWR_DISABLE_UPDATE_CHECK"] = "1"

GRPC_MAX_MESSAGE_LENGTH = 1 << 30  # 1 GiB: 10M float32 (40 MB) and far more fit


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} within {timeout} s")


def own_peak_rss_bytes():
    """VmHWM of this process (the kernel's high-water mark of resident memory)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def emit_role_result(payload):
    """A role's last stdout line: its result, with its own VmHWM."""
    payload["vmhwm_bytes"] = own_peak_rss_bytes()
    sys.stdout.write("RESULT " + json.dumps(payload) + "\n")
    sys.stdout.flush()


def role_result(stdout_text):
    for line in reversed(stdout_text.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return None


class RssSampler(threading.Thread):
    """Samples the resident memory of a process plus all its children every `interval` seconds
    and keeps the peak (bytes) per watched pid."""

    def __init__(self, interval=0.05):
        super().__init__(daemon=True)
        import psutil
        self.psutil = psutil
        self.interval = interval
        self.watched = {}  # pid -> psutil.Process
        self.peak = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def watch(self, pid):
        with self.lock:
            self.watched[pid] = self.psutil.Process(pid)
            self.peak.setdefault(pid, 0)

    def sample_once(self):
        with self.lock:
            items = list(self.watched.items())
        for pid, proc in items:
            total = 0
            try:
                total = proc.memory_info().rss
                for child in proc.children(recursive=True):
                    try:
                        total += child.memory_info().rss
                    except self.psutil.Error:
                        pass
            except self.psutil.Error:
                continue
            if total > self.peak[pid]:
                self.peak[pid] = total

    def run(self):
        while not self.stopped.is_set():
            self.sample_once()
            self.stopped.wait(self.interval)

    def stop(self):
        self.stopped.set()
        self.join(timeout=2)


def _die_with_parent():
    """In the child before exec: SIGKILL it if the process that started it dies (even by SIGKILL,
    when no `finally` runs)."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Processes:
    """Children each in their own session (process group); `close` ends every group it started,
    SIGTERM then SIGKILL, whatever happened. Output goes to files in `logdir`."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.procs = []

    def start(self, name, argv):
        out = open(os.path.join(self.logdir, name + ".out"), "w+")
        err = open(os.path.join(self.logdir, name + ".err"), "w+")
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=os.environ.copy(),
                                preexec_fn=_die_with_parent)
        proc.name, proc.out, proc.err = name, out, err
        self.procs.append(proc)
        return proc

    @staticmethod
    def output(proc):
        proc.out.flush()
        proc.out.seek(0)
        return proc.out.read()

    @staticmethod
    def errors(proc, tail=3000):
        proc.err.flush()
        proc.err.seek(0)
        return proc.err.read()[-tail:]

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs:
            # The group may outlive its leader (grandchildren): always send SIGKILL to the group.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            proc.out.close()
            proc.err.close()


def exit_on_signals():
    """SIGTERM/SIGINT/SIGHUP raise SystemExit in the main thread, so `finally` blocks run."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)


def add_role_arguments(parser):
    """The hidden arguments a script passes to the server and client processes it starts."""
    parser.add_argument("--role", choices=["server", "client"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)


def run_role(args, server, client, orchestrate):
    """This process's part: the server or a client when started with --role, else the whole run."""
    {"server": server, "client": client}.get(args.role, orchestrate)(args)
