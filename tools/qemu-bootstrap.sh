#!/bin/sh
# The arm64 `bootstrap` that `sam build` made, run under qemu-aarch64 with Debian's aarch64
# glibc: the artifact we ship, as a command the tests can start like any binary. Absolute
# paths only: the tests start it with a cleared environment.
root=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/qemu-aarch64 -L /usr/aarch64-linux-gnu "$root/.aws-sam/build/ApiFunction-Shared/bootstrap" "$@"
