"""Agent targets: where each agent reads skills, and linking skills into them.

The canonical copy of every skill stays in the install dir. A *target* is one
agent's skills folder; skillpm gives it one entry per skill:

    <target folder>/<skill folder>  ->  <install dir>/<skill folder>

a relative symlink (`[install] link = "symlink"`, the default) or a copy
(`link = "copy"`, and wherever a link cannot be made: the copy is the
fallback). Agents read one level deep (`<folder>/<name>/SKILL.md`), so
targets are flat. A target whose folder *is* the install dir is skipped.

What skillpm created in each target is recorded in
`<install dir>/.skillpm/targets.json` (paths relative to the install dir, so a
copied or moved project keeps pointing at its own folders). A folder in a
target that skillpm did not create is not replaced or deleted, and a copy that
was edited in place is not overwritten or deleted: both are reported and left.
With `force` (`skillpm install --force`) skillpm takes them over: each is
copied first (links as links) into the backup folder, as
`<backup folder>/<target>/<skill folder>`, then replaced with skillpm's link or
copy (or deleted, for a skill no longer installed).

The table below is data; `sync_targets` and `check_targets` are the only
code that writes or inspects target folders.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import ManifestError
from skillpm.fs import remove_path

__all__ = [
    "LINK_MODES",
    "TARGETS",
    "Target",
    "TargetCheck",
    "TargetSync",
    "canonical_name",
    "check_targets",
    "get_target",
    "same_dir",
    "sync_targets",
]

LINK_MODES = ("symlink", "copy")
STATE_FILE = "targets.json"
STATE_VERSION = 1


def _env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class Target:
    """One agent: its project skills folder, its user skills folder, its config dir."""

    name: str
    title: str
    project: str  # relative to the project root
    _config: Callable[[Mapping[str, str], Path], Path]
    docs: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    project_markers: tuple[str, ...] = ()  # folders whose presence in a project means "this agent is used here"
    _user: Callable[[Mapping[str, str], Path], Path] | None = None  # default: <config dir>/skills

    def user_dir(self, env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
        if self._user is None:
            return self.config_dir(env, home) / "skills"
        return self._user(os.environ if env is None else env, home or Path.home())

    def config_dir(self, env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
        return self._config(os.environ if env is None else env, home or Path.home())

    def project_dir(self, root: Path) -> Path:
        return root / self.project

    def detected(self, root: Path | None = None, env: Mapping[str, str] | None = None, home: Path | None = None) -> bool:
        """The agent seems to be in use: its config dir, user folder or project folder exists."""
        if self.config_dir(env, home).is_dir() or self.user_dir(env, home).is_dir():
            return True
        if root is None:
            return False
        return any((root / p).is_dir() for p in (self.project, *self.project_markers))


def _env_dir(var: str | None, rel: str) -> Callable[[Mapping[str, str], Path], Path]:
    """A config dir: $var if set (expanded), else home/rel. No var: always home/rel."""

    def config_dir(env: Mapping[str, str], home: Path) -> Path:
        return (_env_path(env, var) if var else None) or home / rel

    return config_dir


_claude_config = _env_dir("CLAUDE_CONFIG_DIR", ".claude")
_codex_config = _env_dir("CODEX_HOME", ".codex")
_copilot_config = _env_dir("COPILOT_HOME", ".copilot")
_xdg_config = _env_dir("XDG_CONFIG_HOME", ".config")


def _gemini_config(env: Mapping[str, str], home: Path) -> Path:
    # GEMINI_CLI_HOME replaces the home folder, not the .gemini folder inside it
    return (_env_path(env, "GEMINI_CLI_HOME") or home) / ".gemini"


#: The agents skillpm knows. Each entry's folders come from that agent's own
#: documentation (URLs in `docs`); docs/targets.md says where sources disagree.
TARGETS: tuple[Target, ...] = (
    # Claude Code: project .claude/skills/<name>/SKILL.md, personal ~/.claude/skills/<name>/SKILL.md.
    # https://code.claude.com/docs/en/skills ("Where skills live"). CLAUDE_CONFIG_DIR relocates
    # ~/.claude as a whole (https://code.claude.com/docs/en/settings, environment variables).
    Target(
        name="claude-code",
        title="Claude Code",
        project=".claude/skills",
        _config=_claude_config,
        docs=("https://code.claude.com/docs/en/skills", "https://code.claude.com/docs/en/settings"),
        aliases=("claude",),
        project_markers=(".claude",),
    ),
    # Codex: REPO scope $CWD/.agents/skills (up to the repository root), USER scope
    # $HOME/.agents/skills, ADMIN /etc/codex/skills. https://developers.openai.com/codex/skills
    # (current). Older Codex docs used .codex/skills and $CODEX_HOME/skills; see docs/targets.md.
    # $CODEX_HOME (default ~/.codex) is only used to detect that Codex is installed.
    Target(
        name="codex",
        title="OpenAI Codex",
        project=".agents/skills",
        _user=lambda env, home: home / ".agents" / "skills",
        _config=_codex_config,
        docs=("https://developers.openai.com/codex/skills",),
        project_markers=(".codex",),
    ),
    # Cursor: project .agents/skills/ and .cursor/skills/, user ~/.agents/skills/ and
    # ~/.cursor/skills/ (it also reads the Claude and Codex folders). https://cursor.com/docs/skills
    Target(
        name="cursor",
        title="Cursor",
        project=".cursor/skills",
        _config=_env_dir(None, ".cursor"),
        docs=("https://cursor.com/docs/skills",),
        project_markers=(".cursor",),
    ),
    # GitHub Copilot (cloud agent, Copilot CLI, VS Code agent mode): project .github/skills,
    # .claude/skills or .agents/skills; personal ~/.copilot/skills, ~/.claude/skills or
    # ~/.agents/skills. https://docs.github.com/en/copilot/concepts/agents/about-agent-skills
    # ~/.copilot is the Copilot CLI config dir:
    # https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-config-dir-reference
    # (COPILOT_HOME relocates it: github/copilot-cli#1954).
    Target(
        name="copilot",
        title="GitHub Copilot",
        project=".github/skills",
        _config=_copilot_config,
        docs=(
            "https://docs.github.com/en/copilot/concepts/agents/about-agent-skills",
            "https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-config-dir-reference",
        ),
        aliases=("github-copilot",),
    ),
    # Gemini CLI: workspace .gemini/skills/ (or the .agents/skills/ alias), user ~/.gemini/skills/
    # (or ~/.agents/skills/). https://geminicli.com/docs/cli/using-agent-skills
    # GEMINI_CLI_HOME replaces the home folder the .gemini dir lives in:
    # https://geminicli.com/docs/reference/configuration (environment variables).
    Target(
        name="gemini",
        title="Gemini CLI",
        project=".gemini/skills",
        _config=_gemini_config,
        docs=("https://geminicli.com/docs/cli/using-agent-skills", "https://geminicli.com/docs/reference/configuration"),
        aliases=("gemini-cli",),
        project_markers=(".gemini",),
    ),
    # OpenCode: project .opencode/skills/<name>/SKILL.md, global ~/.config/opencode/skills/<name>/SKILL.md
    # (also the Claude and .agents folders). https://opencode.ai/docs/skills
    # ~/.config follows XDG_CONFIG_HOME (https://opencode.ai/docs/config). Older releases
    # documented the singular .opencode/skill; see docs/targets.md.
    Target(
        name="opencode",
        title="OpenCode",
        project=".opencode/skills",
        _config=lambda env, home: _xdg_config(env, home) / "opencode",
        docs=("https://opencode.ai/docs/skills", "https://opencode.ai/docs/config"),
        project_markers=(".opencode",),
    ),
)

_BY_NAME = {t.name: t for t in TARGETS} | {a: t for t in TARGETS for a in t.aliases}


def canonical_name(name: str) -> str | None:
    """The target's own name for a name or alias; None when it is unknown."""
    try:
        return get_target(name).name
    except ManifestError:
        return None


