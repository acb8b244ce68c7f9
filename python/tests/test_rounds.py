"""The round loop against a fake peer, in this process."""

import os
import unittest
from unittest import mock

import numpy as np
from safetensors.numpy import load_file

from fakepeer import TASK, TOKEN, FakePeer, RoundPeer  # first: puts python/ on sys.path
import starling
import starling.rounds


class FakeTorchTensor:
    """Duck-typed like a torch tensor that requires grad: only detach().cpu().numpy() gives the data."""

    def __init__(self, array):
        self._array = np.asarray(array)
        self.calls = []

    def detach(self):
        self.calls.append("detach")
        return self

    def cpu(self):
        self.calls.append("cpu")
        return self

    def numpy(self):
        if self.calls[-2:] != ["detach", "cpu"]:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad")
        return self._array


class PeerTestCase(unittest.TestCase):
    def start(self, handler):
        self.peer = FakePeer(handler)
        self.addCleanup(self.peer.close)
        patcher = mock.patch.dict(os.environ, self.peer.environment())
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(setattr, starling.rounds, "_current", None)
        return self.peer


class FullLoopTests(PeerTestCase):
    def test_three_rounds_with_global_weights_from_round_two(self):
        def next_model(number, request):
            return self.peer.global_model(f"global-{number + 1}.safetensors",
                                          {"w": np.full((2, 3), float(number + 1)), "b": np.arange(3)})

        handler = RoundPeer(count=3, waits=2, validate=lambda r: r == 3, next_model=next_model)
        peer = self.start(handler)
        seen = []
        for rnd in starling.rounds():
            weights = rnd.global_weights()
            seen.append((rnd.number, rnd.epoch, rnd.validate, rnd.deadline, None if weights is None else weights))
            if weights is None:
                weights = {"w": np.zeros((2, 3)), "b": np.zeros(3)}
            updated = {"w": weights["w"] + 0.5, "b": weights["b"] - 1}  # float64: cast by the Lib
            message = rnd.submit(updated, num_samples=100 + rnd.number, metrics={"loss": np.float64(0.25), "accuracy": 0.9})
            self.assertEqual(message, "accepted")

        self.assertEqual([s[0] for s in seen], [1, 2, 3])
        self.assertEqual([s[1] for s in seen], [1, 1, 1])
        self.assertEqual([s[2] for s in seen], [False, False, True])
        self.assertEqual(seen[0][3], 2_000_000_000.0)
        self.assertIsNone(seen[0][4])
        for number in (2, 3):
            weights = seen[number - 1][4]
            self.assertEqual(set(weights), {"w", "b"})
            self.assertEqual(weights["w"].dtype, np.float32)
            np.testing.assert_array_equal(weights["w"], np.full((2, 3), float(number), dtype=np.float32))
            np.testing.assert_array_equal(weights["b"], np.arange(3, dtype=np.float32))

        submits = peer.commands("worker-submit")
        self.assertEqual(len(submits), 3)
        for number, request in enumerate(submits, start=1):
            self.assertEqual(set(request), {"command", "task", "worker", "token", "epoch", "round", "update",
                                            "num_samples", "metrics"})
            self.assertEqual(request["task"], TASK)
            self.assertEqual(request["worker"], "edge-a")
            self.assertEqual(request["token"], TOKEN)
            self.assertEqual(request["epoch"], 1)
            self.assertEqual(request["round"], number)
            self.assertEqual(request["num_samples"], 100 + number)
            self.assertEqual(request["metrics"], {"loss": 0.25, "accuracy": 0.9})
            self.assertEqual(request["update"], os.path.join(peer.work_dir, f"update-{number}.safetensors"))
            self.assertTrue(os.path.isabs(request["update"]))
            update = load_file(request["update"])
            self.assertEqual(update["w"].dtype, np.float32)
            base = 0.0 if number == 1 else float(number)
            np.testing.assert_array_equal(update["w"], np.full((2, 3), base + 0.5, dtype=np.float32))
        self.assertEqual(len(peer.commands("worker-poll")), 2 + 3 + 1)  # waits, a train per round, stop
        self.assertEqual(peer.commands("worker-fail"), [])
        self.assertFalse(any(name.endswith(".partial") for name in os.listdir(peer.work_dir)))

    def test_stop_at_once_yields_nothing(self):
        self.start(lambda request: {"job": "stop"})
        self.assertEqual(list(starling.rounds()), [])

    def test_a_job_of_an_unknown_kind_is_a_clear_error(self):
        self.start(lambda request: {"job": "infer", "input": "/x"})
        with self.assertRaisesRegex(starling.StarlingError, "job of kind 'infer', which this worker Lib does not know "
                                                   r"\(it knows wait, train, evaluate, stop\)"):
            list(starling.rounds())
        self.start(lambda request: {"state": "done"})  # a peer of the version before jobs
        with self.assertRaisesRegex(starling.StarlingError, 'no "job"'):
            list(starling.rounds())

    def test_a_round_announced_again_is_not_yielded_again(self):
        announcements = []

        def handler(request):
            if request["command"] == "worker-poll":
                announcements.append(1)
                if len(announcements) <= 4:  # round 1 stays announced after the submission
                    return {"job": "train", "epoch": 1, "round": 1, "model": None, "validate": False,
                            "deadline": 1}
                if len(announcements) == 5:  # a new coordinator epoch announces round 1 again: new work
                    return {"job": "train", "epoch": 2, "round": 1, "model": None, "validate": False,
                            "deadline": 1}
                return {"job": "stop"}
            return {"ok": True, "message": "ok"}

        self.start(handler)
        keys = []
        for rnd in starling.rounds():
            keys.append((rnd.epoch, rnd.number))
            rnd.submit({"w": np.ones(2)}, num_samples=1)
        self.assertEqual(keys, [(1, 1), (2, 1)])


