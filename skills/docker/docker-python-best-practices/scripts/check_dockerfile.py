#!/usr/bin/env python3
"""Flag common mistakes in a Python service's Dockerfile.

Usage: check_dockerfile.py [Dockerfile]      (default: ./Dockerfile)

Prints one line per finding, `Dockerfile:LINE: [rule] message`, and exits 1
if there is any. Heuristic and dependency-free: it reads instructions, it does
not build anything. Rules:

  base-tag        FROM python without a tag, with :latest, or not a -slim variant
  no-user         the final stage never switches away from root
  cache-order     the whole context is copied before dependencies are installed
  pip-cache       pip install without --no-cache-dir / PIP_NO_CACHE_DIR or a cache mount
  apt-cleanup     apt-get install without --no-install-recommends or list cleanup
  apt-split       apt-get update and install in different RUN instructions
  shell-form      CMD/ENTRYPOINT in shell form (signals do not reach the app)
  add-url         ADD of a remote URL (use curl in RUN, or COPY)
  secret          ENV/ARG whose name looks like a secret
  dockerignore    no .dockerignore next to the Dockerfile
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

SECRET_NAME = re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key|private[_-]?key)")


@dataclass
class Instr:
    line: int
    op: str
    args: str


def parse(text: str) -> list[Instr]:
    """Instructions with continuations joined; comments and parser directives skipped."""
    out: list[Instr] = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # comment lines inside a continuation are ignored by Docker too
        if not buf:
            start = n
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        op, _, args = buf.partition(" ")
        out.append(Instr(start, op.upper(), args.strip()))
        buf = ""
    if buf:
        op, _, args = buf.partition(" ")
        out.append(Instr(start, op.upper(), args.strip()))
    return out


def stages(instrs: list[Instr]) -> list[list[Instr]]:
    result: list[list[Instr]] = []
    for ins in instrs:
        if ins.op == "FROM" or not result:
            result.append([])
        result[-1].append(ins)
    return result


def check(path: Path) -> list[str]:
    instrs = parse(path.read_text(encoding="utf-8"))
    found: list[str] = []

    def flag(ins: Instr | None, rule: str, message: str) -> None:
        line = ins.line if ins else 1
        found.append(f"{path}:{line}: [{rule}] {message}")

    all_stages = stages(instrs)
    env_no_cache = any(
        ins.op == "ENV" and re.search(r"PIP_NO_CACHE_DIR\s*[= ]\s*(1|true|on|yes)", ins.args, re.I) for ins in instrs
    )
    for stage in all_stages:
        frm = stage[0] if stage and stage[0].op == "FROM" else None
        if frm is not None:
            image = [a for a in frm.args.split() if not a.startswith("--")][0] if frm.args.split() else ""
            name = image.split("@", 1)[0]
            if re.match(r"^(docker\.io/)?(library/)?python(:|$)", name):
                tag = name.split(":", 1)[1] if ":" in name else ""
                if not tag or tag == "latest":
                    flag(frm, "base-tag", f"{image!r}: pin a Python version and use a -slim variant, e.g. python:3.12-slim-bookworm")
                elif "slim" not in tag and "alpine" not in tag:
                    flag(frm, "base-tag", f"{image!r}: the full image ships compilers and ~1 GB of packages; use {name.split(':')[0]}:{tag}-slim")
        copied_all = None
        installed = False
        for ins in stage:
            args = ins.args
            if ins.op == "COPY" and "--from" not in args:
                srcs = [a for a in args.split() if not a.startswith("--")][:-1]
                if any(s in (".", "./", "*") for s in srcs) and not installed:
                    copied_all = copied_all or ins
            if ins.op == "RUN":
                if re.search(r"\bpip3?\s+install\b|\buv\s+(sync|pip\s+install)\b|\bpoetry\s+install\b", args):
                    if copied_all is not None and not installed and re.search(r"-r\s|requirements|sync|poetry", args):
                        flag(copied_all, "cache-order", "the whole context is copied before dependencies are installed; copy the lock/requirements file first, install, then copy the source")
                    installed = True
                    if re.search(r"\bpip3?\s+install\b", args) and "--no-cache-dir" not in args and "type=cache" not in args and not env_no_cache:
                        flag(ins, "pip-cache", "pip install without --no-cache-dir (or a BuildKit cache mount) leaves the pip cache in the layer")
                if re.search(r"\bapt-get\s+install\b", args):
                    if "--no-install-recommends" not in args:
                        flag(ins, "apt-cleanup", "apt-get install without --no-install-recommends pulls in extra packages")
                    if "rm -rf /var/lib/apt/lists" not in args and "type=cache" not in args:
                        flag(ins, "apt-cleanup", "remove /var/lib/apt/lists/* in the same RUN as apt-get install")
                    if not re.search(r"\bapt-get\s+update\b", args):
                        flag(ins, "apt-split", "apt-get install without apt-get update in the same RUN: a cached update goes stale")
            if ins.op in ("CMD", "ENTRYPOINT") and args and not args.lstrip().startswith("["):
                flag(ins, "shell-form", f"{ins.op} in shell form runs under /bin/sh -c and does not get SIGTERM; use {ins.op} [\"prog\", \"arg\"]")
            if ins.op == "ADD" and re.search(r"https?://", args):
                flag(ins, "add-url", "ADD of a URL is not cached predictably and skips checksums; download with curl in RUN (and verify it)")
            if ins.op in ("ENV", "ARG"):
                for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", args):
                    if SECRET_NAME.search(name):
                        flag(ins, "secret", f"{ins.op} {name}: values end up in the image history; use RUN --mount=type=secret")
    if all_stages:
        final = all_stages[-1]
        users = [ins for ins in final if ins.op == "USER"]
        if not users or users[-1].args.split(":")[0] in ("root", "0"):
            flag(final[0] if final else None, "no-user", "the final stage runs as root; add a system user and `USER 10001:10001`")
    if not (path.parent / ".dockerignore").is_file():
        flag(None, "dockerignore", f"no .dockerignore in {path.parent}: .git, .venv and .env get sent to the builder (and maybe into the image)")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path("Dockerfile")
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    findings = check(path)
    for f in findings:
        print(f)
    if not findings:
        print(f"ok: {path}: no findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
