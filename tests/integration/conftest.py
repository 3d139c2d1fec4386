"""Integration fixtures: a real skillpm process on real folders.

`cli` runs the installed entry point (`python -m skillpm`) in a subprocess with
an isolated HOME, config and cache, so tests never touch the user's files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    rc: int
    out: str
    err: str

    def __repr__(self) -> str:  # shown by pytest on failure
        return f"Result(rc={self.rc})\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def isolated_env(root: Path, *, identity: str | None = None) -> dict[str, str]:
    """The environment of one isolated skillpm user: HOME, config and cache under
    `root`, no user or system git config, no prompts, no color. `identity`: a
    git author/committer name (email derived) for processes that commit."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLPM_", "GIT_"))}
    env.update(
        HOME=str(home),
        SKILLPM_CACHE_DIR=str(root / "cache"),
        SKILLPM_CONFIG_DIR=str(root / "config"),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        NO_COLOR="1",
        PYTHONPATH=str(REPO_ROOT),
    )
    if identity is not None:
        (home / ".gitconfig").touch()
        email = identity.lower().replace(" ", ".") + "@example.invalid"
        for role in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{role}_NAME"], env[f"GIT_{role}_EMAIL"] = identity, email
    return env


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path)


@pytest.fixture
def git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Let this process (test fixtures building repositories) commit with a fixed identity
    and no user or system git config."""
    (tmp_path / "gitconfig").write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Skill Tester")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tester@example.invalid")


@pytest.fixture
def cli(cli_env: dict[str, str], tmp_path: Path):
    """run(*args, cwd=..., rc=0) -> Result; asserts the exit code unless rc=None."""

    def run(*args: str, cwd: Path | None = None, rc: int | None = 0, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "skillpm", *args],
            cwd=cwd or tmp_path,
            env=cli_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if rc is not None:
            assert proc.returncode == rc, result
        if "Traceback" in proc.stderr:
            raise AssertionError(f"traceback on stderr:\n{result}")
        return result

    return run


@pytest.fixture
def project(tmp_path: Path, cli) -> Path:
    """An empty project with skills.toml created by `skillpm init`."""
    root = tmp_path / "project"
    root.mkdir()
    cli("init", cwd=root)
    return root