class TorchLikeTests(PeerTestCase):
    def test_duck_typed_tensors_are_accepted(self):
        peer = self.start(RoundPeer(count=1, waits=0))
        tensor = FakeTorchTensor(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float64))
        scalar = FakeTorchTensor(np.float64(0.125))
        for rnd in starling.rounds():
            rnd.submit({"dense0.weight": tensor, "dense0.bias": np.array([1, 2], dtype=np.int64)},
                       num_samples=4, metrics={"loss": np.float32(0.5), "accuracy": mock.Mock(item=lambda: 0.75)})
        self.assertEqual(tensor.calls, ["detach", "cpu"])
        request = peer.commands("worker-submit")[0]
        self.assertEqual(request["metrics"], {"loss": 0.5, "accuracy": 0.75})
        update = load_file(request["update"])
        self.assertEqual(update["dense0.weight"].dtype, np.float32)
        np.testing.assert_array_equal(update["dense0.weight"], [[1, 2], [3, 4]])
        np.testing.assert_array_equal(update["dense0.bias"], np.array([1, 2], dtype=np.float32))
        self.assertEqual(scalar.calls, [])


class ErrorTests(PeerTestCase):
    def test_an_error_answer_raises(self):
        self.start(lambda request: {"error": "unknown worker edge-a"})
        with self.assertRaises(starling.StarlingError) as caught:
            next(iter(starling.rounds()))
        self.assertIn("unknown worker edge-a", str(caught.exception))

    def test_a_refused_update_raises_with_the_peers_reason(self):
        def handler(request):
            if request["command"] == "worker-poll":
                return {"job": "train", "epoch": 3, "round": 4, "model": None, "validate": False, "deadline": 5}
            if request["command"] == "worker-submit":
                return {"ok": False, "message": "round 4 closed at its deadline"}
            return {"ok": True}

        peer = self.start(handler)
        rnd = next(iter(starling.rounds()))
        with self.assertRaises(starling.StarlingError) as caught:
            rnd.submit({"w": np.zeros(1)}, num_samples=1)
        self.assertIn("round 4 closed at its deadline", str(caught.exception))
        with self.assertRaises(starling.StarlingError):  # never sent twice
            rnd.submit({"w": np.zeros(1)}, num_samples=1)
        self.assertEqual(len(peer.commands("worker-submit")), 1)

    def test_a_round_is_submitted_once(self):
        peer = self.start(RoundPeer(count=2, waits=0))
        for rnd in starling.rounds():
            rnd.submit({"w": np.zeros(1)}, num_samples=1)
            with self.assertRaises(starling.StarlingError) as caught:
                rnd.submit({"w": np.zeros(1)}, num_samples=1)
            self.assertIn("already submitted", str(caught.exception))
        self.assertEqual(len(peer.commands("worker-submit")), 2)

    def test_bad_updates_are_refused_before_sending(self):
        peer = self.start(RoundPeer(count=1, waits=0))
        rnd = next(iter(starling.rounds()))
        for weights, samples, metrics, text in [
            ({"w": np.array([np.nan])}, 1, None, "not finite"),
            ({"w": np.array(["a"])}, 1, None, "real numbers"),
            ({}, 1, None, "no weights"),
            ({"w": np.zeros(1)}, 0, None, "positive integer"),
            ({"w": np.zeros(1)}, 1, {"loss": float("inf")}, "finite"),
            ({"w": np.zeros(1)}, 1, {"loss": "low"}, "not a number"),
        ]:
            with self.assertRaises(starling.StarlingError) as caught:
                rnd.submit(weights, num_samples=samples, metrics=metrics)
            self.assertIn(text, str(caught.exception))
        self.assertEqual(peer.commands("worker-submit"), [])
        rnd.submit({"w": np.zeros(1)}, num_samples=1)  # still open
        self.assertEqual(len(peer.commands("worker-submit")), 1)

    def test_fail_sends_the_reason(self):
        peer = self.start(RoundPeer(count=2, waits=0))
        for rnd in starling.rounds():
            if rnd.number == 1:
                rnd.fail("out of memory")
            else:
                rnd.submit({"w": np.zeros(1)}, num_samples=1)
        fails = peer.commands("worker-fail")
        self.assertEqual(len(fails), 1)
        self.assertEqual({k: fails[0][k] for k in ("task", "worker", "token", "epoch", "round", "reason")},
                         {"task": TASK, "worker": "edge-a", "token": TOKEN, "epoch": 1, "round": 1,
                          "reason": "out of memory"})
        self.assertEqual(len(peer.commands("worker-submit")), 1)

    def test_a_body_that_goes_on_without_submitting_fails_the_round(self):
        peer = self.start(RoundPeer(count=2, waits=0))
        with mock.patch("sys.stderr"):
            numbers = [rnd.number for rnd in starling.rounds()]
        self.assertEqual(numbers, [1, 2])
        self.assertEqual([f["reason"] for f in peer.commands("worker-fail")],
                         ["round 1 ended without submit() or fail()", "round 2 ended without submit() or fail()"])

    def test_constants(self):
        self.assertEqual(starling.constants.POLL_INTERVAL, 0.05)
        self.assertEqual(starling.constants.UNREACHABLE_TIMEOUT, 10.0)
        self.assertEqual(starling.constants.ORPHAN_EXIT_STATUS, 3)


if __name__ == "__main__":
    unittest.main()