def get_target(name: str) -> Target:
    t = _BY_NAME.get(name.strip().lower())
    if t is None:
        known = ", ".join(t.name for t in TARGETS)
        raise ManifestError(f"unknown agent target {name!r}", hint=f"known targets: {known}")
    return t


# --------------------------------------------------------------------------- #
# the record of what skillpm created


def _state_path(install_dir: Path) -> Path:
    return install_dir / ".skillpm" / STATE_FILE


MAX_STATE_BYTES = 8 * 1024 * 1024


def _read_state(install_dir: Path) -> dict[str, dict]:
    """What skillpm made in each target folder. Anything unreadable, malformed, or
    written in another checkout (committed to a repository) counts as nothing:
    its entries are then never deleted, only reported as not skillpm's."""
    from skillpm.fs import checkout_id, read_json_capped

    data = read_json_capped(_state_path(install_dir), MAX_STATE_BYTES)
    if not isinstance(data, dict) or data.get("checkout") != checkout_id(install_dir / ".skillpm"):
        return {}
    targets = data.get("targets")
    if not isinstance(targets, dict):
        return {}
    clean: dict[str, dict] = {}
    for key, record in targets.items():
        if not isinstance(key, str) or not isinstance(record, dict) or not isinstance(record.get("skills", {}), dict):
            continue
        skills = {k: v for k, v in record.get("skills", {}).items() if isinstance(k, str) and isinstance(v, dict)}
        clean[key] = {"target": str(record.get("target", "?")), "skills": skills}
    return clean


