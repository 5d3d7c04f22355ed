"""Zipped `bootstrap` sizes (what Lambda deploys), from cargo lambda's bootstrap.zip files.

Usage: sizes.py LABEL=PATH/bootstrap.zip ...   Writes bench/target/sizes.json.
MB here is 10^6 bytes (the stricter reading of the 2.0 MB target).
"""

import json
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "target" / "sizes.json"


def main() -> None:
    rows = {}
    for arg in sys.argv[1:]:
        label, path = arg.split("=", 1)
        p = Path(path)
        if not p.exists():
            rows[label] = None
            continue
        with zipfile.ZipFile(p) as z:
            unzipped = sum(i.file_size for i in z.infolist())
        rows[label] = {"zip_bytes": p.stat().st_size, "bootstrap_bytes": unzipped}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, indent=2))
    print(OUT.read_text())  # bench/report.py prints them as a table


if __name__ == "__main__":
    main()
