"""A TLS front for moto that keeps connections alive, as Cognito does.

moto's server (werkzeug) closes every connection after one answer: over TLS its clients would
pay a handshake per request, which no client of Cognito does. This front keeps HTTP/1.1
connections alive, forwards each request to moto's plain-HTTP port, and counts the connections
(handshakes) and resumed TLS sessions: `GET /_front/stats` answers {"connections", "resumed"}.

Usage: tls_front.py CERT KEY UPSTREAM_PORT   prints the port it listens on, then serves.
"""

import asyncio
import json
import ssl
import sys

connections = 0
resumed = 0


async def read_message(reader: asyncio.StreamReader, until_eof: bool) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        return head, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                return head, body
            body += await reader.readexactly(size)
            await reader.readline()
    return head, (await reader.read() if until_eof else b"")


def strip_headers(head: bytes, drop: set) -> bytes:
    lines = head.decode("latin-1").split("\r\n")
    kept = [lines[0]] + [ln for ln in lines[1:-2]
                         if ln and ln.split(":", 1)[0].strip().lower() not in drop]
    return "\r\n".join(kept).encode("latin-1") + b"\r\n"


async def serve(reader, writer, upstream_port: int) -> None:
    global connections, resumed
    connections += 1
    ssl_object = writer.get_extra_info("ssl_object")
    if ssl_object is not None and ssl_object.session_reused:
        resumed += 1
    try:
        while True:
            head, body = await read_message(reader, until_eof=False)
            if head.startswith(b"GET /_front/stats "):
                payload = json.dumps({"connections": connections, "resumed": resumed}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
                await writer.drain()
                continue
            up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream_port)
            up_w.write(strip_headers(head, {"connection", "content-length"})
                       + b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            await up_w.drain()
            r_head, r_body = await read_message(up_r, until_eof=True)
            up_w.close()
            writer.write(strip_headers(r_head, {"connection", "content-length",
                                                "transfer-encoding"})
                         + b"Content-Length: %d\r\n\r\n" % len(r_body) + r_body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError, OSError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main() -> None:
    cert, key, upstream_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    server = await asyncio.start_server(lambda r, w: serve(r, w, upstream_port), "127.0.0.1", 0,
                                        ssl=ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
