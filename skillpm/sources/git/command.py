"""Running git safely: one fixed set of flags and one environment for every call.

Nothing fetched is ever executed: mirrors are bare, nothing is checked out, and
every call disables hooks, fsmonitor, submodule recursion, LFS smudging, the
`ext::`/`fd::` transports and attribute-driven conversions. The user's own git
configuration (credential helpers, `url.*.insteadOf`, SSH settings) is kept, so
private remotes work exactly as they do for `git clone`.

Every message that leaves this module has been scrubbed of credentials.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from skillpm.errors import SourceError
from skillpm.spec import SpecError, check_git_url, redact_url

#: `-c` settings given to every git command (before any repository config is read,
#: and taking precedence over it).
SAFE_CONFIG: tuple[str, ...] = (
    # transports: never run a remote helper command line; file:// only when the
    # user asked for it directly (the default policy for submodules is the same)
    "protocol.ext.allow=never",
    "protocol.fd.allow=never",
    "protocol.file.allow=user",
    # never execute anything a repository or its attributes could name
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
    "filter.lfs.smudge=",
    "filter.lfs.process=",
    "filter.lfs.required=false",
    # bytes exactly as committed
    "core.autocrlf=false",
    "core.eol=lf",
    "core.safecrlf=false",
    "core.attributesFile=/dev/null",
    # quiet, predictable output
    "core.pager=cat",
    "color.ui=never",
    "core.quotePath=false",
    "advice.fetchShowForcedUpdates=false",
    # no background processes outliving the run
    "gc.autoDetach=false",
    "maintenance.autoDetach=false",
    # a stalled HTTP(S) transfer fails instead of hanging the run: abort when
    # under 1 KiB/s for 60 s (SSH stalls are bounded by the user's ssh config)
    "http.lowSpeedLimit=1024",
    "http.lowSpeedTime=60",
)

#: Variables that would point git at another repository or change what it reads.
_DROP_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_REPLACE_REF_BASE",
    "GIT_ATTR_SOURCE",
    "GIT_ALLOW_PROTOCOL",
    "GIT_PROTOCOL_FROM_USER",
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)

#: GIT_ALLOW_PROTOCOL value that allows no transport at all (offline mode):
#: even a lazy fetch git might start on its own in a partial clone fails fast.
_NO_TRANSPORT = "skillpm-offline-no-transport"

_GIT: str | None = None


def git_executable() -> str:
    global _GIT
    if _GIT is None:
        found = shutil.which("git")
        if found is None:
            raise SourceError("git is not installed or not on PATH", hint="install git to use git sources")
        _GIT = found
    return _GIT


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def git_env(*, offline: bool = False, config: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git: the user's, minus repository redirections, plus safety.

    `config` settings are passed as GIT_CONFIG_COUNT/KEY_n/VALUE_n (after any
    the user set), not as `-c`: values such as a credentialed remote URL then
    never appear on a command line other users can read.
    """
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    if config:
        try:
            n = int(env.get("GIT_CONFIG_COUNT") or 0)
        except ValueError:
            n = 0
        for key, value in config.items():
            env[f"GIT_CONFIG_KEY_{n}"] = key
            env[f"GIT_CONFIG_VALUE_{n}"] = value
            n += 1
        env["GIT_CONFIG_COUNT"] = str(n)
    if not _stdin_is_tty():
        env["GIT_TERMINAL_PROMPT"] = "0"  # CI: fail instead of waiting for a password
    env["GIT_LFS_SKIP_SMUDGE"] = "1"
    env["GIT_NO_REPLACE_OBJECTS"] = "1"
    env["LC_ALL"] = "C"  # messages we can recognise
    env["LANGUAGE"] = "C"
    if offline:
        env["GIT_ALLOW_PROTOCOL"] = _NO_TRANSPORT
    return env


# --------------------------------------------------------------------------- #
# redaction

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@'\"]+)@")


