"""The unmodified tritonclient[http] against a Starling endpoint serving FakeBackend's `digits`
(scores = 2 x input). Run by TritonClientTests with the server's address; exits non-zero on the
first mismatch. Covers tritonclient's defaults (binary inputs, binary outputs asked, and
binary_data_output when no output is named), the JSON form both ways, and an error."""
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

client = httpclient.InferenceServerClient(url=sys.argv[1])
assert client.is_server_live()
assert client.is_server_ready()
assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
assert client.is_model_ready("digits")
assert client.get_model_metadata("digits")["name"] == "digits"

x = np.array([[0.5, 1, 2], [3, 4, 5.25]], dtype=np.float32)

binary_input = httpclient.InferInput("x", list(x.shape), "FP32")
binary_input.set_data_from_numpy(x)  # binary_data=True by default
result = client.infer("digits", [binary_input], outputs=[httpclient.InferRequestedOutput("scores")], request_id="t1")
np.testing.assert_allclose(result.as_numpy("scores"), x * 2)
response = result.get_response()
assert response["id"] == "t1" and response["outputs"][0]["parameters"]["binary_data_size"] == 24, response

# No outputs named: tritonclient asks binary_data_output for all.
result = client.infer("digits", [binary_input], model_version="1")
np.testing.assert_allclose(result.as_numpy("scores"), x * 2)

json_input = httpclient.InferInput("x", list(x.shape), "FP32")
json_input.set_data_from_numpy(x, binary_data=False)
result = client.infer("digits", [json_input], outputs=[httpclient.InferRequestedOutput("scores", binary_data=False)])
assert "data" in result.get_response()["outputs"][0]
np.testing.assert_allclose(result.as_numpy("scores"), x * 2)

try:
    client.infer("nope", [binary_input])
    raise AssertionError("model nope answered")
except InferenceServerException as error:
    assert error.status() == "404" and "no model nope" in error.message(), error

print("tritonclient: ok")
