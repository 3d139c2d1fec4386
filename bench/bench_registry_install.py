"""Benchmark: `skillpm install` of N registry skills from a loopback HTTP registry.

    .venv/bin/python bench/bench_registry_install.py [N]      (default N = 100)

Builds N skills, a static registry (`skillpm registry build`), serves it on
127.0.0.1 with ETag support, then times, in the same run:

- skillpm install, cold cache (resolve + download + verify + install N skills);
- skillpm install, warm cache, fresh project (index revalidated with 304s,
  archives from the cache);
- skillpm install --frozen, cold cache (from the lock: no resolution);
- skillpm install again with everything installed (no-op check);
- baseline: a plain httpx.Client fetching the same N archives and extracting
  them with tarfile (no checks, no lock, no resolution).

Every skillpm figure includes interpreter start-up (a subprocess per run).
Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_skills(root: Path, n: int) -> list[str]:
    ids = []
    body = "\n".join(f"- step {i}: do the thing carefully and check the result." for i in range(120)) + "\n"
    for i in range(n):
        name = f"skill-{i:03d}"
        folder = root / "bench" / name
        (folder / "references").mkdir(parents=True)
        (folder / "scripts").mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: Benchmark skill number {i}. Use when measuring skillpm.\n"
            f"metadata:\n  version: \"1.{i % 7}.0\"\n---\n\n# {name}\n\n{body}"
        )
        (folder / "references" / "guide.md").write_text(f"# Guide {i}\n\n" + body * 3)
        script = folder / "scripts" / "run.sh"
        script.write_text(f"#!/bin/sh\necho {name}\n")
        script.chmod(0o755)
        ids.append(f"bench/{name}")
    return ids


class _Handler(http.server.SimpleHTTPRequestHandler):
    root: Path
    protocol_version = "HTTP/1.1"  # keep-alive, as any real web server does
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body writes
    wbufsize = 1 << 16  # one write per response (flushed by the base class)

    def log_message(self, *args):  # noqa: ANN002
        pass

    def do_GET(self):  # noqa: N802
        path = self.root / self.path.split("?", 1)[0].lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type("H", (_Handler,), {"root": root})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def skillpm(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "skillpm", *args], cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"skillpm {' '.join(args)} failed:\n{proc.stderr}")
    return elapsed


def new_project(base: Path, name: str, url: str, ids: list[str]) -> Path:
    root = base / name
    root.mkdir()
    lines = ["[skills]"] + [f'"{i}" = "^1.0"' for i in ids]
    lines += ["", "[registries]", f'default = "{url}"', "", "[install]", 'dir = ".agents/skills"', ""]
    (root / "skills.toml").write_text("\n".join(lines))
    return root


def baseline(url: str, archives: list[str], dest: Path) -> float:
    import httpx

    start = time.perf_counter()
    with httpx.Client() as client:
        for i, rel in enumerate(archives):
            data = client.get(url + rel).raise_for_status().content
            target = dest / str(i)
            target.mkdir(parents=True)
            with tarfile.open(fileobj=__import__("io").BytesIO(data), mode="r:gz") as tar:
                tar.extractall(target, filter="data")
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    from skillpm.registries.publish import build_registry

    with tempfile.TemporaryDirectory(prefix="skillpm-bench-") as tmp:
        base = Path(tmp)
        ids = make_skills(base / "tree", n)
        t0 = time.perf_counter()
        build_registry(base / "tree", base / "public")
        build_time = time.perf_counter() - t0
        httpd, url = serve(base / "public")
        archives = sorted(p.relative_to(base / "public").as_posix() for p in (base / "public" / "dl").rglob("*.tar.gz"))
        total_bytes = sum((base / "public" / a).stat().st_size for a in archives)

        env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLPM_")}
        env.update(SKILLPM_CACHE_DIR=str(base / "cache"), SKILLPM_CONFIG_DIR=str(base / "config"), PYTHONPATH=str(REPO))
        rows = []
        p1 = new_project(base, "p1", url, ids)
        rows.append(("skillpm install, cold cache", skillpm(["install"], p1, env)))
        p2 = new_project(base, "p2", url, ids)
        rows.append(("skillpm install, warm cache, new project", skillpm(["install"], p2, env)))
        p3 = new_project(base, "p3", url, ids)
        shutil.copy(p1 / "skills.lock", p3 / "skills.lock")
        cold_env = dict(env, SKILLPM_CACHE_DIR=str(base / "cache-cold"))
        rows.append(("skillpm install --frozen, cold cache", skillpm(["install", "--frozen"], p3, cold_env)))
        rows.append(("skillpm install, all installed (no-op)", skillpm(["install"], p1, env)))
        rows.append(("skillpm verify", skillpm(["verify"], p1, env)))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        startup = time.perf_counter() - start
        rows.append(("baseline: httpx GET + tarfile extract", baseline(url, archives, base / "plain")))
        httpd.shutdown()

    print(f"\n{n} skills, {total_bytes / 1024:.0f} KiB of archives, loopback HTTP; registry build took {build_time:.2f} s")
    print(f"(python interpreter start-up alone: {startup * 1000:.0f} ms, included in every skillpm row)\n")
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'seconds':>8}  {'ms/skill':>8}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 8}")
    for label, secs in rows:
        print(f"{label:<{width}}  {secs:>8.2f}  {secs * 1000 / n:>8.1f}")


if __name__ == "__main__":
    main()
