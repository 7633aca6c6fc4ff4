# The client of t74, run in a namespace outside (or on) the swarm's hosts.
#   mesh_client.py n PROTO HOST:PORT[,HOST:PORT...] COUNT
#   mesh_client.py loop PROTO HOST:PORT[,...] STOPFILE
# Asks the targets in turn (COUNT times, or until STOPFILE exists) and
# prints a JSON list of [target, answer] where answer is "<pid> <peer>"
# or "ERR <why>".
import json
import os
import socket
import sys
import time


def ask(proto, host, port):
    if proto == "tcp":
        with socket.create_connection((host, port), timeout=3) as c:
            data = b""
            while not data.endswith(b"\n"):
                chunk = c.recv(512)
                if not chunk:
                    break
                data += chunk
            return data.decode().strip()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(b"hello", (host, port))
        data, _ = s.recvfrom(512)
        return data.decode().strip()
    finally:
        s.close()


def one(proto, target):
    host, port = target
    try:
        answer = ask(proto, host, port)
        return answer if answer else "ERR empty answer"
    except Exception as e:  # noqa: BLE001 - every failure is a result
        return f"ERR {e!r}"


mode, proto, spec = sys.argv[1], sys.argv[2], sys.argv[3]
targets = [(h, int(p)) for h, p in (t.rsplit(":", 1) for t in spec.split(","))]
out = []
if mode == "n":
    for i in range(int(sys.argv[4])):
        t = targets[i % len(targets)]
        out.append([f"{t[0]}:{t[1]}", one(proto, t)])
else:
    stop = sys.argv[4]
    i = 0
    while not os.path.exists(stop):
        t = targets[i % len(targets)]
        out.append([f"{t[0]}:{t[1]}", one(proto, t)])
        i += 1
        time.sleep(0.01)
print(json.dumps(out))
