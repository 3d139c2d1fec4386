#!/usr/bin/env python3
"""Report requirement lines that are not pinned exactly (and, optionally, not hashed).

Usage: check_pins.py [--hashes] requirements.txt [more.txt ...]

Exit status 0 when every requirement is pinned with `==` (and carries at least
one `--hash=` with --hashes), 1 otherwise. Handles line continuations,
comments, `-r`/`-c` includes (followed), and skips other pip options.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")


def logical_lines(path: Path):
    """(line number, text) with continuations joined and comments removed."""
    buf, start = "", 0
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            yield start, buf.strip()
        buf = ""
    if buf.strip():
        yield start, buf.strip()


def check(path: Path, hashes: bool, seen: set[Path]) -> list[str]:
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    problems = []
    for n, line in logical_lines(path):
        if line.startswith(("-r ", "-c ", "--requirement ", "--constraint ")):
            include = line.split(None, 1)[1].strip()
            problems += check(path.parent / include, hashes, seen)
            continue
        if line.startswith("-"):
            continue  # --index-url, --find-links, ...
        if " @ " in line or line.startswith(("git+", "http://", "https://", "./", "/")):
            problems.append(f"{path}:{n}: {line.split()[0]}: a direct reference, not a pinned version")
            continue
        m = _NAME.match(line)
        name = m.group(1) if m else line.split()[0]
        spec = line.split(";", 1)[0]
        if not re.search(r"==\s*[^\s,*]+(\s|$|;)", spec + " ") or "," in spec.split("--hash")[0]:
            problems.append(f"{path}:{n}: {name}: not pinned with == (found {spec.split('--hash')[0].strip()!r})")
        if hashes and "--hash=" not in line:
            problems.append(f"{path}:{n}: {name}: no --hash")
    return problems


def main(argv: list[str]) -> int:
    hashes = "--hashes" in argv
    files = [a for a in argv if a != "--hashes"]
    if not files:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problems: list[str] = []
    seen: set[Path] = set()
    for f in files:
        p = Path(f)
        if not p.is_file():
            print(f"{f}: no such file", file=sys.stderr)
            return 2
        problems += check(p, hashes, seen)
    for p in problems:
        print(p)
    if not problems:
        print(f"ok: every requirement in {', '.join(files)} is pinned" + (" and hashed" if hashes else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
