"""context(), parameters() and dataset()."""

import os
import shutil
import tempfile
import unittest
from unittest import mock

import numpy as np

from fakepeer import TASK, TOKEN, FakePeer  # first: puts python/ on sys.path
import starling


class ContextTests(unittest.TestCase):
    def setUp(self):
        self.peer = FakePeer(lambda request: {"job": "stop"})
        self.addCleanup(self.peer.close)
        self.env = self.peer.environment(parameters={"batch_size": 32, "learning_rate": 0.5, "epochs": 5,
                                                     "rounds": 10, "proximal_mu": 0.0, "momentum": "0.9"})

    def test_every_variable_is_read(self):
        ctx = starling.context(self.env)
        self.assertEqual(ctx.socket, self.peer.path)
        self.assertEqual(ctx.task, TASK)
        self.assertEqual(ctx.task_name, "test-task")
        self.assertEqual(ctx.worker, "edge-a")
        self.assertEqual(ctx.token, TOKEN)
        self.assertEqual(ctx.dataset, "digits-0")
        self.assertEqual(ctx.dataset_format, "csv")
        self.assertEqual(ctx.work_dir, self.peer.work_dir)
        self.assertEqual(ctx.parameters["momentum"], "0.9")
        self.assertEqual(ctx.model_name, "")
        self.assertEqual(ctx.seed, 7)
        self.assertNotIn(TOKEN, repr(ctx))

    def test_parameters(self):
        with mock.patch.dict(os.environ, self.env):
            params = starling.parameters()
        self.assertEqual(params, {"batch_size": 32, "learning_rate": 0.5, "epochs": 5, "rounds": 10,
                                  "proximal_mu": 0.0, "momentum": "0.9"})

    def test_a_missing_variable_is_named(self):
        for name in ("STARLING_SOCKET", "STARLING_TASK", "STARLING_WORKER_TOKEN", "STARLING_DATASET_PATH",
                     "STARLING_WORK_DIR", "STARLING_PARAMETERS", "STARLING_SEED"):
            env = dict(self.env)
            del env[name]
            with self.assertRaises(starling.StarlingError) as caught:
                starling.context(env)
            self.assertEqual(str(caught.exception),
                             f"{name} is not set: this script must be started by a Starling peer")
        env = dict(self.env)
        del env["STARLING_MODEL_NAME"]  # may be absent
        self.assertEqual(starling.context(env).model_name, "")

    def test_malformed_variables(self):
        for name, value, text in [
            ("STARLING_TASK", "AB" * 32, "64 lowercase hex"),
            ("STARLING_DATASET_FORMAT", "parquet", "csv or npz"),
            ("STARLING_PARAMETERS", "{", "not JSON"),
            ("STARLING_PARAMETERS", "[1]", "not a JSON object"),
            ("STARLING_SEED", "seven", "not an integer"),
        ]:
            env = dict(self.env, **{name: value})
            with self.assertRaises(starling.StarlingError) as caught:
                starling.context(env)
            self.assertIn(text, str(caught.exception))

    def test_rounds_outside_a_peer(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaises(starling.StarlingError) as caught:
                next(iter(starling.rounds()))
        self.assertIn("STARLING_SOCKET is not set", str(caught.exception))


class DatasetTests(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="std")
        self.addCleanup(shutil.rmtree, self.directory, True)

    def write(self, name, text):
        path = os.path.join(self.directory, name)
        with open(path, "w") as file:
            file.write(text)
        return path

    def test_csv_with_a_header(self):
        path = self.write("d.csv", "p0,p1,label\n0.0,0.5,3\n1,0.25,7\n\n")
        x, y = starling.dataset(path, "csv")
        self.assertEqual(x.dtype, np.float32)
        self.assertEqual(y.dtype, np.int64)
        np.testing.assert_array_equal(x, [[0, 0.5], [1, 0.25]])
        np.testing.assert_array_equal(y, [3, 7])

    def test_csv_without_a_header_one_row(self):
        path = self.write("d.csv", "0.5,0.5,1.0,2\n")
        data = starling.dataset(path)
        self.assertEqual(data.x.shape, (1, 3))
        np.testing.assert_array_equal(data.y, [2])

    def test_the_environment_names_the_file(self):
        path = self.write("d.csv", "1,2,0\n3,4,1\n")
        peer = FakePeer(lambda request: {})
        self.addCleanup(peer.close)
        with mock.patch.dict(os.environ, peer.environment(dataset_path=path, dataset_format="csv")):
            x, y = starling.dataset()
        self.assertEqual(x.shape, (2, 2))
        np.testing.assert_array_equal(y, [0, 1])

    def test_bad_csv_files(self):
        for text, message in [("1,2,0.5\n", "integers"), ("1,2,0\n1,2\n", "numeric csv"), ("a,b\n", "no rows"),
                              ("1\n2\n", "at least one feature")]:
            path = self.write("bad.csv", text)
            with self.assertRaises(starling.StarlingError) as caught:
                starling.dataset(path, "csv")
            self.assertIn(message, str(caught.exception))
        with self.assertRaises(starling.StarlingError) as caught:
            starling.dataset(os.path.join(self.directory, "missing.csv"), "csv")
        self.assertIn("cannot read the dataset", str(caught.exception))

    def test_npz(self):
        path = os.path.join(self.directory, "d.npz")
        np.savez(path, x=np.arange(24, dtype=np.float64).reshape(3, 2, 4), y=np.array([[1], [0], [9]], dtype=np.int32))
        x, y = starling.dataset(path, "npz")
        self.assertEqual((x.dtype, x.shape), (np.float32, (3, 8)))
        self.assertEqual(y.dtype, np.int64)
        np.testing.assert_array_equal(y, [1, 0, 9])
        np.savez(path, x=np.zeros((3, 2)))
        with self.assertRaises(starling.StarlingError) as caught:
            starling.dataset(path, "npz")
        self.assertIn("'y'", str(caught.exception))
        np.savez(path, x=np.zeros((3, 2)), y=np.zeros(2))
        with self.assertRaises(starling.StarlingError) as caught:
            starling.dataset(path, "npz")
        self.assertIn("one label per row", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
