# The client of t75: one TCP connection to HOST:PORT, COUNT lines
# "MARKER <i>" every INTERVAL seconds, each echo checked. Prints
# "ok <count>" or the first failure, and exits non-zero on failure.
import socket
import sys
import time

host, port, count, interval, marker = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
try:
    c = socket.create_connection((host, port), timeout=10)
    f = c.makefile("rwb")
    for i in range(count):
        line = f"{marker} {i}\n".encode()
        f.write(line)
        f.flush()
        back = f.readline()
        if back != line:
            sys.exit(f"echo {i}: got {back!r}")
        time.sleep(interval)
    print(f"ok {count}")
except OSError as e:
    sys.exit(f"failed: {e!r}")
