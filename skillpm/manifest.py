"""The project manifest: `skills.toml`, or `[tool.skillpm]` in `pyproject.toml`.

    [skills]
    "docker/basics" = "^1.0"                       # registry id = range
    reviewer = "github:acme/skills/reviewer@^2"    # any spec string
    local = { path = "./skills/local" }
    pinned = { git = "https://host/o/r.git", path = "skills/x", tag = "v1.2.0" }

    [registries]
    default = "main"
    main = "https://skills.example.com/"

    [install]
    dir = ".agents/skills"

Reading is pure (text in, model out). Editing goes through tomlkit so that a
user's comments, order and formatting survive `skillpm add` and `remove`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillpm.errors import ManifestError
from skillpm.spec import (
    ID_RE,
    PathSpec,
    RegistrySpec,
    Spec,
    SpecError,
    make_git,
    parse_spec,
    redact_url,
)

MANIFEST_NAME = "skills.toml"
PYPROJECT_NAME = "pyproject.toml"
DEFAULT_INSTALL_DIR = ".agents/skills"
_GIT_KEYS = {"git", "path", "version", "tag", "branch", "rev"}
_REGISTRY_KEYS = {"version", "registry"}


@dataclass
class Manifest:
    path: Path  # skills.toml or pyproject.toml
    skills: dict[str, Spec] = field(default_factory=dict)
    registries: dict[str, str] = field(default_factory=dict)
    install_dir: str = DEFAULT_INSTALL_DIR
    in_pyproject: bool = False
    targets: list[str] = field(default_factory=list)  # agent targets linked to the install dir (skillpm/targets.py)
    link: str = "symlink"  # how targets get each skill: "symlink" or "copy"

    @property
    def root(self) -> Path:
        return self.path.parent


def find_manifest(start: Path) -> Path | None:
    """The nearest skills.toml, or pyproject.toml with [tool.skillpm], upward from start."""
    for folder in (start, *start.parents):
        candidate = folder / MANIFEST_NAME
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT_NAME
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return isinstance(data.get("tool"), dict) and "skillpm" in data["tool"]


def load_manifest(path: Path) -> Manifest:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: not found", hint="run `skillpm init` to create one") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    return parse_manifest(text, path)


def parse_manifest(text: str, path: Path) -> Manifest:
    """Pure: the manifest text to a model; every problem names file and key."""
    import re

    marker = re.search(r"^(<{7}|={7}|>{7}|\|{7})( |$)", text, re.MULTILINE)
    if marker:
        line = text.count("\n", 0, marker.start()) + 1
        raise ManifestError(
            f"{path}: unresolved merge conflict markers (line {line})",
            hint=f"resolve the conflict in {path.name} by hand, then run `skillpm lock && skillpm install`",
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{path}: invalid TOML: {e}") from None
    in_pyproject = path.name == PYPROJECT_NAME
    if in_pyproject:
        data = data.get("tool", {}).get("skillpm", {})
        if not isinstance(data, dict):
            raise ManifestError(f"{path}: [tool.skillpm] must be a table")
    prefix = "tool.skillpm." if in_pyproject else ""
    unknown = set(data) - {"skills", "registries", "install"}
    if unknown:
        key = sorted(unknown)[0]
        raise ManifestError(f"{path}: {prefix}{key}: unknown table", hint="known: [skills], [registries], [install]")

    skills_table = _table(data, "skills", path, prefix)
    skills = {name: entry_to_spec(name, value, where=f"{path}: {prefix}skills.{name}") for name, value in skills_table.items()}

    registries: dict[str, str] = {}
    for name, value in _table(data, "registries", path, prefix).items():
        if not isinstance(value, str) or not value:
            raise ManifestError(f"{path}: {prefix}registries.{name}: must be a URL or path string")
        registries[name] = value
    default = registries.get("default")
    if default is not None and "://" not in default and default not in registries and not default.startswith((".", "/", "~")):
        raise ManifestError(
            f"{path}: {prefix}registries.default: {default!r} names no registry in [registries]",
            hint="set default to a registry URL or to one of the names in [registries]",
        )

    install = _table(data, "install", path, prefix)
    install_dir = install.get("dir", DEFAULT_INSTALL_DIR)
    if not isinstance(install_dir, str) or not install_dir.strip():
        raise ManifestError(f"{path}: {prefix}install.dir: must be a non-empty path string")
    if Path(install_dir).is_absolute() or ".." in Path(install_dir).parts:
        raise ManifestError(f"{path}: {prefix}install.dir: must be a folder inside the project (no absolute path, no '..')")
    targets, link = _install_targets(install, path, prefix)
    return Manifest(
        path=path, skills=skills, registries=registries, install_dir=install_dir, in_pyproject=in_pyproject, targets=targets, link=link
    )


def _install_targets(install: dict, path: Path, prefix: str) -> tuple[list[str], str]:
    """`[install] targets = ["claude-code", ...]` and `link = "symlink" | "copy"`."""
    from skillpm.targets import LINK_MODES, TARGETS, canonical_name

    unknown = sorted(set(install) - {"dir", "targets", "link"})
    if unknown:
        raise ManifestError(f"{path}: {prefix}install.{unknown[0]}: unknown key", hint="known: dir, targets, link")
    raw = install.get("targets", [])
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise ManifestError(f"{path}: {prefix}install.targets: must be a list of agent names like [\"claude-code\", \"cursor\"]")
    targets: list[str] = []
    for name in raw:
        canonical = canonical_name(name)
        if canonical is None:
            known = ", ".join(t.name for t in TARGETS)
            raise ManifestError(f"{path}: {prefix}install.targets: unknown agent {name!r}", hint=f"known: {known}")
        if canonical not in targets:
            targets.append(canonical)
    link = install.get("link", "symlink")
    if link not in LINK_MODES:
        raise ManifestError(f"{path}: {prefix}install.link: must be \"symlink\" or \"copy\" (found {link!r})")
    return targets, link


def _table(data: dict, key: str, path: Path, prefix: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ManifestError(f"{path}: {prefix}{key}: must be a table ([{key}])")
    return value


def entry_to_spec(name: str, value: Any, *, where: str) -> Spec:
    """One `[skills]` entry to a spec. Pure."""
    if isinstance(value, str):
        try:
            return _string_entry(name, value, where)
        except SpecError as e:
            raise ManifestError(f"{where}: {e.message}", hint=e.hint) from None
    if isinstance(value, dict):
        try:
            return _table_entry(name, value, where)
        except SpecError as e:  # a table has no spec grammar to point at: just the reason
            raise ManifestError(f"{where}: {e.why}") from None
    raise ManifestError(f"{where}: must be a range string, a spec string or a table like {{ path = \"./x\" }}")


def _registry_key(name: str) -> tuple[str | None, str] | None:
    registry, sep, ident = name.rpartition(":")
    if ID_RE.match(ident):
        return (registry or None), ident
    return None


def _string_entry(name: str, value: str, where: str) -> Spec:
    from skillpm.semver import InvalidRange, Range

    key = _registry_key(name)
    if key is not None:
        text = value.strip()
        try:
            Range.parse(text)
        except InvalidRange:
            pass
        else:
            return RegistrySpec(id=key[1], range=text or None, registry=key[0])
    spec = parse_spec(value)
    if isinstance(spec, RegistrySpec) and spec.name != name:
        raise ManifestError(f"{where}: the key must be the registry id: write {spec.name!r} = {spec.range or '*'!r}")
    return spec


def _table_entry(name: str, value: dict, where: str) -> Spec:
    for k, v in value.items():
        if not isinstance(v, str):
            raise ManifestError(f"{where}.{k}: must be a string")
    if "git" in value:
        unknown = set(value) - _GIT_KEYS
        if unknown:
            raise ManifestError(f"{where}: unknown key {sorted(unknown)[0]!r} for a git entry", hint="known: " + ", ".join(sorted(_GIT_KEYS)))
        opts = {k: value[k] for k in ("path", "tag", "branch", "rev") if k in value}
        return make_git(redact_url(value["git"]), value["git"], opts, value.get("version"))
    if "path" in value:
        if set(value) != {"path"}:
            extra = sorted(set(value) - {"path"})[0]
            raise ManifestError(f"{where}: a path entry takes only `path` (found {extra!r})")
        return PathSpec(value["path"])
    if set(value) <= _REGISTRY_KEYS:
        key = _registry_key(name)
        if key is None:
            raise ManifestError(f"{where}: {name!r} is not a registry id", hint="registry ids look like docker/basics")
        rng = value.get("version")
        if rng is not None:
            _check_range(rng, where)
        return RegistrySpec(id=key[1], range=rng, registry=value.get("registry", key[0]))
    unknown = sorted(set(value) - _GIT_KEYS - _REGISTRY_KEYS)
    raise ManifestError(f"{where}: unknown key {unknown[0]!r}" if unknown else f"{where}: needs `git`, `path` or `version`")


def _check_range(rng: str, where: str) -> None:
    from skillpm.semver import InvalidRange, Range

    try:
        Range.parse(rng)
    except InvalidRange as e:
        raise ManifestError(f"{where}: {e}") from None


def spec_to_entry(spec: Spec) -> tuple[str | None, Any]:
    """The value `skillpm add` writes for a spec: (key override, value)."""
    if isinstance(spec, RegistrySpec):
        return spec.name, spec.range or "*"
    if isinstance(spec, PathSpec):
        return None, {"path": spec.path}
    entry: dict[str, str] = {"git": redact_url(spec.url)}  # credentials come from git's helpers
    if spec.path:
        entry["path"] = spec.path
    if spec.range:
        entry["version"] = spec.range
    for key in ("tag", "branch", "rev"):
        if getattr(spec, key):
            entry[key] = getattr(spec, key)
    return None, entry


# --- editing, format-preserving -------------------------------------------


def initial_text(install_dir: str = DEFAULT_INSTALL_DIR) -> str:
    return (
        "# skillpm manifest: the skills this project uses.\n"
        "# Docs: docs/manifest.md. Edit by hand or with `skillpm add` / `skillpm remove`.\n"
        "\n"
        "[skills]\n"
        "\n"
        "[install]\n"
        f'dir = "{install_dir}"\n'
    )


def _skillpm_table(text: str, *, in_pyproject: bool) -> tuple[Any, Any]:
    """(the tomlkit document, the table skillpm's keys live in: the document, or [tool.skillpm])."""
    import tomlkit

    doc = tomlkit.parse(text)
    if not in_pyproject:
        return doc, doc
    tool = doc.setdefault("tool", tomlkit.table(is_super_table=True))
    return doc, tool.setdefault("skillpm", tomlkit.table())


def edit_skills(text: str, *, in_pyproject: bool, set_entries: dict[str, Any] | None = None, remove: list[str] | None = None) -> str:
    """Add/replace and remove `[skills]` entries, keeping everything else as written."""
    import tomlkit

    doc, container = _skillpm_table(text, in_pyproject=in_pyproject)
    if "skills" not in container:
        container["skills"] = tomlkit.table()
    skills = container["skills"]
    for name in remove or []:
        if name in skills:
            del skills[name]
    for name, value in (set_entries or {}).items():
        if isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update(value)
            value = inline
        skills[name] = value
    return tomlkit.dumps(doc)


def add_install_targets(text: str, names: list[str], *, in_pyproject: bool) -> str:
    """Append the agent targets `names` to `[install] targets` (creating the
    table or the list if needed) that it does not name yet, under any alias;
    everything else stays as written. Returns `text` itself when nothing is added."""
    import tomlkit

    from skillpm.targets import canonical_name

    doc, container = _skillpm_table(text, in_pyproject=in_pyproject)
    if "install" not in container:
        container["install"] = tomlkit.table()
    install = container["install"]
    if not isinstance(install, dict):
        raise ManifestError("install: must be a table ([install])")
    current = install.get("targets")
    if current is not None and not isinstance(current, list):
        raise ManifestError("install.targets: must be a list of agent names like [\"claude-code\", \"cursor\"]")
    have = {canonical_name(t) or t for t in current or [] if isinstance(t, str)}
    missing = [n for n in dict.fromkeys(names) if (canonical_name(n) or n) not in have]
    if not missing:
        return text
    if current is None:
        install["targets"] = tomlkit.array()
        current = install["targets"]
    for name in missing:
        current.append(name)
    return tomlkit.dumps(doc)
