"""Run-wide leak check: every password or secret value any integration test used
(target/test-artifacts/secrets/*.txt) must be absent from every log any test captured
(target/test-artifacts/logs/*.log). Fails loudly if there is nothing to scan."""

import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/test-artifacts")
secrets = {line for f in (root / "secrets").glob("*.txt") for line in f.read_text().splitlines() if line}
logs = sorted((root / "logs").glob("*.log"))
if not secrets or not logs:
    sys.exit(f"scan_secrets: nothing to scan under {root} (secrets: {len(secrets)}, logs: {len(logs)}); run the tests first")
leaks = [(log.name, s) for log in logs for s in secrets if s in log.read_text(errors="replace")]
if leaks:
    for log, _ in leaks:
        print(f"scan_secrets: a secret appears in {log}")
    sys.exit(1)
size = sum(log.stat().st_size for log in logs)
print(f"scan_secrets: {len(secrets)} secrets, {len(logs)} logs ({size} bytes): no secret found")
