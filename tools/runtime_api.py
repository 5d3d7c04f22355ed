"""The local Lambda Runtime API (2018-06-01) that every harness runs the function under: the
benchmark (bench/coldstart.py, bench/soak.py) imports it, the binary tests (tests/binary.rs)
run it as a command.

`RuntimeApi.run` spawns one process with AWS_LAMBDA_RUNTIME_API pointing here, hands it the
events one after the other, kills it once it asks for one more (it is then idle, its work
done), and records:
  init      spawn -> first GET /invocation/next (what Lambda bills as Init); the on-CPU time
            of its live threads (/proc/<pid>/task/*/schedstat) and minor faults at that moment
  per event handed over -> POST .../response or .../error, the answer, and VmRSS when the
            process asks for the next one
  at the end  VmHWM, schedstat CPU and minor faults when it asks for one more event; after the
            kill, user + system time of every thread it ever ran and ru_maxrss, from wait4().
            On a 128 MB Lambda the function gets about 1/14 of a vCPU, so CPU time, not local
            wall time, is what scales there.

As a command: runtime_api.py LOG [--timeout S] -- ARGV...   reads the events from stdin as a
JSON list of [request id, payload], optionally followed by the invoked function ARN (null or
absent: the unqualified ARN of `admin-set-password`) and the milliseconds until the deadline
(default 30000); the function gets this process's environment and writes to
LOG; prints the run as one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

API = "/2018-06-01/runtime"
DEFAULT_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:admin-set-password"


def now_ns() -> int:
    return time.perf_counter_ns()


def proc_status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_ns(pid: int) -> int | None:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    total = 0
    for task in tasks:
        try:
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
        except OSError:
            pass
    return total


def minflt(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])
    except OSError:
        return None


class Run:
    """One process of the function and what the Runtime API saw of it."""

    def __init__(self, events: list[tuple]):
        self.events = events
        self.pid: int | None = None
        self.spawned_at: int | None = None
        self.first_next_at: int | None = None
        self.sent_at: list[int] = []
        self.answered_at: list[int] = []
        self.answers: list[tuple[str, str, bytes]] = []  # (request id, "response" | "error", body)
        self.rss_kb: list[int | None] = []  # VmRSS after each invocation
        self.init_error: bytes | None = None
        self.outcome: str | None = None  # "done" | "exited" | "timeout"
        self.exit_code: int | None = None
        self.cpu_init_ns = self.minflt_init = None
        self.vmhwm_kb = self.cpu_live_ns = self.minflt_total = None
        self.cpu_total_ns = self.maxrss_kb = None
        self.lock = threading.Lock()
        self.spawned = threading.Event()  # pid is known
        self.done = threading.Event()
        self.release = threading.Event()

    def next_event(self, t: int) -> tuple | None:
        """The event to hand over, or None once all are served (the process is then sampled)."""
        self.spawned.wait(5)  # a fast child can ask before Popen has returned its pid
        with self.lock:
            served = len(self.sent_at)
            if served == 0 and self.first_next_at is None:
                self.first_next_at = t
                self.cpu_init_ns, self.minflt_init = cpu_ns(self.pid), minflt(self.pid)
            elif served:
                self.rss_kb.append(proc_status_kb(self.pid, "VmRSS"))
            if served == len(self.events):
                self.vmhwm_kb = proc_status_kb(self.pid, "VmHWM")
                self.cpu_live_ns, self.minflt_total = cpu_ns(self.pid), minflt(self.pid)
                self.done.set()
                return None
            self.sent_at.append(now_ns())
            return self.events[served]

    def answered(self, path: str, body: bytes, t: int) -> bool:
        with self.lock:
            if path == f"{API}/init/error":  # the process exits by itself after this
                self.init_error = body
                return True
            parts = path.removeprefix(f"{API}/invocation/").split("/")
            if len(parts) != 2 or parts[1] not in ("response", "error"):
                return False
            self.answered_at.append(t)
            self.answers.append((parts[0], parts[1], body))
            return True

    def ms(self, start: int | None, end: int | None) -> float | None:
        return None if start is None or end is None else (end - start) / 1e6

    def summary(self) -> dict:
        """The first invocation as a cold start."""
        first_sent = self.sent_at[0] if self.sent_at else None
        first_answer = self.answered_at[0] if self.answered_at else None
        return {
            "outcome": self.outcome,
            "init_ms": self.ms(self.spawned_at, self.first_next_at),
            "invoke_ms": self.ms(first_sent, first_answer),
            "total_ms": self.ms(self.spawned_at, first_answer),
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
    server: RuntimeApi

    def log_message(self, *args) -> None:
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:
        t = now_ns()
        run = self.server.current
        if self.path != f"{API}/invocation/next" or run is None:
            self._reply(404, b'{"errorMessage":"unknown path or no run"}')
            return
        event = run.next_event(t)
        if event is None:  # parked, as Lambda parks an idle function, until the kill
            run.release.wait(60)
            return
        request_id, payload, *rest = event
        invoked_arn = (rest[0] if rest else None) or DEFAULT_FUNCTION_ARN
        deadline_in_ms = rest[1] if len(rest) > 1 else 30_000
        self._reply(200, payload, {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + deadline_in_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invoked_arn,
            "Lambda-Runtime-Trace-Id":
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0",
        })

    def do_POST(self) -> None:
        body = self._read_body()
        t = now_ns()
        run = self.server.current
        if run is not None and run.answered(self.path, body, t):
            self._reply(202, b'{"status":"OK"}')
        else:
            self._reply(404, b'{"errorMessage":"unknown path or no run"}')


class RuntimeApi(ThreadingHTTPServer):
    """Serves one Run at a time on 127.0.0.1 (an ephemeral port)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.current: Run | None = None
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def run(self, argv: list[str], env: dict, events: list[tuple], *,
            cwd: str | None = None, log_path: Path | None = None, timeout_s: float = 30.0) -> Run:
        """Spawns argv, serves it `events`, waits until it asks for one more, exits or times
        out, then kills it and keeps its rusage."""
        run = self.current = Run(events)
        log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        try:
            run.spawned_at = now_ns()
            proc = subprocess.Popen(argv, env=dict(env, AWS_LAMBDA_RUNTIME_API=self.address),
                                    cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT)
            run.pid = proc.pid
            run.spawned.set()
            deadline = time.monotonic() + timeout_s
            while not run.done.wait(0.01):
                if proc.poll() is not None:
                    run.outcome = "exited"
                    break
                if time.monotonic() > deadline:
                    run.outcome = "timeout"
                    break
            run.outcome = run.outcome or "done"
            if proc.returncode is None:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                run.cpu_total_ns = round((usage.ru_utime + usage.ru_stime) * 1e9)
                run.maxrss_kb = usage.ru_maxrss
            run.exit_code = proc.returncode
        finally:
            run.release.set()
            self.current = None
            if log_path:
                log.close()
        return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("log", type=Path)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("argv", nargs="+")
    args = p.parse_args()
    events = [(rid, payload.encode(), *rest) for rid, payload, *rest in json.load(sys.stdin)]
    api = RuntimeApi()
    run = api.run(args.argv, dict(os.environ), events, log_path=args.log, timeout_s=args.timeout)
    api.shutdown()

    def decoded(body: bytes):
        try:
            return json.loads(body)
        except ValueError:
            return body.decode(errors="replace")
    json.dump({**run.summary(), "exit_code": run.exit_code,
               "init_error": None if run.init_error is None else decoded(run.init_error),
               "answers": [[rid, kind, decoded(body)] for rid, kind, body in run.answers]},
              sys.stdout)


if __name__ == "__main__":
    main()
