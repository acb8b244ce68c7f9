"""Workers as child processes: orphan exit, a loop body that raises, a script that stops early."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from fakepeer import PYTHON_DIR, FakePeer, RoundPeer, worker_environment  # first: puts python/ on sys.path


def read(path):
    with open(path) as file:
        return file.read()


def wait_for(condition, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


class ProcessTestCase(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="stw")
        self.addCleanup(shutil.rmtree, self.directory, True)

    def script(self, text, name="worker.py"):
        path = os.path.join(self.directory, name)
        with open(path, "w") as file:
            file.write(textwrap.dedent(text))
        return path

    def start_peer(self, handler):
        peer = FakePeer(handler)
        self.addCleanup(peer.close)
        return peer

    def run_worker(self, peer, script, *args, timeout=30):
        return subprocess.run([sys.executable, script, *args], env=worker_environment(peer),
                              capture_output=True, text=True, timeout=timeout)


WAITING_WORKER = """
    import sys
    import starling
    starling.constants.UNREACHABLE_TIMEOUT = float(sys.argv[1])
    for rnd in starling.rounds():
        print("unexpected round", rnd.number)
    print("the loop ended")
"""


class OrphanTests(ProcessTestCase):
    def check_orphan_exit(self, remove):
        peer = self.start_peer(lambda request: {"job": "wait"})
        worker = subprocess.Popen([sys.executable, self.script(WAITING_WORKER), "1.0"], env=worker_environment(peer),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_for(lambda: len(peer.commands("worker-poll")) >= 3), "the worker never polled")
            remove(peer)
            gone = time.monotonic()
            status = worker.wait(timeout=10)
            elapsed = time.monotonic() - gone
        finally:
            if worker.poll() is None:
                worker.kill()
            stdout, stderr = worker.communicate()
        self.assertEqual(status, 3, stderr)
        self.assertIn("the peer cannot be reached", stderr)
        self.assertIn("exiting with status 3", stderr)
        self.assertNotIn("the loop ended", stdout)
        self.assertGreaterEqual(elapsed, 0.9)  # after the unreachable timeout (1 s here, 10 s by default)
        self.assertLess(elapsed, 6)

    def test_exit_when_the_socket_disappears(self):
        self.check_orphan_exit(lambda peer: peer.remove_socket())

    def test_exit_when_the_connection_is_refused(self):
        def stop_listening(peer):  # the socket file stays, nobody accepts
            peer.running = False
            peer.server.close()
            peer.thread.join(2)
            self.assertTrue(os.path.exists(peer.path))

        self.check_orphan_exit(stop_listening)

    def test_exit_when_the_parent_process_changes(self):
        peer = self.start_peer(lambda request: {"job": "wait"})
        worker = self.script(WAITING_WORKER)
        errors = os.path.join(self.directory, "worker.err")
        parent = self.script(f"""
            import subprocess, sys
            with open({errors!r}, "w") as errors:
                child = subprocess.Popen([sys.executable, {worker!r}, "60"], stderr=errors)
            print(child.pid, flush=True)
            sys.stdin.read()  # exits (leaving the worker behind) when the test closes stdin
        """, name="parent.py")
        middle = subprocess.Popen([sys.executable, parent], env=worker_environment(peer),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        pid = int(middle.stdout.readline())
        try:
            self.assertTrue(wait_for(lambda: len(peer.commands("worker-poll")) >= 2), "the worker never polled")
            middle.stdin.close()
            middle.wait(timeout=10)
            self.assertTrue(wait_for(lambda: "is gone" in read(errors), timeout=10), read(errors))
            self.assertTrue(wait_for(lambda: not self.running(pid), timeout=5))
        finally:
            middle.stdout.close()
            if self.running(pid):
                os.kill(pid, 9)
        text = read(errors)
        self.assertIn("the peer (parent process", text)
        self.assertIn("exiting with status 3", text)

    @staticmethod
    def running(pid):
        try:
            with open(f"/proc/{pid}/stat") as file:
                return file.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except FileNotFoundError:
            return False
        except OSError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            return True


class FailureTests(ProcessTestCase):
    def test_a_loop_body_that_raises_fails_the_round_with_the_exception_text(self):
        peer = self.start_peer(RoundPeer(count=3, waits=0))
        script = self.script("""
            import numpy as np
            import starling
            for rnd in starling.rounds():
                if rnd.number == 2:
                    raise ValueError("boom in round 2")
                rnd.submit({"w": np.zeros(3)}, num_samples=10)
        """)
        result = self.run_worker(peer, script)
        self.assertEqual(result.returncode, 1)
        self.assertIn("Traceback", result.stderr)  # re-raised: the usual report and status
        self.assertIn("ValueError: boom in round 2", result.stderr)
        fails = peer.commands("worker-fail")
        self.assertEqual([(f["round"], f["reason"]) for f in fails], [(2, "ValueError: boom in round 2")])
        self.assertEqual(len(peer.commands("worker-submit")), 1)

    def test_a_refused_update_that_ends_the_script_is_reported_failed(self):
        def handler(request):
            if request["command"] == "worker-poll":
                return {"job": "train", "epoch": 1, "round": 1, "model": None, "validate": False, "deadline": 1}
            if request["command"] == "worker-submit":
                return {"ok": False, "message": "stale epoch"}
            return {"ok": True, "message": "noted"}

        peer = self.start_peer(handler)
        script = self.script("""
            import numpy as np
            import starling
            for rnd in starling.rounds():
                rnd.submit({"w": np.zeros(3)}, num_samples=10)
        """)
        result = self.run_worker(peer, script)
        self.assertEqual(result.returncode, 1)
        self.assertIn("starling.errors.StarlingError: round 1: the peer refused the update: stale epoch", result.stderr)
        self.assertEqual([f["reason"] for f in peer.commands("worker-fail")],
                         ["starling.errors.StarlingError: round 1: the peer refused the update: stale epoch"])

    def test_a_script_that_stops_without_submitting_fails_the_round(self):
        peer = self.start_peer(RoundPeer(count=3, waits=0))
        script = self.script("""
            import starling
            for rnd in starling.rounds():
                break
            print("stopped early")
        """)
        result = self.run_worker(peer, script)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("stopped early", result.stdout)
        self.assertEqual([(f["round"], f["reason"]) for f in peer.commands("worker-fail")],
                         [(1, "the worker ended without submitting round 1")])

    def test_a_missing_environment_is_a_clear_error(self):
        script = self.script("""
            import starling
            for rnd in starling.rounds():
                pass
        """)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STARLING_")}
        env["PYTHONPATH"] = PYTHON_DIR
        result = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("StarlingError: STARLING_SOCKET is not set: this script must be started by a Starling peer",
                      result.stderr)


if __name__ == "__main__":
    unittest.main()
