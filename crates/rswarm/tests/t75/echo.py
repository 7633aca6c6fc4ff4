# A task of t75: echoes every line of every TCP connection on PORT.
import socket
import sys
import threading

port = int(sys.argv[1])


def serve(c):
    with c, c.makefile("rwb") as f:
        for line in f:
            f.write(line)
            f.flush()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(64)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
