"""Fixtures for git-source tests: real repositories, a git daemon, an HTTP server.

Every test runs with its own cache (SKILLPM_CACHE_DIR), HOME and global git
config (GIT_CONFIG_GLOBAL), and deterministic author/committer identities, so
nothing touches the real user's cache or configuration.

    git_repo            one fresh working repository (GitRepo), served as file://
    make_git_repo(name) more of them
    monorepo(n_skills=12, convention="go"|"plugin"|"at"|"repo"|None, ...)
    git_daemon          serve(repo) -> git://127.0.0.1:PORT/<name>
    git_http            serve(repo, user=None, password=None, allow_filter=True) -> http URL
    global_git_config   set(key, value): write the isolated user's ~/.gitconfig
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from skillpm.sources.git import reset_run_state
from tests.conftest import skill_text, write_files

GIT = shutil.which("git") or "git"
GIT_EXEC_PATH = subprocess.run([GIT, "--exec-path"], capture_output=True, text=True, check=True).stdout.strip()


# --------------------------------------------------------------------------- #
# isolation


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text("")
    for key in list(os.environ):
        if key.startswith("GIT_") or key.startswith("SKILLPM_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SKILLPM_CONFIG_DIR", str(tmp_path / "config"))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Skill Tester")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tester@example.invalid")
        monkeypatch.setenv(f"GIT_{role}_DATE", "2024-01-01T00:00:00Z")
    reset_run_state()
    yield
    reset_run_state()


@pytest.fixture
def global_git_config(tmp_path: Path) -> Callable[[str, str], None]:
    """set(key, value): add to the isolated user's global git config."""

    def set_(key: str, value: str) -> None:
        subprocess.run([GIT, "config", "--global", "--add", key, value], check=True)

    return set_


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


# --------------------------------------------------------------------------- #
# repositories


def git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    proc = subprocess.run([GIT, *args], cwd=cwd, input=input, capture_output=True)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode()


