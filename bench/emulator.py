"""A local Lambda Runtime API (2018-06-01) that times one cold start per spawned process.

The emulator serves exactly one invocation to each process it spawns and records:
  init    spawn -> first GET /runtime/invocation/next (what Lambda bills as Init)
  invoke  event handed over -> POST .../response (or .../error)
  total   spawn -> response
  VmHWM   peak RSS, read from /proc/<pid>/status when the process asks for its second
          event (it is then idle with all its work done, and still alive)
  faults  minor page faults at init and at the end (/proc/<pid>/stat)
  CPU     at init: on-CPU time of the process's live threads (/proc/<pid>/task/*/schedstat)
          at the first GET /next; in total: user + system time of every thread the process
          ever ran, from wait4()'s rusage after the kill (the process is parked in its
          second GET /next by then, so nothing after the first invocation is counted). On a
          128 MB Lambda the function gets about 1/14 of a vCPU, so CPU time, not local wall
          time, is what scales there.
  maxrss  ru_maxrss from the same rusage (a cross-check of VmHWM).

`soak` serves many events to one process instead, recording each invocation's latency and
the process's VmRSS after it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

API = "/2018-06-01/runtime"
API_2XX = re.compile(rb'"statusCode":\s*2\d\d[,}]')


def now_ns() -> int:
    return time.perf_counter_ns()


def read_vmhwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def read_cpu_ns(pid: int) -> int | None:
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass
    except (FileNotFoundError, ProcessLookupError):
        return None
    return total


def read_minflt(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(stat.rsplit(")", 1)[1].split()[7])  # field 10: minflt


@dataclass
class ColdStart:
    """One spawned process and what the emulator saw of it."""

    event: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    pid: int | None = None
    spawned_at: int | None = None
    first_next_at: int | None = None
    event_sent_at: int | None = None
    response_at: int | None = None
    outcome: str | None = None  # "response" | "error" | "init_error" | "exited" | "timeout"
    body: bytes = b""
    vmhwm_kb: int | None = None
    cpu_init_ns: int | None = None
    cpu_total_ns: int | None = None  # wait4 rusage: user + system, all threads
    cpu_live_ns: int | None = None  # schedstat of live threads at the second GET /next
    maxrss_kb: int | None = None
    minflt_init: int | None = None
    minflt_total: int | None = None
    done: threading.Event = field(default_factory=threading.Event)
    spawned: threading.Event = field(default_factory=threading.Event)  # pid is known
    release: threading.Event = field(default_factory=threading.Event)

    def ms(self, start: int | None, end: int | None) -> float | None:
        return None if start is None or end is None else (end - start) / 1e6

    def summary(self) -> dict:
        return {
            "outcome": self.outcome,
            "init_ms": self.ms(self.spawned_at, self.first_next_at),
            "invoke_ms": self.ms(self.event_sent_at, self.response_at),
            "total_ms": self.ms(self.spawned_at, self.response_at),
            "vmhwm_kb": self.vmhwm_kb,
            "cpu_init_ms": None if self.cpu_init_ns is None else self.cpu_init_ns / 1e6,
            "cpu_total_ms": None if self.cpu_total_ns is None else self.cpu_total_ns / 1e6,
            "cpu_live_ms": None if self.cpu_live_ns is None else self.cpu_live_ns / 1e6,
            "maxrss_kb": self.maxrss_kb,
            "minflt_init": self.minflt_init,
            "minflt_total": self.minflt_total,
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "RuntimeApiEmulator"

    def log_message(self, *args) -> None:  # keep the benchmark output clean
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:
        run = self.server.current
        if self.path != f"{API}/invocation/next" or run is None:
            self._reply(404, b'{"errorMessage":"unknown path or no run"}')
            return
        t = now_ns()
        # A fast child can ask before Popen has returned its pid to us: wait for it
        # (the timestamp above is already taken).
        run.spawned.wait(5)
        if isinstance(run, Soak):
            event = run.next_requested(t)
            if event is None:  # all served: park until the driver kills the process
                run.release.wait(60)
                return
            request_id, payload = event
            self._reply(200, payload, run.headers(request_id))
            run.sent(now_ns())
            return
        if run.event_sent_at is None:
            run.first_next_at = t
            if run.pid is not None:
                run.cpu_init_ns = read_cpu_ns(run.pid)
                run.minflt_init = read_minflt(run.pid)
            deadline_ms = int(time.time() * 1000) + 30_000
            headers = {
                "Lambda-Runtime-Aws-Request-Id": run.request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn":
                    "arn:aws:lambda:us-east-1:123456789012:function:bench",
                "Lambda-Runtime-Trace-Id":
                    "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0",
            }
            run.event_sent_at = now_ns()
            self._reply(200, run.event, headers)
            return
        # Second /next: the invocation is over and the process is idle. Sample, then park
        # the request until the driver has killed the process.
        if isinstance(run, Soak):
            run.next_requested(t)
            return
        if run.pid is not None:
            run.vmhwm_kb = read_vmhwm_kb(run.pid)
            run.cpu_live_ns = read_cpu_ns(run.pid)
            run.minflt_total = read_minflt(run.pid)
        run.done.set()
        run.release.wait(30)

    def do_POST(self) -> None:
        run = self.server.current
        body = self._read_body()
        t = now_ns()
        if run is None:
            self._reply(404)
            return
        if isinstance(run, Soak):
            run.answered(self.path, body, t)
            self._reply(202, b'{"status":"OK"}')
            return
        if self.path == f"{API}/init/error":
            run.outcome, run.body = "init_error", body
            run.done.set()
        elif self.path == f"{API}/invocation/{run.request_id}/response":
            run.response_at, run.outcome, run.body = t, "response", body
        elif self.path == f"{API}/invocation/{run.request_id}/error":
            run.response_at, run.outcome, run.body = t, "error", body
        else:
            self._reply(404, b'{"errorMessage":"unknown path"}')
            return
        self._reply(202, b'{"status":"OK"}')


def reap(proc: subprocess.Popen, run) -> None:
    """Waits for the killed child with wait4, keeping its rusage (all threads, user + sys)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    run.cpu_total_ns = round((usage.ru_utime + usage.ru_stime) * 1e9)
    run.maxrss_kb = usage.ru_maxrss


