"""The example workers: numpy_logreg.py trained for 3 rounds against the fake peer; both compile."""

import base64
import json
import os
import subprocess
import sys
import unittest

import numpy as np
from safetensors.numpy import load_file

from fakepeer import REPO_DIR, FakePeer, RoundPeer, ServingPeer, worker_environment  # first: puts python/ on sys.path

EXAMPLES = os.path.join(REPO_DIR, "examples", "workers")


def digits_like_csv(path, samples=300, seed=1):
    """A small stand-in for the digits data: 64 features in [0, 1] around one prototype per class."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((10, 64))
    labels = np.arange(samples) % 10
    features = np.clip(prototypes[labels] + rng.normal(0, 0.25, (samples, 64)), 0, 1)
    with open(path, "w") as file:
        file.write(",".join([f"pixel{i}" for i in range(64)] + ["label"]) + "\n")
        for row, label in zip(features, labels):
            file.write(",".join(f"{value:.4f}" for value in row) + f",{label}\n")


class NumpyLogregTests(unittest.TestCase):
    def test_three_rounds(self):
        def next_model(number, request):  # one worker's FedAvg: its update is the next global model
            return request["update"]

        peer = FakePeer(RoundPeer(count=3, waits=1, validate=lambda r: r != 2, next_model=next_model))
        self.addCleanup(peer.close)
        data = os.path.join(peer.directory, "digits-0.csv")
        digits_like_csv(data)
        env = worker_environment(peer, dataset_path=data, dataset_format="csv",
                                 parameters={"batch_size": 32, "learning_rate": 0.5, "epochs": 5, "rounds": 3,
                                             "proximal_mu": 0.0})
        result = subprocess.run([sys.executable, "numpy_logreg.py"], cwd=EXAMPLES, env=env,
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("round 3: loss", result.stdout)
        submits = peer.commands("worker-submit")
        self.assertEqual([s["round"] for s in submits], [1, 2, 3])
        self.assertEqual(peer.commands("worker-fail"), [])
        for request in submits:
            self.assertEqual(request["num_samples"], 300)
            update = load_file(request["update"])
            self.assertEqual(sorted(update), ["dense0.bias", "dense0.weight"])
            self.assertEqual(update["dense0.weight"].shape, (10, 64))
            self.assertEqual(update["dense0.bias"].shape, (10,))
            self.assertEqual(update["dense0.weight"].dtype, np.float32)
        metrics = [s["metrics"] for s in submits]
        # accuracy and val_loss score the round's starting (global) model on the local data.
        self.assertEqual([sorted(m) for m in metrics], [["accuracy", "loss", "val_loss"], ["loss"], ["accuracy", "loss", "val_loss"]])
        self.assertLess(metrics[2]["loss"], metrics[0]["loss"])
        self.assertGreater(metrics[2]["accuracy"], 0.9)


class NumpyLogregServingTests(unittest.TestCase):
    def test_a_model_is_loaded_and_a_batch_answered_with_probabilities(self):
        peer = ServingPeer(role="edge", service="digits")
        self.addCleanup(peer.close)
        bias = np.zeros(10, dtype=np.float32)
        bias[7] = 4
        model = peer.model("v1.safetensors", {"dense0.weight": np.zeros((10, 64)), "dense0.bias": bias})
        worker = subprocess.Popen([sys.executable, "numpy_logreg_serving.py"], cwd=EXAMPLES, env=peer.environment(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: worker.poll() is None and worker.kill())
        peer.accept()
        peer.send({"job": "load", "version": 1, "model": model},
                  {"job": "infer", "batch": 1, "version": 1, "shape": [2, 64], "data": [0.5] * 128}, {"job": "stop"})
        loaded, scores = peer.answers(2)
        output, errors = worker.communicate(timeout=20)
        self.assertEqual(worker.returncode, 0, errors)
        self.assertEqual(output, "serving digits as edge\n")
        self.assertEqual(loaded, {"loaded": 1})
        rows = np.frombuffer(base64.b64decode(scores["scores_f32"]), dtype="<f4").reshape(2, 10)
        self.assertEqual((scores["classes"], rows.argmax(axis=1).tolist()), (10, [7, 7]))
        np.testing.assert_allclose(rows.sum(axis=1), [1, 1], rtol=1e-6)


class NumpyLogregIncrementalTests(unittest.TestCase):
    """One script, three stages: trained for a cycle from a deployed model, evaluated, served."""

    def test_train_then_evaluate_then_serve(self):
        deployed = {"dense0.weight": np.zeros((10, 64), dtype=np.float32), "dense0.bias": np.zeros(10, dtype=np.float32)}
        trainer = FakePeer(RoundPeer(count=1, waits=0, validate=lambda r: False, next_model=lambda n, r: r["update"]))
        self.addCleanup(trainer.close)
        data = os.path.join(trainer.directory, "rows.csv")
        digits_like_csv(data)
        env = worker_environment(trainer, dataset_path=data, dataset_format="csv",
                                 parameters={"batch_size": 32, "learning_rate": 0.5, "epochs": 5})
        env["STARLING_ROLE"] = "train"
        trained = subprocess.run([sys.executable, "numpy_logreg_incremental.py"], cwd=EXAMPLES, env=env,
                                 capture_output=True, text=True, timeout=120)
        self.assertEqual(trained.returncode, 0, trained.stderr)
        self.assertIn("cycle 1: 300 rows, training loss", trained.stdout)
        candidate = trainer.commands("worker-submit")[0]["update"]

        deployed_path = trainer.global_model("deployed.safetensors", deployed)
        output = os.path.join(trainer.directory, "result.json")
        env.update({"STARLING_ROLE": "eval", "STARLING_EVAL_OUTPUT": output,
                    "STARLING_EVAL_MODELS": json.dumps({"candidate": candidate, "deployed": deployed_path})})
        evaluated = subprocess.run([sys.executable, "numpy_logreg_incremental.py"], cwd=EXAMPLES, env=env,
                                   capture_output=True, text=True, timeout=120)
        self.assertEqual(evaluated.returncode, 0, evaluated.stderr)
        with open(output) as file:
            models = json.load(file)["models"]
        candidate_matrix, deployed_matrix = np.array(models["candidate"]["confusion"]), np.array(models["deployed"]["confusion"])
        self.assertEqual((candidate_matrix.sum(), deployed_matrix.sum()), (300, 300))
        self.assertGreater(np.trace(candidate_matrix) / 300, 0.9)
        self.assertEqual(deployed_matrix[:, 0].sum(), 300, "the zero model predicts class 0 for every row")

        peer = ServingPeer(role="edge", service="digits-job")
        self.addCleanup(peer.close)
        model = peer.model("v2.safetensors", dict(load_file(candidate)))
        worker = subprocess.Popen([sys.executable, "numpy_logreg_incremental.py"], cwd=EXAMPLES, env=peer.environment(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: worker.poll() is None and worker.kill())
        peer.accept()
        peer.send({"job": "load", "version": 2, "model": model},
                  {"job": "infer", "batch": 1, "version": 2, "shape": [1, 64], "data": [0.5] * 64}, {"job": "stop"})
        loaded, scores = peer.answers(2)
        output_text, errors = worker.communicate(timeout=20)
        self.assertEqual(worker.returncode, 0, errors)
        self.assertEqual(output_text, "serving digits-job as edge\n")
        self.assertEqual((loaded, scores["classes"]), ({"loaded": 2}, 10))


class CompileTests(unittest.TestCase):
    def test_examples_compile(self):  # torch_mlp.py needs torch to run; here it is only compiled
        for name in ("numpy_logreg.py", "torch_mlp.py", "numpy_logreg_serving.py", "numpy_logreg_incremental.py"):
            with open(os.path.join(EXAMPLES, name)) as file:
                compile(file.read(), name, "exec")


class DocumentationTests(unittest.TestCase):
    def test_docs_show_the_examples_as_they_are(self):
        with open(os.path.join(REPO_DIR, "docs", "workers.md")) as file:
            docs = file.read()
        for name in ("numpy_logreg.py", "torch_mlp.py", "numpy_logreg_serving.py", "numpy_logreg_incremental.py"):
            with open(os.path.join(EXAMPLES, name)) as file:
                block = "```python\n" + file.read() + "```\n"
            self.assertTrue(block in docs, f"docs/workers.md does not show examples/workers/{name} as it is")


if __name__ == "__main__":
    unittest.main()
