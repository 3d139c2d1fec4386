"""Reading and validating skill folders (a `SKILL.md` plus files).

The format is the Agent Skills specification (agentskills.io/specification):
YAML frontmatter between `---` lines, then markdown. skillpm adds two keys
*inside* the spec's free-form `metadata` mapping, so skills stay spec-valid:
`metadata.version` (SemVer) and `metadata.dependencies` (comma-separated
dependency specs). Skill generators also write a `metadata.json` sidecar; it
fills in version, dependencies, skill_id and keywords the frontmatter lacks.

Two modes (see docs/skill-format.md for the full table):

* lenient (installing): spec deviations that do not stop skillpm from using
  the skill are warnings (unknown top-level keys, name != folder name, over-long
  description, missing version, recovered YAML ...);
* strict (`skillpm validate --strict`, publishing): every problem is an error.

Everything here reports `Problem`s instead of raising; only `load_skill`
raises (a `SkillFormatError` with one line `PATH: field: message`).
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from skillpm.errors import SkillFormatError

__all__ = [
    "Problem",
    "SkillInfo",
    "SPEC_KEYS",
    "AGENT_KEYS",
    "parse_frontmatter",
    "check_skill",
    "read_skill",
    "load_skill",
    "split_list",
]

Severity = Literal["error", "warning"]

NAME_MAX = 64
DESCRIPTION_MAX = 1024
COMPATIBILITY_MAX = 500

#: The top-level keys the Agent Skills specification defines.
SPEC_KEYS = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
)
#: Keys some agents read at the top level. Not in the spec: a warning when
#: installing (the agent that wants them will still see them), an error in
#: strict mode (publish-ready skills keep extras under `metadata`).
AGENT_KEYS = frozenset(
    {
        "context",
        "model",
        "model_tier",
        "user-invocable",
        "disable-model-invocation",
        "argument-hint",
        "hooks",
        "agent",
        "when_to_use",
        "mode",
    }
)
#: Top-level keys people write where skillpm reads `metadata.<key>`.
_MOVE_TO_METADATA = frozenset({"version", "dependencies", "skill_id", "keywords", "author"})

SKILL_FILE = "SKILL.md"
SIDECAR_FILE = "metadata.json"

_NAME_CHARS = re.compile(r"[a-z0-9-]*")
_MISSING_HINT = "a skill folder needs a SKILL.md with name and description"


# --------------------------------------------------------------------------- #
# data


@dataclass(frozen=True)
class Problem:
    """One finding about a skill; `str()` is the one-line user message."""

    path: str  # file path as given, e.g. "skills/foo/SKILL.md"
    field: str  # e.g. "name", "metadata.version", "frontmatter"
    message: str
    severity: Severity

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class SkillInfo:
    """What the rest of skillpm needs to know about a skill."""

    name: str
    description: str
    version: str | None  # raw: metadata.version, else metadata.json version
    dependencies: tuple[str, ...]  # raw spec strings
    skill_id: str | None  # metadata.skill_id, else metadata.json skill_id
    keywords: tuple[str, ...]
    license: str | None
    compatibility: str | None
    allowed_tools: tuple[str, ...]
    metadata: dict[str, str] = field(default_factory=dict)  # string values only
    frontmatter: dict = field(default_factory=dict)  # the raw mapping
    body: str = ""  # markdown after the frontmatter (LF line endings)


def split_list(value: str) -> tuple[str, ...]:
    """Split a comma-separated string, strip items, drop empty ones."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


# --------------------------------------------------------------------------- #
# YAML loading

_BaseLoader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """BaseLoader (every scalar stays a string) that notes duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []

    def construct_mapping(self, node, deep=False):  # noqa: ANN001, ANN201
        seen: set[str] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key in seen:
                    self.duplicates.append((key, key_node.start_mark.line))
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> tuple[Any, list[tuple[str, int]]]:
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _yaml_error_text(exc: BaseException, first_line: int) -> str:
    """One line describing a YAML error, with a line number in the file."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        text = f"invalid YAML: {what}"
        if mark is not None:
            text = f"invalid YAML at line {mark.line + first_line}, column {mark.column + 1}: {what}"
        if exc.problem and exc.context and exc.context_mark is not None:
            text += f" ({exc.context}, started on line {exc.context_mark.line + first_line})"
        return text
    if isinstance(exc, RecursionError):
        return "invalid YAML: nested too deeply"
    return f"invalid YAML: {' '.join(str(exc).split())}"