def read_rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class Soak:
    """Many invocations of one process: `events()` yields each event's bytes (built when it is
    handed over, so tokens stay fresh). Per invocation: latency (event handed over ->
    response), outcome, and VmRSS when the process asks for the next event."""

    def __init__(self, events, count: int):
        self.events = events
        self.count = count
        self.served = 0
        self.pid: int | None = None
        self.spawned = threading.Event()
        self.done = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.sent_at: list[int] = []
        self.latency_ns: list[int] = []
        self.outcomes: list[str] = []
        self.bodies: list[bytes] = []
        self.rss_kb: list[int | None] = []
        self.current_id: str | None = None
        self.outcome: str | None = None
        self.cpu_total_ns: int | None = None
        self.maxrss_kb: int | None = None

    def headers(self, request_id: str) -> dict:
        return {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30_000),
            "Lambda-Runtime-Invoked-Function-Arn":
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            "Lambda-Runtime-Trace-Id":
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0",
        }

    def next_requested(self, t: int):
        with self.lock:
            if self.served and len(self.rss_kb) < self.served and self.pid is not None:
                self.rss_kb.append(read_rss_kb(self.pid))
            if self.served >= self.count:
                self.done.set()
                return None
            self.served += 1
            self.current_id = str(uuid.uuid4())
            return self.current_id, next(self.events)

    def sent(self, t: int) -> None:
        self.sent_at.append(t)

    def answered(self, path: str, body: bytes, t: int) -> None:
        with self.lock:
            if path == f"{API}/init/error":
                self.outcome = "init_error"
                self.bodies.append(body)
                self.done.set()
                return
            kind = "response" if path.endswith("/response") else "error"
            # An API answer other than 2xx is an error too (a cheap look at the proxy
            # response; the body is the function's own serde output).
            if kind == "response" and not API_2XX.search(body):
                kind = "non-2xx response"
            self.latency_ns.append(t - self.sent_at[-1])
            self.outcomes.append(kind)
            if len(self.bodies) < 3 or kind != "response":
                self.bodies.append(body[:300])


class RuntimeApiEmulator(ThreadingHTTPServer):
    """Serves one ColdStart at a time on 127.0.0.1 (an ephemeral port)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.current: ColdStart | None = None
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def cold_start(self, argv: list[str], env: dict, event: dict | bytes, *, cwd: str | None = None,
                   log_path: Path | None = None, timeout_s: float = 30.0) -> ColdStart:
        """Spawn argv with AWS_LAMBDA_RUNTIME_API pointing here, serve one event, kill it."""
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        run = ColdStart(event=payload)
        self._serve(argv, env, run, cwd=cwd, log_path=log_path, timeout_s=timeout_s, poll_s=0.01)
        return run

    def soak(self, argv: list[str], env: dict, soak: Soak, *, log_path: Path | None = None,
             timeout_s: float = 600.0) -> Soak:
        """Spawn argv once and serve it `soak.count` events, one after the other."""
        self._serve(argv, env, soak, cwd=None, log_path=log_path, timeout_s=timeout_s, poll_s=0.05)
        soak.outcome = soak.outcome or "done"
        return soak

    def _serve(self, argv: list[str], env: dict, run, *, cwd: str | None, log_path: Path | None,
               timeout_s: float, poll_s: float) -> None:
        """Spawns argv for `run` (a ColdStart or a Soak), waits until it is served, exits or
        times out, then kills it and keeps its rusage."""
        self.current = run
        env = dict(env, AWS_LAMBDA_RUNTIME_API=self.address)
        log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        try:
            if isinstance(run, ColdStart):
                run.spawned_at = now_ns()
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)
            run.pid = proc.pid
            run.spawned.set()
            deadline = time.monotonic() + timeout_s
            while not run.done.wait(poll_s):
                if proc.poll() is not None:
                    run.outcome = run.outcome or "exited"
                    break
                if time.monotonic() > deadline:
                    run.outcome = run.outcome or "timeout"
                    break
            proc.kill()
            reap(proc, run)
        finally:
            run.release.set()
            self.current = None
            if log_path:
                log.close()
