"""The git-backed history: one commit per publish, yank and owner change.

When the data folder is a git repository (`skillpm registry init --git`),
every write ends in a commit whose author is the token's user and whose
message names the action ("publish docker/basics 1.2.0"). Anyone can `git
clone` the folder and use the clone as a git registry (`git+file://…`,
`git+https://…`): the tree is the static protocol itself.

git runs with hooks disabled and never signs, converts line endings or
detaches background work; `.registry/` (the database) is in .gitignore and is
never added. A failed commit does not undo a publish (the files are already
served): it is logged, and the next commit picks the change up.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

log = logging.getLogger("registry.history")

#: Settings for every git call, taking precedence over any configuration.
GIT_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.autocrlf=false",
    "core.safecrlf=false",
    "core.attributesFile=/dev/null",
    "commit.gpgsign=false",
    "gc.auto=0",
    "gc.autoDetach=false",
    "maintenance.auto=false",
    "advice.detachedHead=false",
)
#: Only these paths are ever added: the static tree, never the database.
TRACKED = ("config.json", "index.json", ".gitignore", "index", "dl", "owners")
COMMITTER = ("skillpm registry", "registry@registry.invalid")
_DROP_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_COMMON_DIR")


def author_email(user: str) -> str:
    return f"{user}@users.registry.invalid"


class GitError(Exception):
    pass


class History:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def enabled(self) -> bool:
        return (self.root / ".git").exists()

    def _git(self, *args: str, author: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV and not k.startswith("GIT_TRACE")}
        name, email = COMMITTER
        env.update(
            GIT_COMMITTER_NAME=name,
            GIT_COMMITTER_EMAIL=email,
            GIT_AUTHOR_NAME=author or name,
            GIT_AUTHOR_EMAIL=author_email(author) if author else email,
            GIT_TERMINAL_PROMPT="0",
        )
        cmd = ["git"]
        for setting in GIT_CONFIG:
            cmd += ["-c", setting]
        cmd += ["-C", str(self.root), *args]
        proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        if check and proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip() or proc.stdout.decode("utf-8", "replace").strip()
            raise GitError(f"git {args[0]} failed ({proc.returncode}): {err}")
        return proc

    def init(self, *, author: str) -> None:
        """Make the data folder a git repository with a first commit."""
        if not self.enabled:
            self._git("init", "--quiet", "--initial-branch=main")
        self.commit("init registry", author=author)

    def commit(self, message: str, *, author: str) -> str | None:
        """Commit the static tree as it is now. Returns the commit id, None if nothing changed.

        Never raises: a failure is logged and the next commit includes the change.
        """
        if not self.enabled:
            return None
        try:
            paths = [p for p in TRACKED if (self.root / p).exists()]
            self._git("add", "--all", "--", *paths)
            if self._git("diff", "--cached", "--quiet", check=False).returncode == 0:
                return None
            self._git("commit", "--quiet", "--no-verify", "-m", message, author=author)
            return self._git("rev-parse", "HEAD").stdout.decode().strip()
        except (GitError, OSError, subprocess.SubprocessError) as exc:
            log.error("history: could not commit %r: %s", message, exc)
            return None
