"""Compacts `cargo lambda invoke` output for the demo: an API proxy response becomes
`HTTP <status> <body>`, a direct result one JSON line, a function error `error <type>: <message>`."""

import json
import re
import sys

text = sys.stdin.read()
try:
    doc = json.loads(text)
except ValueError:
    kind = re.search(r"Error: (\S+)", text)
    message = re.search(r"×\s*(.+?)(?:\n\s*\n|$)", text, re.S)
    message = " ".join(message.group(1).replace("│", " ").split()) if message else text.strip()
    print(f"function error {kind.group(1) if kind else '?'}: {message}")
else:
    if isinstance(doc, dict) and "statusCode" in doc:
        print(f"HTTP {doc['statusCode']} {doc.get('body', '')}")
    else:
        print(json.dumps(doc))
