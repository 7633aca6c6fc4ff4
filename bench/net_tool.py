# net_tool.py: the Python side of the network benchmarks
# (overlay_e2e.sh, vxlan_ceiling.sh), run inside namespaces and tasks.
#   serve PORT IPERF_PORT      accept/answer/close server (the answer is the
#                              address the connection reached) next to an
#                              iperf3 server; SIGTERM stops both
#   rate HOST PORT SECS        sequential short connections per second
#   dns NAME COUNT             UDP A queries at 127.0.0.11: median, p99 (us), bad
#   poll HOST PORT KNOWN SECS  waits until an address not in KNOWN answers
#   seen HOST PORT COUNT       the distinct answers of COUNT connections
import os, signal, socket, struct, subprocess, sys, time

def serve(port, iperf_port):
    # An iperf3 server next to an accept/answer/close server; the answer is
    # the address the connection reached (the task's own address).
    iperf = subprocess.Popen(["iperf3", "-s", "-p", iperf_port],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def stop(*_):
        iperf.terminate(); iperf.wait(); sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port))); s.listen(1024)
    while True:
        c, _ = s.accept()
        try:
            c.sendall((c.getsockname()[0] + "\n").encode())
        except OSError:
            pass
        c.close()

def one(host, port):
    c = socket.create_connection((host, port), timeout=2)
    data = b""
    while True:
        b = c.recv(64)
        if not b:
            break
        data += b
    # Reset instead of FIN: neither side keeps the connection in TIME_WAIT,
    # so tens of thousands of connections a run never collide on a
    # reused port (the server closes first, after its answer).
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    return data.decode().strip()

def rate(host, port, secs):
    port, secs = int(port), float(secs)
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < secs:
        one(host, port); n += 1
    print("%.0f" % (n / (time.monotonic() - t0)))

def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for part in name.split("."):
        q += bytes([len(part)]) + part.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)

def dns(name, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    s.connect(("127.0.0.11", 53))
    lat, bad = [], 0
    for i in range(int(count)):
        q = query(name, i & 0xffff)
        t0 = time.perf_counter(); s.send(q); r = s.recv(1500); t1 = time.perf_counter()
        rid, flags, _, an = struct.unpack(">HHHH", r[:8])
        if rid != (i & 0xffff) or flags & 0xf or an == 0:
            bad += 1
        lat.append((t1 - t0) * 1e6)
    lat.sort()
    print("%.1f %.1f %d" % (lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], bad))

def seen(host, port, count):
    # The distinct answers of `count` connections, comma-separated.
    print(",".join(sorted({one(host, int(port)) for _ in range(int(count))})))

def poll(host, port, known, timeout):
    # Prints the wall-clock time at which an answer comes from an address
    # not in `known` (comma-separated), and that address.
    known = set(known.split(",")); t0 = time.monotonic()
    while time.monotonic() - t0 < float(timeout):
        try:
            a = one(host, int(port))
        except OSError:
            time.sleep(0.005); continue
        if a not in known:
            print("%.6f %s" % (time.time(), a)); return
    sys.exit("poll: no new task answered within %s s" % timeout)

{"serve": serve, "rate": rate, "dns": dns, "poll": poll, "seen": seen}[sys.argv[1]](*sys.argv[2:])
