"""Concurrent `skillpm add` in one project (issue #10).

Two (or six) `skillpm add` processes start together in one project, each with its
own HOME, SKILLPM_CACHE_DIR and SKILLPM_CONFIG_DIR (two users, CI beside an IDE,
sudo), each adding a different local path skill. The project lock lives in the
install dir (`.skillpm/lock`), so they serialize whatever their cache dir: every
run exits 0, every skill ends up in skills.toml, skills.lock and the install dir
(in any order), nobody prints a raw OS error or a traceback, no temp file is
left, and `skillpm verify` passes. Each race runs several rounds, half of them on
a project that already has a lock and an installed skill.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.integration.conftest import isolated_env

from tests.conftest import skill_text, write_files

INSTALL_DIR = Path(".agents/skills")
RAW_OS_ERROR = re.compile(r"Traceback|\[Errno|Errno \d|OSError|FileNotFoundError|FileExistsError|PermissionError|"
                          r"IsADirectoryError|NotADirectoryError|Timeout|filelock", re.IGNORECASE)


def env_for(root: Path, who: str) -> dict[str, str]:
    """One user's isolated HOME, cache and config dirs, all different per `who`."""
    env = isolated_env(root / f"user-{who}")
    return env


def make_local_skill(project: Path, name: str) -> None:
    write_files(project / "src" / name, {
        "SKILL.md": skill_text(f"# {name}\n", name=name, description=f"Skill {name}. Use when testing skillpm.",
                               metadata={"version": "1.0.0"}),
        "references/guide.md": f"# {name}\n",
        "scripts/run.sh": (f"#!/bin/sh\necho {name}\n", 0o755),
    })


def run(args: list[str], project: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skillpm", *args], cwd=project, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)


def race(tmp_path: Path, ways: int, *, existing: bool) -> None:
    project = tmp_path / "project"
    project.mkdir()
    names = [f"skill-{i}" for i in range(ways)]
    for name in names + ["base"]:
        make_local_skill(project, name)
    setup_env = env_for(tmp_path, "setup")
    r = run(["init"], project, setup_env)
    assert r.returncode == 0, r.stderr
    expected = set(names)
    if existing:  # a project that already has a lock and an installed skill
        r = run(["add", "./src/base"], project, setup_env)
        assert r.returncode == 0, r.stderr
        expected.add("base")

    procs = [
        subprocess.Popen([sys.executable, "-m", "skillpm", "add", f"./src/{name}"], cwd=project,
                         env=env_for(tmp_path, f"user{i}"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, name in enumerate(names)
    ]
    results = []
    for name, proc in zip(names, procs):
        try:
            out, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise AssertionError(f"`skillpm add ./src/{name}` hung")
        results.append((name, proc.returncode, out, err))

    report = "\n".join(f"--- add {name}: rc={rc}\n{err}" for name, rc, _, err in results)
    for name, rc, _, err in results:
        assert rc == 0, f"`skillpm add ./src/{name}` failed beside {ways - 1} other(s)\n{report}"
        assert not RAW_OS_ERROR.search(err), f"raw error text on stderr of `add {name}`\n{report}"

    manifest = tomllib.loads((project / "skills.toml").read_text())["skills"]
    assert set(manifest) == expected, f"skills.toml lost an add: {sorted(manifest)}\n{report}"
    lock = tomllib.loads((project / "skills.lock").read_text()).get("skill", [])
    assert {e["name"] for e in lock} == expected, f"skills.lock lost an add: {[e['name'] for e in lock]}\n{report}"
    install = project / INSTALL_DIR
    folders = {p.name for p in install.iterdir() if not p.name.startswith(".")}
    assert folders == expected, f"install dir: {sorted(folders)}\n{report}"
    left = [p.relative_to(project).as_posix() for p in project.rglob("*.tmp")]
    assert not left, f"temporary files left: {left}\n{report}"

    v = run(["verify"], project, env_for(tmp_path, "user0"))
    assert v.returncode == 0, f"verify after the race:\n{v.stdout}{v.stderr}\n{report}"
    assert "pending" not in v.stdout + v.stderr, v.stdout + v.stderr


@pytest.mark.parametrize("round_", range(5))
def test_two_adds_at_once_with_different_homes_and_caches(tmp_path, round_):
    race(tmp_path, 2, existing=bool(round_ % 2))


@pytest.mark.parametrize("round_", range(3))
def test_six_adds_at_once(tmp_path, round_):
    race(tmp_path, 6, existing=bool(round_ % 2))
