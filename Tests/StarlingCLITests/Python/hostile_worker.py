"""An inference worker that breaks the serving protocol (LoopbackInferenceTests): it says hello,
then answers the peer's first job with what its `mode` parameter says. Standard library only."""
import json
import os
import socket
import time

mode = json.loads(os.environ["STARLING_PARAMETERS"]).get("mode", "garbage")
connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
connection.connect(os.environ["STARLING_SOCKET"])
hello = {"request": "worker-serve", "task": os.environ["STARLING_TASK"], "worker": os.environ["STARLING_WORKER"],
         "token": os.environ["STARLING_WORKER_TOKEN"]}
connection.sendall((json.dumps(hello) + "\n").encode())
reader = connection.makefile("rb")
print("welcome:", reader.readline().decode().strip(), flush=True)
print("job:", reader.readline()[:80], flush=True)
try:
    if mode == "garbage":
        connection.sendall(b'{"nonsense": true}\n')
    elif mode == "flood":
        chunk = b"9" * (1 << 20)
        for _ in range(20):  # 20 MiB without a newline: past serveLineBytesMax
            connection.sendall(chunk)
    elif mode == "unasked":
        connection.sendall(b'{"loaded": 1}\n{"batch": 77, "classes": 1, "scores": [1]}\n')
except (BrokenPipeError, ConnectionResetError):
    print("the peer closed the connection", flush=True)
time.sleep(30)
