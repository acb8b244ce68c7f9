"""The baseline of Benchmarks/inference/run: what a user would write instead of Starling to serve
the demo's edge model over HTTP. Python's ThreadingHTTPServer and numpy answer
POST /v2/models/NAME/infer with the same JSON request and answer as Starling's endpoint (the Open
Inference Protocol's outputs scores, class, computed_at), one thread per connection, keep-alive.
"""

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from safetensors.numpy import load_file


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    weights = load_file(args.model)
    w, b = weights["dense0.weight"], weights["dense0.bias"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects

        def do_POST(self):
            try:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                tensor = request["inputs"][0]
                x = np.asarray(tensor["data"], dtype=np.float32).reshape(tensor["shape"])
                z = x @ w.T + b
                p = np.exp(z - z.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                rows = x.shape[0]
                answer = {"model_name": self.path.split("/")[3], "model_version": "1",
                          "parameters": {"computed_at": "edge"},
                          "outputs": [{"name": "scores", "shape": [rows, p.shape[1]], "datatype": "FP32",
                                       "data": p.ravel().tolist()},
                                      {"name": "class", "shape": [rows], "datatype": "INT64",
                                       "data": p.argmax(1).tolist()},
                                      {"name": "computed_at", "shape": [rows], "datatype": "BYTES",
                                       "data": ["edge"] * rows}]}
                self.reply(200, answer)
            except (KeyError, ValueError, TypeError, IndexError) as error:
                self.reply(400, {"error": str(error)})

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
