"""The global scope: the user's own skills, outside any project.

`skillpm add -g SPEC` and friends run the same operations on a Project rooted
at `config_dir()/global/` (`skills.toml`, `skills.lock` there). Its install dir
is relative to the home folder (`[install] dir = ".agents/skills"` means
`~/.agents/skills`), and its agent targets use each agent's *user* folder
(`~/.claude/skills` ...) instead of the project folder.
"""

from __future__ import annotations

from pathlib import Path

from skillpm.manifest import DEFAULT_INSTALL_DIR, MANIFEST_NAME
from skillpm.ops.project import NoManifestError, Project, load_project

GLOBAL_DIR = "global"


def global_root() -> Path:
    from skillpm.cache import config_dir

    return config_dir() / GLOBAL_DIR


def global_manifest_path() -> Path:
    return global_root() / MANIFEST_NAME


def default_targets(home: Path | None = None) -> list[str]:
    """The agents that look installed for this user (their config or skills folder exists)."""
    from skillpm.targets import TARGETS, same_dir

    home = home or Path.home()
    install_dir = home / DEFAULT_INSTALL_DIR
    return [t.name for t in TARGETS if t.detected(None, home=home) and not same_dir(t.user_dir(home=home), install_dir)]


def initial_text(targets: list[str]) -> str:
    listed = ", ".join(f'"{t}"' for t in targets)
    return (
        "# skillpm global manifest: your own skills, for every project.\n"
        "# Managed with `skillpm add -g` / `skillpm remove -g`; docs/targets.md.\n"
        "\n"
        "[skills]\n"
        "\n"
        "[install]\n"
        "# relative to your home folder\n"
        f'dir = "{DEFAULT_INSTALL_DIR}"\n'
        "# agents whose user skills folder gets a link to each skill (`skillpm targets` lists them)\n"
        f"targets = [{listed}]\n"
    )


def ensure_global_manifest() -> tuple[Path, list[str]] | None:
    """Create the global manifest if missing; returns (path, targets) when it did."""
    from skillpm.fs import atomic_write

    path = global_manifest_path()
    if path.exists():
        return None
    targets = default_targets()
    atomic_write(path, initial_text(targets))
    return path, targets


def global_project(*, broken_lock_ok: bool = False) -> Project:
    path = global_manifest_path()
    if not path.exists():
        raise NoManifestError(
            f"no global skills yet ({path} does not exist)",
            hint="add one with `skillpm add -g SPEC`",
        )
    project = load_project(path, broken_lock_ok=broken_lock_ok)
    project.install_root = Path.home()  # which makes project.scope "global"
    return project