@dataclass
class GitRepo:
    """A working repository to build test histories in."""

    path: Path
    tick: int = 0

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def run(self, *args: str) -> str:
        return git(*args, cwd=self.path)

    def config(self, key: str, value: str) -> None:
        self.run("config", key, value)

    def write(self, relpath: str, content: str | bytes, mode: int | None = None) -> Path:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
        if mode is not None:
            os.chmod(target, mode)
        return target

    def write_skill(
        self,
        folder: str,
        name: str | None = None,
        *,
        version: str | None = "1.0.0",
        dependencies: list[str] | None = None,
        files: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> Path:
        """SKILL.md (+ files) in `folder` ("" = repository root)."""
        name = name or (folder.rsplit("/", 1)[-1] if folder else self.path.name)
        meta: dict[str, str] = {}
        if version is not None:
            meta["version"] = version
        if dependencies:
            meta["dependencies"] = ", ".join(dependencies)
        fm: dict[str, Any] = {"name": name, "description": description or f"Test skill {name}. Use when testing."}
        if meta:
            fm["metadata"] = meta
        root = self.path / folder if folder else self.path
        self.write(f"{folder}/SKILL.md" if folder else "SKILL.md", skill_text(f"# {name}\n\nSee references/.\n", **fm))
        if files:
            write_files(root, files)
        return root

    def remove(self, relpath: str) -> None:
        self.run("rm", "-r", "-q", "--", relpath)

    def commit(self, message: str = "change") -> str:
        # distinct, deterministic timestamps so every commit is unique
        self.tick += 1
        stamp = f"2024-01-01T00:{self.tick // 60:02d}:{self.tick % 60:02d}Z"
        self.run("add", "-A")
        proc = subprocess.run(
            [GIT, "commit", "-q", "--allow-empty", "-m", message],
            cwd=self.path,
            capture_output=True,
            env={**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
        )
        assert proc.returncode == 0, proc.stderr.decode()
        return self.head()

    def tag(self, name: str, *, annotated: bool = False, ref: str = "HEAD", force: bool = False) -> str:
        args = ["tag"]
        if force:
            args.append("-f")
        if annotated:
            args += ["-a", "-m", f"release {name}"]
        self.run(*args, name, ref)
        return self.rev(f"{name}^{{commit}}")

    def branch(self, name: str, ref: str = "HEAD") -> None:
        self.run("branch", "-f", name, ref)

    def checkout(self, name: str, *, new: bool = False) -> None:
        self.run("checkout", "-q", *(["-b"] if new else []), name)

    def rev(self, ref: str = "HEAD") -> str:
        return self.run("rev-parse", "--verify", ref).strip()

    def head(self) -> str:
        return self.rev("HEAD")

    def bare_copy(self, dest: Path) -> GitRepo:
        git("clone", "-q", "--bare", "--no-local", str(self.path), str(dest))
        return GitRepo(dest)

    def blob_digest(self, ref: str, folder: str) -> str:
        """The tree digest of the committed bytes of `folder` at `ref`, read blob by blob."""
        from skillpm.digest import digest_entries

        out = git("ls-tree", "-r", "-z", f"{self.rev(ref)}:{folder}" if folder else self.rev(ref), cwd=self.path)
        entries = []
        for rec in out.split("\0"):
            if not rec:
                continue
            meta, name = rec.split("\t", 1)
            mode, typ, oid = meta.split()
            if typ == "blob" and mode in ("100644", "100755"):
                blob = subprocess.run([GIT, "cat-file", "blob", oid], cwd=self.path, capture_output=True, check=True).stdout
                entries.append((name, blob))
        return digest_entries(entries)

    def plain_checkout(self, dest: Path, ref: str = "HEAD") -> Path:
        """A plain checkout of `ref` without any conversion (the digest reference)."""
        git("-c", "core.autocrlf=false", "clone", "-q", "--no-checkout", str(self.path), str(dest))
        git("-c", "core.autocrlf=false", "-c", "core.attributesFile=/dev/null", "checkout", "-q", self.rev(ref), cwd=dest)
        return dest


def _init_repo(path: Path) -> GitRepo:
    path.mkdir(parents=True)
    git("init", "-q", "-b", "main", str(path))
    git("config", "uploadpack.allowFilter", "true", cwd=path)
    git("config", "core.autocrlf", "false", cwd=path)
    return GitRepo(path)


@pytest.fixture
def make_git_repo(tmp_path: Path) -> Callable[..., GitRepo]:
    def factory(name: str = "repo") -> GitRepo:
        return _init_repo(tmp_path / "remotes" / name)

    return factory


@pytest.fixture
def git_repo(make_git_repo: Callable[..., GitRepo]) -> GitRepo:
    return make_git_repo("repo")


# --------------------------------------------------------------------------- #
# monorepos


def skill_name(i: int) -> str:
    return f"skill-{i:02d}"


def skill_files(name: str, i: int) -> dict[str, Any]:
    return {
        "scripts/run.sh": (f"#!/bin/sh\necho {name}\n", 0o755),
        "scripts/helper.py": f"print('helper for {name}')\n",
        "references/guide.md": f"# {name} guide\n\nDetails {i}.\n",
        "references/deep/nested/notes.md": f"nested notes {i}\n",
        "assets/data.bin": bytes(range(256)) * (i + 1),
    }


def tag_for(convention: str, folder: str, version: str) -> str:
    name = folder.rsplit("/", 1)[-1]
    return {
        "go": f"{folder}/v{version}",
        "plugin": f"{name}--v{version}",
        "at": f"{name}@{version}",
        "repo": f"v{version}",
    }[convention]


@dataclass
class Monorepo:
    repo: GitRepo
    folders: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.repo.url


@pytest.fixture
def monorepo(make_git_repo: Callable[..., GitRepo]) -> Callable[..., Monorepo]:
    """monorepo(n_skills=12, convention="go", versions=("1.0.0", "1.1.0"), name="mono").

    Skills live in skills/skill-NN/ with scripts (one executable), nested
    references and a binary asset. Each version is one commit changing every
    skill, tagged per skill with `convention` (or once with repo-wide tags for
    "repo", or untagged for None).
    """

    def factory(
        n_skills: int = 12,
        convention: str | None = "go",
        versions: tuple[str, ...] = ("1.0.0", "1.1.0"),
        name: str = "mono",
        annotated: bool = False,
    ) -> Monorepo:
        repo = make_git_repo(name)
        mono = Monorepo(repo, [f"skills/{skill_name(i)}" for i in range(1, n_skills + 1)])
        repo.write("README.md", "# A monorepo of skills\n")
        for version in versions:
            for i, folder in enumerate(mono.folders, start=1):
                deps = [f"{repo.url}#path={mono.folders[0]}"] if i == 2 else None
                repo.write_skill(folder, version=version, dependencies=deps, files=skill_files(skill_name(i), i))
                repo.write(f"{folder}/CHANGELOG.md", f"{version}\n")
            repo.commit(f"release {version}")
            if convention == "repo":
                repo.tag(f"v{version}", annotated=annotated)
            elif convention is not None:
                for folder in mono.folders:
                    repo.tag(tag_for(convention, folder, version), annotated=annotated)
        return mono

    return factory


# --------------------------------------------------------------------------- #
# servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[Callable[[GitRepo], str]]:
    """serve(repo) -> git:// URL of a bare copy, served by `git daemon` on 127.0.0.1."""
    base = tmp_path / "daemon"
    base.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [
            GIT, "daemon", "--reuseaddr", f"--base-path={base}", "--export-all",
            f"--port={port}", "--listen=127.0.0.1", "--informative-errors", str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)

        def serve(repo: GitRepo) -> str:
            name = repo.path.name + ".git"
            if not (base / name).exists():
                repo.bare_copy(base / name)
                git("config", "uploadpack.allowFilter", "true", cwd=base / name)
            return f"git://127.0.0.1:{port}/{name}"

        yield serve
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _Backend(BaseHTTPRequestHandler):
    """git-http-backend as CGI, with optional HTTP Basic auth."""

    server: _GitHTTPServer

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        srv = self.server
        srv.requests.append((self.command, self.path, self.headers.get("Authorization")))
        body = self._body()
        if srv.credentials is not None:
            expected = "Basic " + base64.b64encode(":".join(srv.credentials).encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="skills"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        parts = urlsplit(self.path)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_PROJECT_ROOT": str(srv.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(parts.path),
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": srv.credentials[0] if srv.credentials else "",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.0",
        }
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        proc = subprocess.run(
            [os.path.join(GIT_EXEC_PATH, "git-http-backend")], input=body, env=env, capture_output=True
        )
        out = proc.stdout
        sep = out.find(b"\r\n\r\n")
        head, payload = (out[:sep], out[sep + 4 :]) if sep != -1 else out.split(b"\n\n", 1)
        status = 200
        headers = []
        for line in head.replace(b"\r\n", b"\n").split(b"\n"):
            if not line.strip():
                continue
            key, _, value = line.decode("latin-1").partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _handle
    do_POST = _handle


class _GitHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    root: Path
    credentials: tuple[str, str] | None
    requests: list[tuple[str, str, str | None]]


@dataclass
class HttpGit:
    server: _GitHTTPServer
    root: Path
    port: int

    @property
    def requests(self) -> list[tuple[str, str, str | None]]:
        return self.server.requests

    def serve(self, repo: GitRepo, *, user: str | None = None, password: str | None = None, allow_filter: bool = True) -> str:
        name = repo.path.name + ".git"
        target = self.root / name
        if target.exists():
            shutil.rmtree(target)
        repo.bare_copy(target)
        git("config", "uploadpack.allowFilter", "true" if allow_filter else "false", cwd=target)
        auth = "" if user is None else f"{user}@" if password is None else f"{user}:{password}@"
        return f"http://{auth}127.0.0.1:{self.port}/{name}"

    def refresh(self, repo: GitRepo) -> None:
        """Push the working repo's current refs to its served copy."""
        git("push", "-q", "--force", "--mirror", str(self.root / (repo.path.name + ".git")), cwd=repo.path)


@pytest.fixture
def git_http(tmp_path: Path) -> Iterator[Callable[..., HttpGit]]:
    """start(user=None, password=None) -> HttpGit; .serve(repo) -> http URL (Basic auth if set)."""
    servers: list[_GitHTTPServer] = []

    def start(user: str | None = None, password: str | None = None) -> HttpGit:
        root = tmp_path / f"http-{len(servers)}"
        root.mkdir()
        srv = _GitHTTPServer(("127.0.0.1", 0), _Backend)
        srv.root = root
        srv.credentials = (user, password) if user is not None else None
        srv.requests = []
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return HttpGit(srv, root, srv.server_address[1])

    try:
        yield start
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
