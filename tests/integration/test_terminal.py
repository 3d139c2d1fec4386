"""What a person sees in a real terminal: tmux drives `skillpm add`; a pty checks the
progress bar (only on a terminal, never with --quiet or CI) and NO_COLOR."""

from __future__ import annotations

import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
COLOR_SGR = re.compile(rb"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def _script(path: Path, env: dict[str, str], cwd: Path, argv: list[str]) -> Path:
    keep = ("HOME", "SKILLPM_CACHE_DIR", "SKILLPM_CONFIG_DIR", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "PYTHONPATH", "PATH")
    lines = ["#!/bin/sh", *(f"export {k}={shlex.quote(env[k])}" for k in keep if k in env)]
    lines += ["unset NO_COLOR CI", f"cd {shlex.quote(str(cwd))}", shlex.join(argv), 'echo "EXIT=$?"']
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux); the pty tests below still run")
def test_add_in_a_real_terminal_under_tmux(cli_env, project, make_skill, tmp_path):
    make_skill("greeter", parent=project / "local")
    script = _script(tmp_path / "run.sh", cli_env, project, [sys.executable, "-m", "skillpm", "add", "./local/greeter"])
    sock = f"skillpm-test-{uuid.uuid4().hex[:8]}"  # a private tmux server: nothing else is touched
    tmux = [TMUX, "-L", sock, "-f", os.devnull]
    subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "40", "-s", "t", "sh"], check=True, env={**cli_env, "TERM": "xterm-256color"})
    try:
        subprocess.run([*tmux, "send-keys", "-t", "t", f"sh {shlex.quote(str(script))}", "Enter"], check=True)
        screen = ""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True, check=True).stdout
            if "EXIT=" in screen:
                break
            time.sleep(0.2)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert "EXIT=0" in screen, screen
    assert "+ greeter 1.0.0 -> greeter/" in screen, screen
    assert "1 added." in screen
    assert "Traceback" not in screen and "error:" not in screen
    # the transient progress bar is gone once the work is done
    assert "Resolving" not in screen and "Installing" not in screen
    assert (project / ".agents/skills/greeter/SKILL.md").is_file()


def _pty(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, bytes]:
    pid, fd = pty.fork()
    if pid == 0:  # child: the command, on the pty
        try:
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


@pytest.fixture
def tty_env(cli_env):
    env = {k: v for k, v in cli_env.items() if k not in ("NO_COLOR", "CI")}
    env["TERM"] = "xterm-256color"
    return env


def test_progress_shows_on_a_terminal_in_color(tty_env, project, make_skill):
    make_skill("p", parent=project / "local")
    rc, out = _pty([sys.executable, "-m", "skillpm", "add", "./local/p"], tty_env, project)
    assert rc == 0, out
    assert b"Resolving" in out and b"Installing" in out  # rich's transient bar
    assert COLOR_SGR.search(out), out
    assert b"+ p 1.0.0 -> p/" in out and b"Traceback" not in out


def test_no_color_keeps_the_bar_but_drops_colors(tty_env, project, make_skill):
    make_skill("n", parent=project / "local")
    rc, out = _pty([sys.executable, "-m", "skillpm", "add", "./local/n"], {**tty_env, "NO_COLOR": "1"}, project)
    assert rc == 0, out
    assert b"Resolving" in out
    assert not COLOR_SGR.search(out), out
    rc, out = _pty([sys.executable, "-m", "skillpm", "frobnicate"], {**tty_env, "NO_COLOR": "1"}, project)
    assert rc == 2 and b"No such command" in out and not COLOR_SGR.search(out)


@pytest.mark.parametrize("how", ["quiet", "ci"])
def test_no_progress_with_quiet_or_in_ci(tty_env, project, make_skill, how):
    make_skill("q", parent=project / "local")
    env = {**tty_env, "CI": "true"} if how == "ci" else tty_env
    args = ["--quiet"] if how == "quiet" else []
    rc, out = _pty([sys.executable, "-m", "skillpm", *args, "add", "./local/q"], env, project)
    assert rc == 0, out
    assert b"Resolving" not in out and b"\x1b[?25l" not in out  # no bar, no cursor games
    if how == "quiet":
        assert out.strip() == b""


def test_no_progress_when_stderr_is_not_a_terminal(cli, project, make_skill):
    make_skill("plain", parent=project / "local")
    r = cli("add", "./local/plain", cwd=project)
    assert "Resolving" not in r.err and "\x1b[" not in r.err
