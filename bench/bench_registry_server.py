"""Benchmark the registry server on loopback: static GETs per second and publish latency.

    .venv/bin/python bench/bench_registry_server.py [--duration 5] [--connections 16] [--publishes 30]

What it measures (all on 127.0.0.1, bounded in count and time, no assertions):

1. GETs per second of one index file and one archive from `skillpm registry
   serve` (uvicorn, one worker), beside `python -m http.server` serving the
   same folder: how far the app is from a plain static file server. The load
   tool is `wrk` when installed, else a small threaded httpx loop (printed).
2. Publish latency: N sequential PUTs of new versions (validate, repack,
   write, index, git commit), with and without the git history.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout}s")


def start_server(data: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "skillpm", "registry", "serve", "--data", str(data), "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


def start_static(data: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(f"http://127.0.0.1:{port}/config.json", proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


_WORDS = "skill agent docker build test deploy cache index lock version range registry archive digest tree owner token".split()


def _text(seed: str, words: int) -> str:
    import random

    rng = random.Random(seed)
    return " ".join(rng.choice(_WORDS) + str(rng.randrange(1000)) for _ in range(words))


def make_skill(root: Path, name: str, version: str) -> Path:
    """A realistic small skill: ~4 KB SKILL.md and a ~20 KB reference file (~10 KB packed)."""
    folder = root / name
    (folder / "references").mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: Benchmark skill {name}. Use when measuring.\nmetadata:\n  version: \"{version}\"\n---\n"
        f"# {name}\n\n" + _text(version, 400) + "\n"
    )
    (folder / "references" / "guide.md").write_text("# Guide\n\n" + _text(version + "g", 2000) + "\n")
    return folder


# ---- load --------------------------------------------------------------- #


def load_wrk(url: str, duration: float, connections: int) -> tuple[float, str]:
    threads = max(1, min(4, connections))
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(max(1, duration))}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    note = f"p50 {p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'}"
    if errors:
        note += f", {errors.group(1)} non-2xx"
    return (float(rps.group(1)) if rps else 0.0), note


def load_httpx(url: str, duration: float, connections: int) -> tuple[float, str]:
    import httpx

    deadline = time.monotonic() + duration
    counts = [0] * connections
    bad = [0] * connections
    lat: list[float] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        mine = []
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                r = client.get(url)
                mine.append(time.perf_counter() - t0)
                counts[i] += 1
                bad[i] += r.status_code != 200
        with lock:
            lat.extend(mine)

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        list(pool.map(worker, range(connections)))
    elapsed = time.monotonic() - t0
    lat.sort()
    p50 = lat[len(lat) // 2] * 1000 if lat else 0
    p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0
    note = f"p50 {p50:.2f}ms, p99 {p99:.2f}ms"
    if sum(bad):
        note += f", {sum(bad)} non-200"
    return sum(counts) / elapsed, note


# ---- publish ------------------------------------------------------------ #


def publish_latency(url: str, token: str, workdir: Path, n: int, prefix: str) -> list[float]:
    import httpx

    from skillpm.archive import pack

    times = []
    with httpx.Client(timeout=60) as client:
        for i in range(n):
            folder = make_skill(workdir / f"{prefix}-{i}", "bench", f"1.{i}.0")
            data = pack(folder)
            t0 = time.perf_counter()
            r = client.put(f"{url}api/v1/skills/{prefix}/bench/1.{i}.0", content=data, headers={"Authorization": f"Bearer {token}"})
            times.append(time.perf_counter() - t0)
            if r.status_code != 201:
                raise SystemExit(f"publish failed: {r.status_code} {r.text}")
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per load run (default 5)")
    ap.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    ap.add_argument("--publishes", type=int, default=30, help="sequential publishes per series (default 30)")
    ap.add_argument("--no-wrk", action="store_true", help="use the httpx loop even if wrk is installed")
    args = ap.parse_args()
    args.duration = min(args.duration, 30.0)
    args.connections = max(1, min(args.connections, 256))
    args.publishes = max(1, min(args.publishes, 500))

    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise SystemExit("the registry server needs its extra packages: pip install 'skillpm[registry]'") from None
    from registry.service import init_registry

    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    tool = "wrk" if use_wrk else "httpx threads"
    load = load_wrk if use_wrk else load_httpx
    print(f"load tool: {tool} ({'installed' if use_wrk else 'wrk not found' if not args.no_wrk else '--no-wrk'}); "
          f"{args.connections} connections, {args.duration:.0f}s per run; publishes: {args.publishes} per series")

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="skillpm-bench-") as tmp:
        tmp_path = Path(tmp)
        work = tmp_path / "skills"
        results: dict[str, list[float]] = {}
        for label, git in (("publish, git history", True), ("publish, no git", False)):
            data = tmp_path / f"data-{'git' if git else 'plain'}"
            port = free_port()
            token = init_registry(data, git=git, base_url=f"http://127.0.0.1:{port}/")
            server = start_server(data, port)
            try:
                results[label] = publish_latency(f"http://127.0.0.1:{port}/", token, work, args.publishes, "git" if git else "plain")
                if git:
                    index_path, archive_path = "index/git/bench", f"dl/git/bench/1.{args.publishes - 1}.0.tar.gz"
                    archive_size = (data / archive_path).stat().st_size
                    for target, url_base in (("skillpm registry serve", f"http://127.0.0.1:{port}/"),):
                        for what, path in (("index file", index_path), (f"archive ({archive_size} B)", archive_path)):
                            rps, note = load(url_base + path, args.duration, args.connections)
                            rows.append((f"{target}: GET {what}", f"{rps:,.0f} req/s", note))
                    static_port = free_port()
                    static = start_static(data, static_port)
                    try:
                        for what, path in (("index file", index_path), (f"archive ({archive_size} B)", archive_path)):
                            rps, note = load(f"http://127.0.0.1:{static_port}/{path}", args.duration, args.connections)
                            rows.append((f"python -m http.server: GET {what}", f"{rps:,.0f} req/s", note))
                    finally:
                        stop(static)
            finally:
                stop(server)
        for label, times in results.items():
            ms = sorted(t * 1000 for t in times)
            p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
            rows.append(
                (f"{label} (N={len(ms)}, sequential)", f"mean {statistics.mean(ms):.1f} ms", f"p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms")
            )

    w0 = max(len(r[0]) for r in rows)
    w1 = max(len("rate / latency"), *(len(r[1]) for r in rows))
    print()
    print(f"{'what':<{w0}}  {'rate / latency':<{w1}}  detail")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * 30}")
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:<{w1}}  {c}")


if __name__ == "__main__":
    main()
