"""starling.infer: the application's client, against a tiny Open Inference Protocol v2 server."""

import http.server
import json
import socket
import threading
import unittest

import numpy as np

import fakepeer  # noqa: F401  first: puts python/ on sys.path
import starling


class FakeService(http.server.BaseHTTPRequestHandler):
    """Answers POST /v2/models/digits/infer as a JointInferenceService would; other models: 404."""

    requests = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode())
        FakeService.requests.append((self.path, self.headers.get("Content-Type"), body))
        if self.path != "/v2/models/digits/infer":
            return self.reply(404, {"error": "no service named 'birds' runs on this peer"})
        tensor = body["inputs"][0]
        count = tensor["shape"][0]
        scores = [[0.25, 0.75] if i % 2 == 0 else [0.9, 0.1] for i in range(count)]
        where = ["edge" if i % 2 == 0 else "edge-fallback" for i in range(count)]
        self.reply(200, {
            "model_name": "digits", "model_version": "3",
            "parameters": {"computed_at": "mixed", "fallback_reason": "the cloud did not answer within 200 ms"},
            "outputs": [
                {"name": "scores", "shape": [count, 2], "datatype": "FP32", "data": sum(scores, [])},
                {"name": "class", "shape": [count], "datatype": "INT64", "data": [int(np.argmax(s)) for s in scores]},
                {"name": "computed_at", "shape": [count], "datatype": "BYTES", "data": where},
            ],
        })

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class InferTests(unittest.TestCase):
    def setUp(self):
        FakeService.requests = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeService)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def test_a_batch_is_sent_as_one_fp32_input_and_the_outputs_read(self):
        result = starling.infer("digits", np.array([[0.5, 1], [2, 3]], dtype=np.float64), url=self.url + "/")
        path, content_type, body = FakeService.requests[0]
        self.assertEqual((path, content_type), ("/v2/models/digits/infer", "application/json"))
        self.assertEqual(body, {"inputs": [{"name": "input", "shape": [2, 2], "datatype": "FP32", "data": [0.5, 1, 2, 3]}]})
        self.assertIsInstance(result, starling.InferenceResult)
        self.assertEqual(result.scores.dtype, np.float32)
        np.testing.assert_allclose(result.scores, [[0.25, 0.75], [0.9, 0.1]])
        self.assertEqual(result.classes.tolist(), [1, 0])
        self.assertEqual(result.classes.dtype, np.int64)
        self.assertEqual(result.computed_at, ["edge", "edge-fallback"])
        self.assertEqual(result.version, "3")
        self.assertEqual(result.parameters["computed_at"], "mixed")
        self.assertIn("fallback_reason", result.parameters)

    def test_one_example_may_be_given_flat(self):
        result = starling.infer("digits", [1, 2, 3], url=self.url)
        self.assertEqual(FakeService.requests[0][2]["inputs"][0]["shape"], [1, 3])
        self.assertEqual(len(result.classes), 1)

    def test_a_refusal_raises_with_the_servers_text_and_status(self):
        with self.assertRaises(starling.StarlingError) as caught:
            starling.infer("birds", [[1.0]], url=self.url)
        self.assertEqual(caught.exception.status, 404)
        self.assertIn("no service named 'birds' runs on this peer", str(caught.exception))

    def test_no_server_and_bad_input_raise_without_a_status(self):
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        with self.assertRaises(starling.StarlingError) as caught:
            starling.infer("digits", [[1.0]], url=f"http://127.0.0.1:{port}", timeout=2)
        self.assertIsNone(caught.exception.status)
        self.assertIn("cannot reach the service digits", str(caught.exception))
        with self.assertRaises(starling.StarlingError) as caught:
            starling.infer("digits", [[1.0, float("nan")]], url=self.url)
        self.assertIn("not finite", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