def _write_state(install_dir: Path, state: dict[str, dict]) -> None:
    from skillpm.fs import atomic_write

    clean = {k: v for k, v in sorted(state.items()) if v.get("skills")}
    path = _state_path(install_dir)
    if not clean and not path.exists():
        return
    from skillpm.fs import checkout_id

    path.parent.mkdir(parents=True, exist_ok=True)  # the id is the folder's: it must exist first
    data = {"version": STATE_VERSION, "checkout": checkout_id(install_dir / ".skillpm"), "targets": clean}
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def _key(folder: Path, install_dir: Path) -> str:
    return Path(os.path.relpath(folder, install_dir)).as_posix()


def same_dir(a: Path, b: Path) -> bool:
    """a and b are the same folder (after links); False when either cannot be resolved."""
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _resolved(folder: Path) -> Path:
    try:
        return folder.resolve()
    except OSError:
        return Path(os.path.abspath(folder))


def _points_to(link: Path, canonical: Path) -> bool:
    try:
        return link.is_symlink() and (link.parent / os.readlink(link)).resolve() == canonical.resolve()
    except OSError:
        return False


def _digest(folder: Path) -> str | None:
    from skillpm.digest import tree_digest

    try:
        return tree_digest(folder)
    except Exception:  # noqa: BLE001 - a link or device appeared: not our copy any more
        return None


# --------------------------------------------------------------------------- #
# syncing


@dataclass
class TargetSync:
    """What one sync did to one target folder."""

    target: str
    folder: Path
    linked: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    taken_over: list[str] = field(default_factory=list)  # (force) a foreign or edited entry replaced by skillpm's
    backups: dict[str, Path] = field(default_factory=dict)  # (force) skill folder -> where its old entry was kept
    problems: list[str] = field(default_factory=list)  # left alone, with why
    skipped: str | None = None  # the whole target was skipped, with why

    @property
    def changed(self) -> bool:
        return bool(self.linked or self.copied or self.updated or self.removed or self.taken_over)


_FORCE_HINT = "`skillpm install --force` replaces it, keeping a backup"


