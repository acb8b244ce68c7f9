"""Central evaluation: serve_evaluations() against a fake peer, in this process."""

import os
import unittest
from unittest import mock

import numpy as np

from fakepeer import TASK, TOKEN, FakePeer  # first: puts python/ on sys.path
import starling
import starling.evaluation


class EvaluatorPeer:
    """Asks the evaluator to score the models of rounds 2 and 4 (each asked twice, as a peer repeats
    an answer until it hears back), with waits between; then done."""

    def __init__(self, peer_ref):
        self.peer_ref = peer_ref
        self.script = ["wait", 2, 2, "wait", 4, 4, "stop"]

    def __call__(self, request):
        if request.get("token") != TOKEN or request.get("task") != TASK:
            return {"error": "unknown worker or bad token"}
        command = request.get("command")
        if command == "worker-poll":
            step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
            if step in ("wait", "stop"):
                return {"job": step}
            model = self.peer_ref().global_model(f"global-{step}.safetensors", {"w": np.full((2,), float(step))})
            return {"job": "evaluate", "epoch": 1, "round": step, "model": model}
        if command in ("worker-evaluated", "worker-fail"):
            return {"ok": True, "message": "noted"}
        return {"error": f"unexpected {command}"}


class EvaluationTests(unittest.TestCase):
    def start(self, role):
        self.peer = FakePeer(EvaluatorPeer(lambda: self.peer))
        self.addCleanup(self.peer.close)
        data = os.path.join(self.peer.directory, "eval.csv")
        with open(data, "w") as handle:
            handle.write("a,b,label\n0.5,1.0,1\n0.25,0.0,0\n1.0,1.0,1\n")
        environment = self.peer.environment(dataset_path=data)
        environment["STARLING_ROLE"] = role
        patcher = mock.patch.dict(os.environ, environment)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(setattr, starling.evaluation, "_served", False)
        return self.peer

    def test_each_model_is_scored_once_on_the_evaluation_data(self):
        peer = self.start("evaluate")
        seen = []

        def evaluate(weights, x, y):
            seen.append((float(weights["w"][0]), x.shape, y.tolist()))
            return {"loss": np.float32(weights["w"][0] / 10), "accuracy": 0.5}

        self.assertTrue(starling.is_evaluator())
        self.assertTrue(starling.serve_evaluations(evaluate, exit_when_done=False))
        self.assertEqual(seen, [(2.0, (3, 2), [1, 0, 1]), (4.0, (3, 2), [1, 0, 1])])
        sent = peer.commands("worker-evaluated")
        self.assertEqual([(r["epoch"], r["round"]) for r in sent], [(1, 2), (1, 4)])
        self.assertAlmostEqual(sent[0]["metrics"]["loss"], 0.2, places=6)
        self.assertEqual(sent[1]["metrics"]["accuracy"], 0.5)

    def test_a_failing_evaluation_is_reported_and_the_next_one_still_runs(self):
        peer = self.start("evaluate")

        def evaluate(weights, x, y):
            if weights["w"][0] == 2.0:
                raise ValueError("shapes do not match")
            return {"accuracy": 1.0}

        starling.serve_evaluations(evaluate, exit_when_done=False)
        failed = peer.commands("worker-fail")
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["round"], 2)
        self.assertIn("evaluation failed: ValueError: shapes do not match", failed[0]["reason"])
        self.assertEqual([r["round"] for r in peer.commands("worker-evaluated")], [4])

    def test_a_training_worker_goes_on_at_once(self):
        peer = self.start("train")
        self.assertFalse(starling.is_evaluator())
        self.assertFalse(starling.serve_evaluations(lambda w, x, y: {}))
        self.assertEqual(peer.requests, [])

    def test_an_evaluator_that_never_serves_is_told_what_to_call(self):
        self.start("evaluate")
        with self.assertRaises(starling.StarlingError) as raised:
            next(starling.rounds())
        self.assertIn("starling.serve_evaluations(fn)", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
