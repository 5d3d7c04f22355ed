# `make bench`: the performance benchmark of issue 5 (method and results: docs/performance.md).
# Cold starts against a local Runtime API emulator and moto, zipped bootstrap sizes for
# x86_64 and arm64, and the criterion micro-benchmark of the decision path. Takes minutes:
# three LTO release builds of the function (host, x86_64 and arm64 zips) plus the floor.
#   make bench BENCH_RUNS=25              more runs per subject
#   make bench-coldstart BENCH_TRANSPORT=http   one part only

BENCH_VENV      ?= .venv
BENCH_PY        := $(BENCH_VENV)/bin/python
BENCH_RUNS      ?= 15
BENCH_TRANSPORT ?= http,https
BENCH_OUT       := bench/target
# cargo-lambda (and its zig) live in the venv.
BENCH_LAMBDA    := PATH="$(abspath $(BENCH_VENV))/bin:$$PATH" cargo lambda build --release --output-format zip
BENCH_ZIPS      := admin-set-password/x86_64=target/lambda-x86_64/admin-set-password/bootstrap.zip \
                   admin-set-password/arm64=target/lambda-arm64/admin-set-password/bootstrap.zip \
                   floor/x86_64=$(BENCH_OUT)/lambda-x86_64/floor/bootstrap.zip \
                   floor/arm64=$(BENCH_OUT)/lambda-arm64/floor/bootstrap.zip

.PHONY: bench bench-deps bench-build bench-zips bench-coldstart bench-sizes bench-decision bench-report

# Sequential on purpose, even under -j: nothing may compile while cold starts are timed.
bench:
	@$(MAKE) --no-print-directory bench-coldstart
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

bench-sizes: bench-zips
	$(BENCH_PY) bench/sizes.py $(BENCH_ZIPS)

bench-decision:
	cargo bench --bench decision

bench-report:
	$(BENCH_PY) bench/report.py