# A top-level `key: value` line whose value is a plain scalar.
_TOP_KEY_LINE = re.compile(r"^(?P<key>[A-Za-z0-9_][A-Za-z0-9_.-]*):[ \t]+(?P<value>\S.*)$")
_NOT_PLAIN_START = tuple("'\"|>[{&*!%@`#")


def _repair(fm_lines: list[str]) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Rewrite what real SKILL.md files get wrong into valid YAML.

    * a top-level `key: value` line whose value holds `: ` or ends in `:`
      (`description: Use when: X happens`) becomes `key: "<value>"`, folding
      indented continuation lines into it like a plain scalar would;
    * tab indentation becomes two spaces per tab.

    Returns the new lines and (index, key, kind) for each repair.
    """
    out: list[str] = []
    repairs: list[tuple[int, str, str]] = []
    i = 0
    while i < len(fm_lines):
        line = fm_lines[i]
        m = _TOP_KEY_LINE.match(line)
        if m and not m.group("value").startswith(_NOT_PLAIN_START):
            parts = [m.group("value").rstrip()]
            j = i + 1
            while j < len(fm_lines) and fm_lines[j][:1] in (" ", "\t") and fm_lines[j].strip():
                parts.append(fm_lines[j].strip())
                j += 1
            if any(re.search(r":(\s|$)", part.split(" #", 1)[0]) for part in parts):
                folded = " ".join(parts)
                out.append(f"{m.group('key')}: {json.dumps(folded, ensure_ascii=False)}")
                repairs.append((i, m.group("key"), "colon"))
                i = j
                continue
        stripped = line.lstrip(" \t")
        indent = line[: len(line) - len(stripped)]
        if "\t" in indent:
            out.append(indent.replace("\t", "  ") + stripped)
            repairs.append((i, "", "tab"))
        else:
            out.append(line)
        i += 1
    return out, repairs


# --------------------------------------------------------------------------- #
# parse_frontmatter


def parse_frontmatter(text: str, *, path: str = SKILL_FILE) -> tuple[dict, str, list[Problem]]:
    """Split SKILL.md text into (frontmatter mapping, markdown body, problems).

    Pure. Handles a UTF-8 BOM, CRLF/CR line endings (the body is returned with
    LF endings), `---` inside values (the closing delimiter is the first line
    after the opening one that is `---` at column 0, trailing blanks allowed),
    unquoted colons and tab indentation (recovered, with a warning).
    Every scalar stays a string (YAML BaseLoader: `1.10` is "1.10", `yes` is
    "yes"). On a fatal problem the mapping is `{}` and an error is reported.
    """
    problems: list[Problem] = []

    def err(fld: str, msg: str) -> None:
        problems.append(Problem(path, fld, msg, "error"))

    def warn(fld: str, msg: str) -> None:
        problems.append(Problem(path, fld, msg, "warning"))

    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")

    if lines[0].rstrip(" \t") != "---":
        err(
            "frontmatter",
            "missing: SKILL.md must start with a '---' line, then YAML with name and "
            "description, then a closing '---' line",
        )
        return {}, text, problems

    close = next((i for i in range(1, len(lines)) if lines[i].rstrip(" \t") == "---"), None)
    if close is None:
        err("frontmatter", "not closed: no '---' line after the opening one")
        return {}, text, problems

    fm_lines = lines[1:close]
    body = "\n".join(lines[close + 1 :])
    first_line = 2  # file line number of fm_lines[0]

    try:
        data, duplicates = _load_yaml("\n".join(fm_lines) + "\n")
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        original = exc
        repaired_lines, repairs = _repair(fm_lines)
        data = None
        if repairs:
            try:
                data, duplicates = _load_yaml("\n".join(repaired_lines) + "\n")
            except (yaml.YAMLError, RecursionError, ValueError, TypeError):
                repairs = []
        if not repairs:
            err("frontmatter", _yaml_error_text(original, first_line))
            return {}, body, problems
        tab_lines = [index + first_line for index, _key, kind in repairs if kind == "tab"]
        for index, key, kind in repairs:
            if kind == "colon":
                warn(
                    key,
                    f"line {index + first_line}: unquoted ': ' in the value is invalid YAML; "
                    "read it as one string (quote the value to fix)",
                )
        if tab_lines:
            shown = ", ".join(map(str, tab_lines[:5])) + (", ..." if len(tab_lines) > 5 else "")
            warn(
                "frontmatter",
                f"line{'s' if len(tab_lines) > 1 else ''} {shown}: tab indentation is invalid "
                "YAML; read each tab as two spaces (indent with spaces to fix)",
            )

    for key, line in duplicates:
        warn(key, f"line {line + first_line}: duplicate key; the last value is used")

    if data is None or data == "":
        return {}, body, problems
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        err("frontmatter", f"must be a mapping of keys to values (name: ..., description: ...), got {kind}")
        return {}, body, problems
    return data, body, problems


# --------------------------------------------------------------------------- #
# check_skill


@dataclass
class _Fields:
    """Values extracted from frontmatter + sidecar (shared by check and read)."""

    name: str | None = None
    description: str | None = None
    license: str | None = None
    compatibility: str | None = None
    allowed_tools: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    version_source: str | None = None  # "frontmatter" | "metadata.json"
    dependencies: tuple[str, ...] = ()
    skill_id: str | None = None
    keywords: tuple[str, ...] = ()


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _semver_error(version: str) -> str | None:
    """None if `version` is SemVer (per skillpm.semver), else why not."""
    # Lazy import: skillpm.semver is the one parser of versions in skillpm.
    from skillpm.semver import Version

    try:
        Version.parse(version)
    except Exception as exc:  # noqa: BLE001 - any refusal means "not SemVer"
        detail = " ".join(str(exc).split())
        return detail or f"{version!r} is not MAJOR.MINOR.PATCH"
    return None


def _check(
    fm: dict,
    *,
    folder_name: str | None,
    path: str,
    strict: bool,
    sidecar: dict | None,
) -> tuple[_Fields, list[Problem]]:
    problems: list[Problem] = []
    soft: Severity = "error" if strict else "warning"
    f = _Fields()

    def add(fld: str, msg: str, severity: Severity) -> None:
        problems.append(Problem(path, fld, msg, severity))

    # --- name ------------------------------------------------------------ #
    name = fm.get("name")
    if "name" not in fm:
        hint = ""
        if sidecar and isinstance(sidecar.get("name"), str):
            hint = f" (metadata.json has {sidecar['name']!r}; copy it into the frontmatter)"
        add("name", f"missing: the frontmatter needs `name: <skill-name>`{hint}", "error")
    elif not isinstance(name, str):
        add("name", f"must be a string, got {_describe(name)}", "error")
    elif not name:
        add("name", "must not be empty", "error")
    else:
        ok = True
        if len(name) > NAME_MAX:
            add("name", f"is {len(name)} characters; the limit is {NAME_MAX}", "error")
            ok = False
        if not _NAME_CHARS.fullmatch(name):
            bad = "".join(sorted({c for c in name if not _NAME_CHARS.fullmatch(c)}))
            add(
                "name",
                f"{name!r} may only contain lowercase letters a-z, digits and hyphens "
                f"(found {bad!r})",
                "error",
            )
            ok = False
        if name.startswith("-") or name.endswith("-"):
            add("name", f"{name!r} must not start or end with a hyphen", "error")
            ok = False
        if "--" in name:
            add("name", f"{name!r} must not contain consecutive hyphens '--'", "error")
            ok = False
        if ok:
            f.name = name
        if folder_name is not None and name != folder_name:
            add(
                "name",
                f"{name!r} does not match the folder name {folder_name!r} "
                "(the spec requires them to be equal; rename one)",
                soft,
            )

    # --- description ----------------------------------------------------- #
    desc = fm.get("description")
    if "description" not in fm:
        hint = ""
        if sidecar and isinstance(sidecar.get("description"), str) and sidecar["description"].strip():
            hint = " (metadata.json has one; copy it into the frontmatter)"
        add(
            "description",
            f"missing: the frontmatter needs `description:` saying what the skill does "
            f"and when to use it{hint}",
            "error",
        )
    elif not isinstance(desc, str):
        add("description", f"must be a string, got {_describe(desc)}", "error")
    elif not desc.strip():
        add("description", "must not be empty", "error")
    else:
        f.description = desc.strip()
        if len(f.description) > DESCRIPTION_MAX:
            add(
                "description",
                f"is {len(f.description)} characters; the limit is {DESCRIPTION_MAX}",
                soft,
            )

    # --- license --------------------------------------------------------- #
    if "license" in fm:
        lic = fm["license"]
        if isinstance(lic, str) and lic.strip():
            f.license = lic.strip()
        elif isinstance(lic, str):
            add("license", "is empty; remove it or name a license", soft)
        else:
            add("license", f"must be a string, got {_describe(lic)}", soft)

    # --- compatibility --------------------------------------------------- #
    if "compatibility" in fm:
        comp = fm["compatibility"]
        if not isinstance(comp, str):
            add("compatibility", f"must be a string, got {_describe(comp)}", soft)
        elif not comp.strip():
            add("compatibility", "must be 1-500 characters if present (it is empty)", soft)
        else:
            f.compatibility = comp.strip()
            if len(f.compatibility) > COMPATIBILITY_MAX:
                add(
                    "compatibility",
                    f"is {len(f.compatibility)} characters; the limit is {COMPATIBILITY_MAX}",
                    soft,
                )

    # --- allowed-tools --------------------------------------------------- #
    if "allowed-tools" in fm:
        tools = fm["allowed-tools"]
        if isinstance(tools, str):
            f.allowed_tools = tuple(tools.split())
        elif isinstance(tools, list) and all(isinstance(t, str) for t in tools):
            f.allowed_tools = tuple(t.strip() for t in tools if t.strip())
        else:
            add(
                "allowed-tools",
                "must be a space-separated string (or a list of strings), "
                f"got {_describe(tools)}",
                soft,
            )

    # --- metadata -------------------------------------------------------- #
    meta = fm.get("metadata")
    if "metadata" in fm and meta != "":
        if not isinstance(meta, dict):
            add("metadata", f"must be a mapping of string keys to string values, got {_describe(meta)}", soft)
        else:
            for key, value in meta.items():
                if isinstance(value, str):
                    f.metadata[key] = value
                else:
                    add(
                        f"metadata.{key}",
                        f"must be a string (metadata maps strings to strings), "
                        f"got {_describe(value)}; it is ignored",
                        soft,
                    )

    # --- unknown top-level keys ----------------------------------------- #
    for key in fm:
        if key in SPEC_KEYS:
            continue
        if key in _MOVE_TO_METADATA:
            msg = f"not in the Agent Skills spec; skillpm reads `metadata.{key}` (move it under `metadata`)"
        elif key in AGENT_KEYS:
            msg = "agent-specific key, not in the Agent Skills spec; skillpm ignores it"
        else:
            msg = "unknown key, not in the Agent Skills spec; move it under `metadata`"
        add(str(key), msg, soft)

    # --- sidecar (metadata.json) ----------------------------------------- #
    side = sidecar or {}
    side_version = side.get("version")
    side_deps = side.get("dependencies")
    side_id = side.get("skill_id")
    side_keywords = side.get("keywords")
    side_field = f"{SIDECAR_FILE} "
    if "version" in side and not isinstance(side_version, str):
        add(side_field + "version", f"must be a string, got {_describe(side_version)}; it is ignored", soft)
        side_version = None
    if "skill_id" in side and not isinstance(side_id, str):
        add(side_field + "skill_id", f"must be a string, got {_describe(side_id)}; it is ignored", soft)
        side_id = None
    if "dependencies" in side and not (
        isinstance(side_deps, list) and all(isinstance(d, str) for d in side_deps)
    ):
        add(side_field + "dependencies", "must be a list of strings; it is ignored", soft)
        side_deps = None
    if "keywords" in side and not (
        isinstance(side_keywords, list) and all(isinstance(k, str) for k in side_keywords)
    ):
        add(side_field + "keywords", "must be a list of strings; it is ignored", soft)
        side_keywords = None

    # --- version --------------------------------------------------------- #
    fm_version = f.metadata.get("version")
    if fm_version is not None and fm_version.strip():
        f.version, f.version_source = fm_version.strip(), "frontmatter"
        if side_version and side_version.strip() != f.version:
            add(
                "metadata.version",
                f"{f.version!r} differs from metadata.json version {side_version!r}; "
                "SKILL.md wins (make them agree)",
                soft,
            )
    elif side_version and side_version.strip():
        f.version, f.version_source = side_version.strip(), SIDECAR_FILE
        if strict:
            add(
                "metadata.version",
                f"missing in the frontmatter (metadata.json has {f.version!r}); publishing "
                f'needs it in SKILL.md: add `version: "{f.version}"` under `metadata:`',
                "error",
            )
    else:
        what = "empty" if fm_version is not None else "missing"
        add(
            "metadata.version",
            f'{what}: add `version: "1.0.0"` (SemVer) under `metadata:` in the frontmatter'
            + ("" if strict else "; the skill is treated as unversioned"),
            soft,
        )
    why = _semver_error(f.version) if f.version is not None else None
    if why is not None:
        where = "metadata.version" if f.version_source == "frontmatter" else side_field + "version"
        add(where, f"{f.version!r} is not strict SemVer ({why})", soft)

    # --- dependencies ---------------------------------------------------- #
    fm_deps = f.metadata.get("dependencies")
    if fm_deps is not None:
        f.dependencies = split_list(fm_deps)
        pieces = fm_deps.split(",")
        if fm_deps.strip() and len(f.dependencies) != len(pieces):
            add("metadata.dependencies", "has an empty entry (stray comma); it is ignored", soft)
    elif side_deps:
        f.dependencies = tuple(d.strip() for d in side_deps if d.strip())

    # --- skill_id, keywords ---------------------------------------------- #
    fm_id = f.metadata.get("skill_id")
    if fm_id is not None and fm_id.strip():
        f.skill_id = fm_id.strip()
    elif side_id and side_id.strip():
        f.skill_id = side_id.strip()
    fm_kw = f.metadata.get("keywords")
    if fm_kw is not None:
        f.keywords = split_list(fm_kw)
    elif side_keywords:
        f.keywords = tuple(k.strip() for k in side_keywords if k.strip())

    return f, problems


def check_skill(
    frontmatter: dict,
    *,
    folder_name: str | None,
    path: str,
    strict: bool,
    sidecar: dict | None = None,
) -> list[Problem]:
    """Validate a parsed frontmatter mapping (pure).

    `folder_name` None skips the name == folder check. `sidecar` is the parsed
    metadata.json object, if any. In strict mode every problem is an error.
    """
    if not isinstance(frontmatter, dict):
        return [
            Problem(path, "frontmatter", f"must be a mapping, got {_describe(frontmatter)}", "error")
        ]
    return _check(frontmatter, folder_name=folder_name, path=path, strict=strict, sidecar=sidecar)[1]


# --------------------------------------------------------------------------- #
# read_skill / load_skill


def _decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) or (None, error message)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, "is UTF-16 encoded; save it as UTF-8"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        line = data.count(b"\n", 0, exc.start) + 1
        return None, f"is not valid UTF-8 (byte 0x{bad:02x} on line {line}); save it as UTF-8"


def _find_skill_file(folder: Path, strict: bool) -> tuple[Path | None, list[Problem]]:
    names = set(os.listdir(folder))
    if SKILL_FILE in names:
        return folder / SKILL_FILE, []
    if "skill.md" in names:
        # The spec names the file SKILL.md; the reference library (skills-ref)
        # also accepts lowercase skill.md, so installing tolerates it.
        p = folder / "skill.md"
        return p, [
            Problem(
                str(p),
                SKILL_FILE,
                "the file is named skill.md; the spec names it SKILL.md (rename it)",
                "error" if strict else "warning",
            )
        ]
    others = sorted(n for n in names if n.lower() == "skill.md")
    msg = f"not found ({_MISSING_HINT})"
    if others:
        msg = f"not found (found {others[0]}; rename it to SKILL.md)"
    return None, [Problem(str(folder / SKILL_FILE), SKILL_FILE, msg, "error")]


def _read_sidecar(folder: Path, strict: bool) -> tuple[dict | None, list[Problem]]:
    p = folder / SIDECAR_FILE
    soft: Severity = "error" if strict else "warning"
    try:
        st = p.lstat()
    except FileNotFoundError:
        return None, []
    except OSError as exc:
        return None, [Problem(str(p), SIDECAR_FILE, f"cannot be read: {exc.strerror}", soft)]
    if not stat.S_ISREG(st.st_mode):
        return None, [Problem(str(p), SIDECAR_FILE, "is not a regular file; it is ignored", soft)]
    try:
        data = json.loads(p.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        return None, [Problem(str(p), SIDECAR_FILE, f"is not valid JSON{where} ({detail}); it is ignored", soft)]
    if not isinstance(data, dict):
        return None, [Problem(str(p), SIDECAR_FILE, f"must be a JSON object, got {_describe(data)}; it is ignored", soft)]
    return data, []


def read_skill(folder: Path, *, strict: bool = False) -> tuple[SkillInfo | None, list[Problem]]:
    """Read a skill folder: SKILL.md (or skill.md) plus an optional metadata.json.

    Returns (info, problems). `info` is None exactly when `problems` holds an
    error. In strict mode every warning (including parser recoveries) is
    reported as an error.
    """
    folder = Path(folder)
    try:
        st = folder.stat()
    except FileNotFoundError:
        return None, [Problem(str(folder), "folder", "does not exist", "error")]
    except OSError as exc:
        return None, [Problem(str(folder), "folder", f"cannot be read: {exc.strerror}", "error")]
    if not stat.S_ISDIR(st.st_mode):
        return None, [Problem(str(folder), "folder", "is not a directory (a skill is a folder holding a SKILL.md)", "error")]

    try:
        skill_file, problems = _find_skill_file(folder, strict)
    except OSError as exc:
        return None, [Problem(str(folder), "folder", f"cannot be listed: {exc.strerror}", "error")]
    if skill_file is None:
        return None, problems
    path = str(skill_file)

    try:
        fst = skill_file.lstat()
        if stat.S_ISLNK(fst.st_mode):
            problems.append(Problem(path, SKILL_FILE, "is a symbolic link; skills must not contain links", "error"))
            return None, problems
        if not stat.S_ISREG(fst.st_mode):
            problems.append(Problem(path, SKILL_FILE, "is not a regular file", "error"))
            return None, problems
        raw = skill_file.read_bytes()
    except OSError as exc:
        problems.append(Problem(path, SKILL_FILE, f"cannot be read: {exc.strerror}", "error"))
        return None, problems

    text, decode_error = _decode(raw)
    if text is None:
        problems.append(Problem(path, "encoding", decode_error or "cannot be decoded", "error"))
        return None, problems

    fm, body, parse_problems = parse_frontmatter(text, path=path)
    problems.extend(parse_problems)
    sidecar, sidecar_problems = _read_sidecar(folder, strict)
    problems.extend(sidecar_problems)

    folder_name = os.path.basename(os.path.abspath(folder))
    fields, check_problems = _check(fm, folder_name=folder_name, path=path, strict=strict, sidecar=sidecar)
    # A broken frontmatter already produced its error; don't pile "missing
    # name/description" on top of it.
    if not any(p.is_error and p.field == "frontmatter" for p in parse_problems):
        problems.extend(check_problems)

    if strict:
        problems = [replace(p, severity="error") if not p.is_error else p for p in problems]
    if any(p.is_error for p in problems):
        return None, problems

    assert fields.name is not None and fields.description is not None
    info = SkillInfo(
        name=fields.name,
        description=fields.description,
        version=fields.version,
        dependencies=fields.dependencies,
        skill_id=fields.skill_id,
        keywords=fields.keywords,
        license=fields.license,
        compatibility=fields.compatibility,
        allowed_tools=fields.allowed_tools,
        metadata=fields.metadata,
        frontmatter=fm,
        body=body,
    )
    return info, problems


def load_skill(folder: Path) -> tuple[SkillInfo, list[Problem]]:
    """Read a skill leniently; raise SkillFormatError on the first error.

    The error message is one line, `PATH: field: message`; the exception's
    `problems` attribute holds every problem. Returns (info, warnings).
    """
    info, problems = read_skill(Path(folder), strict=False)
    errors = [p for p in problems if p.is_error]
    if errors or info is None:
        first = errors[0] if errors else Problem(str(folder), SKILL_FILE, "cannot be read", "error")
        hint = None
        if len(errors) > 1:
            hint = f"{len(errors) - 1} more error(s); run `skillpm validate {folder}` to see all"
        exc = SkillFormatError(str(first), hint=hint)
        exc.problems = problems  # type: ignore[attr-defined]
        raise exc
    return info, problems
