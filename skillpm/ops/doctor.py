"""`skillpm doctor`: is this machine and this project in shape? One line per check.

Checks: git (present, new enough for what skillpm runs), the cache dir
(writable, its size), the config dir, agent targets (configured and
detected), whether skills.lock satisfies skills.toml (`lock_drift`), and
whether the installed skills and their target links verify. A check is
"ok", "warn" (worth knowing, not wrong) or "fail" (exit 1).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

#: `git ls-remote ... --end-of-options URL` (refuses URLs that look like options)
#: needs git 2.24; partial clones (`--filter=blob:none`) and `git archive` are older.
MIN_GIT = (2, 24)


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str

    def to_json(self) -> dict:
        return asdict(self)


def _git_version(text: str) -> tuple[int, ...] | None:
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(x) for x in m.groups() if x is not None) if m else None


def check_git() -> Check:
    import shutil

    git = shutil.which("git")
    if git is None:
        return Check("git", "fail", "git is not on PATH (needed for git sources and git registries)")
    try:
        out = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return Check("git", "fail", f"{git} --version failed: {e}")
    version = _git_version(out)
    if version is None:
        return Check("git", "warn", f"{out or git}: could not read the version")
    need = ".".join(map(str, MIN_GIT))
    if version[:2] < MIN_GIT:
        return Check("git", "fail", f"{out} is older than {need} (skillpm uses --end-of-options and partial clones)")
    return Check("git", "ok", f"{out} (>= {need}: --end-of-options, partial clone, archive)")


def _size(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _writable(folder: Path) -> str | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".skillpm-doctor-"):
            pass
    except OSError as e:
        return f"{e.strerror or e}"
    return None


def check_cache() -> Check:
    from skillpm.cache import cache_dir

    folder = cache_dir()
    existed = folder.exists()
    problem = _writable(folder)
    if problem:
        return Check("cache", "fail", f"{folder} is not writable: {problem} (set SKILLPM_CACHE_DIR to another folder)")
    size = _size(folder) if existed else 0
    return Check("cache", "ok", f"{folder} is writable, {_human(size)} (`skillpm cache clean` empties it)")


def check_config() -> Check:
    from skillpm.cache import config_dir

    folder = config_dir()
    if not folder.exists():
        return Check("config", "ok", f"{folder} (not created yet)")
    problem = _writable(folder)
    if problem:
        return Check("config", "fail", f"{folder} is not writable: {problem} (set SKILLPM_CONFIG_DIR)")
    return Check("config", "ok", f"{folder} is writable")


def check_targets(project, rows: list[dict]) -> Check:  # noqa: ANN001 - Project | None
    """From `skillpm.ops.targets.describe()` rows: warn about agents detected but not configured.

    An agent whose folder (for this scope) is the install dir itself needs no link.
    """
    detected = [r["name"] for r in rows if r["detected"]]
    configured = list(project.manifest.targets) if project is not None else []
    missing = [r["name"] for r in rows if r["detected"] and not r["configured"] and not r.get("reads_install_dir")]
    detail = f"configured: {', '.join(configured) or 'none'}; detected: {', '.join(detected) or 'none'}"
    if project is not None and missing:
        return Check("targets", "warn", detail + f" (add {', '.join(repr(m) for m in missing)} to [install] targets to link skills there)")
    return Check("targets", "ok", detail)


def check_lock(project) -> Check:  # noqa: ANN001 - Project
    from skillpm.ops.sync import lock_drift

    drift = lock_drift(project)  # None too for a project with no skills and no lock
    if not project.manifest.skills and project.lock is None:
        return Check("lock", "ok", "no skills yet")
    if drift:
        return Check("lock", "fail", f"skills.lock does not match {project.manifest.path.name}: {drift} (run `skillpm lock` or `skillpm install`)")
    return Check("lock", "ok", f"skills.lock satisfies {project.manifest.path.name} ({len(project.locked)} skill(s))")


def check_installed(project) -> Check:  # noqa: ANN001 - Project
    from skillpm.ops.inspect import verify

    from skillpm.installer import PENDING

    result = verify(project)
    if result.pending:
        return Check("installed", "fail", PENDING)
    bad = [f"{name} ({st.state})" for name, _v, st in result.skills if st.state != "ok"]
    bad += [f"{f}/ (not in skills.lock)" for f in result.unexpected_folders]
    bad += [f"{t.target}: {skill}" for t in result.targets for skill, _p in t.problems]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        edited = any(st.state in ("modified", "foreign") for _n, _v, st in result.skills)
        fix = "`skillpm install --force` restores the locked files, keeping a backup" if edited else "`skillpm install` repairs"
        return Check("installed", "fail", f"{shown} (see `skillpm verify`; {fix})")
    linked = sum(len(t.ok) for t in result.targets)
    extra = f", {linked} target link(s)" if linked else ""
    return Check("installed", "ok", f"{len(result.skills)} skill(s) match skills.lock{extra}")


def run(cwd: Path, *, global_: bool = False) -> list[Check]:
    import platform

    from skillpm import __version__
    from skillpm.errors import SkillpmError
    from skillpm.ops.project import NoManifestError
    from skillpm.ops.targets import describe

    checks = [Check("skillpm", "ok", f"skillpm {__version__} on Python {platform.python_version()}")]
    checks += [check_git(), check_cache(), check_config()]
    project = None
    try:
        if global_:
            from skillpm.ops.global_scope import global_project

            project = global_project()
        else:
            from skillpm.ops.project import find_project

            project = find_project(cwd)
    except NoManifestError as e:  # no project here (or no global one yet): worth knowing, not wrong
        checks.append(Check("project", "warn", str(e)))
    except SkillpmError as e:  # a skills.toml or skills.lock that does not load
        checks.append(Check("project", "fail", str(e)))
    # the global scope looks in no project: agent folders under cwd are not global targets
    checks.append(check_targets(project, describe(project, root=None if global_ else cwd)))
    if project is not None:
        checks.append(Check("project", "ok", f"{project.manifest.path} (install dir {project.install_dir})"))
        for fn in (check_lock, check_installed):
            try:
                checks.append(fn(project))
            except SkillpmError as e:
                checks.append(Check(fn.__name__.removeprefix("check_"), "fail", str(e)))
    return checks
