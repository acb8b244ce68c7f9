"""Inference workers: starling.serve() in a real worker process driven by a fake peer, and its answers."""

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from unittest import mock

import numpy as np

from fakepeer import TASK, TOKEN, ServingPeer  # first: puts python/ on sys.path
import starling
from starling.serving import Server

# Logistic regression from the model's safetensors (the Lib's default load): logits, softmax by the Lib.
# An example whose first feature is 999 makes predict raise.
LOGREG_WORKER = """
    import numpy as np
    import starling

    def predict(weights, x):
        if x.size and x[0, 0] == 999:
            raise ValueError("999 is not a digit")
        return x @ weights["dense0.weight"].T + weights["dense0.bias"]

    print("serving", starling.service(), "as", starling.role(), flush=True)
    starling.serve(predict, softmax=True)
    print("stopped", flush=True)
"""


def favouring(klass, classes=3, features=2):
    """A logreg model whose answer is always `klass` (by its bias)."""
    bias = np.zeros(classes, dtype=np.float32)
    bias[klass] = 5
    return {"dense0.weight": np.zeros((classes, features), dtype=np.float32), "dense0.bias": bias}


def scores_of(answer):
    """An answer's scores, sent as base64 of little-endian float32 (`scores_f32`)."""
    return np.frombuffer(base64.b64decode(answer["scores_f32"]), dtype="<f4").tolist()


def plain(answer):
    """An answer with its scores as a list (to compare whole answers)."""
    if "scores_f32" in answer:
        answer = dict(answer)
        answer["scores"] = scores_of(answer)
        del answer["scores_f32"]
    return answer


def argmaxes(answer):
    scores = np.asarray(scores_of(answer)).reshape(-1, answer["classes"])
    return scores.argmax(axis=1).tolist()


class ServingProcessTests(unittest.TestCase):
    def setUp(self):
        self.peer = ServingPeer()
        self.addCleanup(self.peer.close)
        self.directory = tempfile.mkdtemp(prefix="stv")
        self.addCleanup(shutil.rmtree, self.directory, True)
        path = os.path.join(self.directory, "worker.py")
        with open(path, "w") as file:
            file.write(textwrap.dedent(LOGREG_WORKER))
        self.worker = subprocess.Popen([sys.executable, path], env=self.peer.environment(),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop_worker)

    def stop_worker(self):
        if self.worker.poll() is None:
            self.worker.kill()
        self.worker.communicate(timeout=10)

    def finish(self):
        output, errors = self.worker.communicate(timeout=20)
        return self.worker.returncode, output, errors

    def test_load_infer_hot_swap_errors_and_stop(self):
        first, second = self.peer.model("v1.safetensors", favouring(0)), self.peer.model("v2.safetensors", favouring(2))
        self.peer.accept()
        self.assertEqual(self.peer.hello, {"request": "worker-serve", "task": TASK, "worker": "edge-worker", "token": TOKEN})
        # Written ahead in one go: the batches before the swap use v1, those after it v2.
        self.peer.send(
            {"job": "load", "version": 1, "model": first},
            {"job": "infer", "batch": 1, "version": 1, "shape": [2, 2], "data": [0.5, 1, 2, 3]},
            {"job": "load", "version": 2, "model": second},
            {"job": "infer", "batch": 2, "version": 2, "shape": [1, 2], "data": [0.5, 1]},
        )
        loaded1, batch1, loaded2, batch2 = self.peer.answers(4)
        self.assertEqual((loaded1, loaded2), ({"loaded": 1}, {"loaded": 2}))
        self.assertEqual((batch1["batch"], batch1["classes"], argmaxes(batch1)), (1, 3, [0, 0]))
        self.assertEqual((batch2["batch"], argmaxes(batch2)), (2, [2]))
        for row in np.asarray(scores_of(batch1)).reshape(-1, 3):
            self.assertAlmostEqual(float(row.sum()), 1.0, places=6)
            self.assertTrue(np.all(row >= 0))
        # predict raising, a bad shape and a failed load are answered; serving goes on with v2.
        self.peer.send(
            {"job": "infer", "batch": 3, "version": 2, "shape": [1, 2], "data": [999, 1]},
            {"job": "infer", "batch": 4, "version": 2, "shape": [2, 2], "data": [1, 2, 3]},
            {"job": "load", "version": 3, "model": os.path.join(self.peer.directory, "missing.safetensors")},
            {"job": "infer", "batch": 5, "version": 3, "shape": [1, 2], "data": [1, 1]},
        )
        raised, bad_shape, failed_load, batch5 = self.peer.answers(4)
        self.assertEqual(raised, {"batch": 3, "error": "ValueError: 999 is not a digit"})
        self.assertEqual(bad_shape, {"batch": 4, "error": "shape [2, 2] is not [examples, features] of the 3 values sent"})
        self.assertEqual(failed_load["loaded"], 3)
        self.assertIn("does not exist", failed_load["error"])
        self.assertEqual(argmaxes(batch5), [2])
        self.peer.send({"job": "stop"})
        status, output, errors = self.finish()
        self.assertEqual(status, 0, errors)
        self.assertEqual(output, "serving digits as edge\nstopped\n")

    def test_end_of_stream_ends_serving(self):
        self.peer.accept()
        self.peer.send({"job": "load", "version": 1, "model": self.peer.model("v1.safetensors", favouring(1))})
        self.assertEqual(self.peer.answers(1), [{"loaded": 1}])
        self.peer.end_of_stream()
        status, output, errors = self.finish()
        self.assertEqual((status, output), (0, "serving digits as edge\nstopped\n"), errors)

    def test_a_no_worker_refusal_exits_0(self):
        self.peer.accept(refusal={"error": "this peer runs no worker edge-worker", "code": "no-worker"})
        status, output, errors = self.finish()
        self.assertEqual((status, output), (0, "serving digits as edge\n"), errors)

    def test_another_refusal_is_an_error(self):
        self.peer.accept(refusal={"error": "wrong token", "code": "wrong-token"})
        status, _, errors = self.finish()
        self.assertEqual(status, 1)
        self.assertIn("the peer refused worker-serve: wrong token", errors)


