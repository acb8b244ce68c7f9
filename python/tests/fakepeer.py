"""A fake Starling peer for the tests: a thread serving the local API on a Unix socket."""

import json
import os
import shutil
import socket
import sys
import tempfile
import threading

import numpy as np
from safetensors.numpy import save_file

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if sys.path[:1] != [PYTHON_DIR]:
    sys.path.insert(0, PYTHON_DIR)  # the tests use the Lib in this tree, installed or not
REPO_DIR = os.path.dirname(PYTHON_DIR)
TASK = "ab" * 32
TOKEN = "secret-token-1"


class FakePeer:
    """Answers each request with handler(request) -> dict (under a lock) and records the requests."""

    def __init__(self, handler):
        self.handler = handler
        self.directory = tempfile.mkdtemp(prefix="stp")
        self.path = os.path.join(self.directory, "peer.sock")
        self.work_dir = os.path.join(self.directory, "work")
        os.mkdir(self.work_dir)
        self.requests = []
        self.lock = threading.Lock()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(16)
        self.server.settimeout(0.1)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                data = b""
                try:
                    while b"\n" not in data:
                        chunk = connection.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    request = json.loads(data.split(b"\n")[0].decode())
                    with self.lock:
                        self.requests.append(request)
                        answer = self.handler(request)
                    connection.sendall((json.dumps(answer) + "\n").encode())
                except (OSError, ValueError):
                    pass

    def commands(self, name):
        with self.lock:
            return [r for r in self.requests if r.get("command") == name]

    def remove_socket(self):
        """The peer is gone: stop listening and delete the socket file."""
        self.running = False
        self.server.close()
        self.thread.join(2)
        if os.path.exists(self.path):
            os.unlink(self.path)

    def close(self):
        if self.running:
            self.remove_socket()
        shutil.rmtree(self.directory, ignore_errors=True)

    def environment(self, dataset_path="/nonexistent/data.csv", dataset_format="csv", parameters=None, seed=7):
        return {
            "STARLING_SOCKET": self.path,
            "STARLING_TASK": TASK,
            "STARLING_TASK_NAME": "test-task",
            "STARLING_WORKER": "edge-a",
            "STARLING_WORKER_TOKEN": TOKEN,
            "STARLING_DATASET": "digits-0",
            "STARLING_DATASET_PATH": dataset_path,
            "STARLING_DATASET_FORMAT": dataset_format,
            "STARLING_WORK_DIR": self.work_dir,
            "STARLING_PARAMETERS": json.dumps(parameters if parameters is not None else
                                              {"batch_size": 32, "learning_rate": 0.5, "epochs": 5,
                                               "rounds": 3, "proximal_mu": 0.0, "note": "x"}),
            "STARLING_MODEL_NAME": "",
            "STARLING_SEED": str(seed),
        }

    def global_model(self, name, weights):
        path = os.path.join(self.directory, name)
        save_file({k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}, path)
        return path


class RoundPeer:
    """The usual handler: `waits` wait answers, then rounds 1..count, each announced until it is
    submitted or failed; then done. next_model(round, submit_request) gives the next global model's
    path (None: round 2 onwards still get a model written from the update)."""

    def __init__(self, count=3, waits=2, validate=lambda r: True, next_model=None, epoch=1):
        self.count = count
        self.waits = waits
        self.validate = validate
        self.next_model = next_model
        self.epoch = epoch
        self.round = 1
        self.model = None
        self.peer = None
        self.extra_trains = 0  # train answers repeating a closed round

    def __call__(self, request):
        command = request.get("command")
        if request.get("token") != TOKEN or request.get("task") != TASK:
            return {"error": "unknown worker or bad token"}
        if command == "worker-poll":
            if self.waits > 0:
                self.waits -= 1
                return {"job": "wait"}
            if self.round > self.count:
                return {"job": "stop"}
            return {"job": "train", "epoch": self.epoch, "round": self.round, "model": self.model,
                    "validate": self.validate(self.round), "deadline": 2_000_000_000}
        if command in ("worker-submit", "worker-fail"):
            if request.get("round") != self.round:
                return {"ok": False, "message": f"round {request.get('round')} is not open"}
            if command == "worker-submit" and self.next_model is not None:
                self.model = self.next_model(self.round, request)
            self.round += 1
            return {"ok": True, "message": "accepted"}
        return {"error": f"unknown command {command}"}


def worker_environment(peer, **kwargs):
    env = dict(os.environ)
    env.update(peer.environment(**kwargs))
    env["PYTHONPATH"] = PYTHON_DIR + os.pathsep + env.get("PYTHONPATH", "")
    return env


PYTHON = sys.executable


class ServingPeer:
    """A peer's end of an inference worker's connection (worker-serve): a Unix socket in a
    temporary directory; accept() takes the worker's connection, checks its hello and answers it
    (welcome, or the refusal given); then the test writes jobs and reads answers."""

    def __init__(self, role="edge", service="digits"):
        self.role = role
        self.service = service
        self.directory = tempfile.mkdtemp(prefix="sts")
        self.path = os.path.join(self.directory, "peer.sock")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(4)
        self.server.settimeout(20)
        self.connection = None
        self.reader = None
        self.hello = None

    def accept(self, refusal=None):
        self.connection, _ = self.server.accept()
        self.connection.settimeout(20)
        self.reader = self.connection.makefile("rb")
        self.hello = json.loads(self.reader.readline().decode())
        self.send(refusal if refusal is not None else {"ok": True, "role": self.role, "service": self.service})

    def send(self, *messages):
        """Writes the messages' lines in one go (a peer may write several jobs before it reads)."""
        self.connection.sendall(b"".join((json.dumps(m) + "\n").encode() for m in messages))

    def answers(self, count):
        return [json.loads(self.reader.readline().decode()) for _ in range(count)]

    def end_of_stream(self):
        self.connection.shutdown(socket.SHUT_WR)

    def model(self, name, weights):
        path = os.path.join(self.directory, name)
        save_file({k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}, path)
        return path

    def close(self):
        for closable in (self.reader, self.connection, self.server):
            if closable is not None:
                try:
                    closable.close()
                except OSError:
                    pass
        shutil.rmtree(self.directory, ignore_errors=True)

    def environment(self):
        """An inference worker's environment: no dataset (STARLING_DATASET_PATH empty)."""
        env = dict(os.environ)
        env.update({
            "STARLING_SOCKET": self.path, "STARLING_TASK": TASK, "STARLING_TASK_NAME": "joint",
            "STARLING_WORKER": "edge-worker", "STARLING_WORKER_TOKEN": TOKEN, "STARLING_PARAMETERS": "{}",
            "STARLING_SEED": "1", "STARLING_WORK_DIR": self.directory, "STARLING_MODEL_NAME": "",
            "STARLING_DATASET_PATH": "", "STARLING_ROLE": self.role, "STARLING_SERVICE": self.service,
        })
        env["PYTHONPATH"] = PYTHON_DIR + os.pathsep + env.get("PYTHONPATH", "")
        return env
