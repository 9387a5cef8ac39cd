#!/usr/bin/env python3
"""selftest.py - checks loadgen's framing and matching against a fake lanchat.

The real server never fragments, sends 64-bit lengths or pings under load, so
this stands in for it: hello is a 64-bit-length frame split into fragments
with a ping between them and dribbled out a few bytes at a time; messages go
out as single frames, as fragments, with non-minimal 16-bit lengths and with
pings in between; every DROP_EVERY-th delivery is dropped and every
DUP_EVERY-th sent twice. loadgen must report exactly those losses and
duplicates, answer every ping, and exit 1.

usage: python3 tools/loadgen/selftest.py [path/to/loadgen]   (default build/loadgen)
"""
import asyncio, base64, hashlib, json, os, struct, subprocess, sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DROP_EVERY, DUP_EVERY = 97, 89
stats = {"pings": 0, "pongs": 0, "unmasked": 0, "deliveries": 0, "dropped": 0, "duplicated": 0}
clients = []


def frame(op, payload, fin=True, len16=False):
    head = bytes([(0x80 if fin else 0) | op])
    n = len(payload)
    if n < 126 and not len16:
        head += bytes([n])
    elif n <= 0xFFFF:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    return head + payload


def ping(tag):
    stats["pings"] += 1
    return frame(9, tag.encode())


def styled(payload, k):
    """One text message in one of four shapes, chosen by k."""
    if k % 4 == 0:
        return frame(1, payload)
    if k % 4 == 1:
        return frame(1, payload, len16=True)
    if k % 4 == 2:
        cut = len(payload) // 2
        return frame(1, payload[:cut], fin=False) + ping("p%d" % k) + frame(0, payload[cut:])
    third = len(payload) // 3
    return (frame(1, payload[:third], fin=False) + frame(0, payload[third:2 * third], fin=False)
            + frame(0, payload[2 * third:]))


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", await reader.readexactly(8))[0]
    if not b1 & 0x80:
        stats["unmasked"] += 1
        mask = b"\0\0\0\0"
    else:
        mask = await reader.readexactly(4)
    data = bytes(c ^ mask[i % 4] for i, c in enumerate(await reader.readexactly(n)))
    return b0 & 0x0F, data


async def dribble(writer, data, step=7):
    for i in range(0, len(data), step):
        writer.write(data[i:i + step])
        await writer.drain()


async def websocket(reader, writer, name):
    me = {"w": writer}
    clients.append(me)
    hello = json.dumps({"type": "hello", "user": name, "rooms": [{"name": "general"}],
                        "online": ["u%05d" % i for i in range(8000)]}, separators=(",", ":")).encode()
    third = len(hello) // 3
    await dribble(writer, frame(1, hello[:third], fin=False) + ping("h") +
                  frame(0, hello[third:2 * third], fin=False) + frame(0, hello[2 * third:]), 4096)
    while True:
        op, data = await read_frame(reader)
        if op == 8:
            clients.remove(me)
            writer.close()
            return
        if op == 10:
            stats["pongs"] += 1
            continue
        msg = json.loads(data)
        if msg["type"] == "join":
            await dribble(writer, ping("j") + frame(1, b'{"type":"joined","room":"general"}'), 3)
        elif msg["type"] == "send":
            await fan_out(me, name, msg)


async def fan_out(sender, name, msg):
    stats["seq"] = stats.get("seq", 0) + 1
    n = stats["seq"]
    ack = json.dumps({"type": "ack", "cid": msg["cid"], "id": n, "ts": 1}, separators=(",", ":"))
    sender["w"].write(frame(1, ack.encode()))
    out = json.dumps({"type": "message", "id": n, "room": "general", "author": name,
                      "body": msg["body"], "ts": 1, "cid": msg["cid"]}, separators=(",", ":")).encode()
    for c in list(clients):
        stats["deliveries"] += 1
        k = stats["deliveries"]
        if k % DROP_EVERY == 0:
            stats["dropped"] += 1
            continue
        data = styled(out, k)
        if k % DUP_EVERY == 0:
            stats["duplicated"] += 1
            data += frame(1, out)
        c["w"].write(data)
    for c in list(clients):
        await c["w"].drain()


async def handle(reader, writer):
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        line, *fields = head.split("\r\n")
        hdr = {k.lower(): v.strip() for k, _, v in (f.partition(":") for f in fields if f)}
        body = await reader.readexactly(int(hdr.get("content-length", 0)))
        method, path, _ = line.split(" ")
        if path == "/api/v1/ws":
            accept = base64.b64encode(hashlib.sha1(hdr["sec-websocket-key"].encode() + GUID).digest())
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            await websocket(reader, writer, hdr["authorization"].split()[-1])
            return
        if method == "POST" and path == "/api/v1/session":
            name = json.loads(body)["name"]
            reply = json.dumps({"user": {"name": name}, "token": name}, separators=(",", ":")).encode()
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(reply), reply))
        else:
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        writer.close()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/loadgen"
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        binary, "--url", "http://127.0.0.1:%d" % port, "--clients", "12", "--senders", "3",
        "--messages", "150", "--window", "8", "--body-bytes", "300", "--json-only",
        "--timeout", "20", stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    server.close()
    got = json.loads(out.decode().strip().splitlines()[-1])
    checks = {
        "exit status 1": proc.returncode == 1,
        "lost == dropped": got["lost"] == stats["dropped"],
        "duplicated == duplicated": got["duplicated"] == stats["duplicated"],
        "received == delivered - dropped":
            got["deliveries_received"] == stats["deliveries"] - stats["dropped"],
        "all acks": got["acks_received"] == got["acks_expected"] == 450,
        "every ping answered": stats["pongs"] == stats["pings"] > 0,
        "every client frame masked": stats["unmasked"] == 0,
        "no protocol errors": got["errors"]["protocol"] == 0,
        "no disconnects": got["closes"] == {},
    }
    print("fake server:", stats)
    print("loadgen:", {k: got[k] for k in ("deliveries_expected", "deliveries_received", "lost",
                                           "duplicated", "acks_received", "end")})
    for name, ok in checks.items():
        print("%-34s %s" % (name, "ok" if ok else "FAILED"))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