def _secrets(url: str) -> list[str]:
    """Literal credential strings inside `url` (user and password, raw and decoded)."""
    if "://" not in url:
        return []
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return []
    if "@" not in netloc:
        return []
    userinfo = netloc.rsplit("@", 1)[0]
    user, _, password = userinfo.partition(":")
    scheme = url.split("://", 1)[0].lower()
    found = []
    if password:
        found += [password, unquote(password)]
    # http(s) tokens are often sent as the user name; ssh keeps its login name
    if user and scheme not in ("ssh", "git+ssh") and len(user) >= 8:
        found += [user, unquote(user)]
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def display_url(url: str) -> str:
    """redact_url that never raises: an unparsable URL loses anything like a user part."""
    try:
        return redact_url(url)
    except ValueError:
        pass
    shown = scrub(url).replace("[", "%5B").replace("]", "%5D")
    try:
        redact_url(shown)  # it must survive being shown (SpecError redacts again)
    except ValueError:
        return "<an unparsable URL>"
    return shown


def check_url(url: str) -> str:
    """check_git_url, with only the redacted URL in any error; returns that redacted URL."""
    display = display_url(url)
    check_git_url(url, spec=display)
    try:
        redact_url(url)
    except ValueError:
        raise SpecError(display, "not a valid URL") from None
    return display


def scrub(text: str, urls: Iterable[str] = ()) -> str:
    """`text` with every URL's credentials removed (for messages and logs)."""
    for url in urls:
        if not url:
            continue
        redacted = redact_url(url)
        if redacted != url:
            text = text.replace(url, redacted)
        for secret in _secrets(url):
            text = text.replace(secret, "***")

    def fix(m: re.Match[str]) -> str:
        scheme, userinfo = m.group(1), m.group(2)
        if scheme.lower().startswith(("ssh", "git+ssh")):
            return f"{scheme}{userinfo.split(':', 1)[0]}@"
        return scheme

    return _URL_USERINFO.sub(fix, text)


# --------------------------------------------------------------------------- #
# running


class GitFailed(SourceError):
    """A git command exited non-zero. `stderr` is already scrubbed of credentials.

    A SourceError, so an unexpected failure still reaches the user as one line.
    """

    def __init__(self, command: str, returncode: int, stderr: str) -> None:
        self.command = command  # e.g. "fetch"
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"git {command} failed (exit {returncode}): {self.summary}")

    @property
    def summary(self) -> str:
        """The most telling lines of git's stderr, on one line."""
        lines = [ln.strip() for ln in self.stderr.splitlines() if ln.strip()]
        keep = [ln for ln in lines if ln.lower().startswith(("fatal:", "error:", "remote: fatal", "ssh:"))]
        chosen = keep or lines[-3:]
        return " / ".join(chosen)[:800] or "no output"


def git_args(args: Sequence[str], *, git_dir: Path | None = None, config: Sequence[str] = ()) -> list[str]:
    cmd = [git_executable()]
    if git_dir is not None:
        cmd.append(f"--git-dir={git_dir}")
    for item in (*SAFE_CONFIG, *config):
        cmd += ["-c", item]
    cmd += list(args)
    return cmd


def run_git(
    args: Sequence[str],
    *,
    git_dir: Path | None = None,
    config: Sequence[str] = (),
    urls: Sequence[str] = (),
    offline: bool = False,
    input: bytes | None = None,
    cwd: Path | None = None,
    env_config: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run git; return the completed process or raise GitFailed (stderr scrubbed).

    `urls` are the URLs whose credentials must be scrubbed from any output;
    `env_config` settings go through the environment (see git_env).
    """
    cmd = git_args(args, git_dir=git_dir, config=config)
    try:
        proc = subprocess.run(
            cmd,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            env=git_env(offline=offline, config=env_config),
            cwd=cwd or (git_dir if git_dir is not None else None),
            check=False,
        )
    except OSError as exc:
        raise SourceError(f"cannot run git: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        stderr = scrub(proc.stderr.decode("utf-8", "replace"), urls)
        raise GitFailed(_command_name(args), proc.returncode, stderr)
    return proc


def _command_name(args: Sequence[str]) -> str:
    for a in args:
        if not a.startswith("-"):
            return a
    return "?"


def stderr_text(proc: subprocess.CompletedProcess[bytes], urls: Sequence[str] = ()) -> str:
    return scrub(proc.stderr.decode("utf-8", "replace"), urls)