class _Backups:
    """The backup folder of one sync, asked for (and so created) only when needed."""

    def __init__(self, where: Path | Callable[[], Path] | None) -> None:
        self._where = where
        self._folder: Path | None = None

    def save(self, target: str, entry: Path) -> Path:
        """Copy `entry` (a folder, file or link; links stay links) to a new place in the backup folder."""
        if self._folder is None:
            if self._where is None:
                raise ValueError("force needs a backup folder")
            self._folder = Path(self._where() if callable(self._where) else self._where)
        base = self._folder / (target if _simple_name(target) else "target")
        base.mkdir(parents=True, exist_ok=True)
        out, n = base / entry.name, 1
        while out.exists() or out.is_symlink():
            n += 1
            out = base / f"{entry.name}.{n}"
        try:
            if entry.is_symlink():
                os.symlink(os.readlink(entry), out)
            elif entry.is_dir():
                shutil.copytree(entry, out, symlinks=True)
            else:
                shutil.copy2(entry, out, follow_symlinks=False)
        except BaseException:
            if out.exists() or out.is_symlink():
                remove_path(out)
            raise
        return out


def _copy_into(src: Path, dest: Path) -> None:
    """Copy the canonical folder to dest via a sibling temp folder (dest must not exist)."""
    from skillpm.sources.path import copy_skill

    tmp = dest.parent / f".skillpm-tmp-{dest.name}"
    if tmp.exists() or tmp.is_symlink():
        remove_path(tmp)
    copy_skill(src, tmp)
    os.replace(tmp, dest)


def _place(canonical: Path, dest: Path, mode: str) -> dict:
    """Create dest as a link (or a copy); returns the record of what was made."""
    if mode == "symlink":
        try:
            os.symlink(os.path.relpath(canonical, dest.parent), dest, target_is_directory=True)
            return {"kind": "symlink"}
        except (OSError, NotImplementedError):
            pass  # no links here (Windows without privilege, some mounts): copy instead
    _copy_into(canonical, dest)
    return {"kind": "copy", "fallback": mode == "symlink"}


def sync_targets(
    install_dir: Path,
    entries: Iterable,  # LockedSkill: .folder, .integrity
    wanted: list[tuple[str, Path]],
    *,
    mode: str = "symlink",
    known: Iterable[Path] | None = None,
    force: bool = False,
    backup_dir: Path | Callable[[], Path] | None = None,
) -> list[TargetSync]:
    """Bring every wanted target folder to the installed skills; undo what unconfigured ones hold.

    `known`: the folders a target may be at all (every agent's folder for this
    scope). A record naming any other folder (a hand-edited or committed
    targets.json) is dropped without touching the disk.

    `force`: take over what is in the way (an entry skillpm did not create, a
    copy changed in place): back it up under `backup_dir` (a folder, or a
    callable giving one, called once and only when something is backed up),
    then replace it. Without `force` such entries are left and reported.

    Never raises for one target's filesystem trouble: it is reported on that
    target's TargetSync and the others still sync.
    """
    if force and backup_dir is None:
        raise ValueError("sync_targets(force=True) needs a backup_dir")
    entries = list(entries)
    backups = _Backups(backup_dir) if force else None
    state = _read_state(install_dir)
    results: list[TargetSync] = []
    seen_keys: set[str] = set()
    for name, folder in wanted:
        key = _key(folder, install_dir)
        result = TargetSync(name, folder)
        results.append(result)
        if same_dir(folder, install_dir):
            result.skipped = "it is the install dir"
            continue
        if key in seen_keys:
            result.skipped = "same folder as another target"
            continue
        seen_keys.add(key)
        record = state.setdefault(key, {"target": name, "skills": {}})
        record["target"] = name
        _guarded(install_dir, entries, folder, record.setdefault("skills", {}), mode, result, backups)
    allowed = None if known is None else {_resolved(f) for f in known}
    for key in list(state):
        if key in seen_keys:
            continue
        record = state[key]
        result = TargetSync(str(record.get("target", "?")), Path(os.path.normpath(install_dir / key)))
        if allowed is not None and _resolved(result.folder) not in allowed:
            del state[key]
            continue
        _guarded(install_dir, [], result.folder, record.setdefault("skills", {}), mode, result, backups)
        if result.changed or result.problems:
            results.append(result)
    _write_state(install_dir, state)
    return results


