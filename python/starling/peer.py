"""The connection to the local peer: one JSON request per connection, and the orphan rules."""

import errno
import json
import os
import socket
import sys
import threading
import time
from typing import Any, Dict

from . import constants
from .errors import StarlingError

#: The parent process (the peer that started this worker) when the Lib was imported.
START_PARENT = os.getppid()

# Connection failures that mean "the peer is not there": the socket file is gone or nobody listens.
_UNREACHABLE = (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTSOCK, errno.ECONNRESET, errno.EPIPE)


def orphan_exit(reason: str) -> None:
    """Ends the process at once with ORPHAN_EXIT_STATUS, saying why on stderr."""
    try:
        sys.stdout.flush()
    except Exception:
        pass
    try:
        sys.stderr.write(f"starling: {reason}; exiting with status {constants.ORPHAN_EXIT_STATUS}\n")
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(constants.ORPHAN_EXIT_STATUS)


def check_parent() -> None:
    """Exits (orphan) when the parent process is no longer the one that started the worker."""
    parent = os.getppid()
    if parent != START_PARENT:
        orphan_exit(f"the peer (parent process {START_PARENT}) is gone (parent is now {parent})")


_watchdog_lock = threading.Lock()
_watchdog_started = False


def start_watchdog() -> None:
    """Starts (once) a daemon thread that checks the parent process every PARENT_CHECK_INTERVAL, so a
    worker whose peer died exits even in the middle of a long training step."""
    global _watchdog_started
    with _watchdog_lock:
        if _watchdog_started:
            return
        _watchdog_started = True

    def watch() -> None:
        while True:
            time.sleep(constants.PARENT_CHECK_INTERVAL)
            check_parent()

    threading.Thread(target=watch, name="starling-watchdog", daemon=True).start()


class _Unreachable(Exception):
    pass


class PeerClient:
    """Sends requests to the peer's Unix socket."""

    def __init__(self, path: str) -> None:
        self.path = path

    def request(self, message: Dict[str, Any], retry_after_send: bool = False) -> Dict[str, Any]:
        """Sends one request and returns the peer's answer (a JSON object). While the peer cannot be
        reached the request is tried again every RETRY_INTERVAL; after UNREACHABLE_TIMEOUT seconds the
        process exits (orphan). A request is sent again after it reached the peer only when
        retry_after_send (a poll; never a submit). An answer with "error" raises StarlingError."""
        line = (json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
        unreachable_since = None
        while True:
            check_parent()
            try:
                answer = self._exchange(line, retry_after_send)
                break
            except _Unreachable as problem:
                now = time.monotonic()
                if unreachable_since is None:
                    unreachable_since = now
                if now - unreachable_since >= constants.UNREACHABLE_TIMEOUT:
                    orphan_exit(
                        f"the peer cannot be reached at {self.path} for "
                        f"{constants.UNREACHABLE_TIMEOUT:g} s ({problem})"
                    )
                time.sleep(constants.RETRY_INTERVAL)
        if "error" in answer:
            raise StarlingError(f"the peer answered {message.get('command')} with an error: {answer['error']}")
        return answer

    def send_once(self, message: Dict[str, Any]) -> Dict[str, Any]:
        """One attempt, no retries and no orphan exit (used while the process is ending anyway)."""
        line = (json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            return self._exchange(line, False)
        except _Unreachable as problem:
            raise StarlingError(f"the peer cannot be reached at {self.path} ({problem})") from None

    def _exchange(self, line: bytes, retry_after_send: bool) -> Dict[str, Any]:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.settimeout(constants.REQUEST_TIMEOUT)
            try:
                connection.connect(self.path)
            except OSError as error:
                if error.errno in _UNREACHABLE:
                    raise _Unreachable(error.strerror or str(error)) from None
                raise StarlingError(f"cannot connect to the peer at {self.path}: {error}") from None
            try:
                connection.sendall(line)
                data = self._read_line(connection)
            except socket.timeout:
                raise StarlingError(
                    f"the peer did not answer within {constants.REQUEST_TIMEOUT:g} s") from None
            except OSError as error:
                if retry_after_send and error.errno in _UNREACHABLE:
                    raise _Unreachable(error.strerror or str(error)) from None
                raise StarlingError(f"the connection to the peer failed: {error}") from None
        finally:
            connection.close()
        if not data.strip():
            if retry_after_send:
                raise _Unreachable("the peer closed the connection without an answer")
            raise StarlingError("the peer closed the connection without an answer")
        try:
            answer = json.loads(data.decode("utf-8"))
        except ValueError:
            raise StarlingError(f"the peer's answer is not JSON: {data[:200]!r}") from None
        if not isinstance(answer, dict):
            raise StarlingError(f"the peer's answer is not a JSON object: {data[:200]!r}")
        return answer

    @staticmethod
    def _read_line(connection: socket.socket) -> bytes:
        chunks = []
        size = 0
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            newline = chunk.find(b"\n")
            if newline >= 0:
                chunks.append(chunk[:newline])
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > constants.MAX_ANSWER_BYTES:
                raise StarlingError(f"the peer's answer is longer than {constants.MAX_ANSWER_BYTES} bytes")
        return b"".join(chunks)
