"""A tiny, fast stand-in for Cognito (and the few other AWS JSON APIs the function may call),
for the soak only: moto's 3-11 ms per call and its jitter would be what a p99/p50 ratio measured.
One pool, one admin, one target, a JWKS and ID tokens of its own RSA key; it always approves.
Calls are counted by operation; an unknown one is answered 400 and counted, so the soak fails
instead of passing silently when the function starts calling something new.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections import Counter

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

REGION = "us-east-1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class FakeCognito:
    """Runs an asyncio HTTP/1.1 server (keep-alive) on 127.0.0.1 in a thread of its own."""

    def __init__(self, admin: str, groups: list[str]):
        self.pool_id = f"{REGION}_FakeBench1"
        self.client_id = "fakebenchclient1"
        self.admin, self.groups = admin, groups
        self.admin_sub, self.target_sub = str(uuid.uuid4()), str(uuid.uuid4())
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pub = self.key.public_key().public_numbers()
        self.jwks = json.dumps({"keys": [{"kid": "fake-bench-key", "alg": "RS256", "kty": "RSA",
                                          "use": "sig", "n": uint_b64(pub.n),
                                          "e": uint_b64(pub.e)}]}).encode()
        self.calls: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.port = 0
        self.connections = 0

        async def start():
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()

        def run():
            self.loop.run_until_complete(start())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def id_token(self) -> tuple[str, dict]:
        """An ID token for the admin, shaped like Cognito's, and its claims."""
        now = int(time.time())
        claims = {"sub": self.admin_sub, "cognito:groups": self.groups, "iss": self.issuer,
                  "cognito:username": self.admin, "aud": self.client_id,
                  "event_id": str(uuid.uuid4()), "token_use": "id", "auth_time": now,
                  "exp": now + 3600, "iat": now, "jti": str(uuid.uuid4())}
        header = {"kid": "fake-bench-key", "alg": "RS256"}
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode()))
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(sig), claims

    # ------------------------------------------------------------------ answers

    def _user(self, name: str) -> dict:
        admin = name == self.admin
        return {"Username": name, "Enabled": True,
                "UserStatus": "CONFIRMED" if admin else "FORCE_CHANGE_PASSWORD",
                "UserCreateDate": 1767225600.0, "UserLastModifiedDate": 1767225600.0,
                "UserAttributes": [{"Name": "sub",
                                    "Value": self.admin_sub if admin else self.target_sub}]}

    def _answer(self, op: str, body: dict) -> tuple[int, dict]:
        if op == "AdminGetUser":
            return 200, self._user(body.get("Username", ""))
        if op == "AdminListGroupsForUser":
            names = self.groups if body.get("Username") == self.admin else []
            return 200, {"Groups": [{"GroupName": g, "UserPoolId": self.pool_id} for g in names]}
        if op in ("AdminSetUserPassword", "AdminUserGlobalSignOut"):
            return 200, {}
        if op == "DescribeUserPool":
            return 200, {"UserPool": {"Id": self.pool_id, "Name": "bench", "Policies": {
                "PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": True,
                                   "RequireLowercase": True, "RequireNumbers": True,
                                   "RequireSymbols": True, "TemporaryPasswordValidityDays": 7}}}}
        if op == "PutEvents":
            n = len(body.get("Entries", []))
            return 200, {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())} for _ in range(n)]}
        self.unknown[op] += 1
        return 400, {"__type": "UnknownOperationException", "message": f"fake: {op}"}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                raw = await reader.readexactly(int(headers.get("content-length") or 0))
                if method == "GET" and path == "/_stats":
                    status, ctype = 200, "application/json"
                    payload = json.dumps({"calls": self.calls, "unknown": self.unknown,
                                          "connections": self.connections}).encode()
                elif method == "GET" and path.endswith("/.well-known/jwks.json"):
                    self.calls["GET jwks"] += 1
                    status, payload, ctype = 200, self.jwks, "application/json"
                else:
                    op = headers.get("x-amz-target", "?").rsplit(".", 1)[-1]
                    self.calls[op] += 1
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        body = {}
                    status, answer = self._answer(op, body)
                    payload, ctype = json.dumps(answer).encode(), "application/x-amz-json-1.1"
                reason = "OK" if status == 200 else "Bad Request"
                writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
                             f"Content-Length: {len(payload)}\r\n"
                             f"x-amzn-RequestId: {uuid.uuid4()}\r\n\r\n".encode() + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, OSError):
            pass
        finally:
            writer.close()

def serve_main() -> None:
    """Runs the fake in a process of its own (the soak's latencies must not wait for the
    GIL of the process that runs the Runtime API emulator): prints one JSON line with the
    endpoint, pool, client and a fresh ID token, then serves until killed. `GET /_stats`
    answers the call counts."""
    import sys
    fake = FakeCognito(admin=sys.argv[1], groups=sys.argv[2].split(","))
    token, claims = fake.id_token()
    print(json.dumps({"endpoint": fake.endpoint, "pool_id": fake.pool_id,
                      "client_id": fake.client_id, "token": token, "claims": claims}),
          flush=True)
    fake.thread.join()


if __name__ == "__main__":
    serve_main()
