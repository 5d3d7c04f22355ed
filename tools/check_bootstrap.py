#!/usr/bin/env python3
"""Asserts that both functions ship one `bootstrap`, an aarch64 Linux ELF executable, and
prints its size.

Finds it through the template `sam build` wrote: SAM builds functions with the same CodeUri
and build metadata once and points both at one artifact directory (e.g. `ApiFunction-Shared`).
Reads the ELF headers directly (no `file` needed): 64-bit, little-endian, EM_AARCH64, type EXEC
or DYN with a PT_INTERP (a PIE executable, not a shared library), executable by its owner; for
a glibc binary, no versioned symbol newer than the runtime's glibc (provided.al2023: 2.34).

Usage: check_bootstrap.py [--build-dir .aws-sam/build] [--max-glibc 2.34]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import stat
import struct
import sys
from pathlib import Path

EM_AARCH64 = 183
ET_EXEC, ET_DYN = 2, 3
PT_INTERP = 3


def fail(message: str) -> None:
    print(f"check_bootstrap: FAIL {message}", file=sys.stderr)
    sys.exit(1)


def built_bootstrap(build_dir: Path) -> Path:
    from samtranslator.yaml_helper import yaml_parse

    try:
        built = yaml_parse((build_dir / "template.yaml").read_text())
        paths = [build_dir / built["Resources"][f]["Properties"]["CodeUri"] / "bootstrap"
                 for f in ("ApiFunction", "WorkflowFunction")]
        digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    except (OSError, KeyError) as error:
        fail(f"no built bootstraps in {build_dir} (did `sam build` run?): {error}")
    if len(digests) != 1:
        fail(f"ApiFunction and WorkflowFunction ship different bootstraps: {', '.join(map(str, paths))}")
    return paths[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--max-glibc", default="2.34", help="newest GLIBC_x.y symbol version allowed")
    args = parser.parse_args()

    args.path = built_bootstrap(args.build_dir)
    data = args.path.read_bytes()
    if len(data) < 64 or data[:4] != b"\x7fELF":
        fail(f"{args.path} is not an ELF file")
    if data[4] != 2:
        fail(f"{args.path} is not a 64-bit ELF (EI_CLASS={data[4]})")
    if data[5] != 1:
        fail(f"{args.path} is not little-endian (EI_DATA={data[5]})")

    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    e_phoff = struct.unpack_from("<Q", data, 32)[0]
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    if e_machine != EM_AARCH64:
        fail(f"{args.path} is for machine {e_machine}, not aarch64 ({EM_AARCH64})")
    program_types = [struct.unpack_from("<I", data, e_phoff + i * e_phentsize)[0] for i in range(e_phnum)]
    if e_type == ET_EXEC:
        kind = "executable"
    elif e_type == ET_DYN and PT_INTERP in program_types:
        kind = "PIE executable"
    else:
        fail(f"{args.path} is not an executable (e_type={e_type}, PT_INTERP present: {PT_INTERP in program_types})")
    if not os.stat(args.path).st_mode & stat.S_IXUSR:
        fail(f"{args.path} is not marked executable")

    versions = {tuple(map(int, m.groups())) for m in re.finditer(rb"GLIBC_(\d+)\.(\d+)", data)}
    newest = max(versions, default=None)
    limit = tuple(map(int, args.max_glibc.split(".")))
    if newest and newest > limit:
        fail(f"{args.path} needs GLIBC_{newest[0]}.{newest[1]}, newer than the runtime's {args.max_glibc}")

    glibc = f", needs glibc >= {newest[0]}.{newest[1]}" if newest else ", no glibc symbol versions"
    print(f"check_bootstrap: OK {args.path}: ELF 64-bit LSB aarch64 {kind}{glibc}; size {len(data)} bytes")


if __name__ == "__main__":
    main()
