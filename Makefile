# admin-set-password — the two commands are `make demo` and `make test` (see README.md).
# Everything else here is a piece of those two, or `make bench`.

SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
export SAM_CLI_TELEMETRY := 0
export AWS_EC2_METADATA_DISABLED := true
# Never let a developer's own AWS profile or credentials near the tests.
unexport AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

.PHONY: demo test test-build test-checks test-release-build venv toolchain fmt-check clippy cargo-test scan-secrets fuzz clean

## make demo: moto + seeded pool + the function under cargo lambda watch + every sample event
demo: venv
	tools/demo.sh

## make test: installs what it needs, then every check (SKIP_SAM_BUILD=1 skips the arm64 build)
# The debug build first (fmt, clippy, the test binaries); then two lanes at once: the checks,
# which mostly wait on moto, beside the arm64 release build that ships (`sam build`, its own
# target directory); then the shipped bootstrap's tests, which need both.
test: venv toolchain
	$(MAKE) --no-print-directory -j1 fmt-check clippy test-build
	$(MAKE) --no-print-directory -j2 test-checks test-release-build
	$(if $(filter 1,$(SKIP_SAM_BUILD)),@true,$(MAKE) --no-print-directory -j1 bootstrap-rehearsal)
	@echo "make test: all checks passed"

test-build:
	cargo test --locked --all-targets --no-run

test-checks:
	$(MAKE) --no-print-directory -j1 cargo-test workflow-rehearsal scan-secrets openapi-check template-check

test-release-build:
	$(MAKE) --no-print-directory -j1 qemu-deps checkov-venv sam-build

# The pinned Python tools (moto, cargo-lambda + zig, SAM CLI, cfn-lint) in a project venv;
# reinstalled only when tools/requirements.txt changes.
venv: $(VENV)/.installed
$(VENV)/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tools/requirements.txt
	touch $@

toolchain:
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --all-targets --locked -- -D warnings

# Unit tests (with the property tests at their default case count), integration tests
# against moto (started by the tests themselves), the real binary under a local Runtime API,
# fault tests and the template tests. Every sample event, the hostile sizes and the corpus
# also run through the shipped arm64 build after `sam build`: see mk/deploy.mk. Artifacts for
# the scans go to target/test-artifacts.
cargo-test: venv
	rm -rf target/test-artifacts
	MOTO_SERVER=$(abspath $(VENV))/bin/moto_server cargo test --locked --all-targets --no-fail-fast

# Every password and secret value any test used, searched for in every log any test captured.
scan-secrets:
	$(VENV)/bin/python tools/scan_secrets.py target/test-artifacts

## make fuzz: the long property-test run (FUZZ_CASES per property; default 20000)
FUZZ_CASES ?= 20000
fuzz:
	time PROPTEST_CASES=$(FUZZ_CASES) cargo test --release --lib hostile

clean:
	rm -rf target .aws-sam .demo bench/target

include mk/deploy.mk
include mk/bench.mk
