#!/usr/bin/env python3
"""Replicated write load for bench/raft_writes.sh (Engine API over unix sockets).

raft_writes_client.py --sockets A,B,C --clients N --writes W --prefix P [--ping]

N client threads, client i on socket i mod len(sockets), each with one
keep-alive HTTP/1.1 connection. Phase 1: W `POST /services/create` in all
(replicas 0: the write itself, no tasks). Phase 2: W `POST
/services/{id}/update?version=V` in all, each client over its own services
in turn, each preceded by the `GET /services/{id}` that gives the version
(not timed; the update's latency is the POST alone, the throughput counts
the whole read-modify-write). Then, not timed, every service it created is
removed again, so each run starts from the same state. With --ping: N
clients sending `GET /_ping` W times in all, the client's own ceiling.
Prints one JSON object.
"""

import argparse
import http.client
import json
import socket
import threading
import time

API = "/v1.41"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.path)
        self.sock = s


class Client:
    def __init__(self, sock):
        self.sock = sock
        self.conn = UnixConnection(sock)

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (0, 1):
            try:
                self.conn.request(method, API + path, body=data, headers=headers)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                # A keep-alive connection the server closed: once more on a new one.
                self.conn.close()
                self.conn = UnixConnection(self.sock)
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def spec(name, n):
    return {
        "Name": name,
        "Labels": {"bench.n": str(n)},
        "TaskTemplate": {"ContainerSpec": {"Image": "busybox", "Command": ["sleep", "1000"]}},
        "Mode": {"Replicated": {"Replicas": 0}},
    }


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def summary(lat, seconds, errors):
    return {
        "ops": len(lat),
        "errors": errors,
        "seconds": round(seconds, 3),
        "per_s": round(len(lat) / seconds, 1) if seconds > 0 else 0,
        "p50_ms": round(pct(lat, 50) * 1000, 2),
        "p99_ms": round(pct(lat, 99) * 1000, 2),
    }


def run_phase(clients, work):
    """Runs work(i, client, lat, errs) on every client at once; returns summary."""
    lats = [[] for _ in clients]
    errs = [0 for _ in clients]
    start = threading.Barrier(len(clients) + 1)

    def body(i):
        start.wait()
        work(i, clients[i], lats[i], errs)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    return summary([x for l in lats for x in l], seconds, sum(errs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sockets", required=True)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--writes", type=int, default=200)
    ap.add_argument("--prefix", default="b")
    ap.add_argument("--ping", action="store_true")
    a = ap.parse_args()
    sockets = a.sockets.split(",")
    clients = [Client(sockets[i % len(sockets)]) for i in range(a.clients)]
    share = [a.writes // a.clients + (1 if i < a.writes % a.clients else 0) for i in range(a.clients)]

    if a.ping:
        def ping(i, c, lat, errs):
            for _ in range(share[i]):
                t = time.perf_counter()
                status, _ = c.call("GET", "/_ping")
                lat.append(time.perf_counter() - t)
                errs[i] += status != 200

        print(json.dumps({"ping": run_phase(clients, ping)}))
        return

    ids = [[] for _ in clients]

    def create(i, c, lat, errs):
        for n in range(share[i]):
            t = time.perf_counter()
            status, body = c.call("POST", "/services/create", spec(f"{a.prefix}-{i}-{n}", 0))
            lat.append(time.perf_counter() - t)
            if status == 201:
                ids[i].append(json.loads(body)["ID"])
            else:
                errs[i] += 1

    def update(i, c, lat, errs):
        mine = ids[i]
        for n in range(share[i] if mine else 0):
            sid = mine[n % len(mine)]
            status, body = c.call("GET", f"/services/{sid}")
            if status != 200:
                errs[i] += 1
                continue
            s = json.loads(body)
            new = s["Spec"]
            new.setdefault("Labels", {})["bench.n"] = str(n + 1)
            version = s["Version"]["Index"]
            t = time.perf_counter()
            status, _ = c.call("POST", f"/services/{sid}/update?version={version}", new)
            lat.append(time.perf_counter() - t)
            errs[i] += status != 200

    refused = {}

    def remove(i, c, lat, errs):
        for sid in ids[i]:
            status, body = c.call("DELETE", f"/services/{sid}")
            if status != 200:
                errs[i] += 1
                key = f"{status} {body[:100].decode(errors='replace')}"
                refused[key] = refused.get(key, 0) + 1

    created = run_phase(clients, create)
    updated = run_phase(clients, update)
    removed = run_phase(clients, remove)
    print(json.dumps({"create": created, "update": updated, "cleanup_errors": removed["errors"], "cleanup_refusals": refused}))


if __name__ == "__main__":
    main()
