"""A real registry server for end-to-end tests: `skillpm registry serve` in a subprocess.

    def test_x(registry_server, cli):
        srv = registry_server()            # init (with git) + serve on a free loopback port
        cli("publish", path, "--registry", srv.url)

The server is stopped (by its own pid) when the test ends.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the registry server needs the extra packages: pip install 'skillpm[registry]'")
pytest.importorskip("uvicorn", reason="the registry server needs the extra packages: pip install 'skillpm[registry]'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str  # http://127.0.0.1:PORT/
    admin: str  # the admin token printed by `registry init`
    data: Path
    proc: subprocess.Popen
    log: Path

    def api(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path.lstrip("/"), method=method)
        if body is not None:
            req.data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {token or self.admin}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def token_for(self, user: str, scopes=("publish-new", "publish-update", "yank", "owners"), patterns=()) -> str:
        status, body = self.api("POST", "api/v1/tokens", {"name": f"{user}'s", "scopes": list(scopes), "patterns": list(patterns), "user": user})
        assert status == 201, body
        return body["token"]


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the registry server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the registry server did not answer within {timeout}s:\n{log.read_text()}")


@pytest.fixture
def registry_server(tmp_path: Path, cli, cli_env):
    """start(data=None, git=True) -> Server; every server started is stopped after the test."""
    started: list[Server] = []

    def start(data: Path | None = None, *, git: bool = True, admin: str | None = None, workers: int = 1) -> Server:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        if data is None:
            data = tmp_path / f"registry-{len(started)}"
            args = ["registry", "init", str(data), "--base-url", url] + (["--git"] if git else [])
            result = cli(*args)
            admin = result.out.strip().splitlines()[-1]
        log = tmp_path / f"server-{port}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "skillpm", "registry", "serve", "--data", str(data), "--port", str(port), "--log-level", "warning", "--workers", str(workers)],
                env=cli_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        srv = Server(url=url, admin=admin or "", data=data, proc=proc, log=log)
        started.append(srv)
        _wait_ready(url, proc, log)
        return srv

    yield start
    for srv in started:
        if srv.proc.poll() is None:
            srv.proc.terminate()
            try:
                srv.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                srv.proc.kill()
                srv.proc.wait(timeout=10)
