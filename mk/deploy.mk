# Deployment checks, included from the Makefile. All offline: no AWS
# account, no credentials, no Docker.
#   make template-check     cfn-lint, sam validate --lint, checkov, OpenAPI requests,
#                           template unit tests (IAM, parameters), stack lifecycle on
#                           moto (fast)
#   make openapi-check      docs/openapi.yaml vs sample requests AND the responses the
#                           integration tests recorded (run after them)
#   make workflow-rehearsal the template's state machines executed on moto against the
#                           function's debug build (run after cargo-test: reuses its build)
#   make rehearse-bulk      1,000 users through the bulk state machine at Cognito's rates
#   make sam-build-check    sam build --beta-features (cargo-lambda + zig, arm64, minutes),
#                           then the bootstrap rehearsal: the shipped bootstrap under
#                           qemu-aarch64 against moto; SKIP_SAM_BUILD=1 skips both locally
#                           (CI never sets it)
# See docs/deploy.md for what each check guarantees and what none of them proves.

VENV ?= .venv
SAM_BUILD_DIR := .aws-sam/build
# A region only so the tools can start; nothing is called in it.
DEPLOY_ENV := SAM_CLI_TELEMETRY=0 AWS_EC2_METADATA_DISABLED=true \
	AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 \
	PATH="$(abspath $(VENV))/bin:$$PATH"

.PHONY: template-check cfn-lint sam-validate checkov-venv checkov openapi-requests-check openapi-check \
	template-iam-test template-tests stack-rehearsal workflow-rehearsal rehearse-bulk sam-build sam-build-check qemu-deps bootstrap-rehearsal

template-check: cfn-lint sam-validate checkov openapi-requests-check template-tests stack-rehearsal

# cfn-lint exits non-zero on warnings as well as errors.
cfn-lint: venv
	$(DEPLOY_ENV) $(VENV)/bin/cfn-lint template.yaml
	@echo "cfn-lint: no errors, no warnings"

sam-validate: venv
	$(DEPLOY_ENV) $(VENV)/bin/sam validate --lint --template-file template.yaml

# The IaC scanner, in a venv of its own: checkov pins libraries (boto3 among them) to
# versions that conflict with tools/requirements.txt. Reinstalled only when
# tools/requirements-checkov.txt changes.
CHECKOV_VENV ?= .venv-checkov
checkov-venv: $(CHECKOV_VENV)/.installed
$(CHECKOV_VENV)/.installed: tools/requirements-checkov.txt | venv
	$(VENV)/bin/uv venv -q --clear --python $(PYTHON) $(CHECKOV_VENV)
	$(VENV)/bin/uv pip install -q --python $(CHECKOV_VENV)/bin/python --compile-bytecode -r tools/requirements-checkov.txt
	touch $@

# Offline: no API key, nothing fetched from the vendor's platform (--skip-download), no
# update check. A finding the template does not fix is skipped on its resource with the
# reason (Metadata: checkov: skip: id, comment); any other finding fails the check.
checkov: checkov-venv
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --file template.yaml \
		--framework cloudformation --skip-download --compact --quiet

openapi-requests-check: venv
	$(VENV)/bin/python tools/check_openapi.py --requests-only

openapi-check: venv
	$(VENV)/bin/python tools/check_openapi.py

# The template's effect per parameter, and IAM per entry point (tests/template_*.rs).
template-tests:
	$(LINTED) cargo test --locked --test template_iam --test template_params
template-iam-test: template-tests

# Create (defaults, every option, private REST, HTTP API), change-set update, delete and
# re-create on moto's CloudFormation, with the SAM translator from the SAM CLI package.
stack-rehearsal: venv
	$(VENV)/bin/python tools/rehearse_stack.py --template template.yaml

# Each state machine of the SAM-translated template, executed by moto's Step Functions
# interpreter against the debug build under cargo lambda watch and moto's Cognito and Secrets
# Manager: every Retry/Catch route by a real answer of the function. Writes what
# scan-secrets reads, so it runs between cargo-test and scan-secrets.
# The bulk run (100 users and 9 bad rows) goes at a quarter of Cognito's default rates:
# moto's interpreter cannot feed items at the full rate on 2 cores, and the throttles and
# their retries are what the run must show.
workflow-rehearsal: venv
	$(LINTED) $(DEPLOY_ENV) $(VENV)/bin/python tools/rehearse_workflows.py --template template.yaml \
		--instances 4 --quota-scale 0.25

# 1,000 new users through the bulk state machine at Cognito's default rates, with
# BULK_INSTANCES function processes; then 30 users and 20 bad rows. Prints the wall time
# beside the quota bound and where the CPU went.
BULK_USERS ?= 1000
BULK_INSTANCES ?= 4
rehearse-bulk: venv
	$(DEPLOY_ENV) $(VENV)/bin/python tools/rehearse_workflows.py --template template.yaml \
		--bulk $(BULK_USERS) --instances $(BULK_INSTANCES)

# qemu-user runs the arm64 bootstrap; libc6-arm64-cross is its loader and glibc.
QEMU_READY := command -v qemu-aarch64 >/dev/null && test -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
qemu-deps:
	@$(QEMU_READY) || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq qemu-user libc6-arm64-cross; }
	@$(QEMU_READY)

# cargo-lambda cross-compiles with the zig from the venv; the aarch64 standard library
# comes from rustup (a no-op once installed). Its own target directory, so it never waits
# for (or blocks) the debug build's lock when make test runs both at once.
sam-build: venv
ifeq ($(SKIP_SAM_BUILD),1)
	@echo "sam-build: SKIPPED (SKIP_SAM_BUILD=1); the arm64 bootstrap was not built, checked or run"
else
	@rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
		|| rustup target add aarch64-unknown-linux-gnu
	CARGO_TARGET_DIR=$(abspath target/sam) $(DEPLOY_ENV) $(VENV)/bin/sam build --beta-features \
		--template-file template.yaml --build-dir $(SAM_BUILD_DIR)
	$(VENV)/bin/python tools/check_bootstrap.py --build-dir $(SAM_BUILD_DIR)
endif

sam-build-check: sam-build
ifneq ($(SKIP_SAM_BUILD),1)
	$(MAKE) --no-print-directory bootstrap-rehearsal
endif

# The build that ships (release profile, panic = abort, arm64 under qemu) through the
# #[ignore]d tests of tests/binary.rs: every sample event in both deployments, then hostile
# sizes (24,600 header names, a 6 MB payload) and the hostile corpus. RELEASE_BIN=path runs
# them on another build (e.g. a native `cargo build --release`, without qemu's overhead).
RELEASE_BIN ?= $(abspath tools/qemu-bootstrap.sh)
bootstrap-rehearsal: venv qemu-deps
	$(LINTED) ADMIN_SET_PASSWORD_RELEASE_BIN=$(RELEASE_BIN) MOTO_SERVER=$(abspath $(VENV))/bin/moto_server \
		cargo test --locked --test binary -- --ignored --nocapture
