"""The unmodified tritonclient[http] against a real peer's --http endpoint (LoopbackInferenceTests).

    inference_client.py check HOST:PORT SERVICE TEST.csv   → one JSON line: accuracy (binary and JSON
                                                             tensors), paths, and the status of each bad request
    inference_client.py load HOST:PORT SERVICE TEST.csv SECONDS OUT.jsonl
                                                           → one record per request: start, latency, ok,
                                                             computed_at (4 threads, one example per request)
"""
import http.client
import json
import sys
import threading
import time

import numpy as np
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException


def read(path):
    rows = np.loadtxt(path, delimiter=",", dtype=np.float32)
    return rows[:, :-1], rows[:, -1].astype(np.int64)


def infer(client, service, x, binary=True):
    tensor = triton.InferInput("input", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=binary)
    outputs = [triton.InferRequestedOutput(name, binary_data=binary) for name in ("class", "computed_at")]
    return client.infer(service, [tensor], outputs=outputs)


def raw(address, path, body, headers=None):
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", path)
    for name, value in (headers or {"Content-Type": "application/json"}).items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    try:
        connection.send(body if isinstance(body, bytes) else body.encode())
    except (ConnectionResetError, BrokenPipeError):
        pass  # a server refusing an oversized body answers before it has read it, and closes
    answer = connection.getresponse()
    text = answer.read().decode("utf-8", "replace")
    connection.close()
    return answer.status, text


def check(address, service, path):
    x, y = read(path)
    client = triton.InferenceServerClient(address)
    report = {"live": client.is_server_live(), "ready": client.is_model_ready(service)}
    paths = {}
    for binary in (True, False):
        correct = 0
        for start in range(0, len(x), 16):
            result = infer(client, service, x[start:start + 16], binary)
            correct += int((result.as_numpy("class") == y[start:start + 16]).sum())
            for place in result.as_numpy("computed_at"):
                place = place.decode() if isinstance(place, bytes) else str(place)
                paths[place] = paths.get(place, 0) + 1
        report["accuracy_binary" if binary else "accuracy_json"] = correct / len(x)
    report["paths"] = paths
    infer_path = f"/v2/models/{service}/infer"
    bad = {}
    bad["wrong_shape"] = raw(address, infer_path, json.dumps(
        {"inputs": [{"name": "input", "shape": [1, 10], "datatype": "FP32", "data": [0.0] * 10}]}))
    bad["wrong_datatype"] = raw(address, infer_path, json.dumps(
        {"inputs": [{"name": "input", "shape": [1, 1], "datatype": "BYTES", "data": ["a"]}]}))
    bad["garbage_json"] = raw(address, infer_path, b"{not json")
    bad["unknown_service"] = raw(address, "/v2/models/no-such-service/infer", json.dumps(
        {"inputs": [{"name": "input", "shape": [1, 64], "datatype": "FP32", "data": [0.0] * 64}]}))
    bad["oversized"] = raw(address, infer_path, b"[" + b"0," * (5 << 20) + b"0]")
    report["bad"] = {name: {"status": status, "body": body[:200]} for name, (status, body) in bad.items()}
    try:
        client.infer("no-such-service", [triton.InferInput("input", [1, 64], "FP32")])
    except InferenceServerException as error:
        report["tritonclient_unknown"] = str(error)[:200]
    print(json.dumps(report))


def load(address, service, path, seconds, out):
    x, _ = read(path)
    records = []
    lock = threading.Lock()
    stop_at = time.time() + seconds

    def worker(offset):
        client = triton.InferenceServerClient(address, connection_timeout=10, network_timeout=10)
        index = offset
        while time.time() < stop_at:
            row = x[index % len(x):index % len(x) + 1]
            index += 4
            started = time.time()
            record = {"start": started}
            try:
                result = infer(client, service, row)
                place = result.as_numpy("computed_at")[0]
                record.update(ok=True, computed_at=place.decode() if isinstance(place, bytes) else str(place),
                              version=result.get_response().get("parameters", {}).get("edge_version"))
            except Exception as error:  # every failure counts: the test expects none
                record.update(ok=False, error=str(error)[:200])
            record["latency"] = time.time() - started
            with lock:
                records.append(record)

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(out, "w") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")
    print(json.dumps({"requests": len(records), "failed": sum(not r["ok"] for r in records)}))


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        load(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6])
