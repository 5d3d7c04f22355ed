# `make bench`: the performance benchmark (method and results: docs/performance.md).
# Everything lives in bench/. Cold starts under tools/runtime_api.py against moto (real ID
# tokens, real JWKS), round trips and TLS handshakes per cold start, zipped bootstrap sizes
# for x86_64 and arm64, the criterion micro-benchmark of the decision path (bench/decision.rs)
# and a 5,000-invocation soak; then every target as PASS/FAIL. Takes minutes: three LTO release builds of the function
# (host, x86_64 and arm64 zips) plus the floor.
#   make bench BENCH_RUNS=25              more runs per subject
#   make bench-coldstart BENCH_TRANSPORT=http   one part only
#   make bench-soak SOAK_BACKEND=moto     the soak against moto instead of the fast fake

BENCH_VENV      ?= .venv
BENCH_PY        := $(BENCH_VENV)/bin/python
BENCH_RUNS      ?= 15
BENCH_TRANSPORT ?= http,https
BENCH_OUT       := bench/target
SOAK_INVOCATIONS ?= 5000
SOAK_BACKEND    ?= fake
# cargo-lambda (and its zig) live in the venv.
BENCH_LAMBDA    := PATH="$(abspath $(BENCH_VENV))/bin:$$PATH" cargo lambda build --release --output-format zip
BENCH_ZIPS      := admin-set-password/x86_64=target/lambda-x86_64/admin-set-password/bootstrap.zip \
                   admin-set-password/arm64=target/lambda-arm64/admin-set-password/bootstrap.zip \
                   floor/x86_64=$(BENCH_OUT)/lambda-x86_64/floor/bootstrap.zip \
                   floor/arm64=$(BENCH_OUT)/lambda-arm64/floor/bootstrap.zip

.PHONY: bench bench-deps bench-build bench-zips bench-coldstart bench-soak bench-sizes bench-decision bench-report

# Sequential on purpose, even under -j: nothing may compile while cold starts are timed.
# The soak runs right after the cold starts, on the same binary, before anything compiles.
bench:
	@$(MAKE) --no-print-directory bench-coldstart
	@$(MAKE) --no-print-directory bench-soak
	@$(MAKE) --no-print-directory bench-sizes
	@$(MAKE) --no-print-directory bench-decision
	@$(MAKE) --no-print-directory bench-report

bench-deps: venv
	$(BENCH_PY) -m pip install -q -r tools/bench-requirements.txt

bench-build:
	cargo build --release --bin admin-set-password
	cargo build --release --locked --manifest-path bench/floor/Cargo.toml --target-dir $(BENCH_OUT)

bench-zips: bench-deps
	$(BENCH_LAMBDA) --x86-64 --lambda-dir target/lambda-x86_64 --bin admin-set-password
	$(BENCH_LAMBDA) --arm64 --lambda-dir target/lambda-arm64 --bin admin-set-password
	cd bench/floor && CARGO_TARGET_DIR=../target $(BENCH_LAMBDA) --x86-64 --lambda-dir ../target/lambda-x86_64
	cd bench/floor && CARGO_TARGET_DIR=../target $(BENCH_LAMBDA) --arm64 --lambda-dir ../target/lambda-arm64

bench-coldstart: bench-deps bench-build
	@echo "load before the cold-start runs: $$(cut -d' ' -f1-3 /proc/loadavg)"
	$(BENCH_PY) bench/coldstart.py --runs $(BENCH_RUNS) --transport $(BENCH_TRANSPORT)

bench-soak: bench-deps bench-build
	$(BENCH_PY) bench/soak.py --invocations $(SOAK_INVOCATIONS) --backend $(SOAK_BACKEND)

bench-sizes: bench-zips
	$(BENCH_PY) bench/sizes.py $(BENCH_ZIPS)

bench-decision:
	cargo bench --bench decision

bench-report:
	$(BENCH_PY) bench/report.py
