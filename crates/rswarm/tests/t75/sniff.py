# Captures every frame on IFACE (AF_PACKET) until STOPFILE exists; prints
# "<frames with MARKER> <frames to UDP 4789> <frames to UDP 4790>".
import os
import socket
import sys

iface, stop, marker = sys.argv[1], sys.argv[2], sys.argv[3].encode()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((iface, 0))
s.settimeout(0.2)
seen = vxlan = tunnel = 0
while not os.path.exists(stop):
    try:
        frame = s.recv(65535)
    except socket.timeout:
        continue
    if marker in frame:
        seen += 1
    # Ethernet + IPv4 (IHL) + UDP destination port.
    if len(frame) > 42 and frame[12:14] == b"\x08\x00" and frame[23] == 17:
        ihl = (frame[14] & 0x0F) * 4
        dport = int.from_bytes(frame[14 + ihl + 2:14 + ihl + 4], "big")
        vxlan += dport == 4789
        tunnel += dport == 4790
print(seen, vxlan, tunnel)