def _guarded(
    install_dir: Path, entries: list, folder: Path, made: dict[str, dict], mode: str, result: TargetSync, backups: _Backups | None = None
) -> None:
    try:
        _sync_one(install_dir, entries, folder, made, mode, result, backups)
    except OSError as e:
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        result.problems.append(f"{e.strerror or e}{where}")


def _sync_one(
    install_dir: Path, entries: list, folder: Path, made: dict[str, dict], mode: str, result: TargetSync, backups: _Backups | None = None
) -> None:
    by_folder = {e.folder: e for e in entries}
    for skill in [s for s in made if not _simple_name(s) or not isinstance(made[s], dict)]:
        del made[skill]  # never follow a record out of the target folder
    if folder.is_dir() and not folder.is_symlink():  # a killed run's half-made copies and taken-over
        for pattern in (".skillpm-tmp-*", ".skillpm-old-*"):  # entries (backed up first); we hold the project lock
            for tmp in folder.glob(pattern):
                remove_path(tmp)
    for skill in sorted(set(made) - set(by_folder)):  # skills no longer installed
        dest = folder / skill
        rec = made[skill]
        if rec.get("kind") == "symlink":
            del made[skill]
            if dest.is_symlink():
                dest.unlink()
                result.removed.append(skill)
        elif dest.is_symlink() or (dest.exists() and _digest(dest) != rec.get("integrity")):
            if backups is None:
                # still recorded, so that `install --force` can act on it later
                result.problems.append(f"{skill}: the copy in {folder} was changed in place; left it (delete it by hand when done, or {_FORCE_HINT})")
            elif _backed_up(backups, dest, result, skill):
                remove_path(dest)
                del made[skill]
                result.removed.append(skill)
        else:
            del made[skill]
            if dest.exists():
                shutil.rmtree(dest)
                result.removed.append(skill)
    if not by_folder:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for skill, entry in sorted(by_folder.items()):
        canonical = install_dir / skill
        dest = folder / skill
        rec = made.get(skill)
        exists = dest.exists() or dest.is_symlink()
        if not canonical.is_dir():
            result.problems.append(f"{skill}: not installed, nothing to link")
            continue
        if rec is None:
            if exists:
                if _points_to(dest, canonical):  # a link made before the record was lost (or by another tool)
                    made[skill] = {"kind": "symlink"}
                elif backups is not None:
                    _take_over(canonical, dest, entry, mode, made, result, backups)
                else:
                    result.problems.append(f"{skill}: {dest} exists and was not created by skillpm; left it ({_FORCE_HINT})")
                continue
            made[skill] = _made(_place(canonical, dest, mode), entry)
            (result.linked if made[skill]["kind"] == "symlink" else result.copied).append(skill)
            continue
        if rec.get("kind") == "symlink":
            if dest.is_symlink():
                if mode == "symlink" and _points_to(dest, canonical):
                    continue
                dest.unlink()
            elif exists:
                if backups is not None:
                    _take_over(canonical, dest, entry, mode, made, result, backups)
                    continue
                result.problems.append(f"{skill}: {dest} replaced skillpm's link with a folder; left it ({_FORCE_HINT})")
                del made[skill]
                continue
            made[skill] = _made(_place(canonical, dest, mode), entry)
            (result.updated if exists else result.linked if made[skill]["kind"] == "symlink" else result.copied).append(skill)
            continue
        # a copy skillpm made
        if not exists:
            made[skill] = _made(_place(canonical, dest, mode), entry)
            (result.linked if made[skill]["kind"] == "symlink" else result.copied).append(skill)
            continue
        wants_link = mode == "symlink" and not rec.get("fallback")
        current = rec.get("integrity") == entry.integrity and not wants_link
        if current and backups is None:
            continue  # (an edit is only looked for when something is to change, or with force)
        edited = dest.is_symlink() or _digest(dest) != rec.get("integrity")
        if edited and backups is not None:
            _take_over(canonical, dest, entry, mode, made, result, backups)
            continue
        if edited:
            result.problems.append(f"{skill}: the copy in {folder} was changed in place; left it ({_FORCE_HINT})")
            continue
        if current:
            continue
        remove_path(dest)
        made[skill] = _made(_place(canonical, dest, mode), entry)
        result.updated.append(skill)


