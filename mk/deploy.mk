# Deployment checks (issue 3), included from the Makefile. All offline: no AWS account,
# no credentials, no Docker.
#   make template-check    cfn-lint, sam validate --lint, OpenAPI requests, IAM test (fast)
#   make openapi-check     docs/openapi.yaml vs sample requests AND the responses the
#                          integration tests recorded (run after them)
#   make sam-build-check   sam build --beta-features (cargo-lambda + zig, arm64, minutes);
#                          SKIP_SAM_BUILD=1 skips it locally (CI never sets it)
# See docs/deploy.md for what each check guarantees.

VENV ?= .venv
SAM_FUNCTION := AdminSetPasswordFunction
SAM_BUILD_DIR := .aws-sam/build
# A region only so the tools can start; nothing is called in it.
DEPLOY_ENV := SAM_CLI_TELEMETRY=0 AWS_EC2_METADATA_DISABLED=true \
	AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 \
	PATH="$(abspath $(VENV))/bin:$$PATH"

.PHONY: template-check cfn-lint sam-validate openapi-requests-check openapi-check \
	template-iam-test sam-build-check

template-check: cfn-lint sam-validate openapi-requests-check template-iam-test

# cfn-lint exits non-zero on warnings as well as errors.
cfn-lint: venv
	$(DEPLOY_ENV) $(VENV)/bin/cfn-lint template.yaml
	@echo "cfn-lint: no errors, no warnings"

sam-validate: venv
	$(DEPLOY_ENV) $(VENV)/bin/sam validate --lint --template-file template.yaml

openapi-requests-check: venv
	$(VENV)/bin/python tools/check_openapi.py --requests-only

openapi-check: venv
	$(VENV)/bin/python tools/check_openapi.py

template-iam-test:
	cargo test --test template_iam

# cargo-lambda cross-compiles with the zig from the venv; the aarch64 standard library
# comes from rustup (a no-op once installed).
sam-build-check: venv
ifeq ($(SKIP_SAM_BUILD),1)
	@echo "sam-build-check: SKIPPED (SKIP_SAM_BUILD=1); the arm64 bootstrap was not built or checked"
else
	@rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
		|| rustup target add aarch64-unknown-linux-gnu
	$(DEPLOY_ENV) $(VENV)/bin/sam build --beta-features --template-file template.yaml \
		--build-dir $(SAM_BUILD_DIR)
	$(VENV)/bin/python tools/check_bootstrap.py $(SAM_BUILD_DIR)/$(SAM_FUNCTION)/bootstrap
endif
