"""Evaluation workers of an IncrementalLearningJob: starling.evaluate() in this process and in real
worker processes (the peer is not asked anything: the result is a file)."""

import json
import os
import subprocess
import sys
import textwrap
import unittest
from unittest import mock

import numpy as np
from safetensors.numpy import save_file

from fakepeer import PYTHON, FakePeer, worker_environment  # first: puts python/ on sys.path
import starling
from starling import model_evaluation


def nobody(request):
    return {"error": "an evaluation worker asks the peer nothing"}


class EvaluateTests(unittest.TestCase):
    def setUp(self):
        self.peer = FakePeer(nobody)
        self.addCleanup(self.peer.close)
        self.data = os.path.join(self.peer.directory, "eval-rows.csv")
        with open(self.data, "w") as handle:  # labels 0, 1, 1, 2; the first feature decides model "first"
            handle.write("a,b,label\n1,0,0\n0,1,1\n1,1,1\n0,0,2\n")
        self.models = {}
        for name, which in (("first", 0.0), ("second", 1.0)):
            path = os.path.join(self.peer.directory, f"{name}.safetensors")
            save_file({"which": np.array([which], dtype=np.float32)}, path)
            self.models[name] = path
        self.output = os.path.join(self.peer.directory, "result.json")

    def environment(self, role="eval", models=None):
        env = self.peer.environment(dataset_path=self.data)
        env.update({"STARLING_ROLE": role, "STARLING_EVAL_MODELS": json.dumps(models or self.models),
                     "STARLING_EVAL_OUTPUT": self.output})
        return env

    def start(self, role="eval", models=None):
        patcher = mock.patch.dict(os.environ, self.environment(role, models))
        patcher.start()
        self.addCleanup(patcher.stop)

    @staticmethod
    def predict(weights, x):
        if weights["which"][0] == 0:  # classes: 0 when the first feature is set, else 1
            return np.where(x[:, 0] > 0, 0, 1)
        return np.tile([0.2, 0.8], (len(x), 1))  # scores: always class 1

    def result(self):
        with open(self.output) as handle:
            return json.load(handle)

    def test_each_model_gets_its_confusion_matrix(self):
        self.start()
        self.assertTrue(starling.is_model_evaluator())
        self.assertTrue(starling.evaluate(self.predict, exit_when_done=False))
        self.assertEqual(self.result(), {"models": {
            "first": {"confusion": [[1, 0, 0], [1, 1, 0], [0, 1, 0]]},
            "second": {"confusion": [[0, 1, 0], [0, 2, 0], [0, 1, 0]]},
        }})
        self.assertFalse(os.path.exists(self.output + ".partial"))
        self.assertEqual(self.peer.requests, [])

    def test_it_exits_when_done(self):
        self.start()
        with self.assertRaises(SystemExit) as raised:
            starling.evaluate(self.predict)
        self.assertEqual(raised.exception.code, 0)
        self.assertIn("first", self.result()["models"])

    def test_other_roles_go_on_at_once(self):
        for role in ("train", "evaluate", "edge"):
            with mock.patch.dict(os.environ, self.environment(role)):
                self.assertFalse(starling.evaluate(self.fail_if_called))
                self.assertFalse(starling.is_model_evaluator())
        self.assertFalse(os.path.exists(self.output))

    def fail_if_called(self, weights, x):
        raise AssertionError("predict is not called outside an evaluation worker")

    def test_a_predict_that_raises_exits_1_with_the_reason_on_stderr(self):
        self.start()

        def predict(weights, x):
            raise ValueError("shapes do not match")

        with mock.patch("sys.stderr") as stderr, self.assertRaises(SystemExit) as raised:
            starling.evaluate(predict, exit_when_done=False)
        self.assertEqual(raised.exception.code, 1)
        printed = "".join(call.args[0] for call in stderr.write.call_args_list)
        self.assertIn("model first: predict raised ValueError: shapes do not match", printed)
        self.assertFalse(os.path.exists(self.output))

    def test_predictions_of_the_wrong_shape_or_kind_fail(self):
        self.start()
        for bad in ([0, 1], np.zeros((4, 2, 1)), [0.5, 1, 1, 0], [-1, 0, 0, 0], ["a", "b", "c", "d"], [[np.nan, 1]] * 4):
            with mock.patch("sys.stderr"), self.assertRaises(SystemExit) as raised:
                starling.evaluate(lambda weights, x: bad, exit_when_done=False)
            self.assertEqual(raised.exception.code, 1, bad)

    def test_a_rounds_loop_in_an_evaluation_worker_is_told_what_to_call(self):
        self.start()
        with self.assertRaises(starling.StarlingError) as raised:
            next(starling.rounds())
        self.assertIn("starling.evaluate(predict)", str(raised.exception))

    def test_the_environment_is_checked(self):
        env = self.environment()
        env["STARLING_EVAL_MODELS"] = "[1]"
        with self.assertRaises(starling.StarlingError):
            starling.context(env)
        del env["STARLING_EVAL_MODELS"]
        with self.assertRaises(starling.StarlingError):
            starling.context(env)
        env = self.environment()
        del env["STARLING_EVAL_OUTPUT"]
        with self.assertRaises(starling.StarlingError):
            starling.context(env)
        context = starling.context(self.environment())
        self.assertEqual(context.eval_models, self.models)
        self.assertEqual(context.eval_output, self.output)

    def test_classes_and_matrices(self):
        self.assertEqual(model_evaluation.classes_of([[0.1, 0.9], [0.5, 0.5]], 2).tolist(), [1, 0])
        self.assertEqual(model_evaluation.classes_of(np.array([3.0, 0.0]), 2).tolist(), [3, 0])
        self.assertEqual(model_evaluation.confusion([0, 1, 1], [0, 3, 1]).tolist(),
                         [[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
        with self.assertRaises(starling.StarlingError):
            model_evaluation.confusion([0], [256])

    def test_a_real_worker_process(self):
        script = os.path.join(self.peer.directory, "worker.py")
        with open(script, "w") as handle:
            handle.write(textwrap.dedent("""
                import numpy as np
                import starling

                def predict(weights, x):
                    if weights["which"][0] == 1:
                        raise RuntimeError("this model is broken")
                    return np.where(x[:, 0] > 0, 0, 1)

                starling.evaluate(predict)
                print("not evaluating: role", starling.role())
            """))
        env = worker_environment(self.peer, dataset_path=self.data)
        env.update({"STARLING_ROLE": "eval", "STARLING_EVAL_MODELS": json.dumps({"first": self.models["first"]}),
                    "STARLING_EVAL_OUTPUT": self.output})
        done = subprocess.run([PYTHON, script], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "")
        self.assertEqual(self.result(), {"models": {"first": {"confusion": [[1, 0, 0], [1, 1, 0], [0, 1, 0]]}}})

        env["STARLING_EVAL_MODELS"] = json.dumps(self.models)
        failed = subprocess.run([PYTHON, script], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(failed.returncode, 1)
        self.assertEqual(failed.stderr.strip().splitlines()[-1],
                         "starling: evaluation failed: model second: predict raised RuntimeError: this model is broken")

        env["STARLING_ROLE"] = "train"
        other = subprocess.run([PYTHON, script], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(other.returncode, 0, other.stderr)
        self.assertEqual(other.stdout, "not evaluating: role train\n")


if __name__ == "__main__":
    unittest.main()