class ServerTests(unittest.TestCase):
    """The answers without a process: probabilities checked, torch-like results, jobs of unknown kinds."""

    def server(self, predict, softmax=False):
        server = Server(predict, load=lambda path: path, softmax=softmax)
        self.assertEqual(server.answer({"job": "load", "version": 7, "model": "/m"}), {"loaded": 7})
        return server

    def infer(self, server, data, shape=None):
        return server.answer({"job": "infer", "batch": 1, "version": 7, "shape": shape or [1, len(data)], "data": data})

    def test_scores_must_be_probabilities_unless_softmax(self):
        self.assertEqual(plain(self.infer(self.server(lambda m, x: [[0.25, 0.75]]), [1.0])),
                         {"batch": 1, "classes": 2, "scores": [0.25, 0.75]})
        answer = self.infer(self.server(lambda m, x: [[2.0, 2.0]]), [1.0])
        self.assertIn("sum to 4, not 1", answer["error"])
        answer = self.infer(self.server(lambda m, x: [[-1.0, 2.0]]), [1.0])
        self.assertIn("negative or not finite", answer["error"])
        answer = self.infer(self.server(lambda m, x: [[1000.0, 1000.0]], softmax=True), [1.0])
        self.assertEqual(scores_of(answer), [0.5, 0.5])
        answer = self.infer(self.server(lambda m, x: [0.5, 0.5]), [1.0])
        self.assertIn("predict returned scores of shape [2] for 1 examples", answer["error"])

    def test_no_model_before_a_load_and_an_empty_batch(self):
        server = Server(lambda m, x: np.ones((len(x), 1)), load=lambda path: path)
        self.assertEqual(self.infer(server, [1.0]), {"batch": 1, "error": "no model is loaded (the peer's load failed)"})
        server.answer({"job": "load", "version": 1, "model": "/m"})
        self.assertEqual(plain(self.infer(server, [], shape=[0, 3])), {"batch": 1, "classes": 1, "scores": []})

    def test_a_torch_like_result_is_converted(self):
        class FakeTensor:
            def detach(self):
                return self

            def cpu(self):
                return self

            def numpy(self):
                return np.array([[0.5, 0.5]], dtype=np.float32)

        self.assertEqual(scores_of(self.infer(self.server(lambda m, x: FakeTensor()), [1.0])), [0.5, 0.5])

    def test_the_peer_s_binary_batches_are_read(self):
        data = base64.b64encode(np.asarray([1.0, 2.0, 3.0, 4.0], dtype="<f4").tobytes()).decode()
        answer = self.server(lambda m, x: np.tile([[0.25, 0.75]], (len(x), 1)) if x.shape == (2, 2) else None).answer(
            {"job": "infer", "batch": 3, "version": 7, "shape": [2, 2], "data_f32": data})
        self.assertEqual(plain(answer), {"batch": 3, "classes": 2, "scores": [0.25, 0.75, 0.25, 0.75]})
        broken = self.server(lambda m, x: x).answer({"job": "infer", "batch": 4, "version": 7, "shape": [1, 1], "data_f32": "!!"})
        self.assertIn("error", broken)

    def test_an_unknown_job_kind_is_named(self):
        with self.assertRaises(starling.StarlingError) as caught:
            self.server(lambda m, x: x).answer({"job": "explain"})
        self.assertIn("serving job of kind 'explain'", str(caught.exception))


class ServingContextTests(unittest.TestCase):
    def test_an_inference_worker_needs_no_dataset_and_has_a_role_and_service(self):
        peer = ServingPeer(role="cloud", service="birds")
        self.addCleanup(peer.close)
        env = peer.environment()
        with mock.patch.dict(os.environ, env, clear=True):
            self.assertEqual((starling.role(), starling.service()), ("cloud", "birds"))
            self.assertEqual(starling.context().dataset_path, "")
            with self.assertRaises(starling.StarlingError) as caught:
                next(iter(starling.rounds()))
            self.assertIn("call starling.serve(predict), not starling.rounds()", str(caught.exception))
        env["STARLING_ROLE"] = "train"
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaises(starling.StarlingError) as caught:
                starling.serve(lambda m, x: x)
            self.assertIn("STARLING_DATASET is not set", str(caught.exception))
        env["STARLING_ROLE"] = "referee"
        with self.assertRaises(starling.StarlingError) as caught:
            starling.context(env)
        self.assertIn("STARLING_ROLE must be one of train, evaluate, edge, cloud", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
