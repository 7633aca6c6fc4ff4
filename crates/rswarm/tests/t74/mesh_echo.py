# A task of t74: answers every TCP connection and UDP datagram on PORT
# with "<its pid> <the peer's address>".
import os
import socket
import sys
import threading

port = int(sys.argv[1])
me = str(os.getpid())


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        _, peer = s.recvfrom(512)
        s.sendto(f"{me} {peer[0]}\n".encode(), peer)


threading.Thread(target=udp, daemon=True).start()
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", port))
t.listen(128)
while True:
    c, peer = t.accept()
    try:
        c.sendall(f"{me} {peer[0]}\n".encode())
    finally:
        c.close()
