# admin-set-password — the two commands are `make demo` and `make test` (see README.md).
# Everything else here is a piece of those two, or `make bench`.

SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
export SAM_CLI_TELEMETRY := 0
export AWS_EC2_METADATA_DISABLED := true
# Never let a developer's own AWS profile or credentials near the tests.
unexport AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

.PHONY: demo test test-build test-checks test-offline test-release-build venv toolchain fmt-check clippy linted-build cargo-test scan-secrets fuzz clean

## make demo: moto + seeded pool + the function under cargo lambda watch + every sample event
demo: venv
	tools/demo.sh

## make test: installs what it needs, then every check (SKIP_SAM_BUILD=1 skips the arm64 build)
# Three steps of two lanes each, for 2 cores:
#  1. the debug build, linted as it compiles, beside the tools' install and the checks that
#     need only the tools (template lint and scan, OpenAPI requests, the stack's lifecycle);
#  2. what runs on the debug build (the tests, the workflow rehearsal, the scans), mostly
#     waiting on moto, beside the arm64 release build that ships (`sam build`, own target
#     directory);
#  3. the shipped bootstrap's tests, which need both builds.
test: toolchain
	$(MAKE) --no-print-directory -j2 test-build test-offline
	$(MAKE) --no-print-directory -j2 test-checks test-release-build
	$(if $(filter 1,$(SKIP_SAM_BUILD)),@true,$(MAKE) --no-print-directory -j1 bootstrap-rehearsal)
	@echo "make test: all checks passed"

test-build:
	$(MAKE) --no-print-directory -j1 fmt-check linted-build

test-offline:
	$(MAKE) --no-print-directory -j1 venv checkov-venv qemu-deps cfn-lint sam-validate checkov openapi-requests-check stack-rehearsal

# template-tests ran with cargo-test.
test-checks:
	$(MAKE) --no-print-directory -j1 cargo-test workflow-rehearsal scan-secrets openapi-check

test-release-build:
	$(MAKE) --no-print-directory -j1 sam-build

# The pinned Python tools (moto, cargo-lambda + zig, SAM CLI, cfn-lint) in a project venv,
# installed by uv (pinned here): a clean install takes a third of pip's time. Reinstalled
# only when tools/requirements.txt changes.
UV_VERSION := 0.13.9
venv: $(VENV)/.installed
$(VENV)/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q --python $(VENV)/bin/python --compile-bytecode -r tools/requirements.txt
	touch $@

toolchain:
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --all-targets --locked -- -D warnings

# make test lints while it builds: clippy-driver as the workspace's compiler wrapper is what
# `cargo clippy` runs (the same lints, every target, warnings denied), here with code
# generation, so the dependencies compile once instead of once to lint and once to test.
# Every cargo command that reuses this build runs under LINTED too, or cargo would rebuild
# the workspace's crates without the wrapper. CLIPPY_ARGS is written with cargo-clippy's own
# argument separator; were it to change, `-D warnings` would become an unknown lint and the
# warnings mere warnings, so a probe with an unused variable must fail first.
LINTED = RUSTC_WORKSPACE_WRAPPER="$$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)" \
	CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
LINT_PROBE := target/lint-probe
linted-build:
	@mkdir -p $(LINT_PROBE) && printf 'fn main() {\n    let unused = 1;\n}\n' > $(LINT_PROBE)/main.rs
	@if $(LINTED) sh -c '"$$RUSTC_WORKSPACE_WRAPPER" --edition 2021 --emit=metadata --out-dir $(LINT_PROBE) $(LINT_PROBE)/main.rs' 2>/dev/null; \
		then echo "linted-build: CLIPPY_ARGS did not deny a warning (has cargo-clippy's separator changed?)"; exit 1; fi
	$(LINTED) cargo test --locked --all-targets --no-run

# Unit tests (with the property tests at their default case count), integration tests
# against moto (started by the tests themselves), the real binary under a local Runtime API,
# fault tests and the template tests. Every sample event, the hostile sizes and the corpus
# also run through the shipped arm64 build after `sam build`: see mk/deploy.mk. Artifacts for
# the scans go to target/test-artifacts.
cargo-test: venv
	rm -rf target/test-artifacts
	$(LINTED) MOTO_SERVER=$(abspath $(VENV))/bin/moto_server cargo test --locked --all-targets --no-fail-fast

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