def _backed_up(backups: _Backups, dest: Path, result: TargetSync, skill: str) -> bool:
    """Keep a copy of `dest` before it is replaced or deleted; False (and a problem reported) when that fails."""
    try:
        result.backups[skill] = backups.save(result.target, dest)
    except OSError as e:
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        result.problems.append(f"{skill}: could not back up {dest}: {e.strerror or e}{where}; left it")
        return False
    return True


def _take_over(canonical: Path, dest: Path, entry, mode: str, made: dict[str, dict], result: TargetSync, backups: _Backups) -> None:  # noqa: ANN001 - LockedSkill
    """(force) Back `dest` up, then put skillpm's link or copy in its place.

    The old entry is moved aside (same folder, so one rename) until the new one
    is in place, and put back if placing fails.
    """
    skill = dest.name
    if not _backed_up(backups, dest, result, skill):
        return
    aside = dest.parent / f".skillpm-old-{skill}"
    if aside.exists() or aside.is_symlink():
        remove_path(aside)
    os.replace(dest, aside)
    try:
        record = _made(_place(canonical, dest, mode), entry)
    except BaseException:
        if not (dest.exists() or dest.is_symlink()):
            os.replace(aside, dest)
        result.backups.pop(skill, None)
        raise
    made[skill] = record
    result.taken_over.append(skill)
    try:
        remove_path(aside)
    except OSError as e:
        result.problems.append(f"{skill}: could not delete {aside}: {e.strerror or e} (a backup is at {result.backups[skill]})")


def _simple_name(name: str) -> bool:
    from skillpm.fs import is_plain_name

    return is_plain_name(name)


def _made(record: dict, entry) -> dict:  # noqa: ANN001 - LockedSkill
    if record["kind"] == "copy":
        record["integrity"] = entry.integrity
        if not record.get("fallback"):
            record.pop("fallback", None)
    return record


# --------------------------------------------------------------------------- #
# checking (verify)


@dataclass
class TargetCheck:
    target: str
    folder: Path
    ok: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (skill folder, what is wrong)
    skipped: str | None = None

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "folder": str(self.folder),
            "ok": not self.problems,
            "skipped": self.skipped,
            "skills": self.ok,
            "problems": [{"skill": s, "problem": p} for s, p in self.problems],
        }


def check_targets(install_dir: Path, entries: Iterable, wanted: list[tuple[str, Path]]) -> list[TargetCheck]:
    """Each wanted target must hold, per locked skill, a link to the install dir or a copy with the locked digest."""
    entries = list(entries)
    state = _read_state(install_dir)
    checks = []
    for name, folder in wanted:
        check = TargetCheck(name, folder)
        checks.append(check)
        if same_dir(folder, install_dir):
            check.skipped = "it is the install dir"
            continue
        made = state.get(_key(folder, install_dir), {}).get("skills", {})
        for entry in sorted(entries, key=lambda e: e.folder):
            skill = entry.folder
            dest = folder / skill
            canonical = install_dir / skill
            kind = made.get(skill, {}).get("kind")
            if dest.is_symlink():
                if _points_to(dest, canonical):
                    check.ok.append(skill)
                else:
                    check.problems.append((skill, f"link points to {os.readlink(dest)}, not to {canonical}"))
            elif not dest.exists():
                check.problems.append((skill, "missing (run `skillpm install`)"))
            elif kind != "copy":
                check.problems.append((skill, "a folder skillpm did not create is in the way"))
            else:
                digest = _digest(dest)
                if digest == entry.integrity:
                    check.ok.append(skill)
                else:
                    check.problems.append((skill, "the copy's files differ from skills.lock"))
    return checks
