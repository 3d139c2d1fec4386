"""The registry file formats (docs/registry-protocol.md). Pure: no I/O.

    config.json         {"skillpm-registry": 1, "dl": "dl/{name}/{version}.tar.gz", "api": "…"}
    index/<id>          one JSON object per published version, one per line
    index.json          {"skillpm-index": 1, "skills": [{"name", "vers", "description"}]}
    dl/<id>/<v>.tar.gz  the archives (skillpm.archive.pack)
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skillpm.errors import SourceError
from skillpm.spec import ID_RE, PathSpec, SpecError, parse_spec

PROTOCOL_VERSION = 1
DEFAULT_DL = "dl/{name}/{version}.tar.gz"
CONFIG_FILE = "config.json"
INDEX_DIR = "index"
SEARCH_FILE = "index.json"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

__all__ = [
    "CONFIG_FILE",
    "ID_RE",
    "DEFAULT_DL",
    "INDEX_DIR",
    "IndexLine",
    "PROTOCOL_VERSION",
    "RegistryConfig",
    "SEARCH_FILE",
    "SearchEntry",
    "check_id",
    "deps_to_specs",
    "dump_config",
    "dump_line",
    "dump_search",
    "index_path",
    "latest",
    "parse_config",
    "parse_index",
    "parse_search",
    "specs_to_deps",
]


class RegistryConfig(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: int = Field(alias="skillpm-registry")
    dl: str = DEFAULT_DL
    api: str | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != PROTOCOL_VERSION:
            raise ValueError(f"protocol version {v} is not supported (this skillpm speaks version {PROTOCOL_VERSION})")
        return v

    @field_validator("dl")
    @classmethod
    def _dl(cls, v: str) -> str:
        if "{name}" not in v or "{version}" not in v:
            raise ValueError("must contain {name} and {version}")
        return v

    def archive_ref(self, name: str, version: str) -> str:
        """The dl template filled in: a URL, or a path relative to the registry base."""
        return self.dl.replace("{name}", name).replace("{version}", version)


class IndexLine(BaseModel):
    """One published version of one skill."""

    model_config = ConfigDict(extra="ignore")

    name: str
    vers: str
    deps: dict[str, str] = Field(default_factory=dict)
    cksum: str
    integrity: str
    yanked: bool = False
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError(f"{v!r} is not a registry id")
        return v

    @field_validator("vers")
    @classmethod
    def _vers(cls, v: str) -> str:
        from skillpm.semver import Version

        Version.parse(v)
        return v

    @field_validator("cksum", "integrity")
    @classmethod
    def _digest(cls, v: str) -> str:
        if not _DIGEST.match(v):
            raise ValueError("must be sha256:<64 lowercase hex digits>")
        return v

    @property
    def version(self):
        from skillpm.semver import Version

        return Version.parse(self.vers)

    def dependencies(self) -> tuple[str, ...]:
        return deps_to_specs(self.deps)


class SearchEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    vers: str
    description: str = ""


def check_id(ident: str) -> str:
    if not ID_RE.match(ident):
        raise SourceError(
            f"{ident!r} is not a registry id",
            hint="ids are '/'-separated segments of a-z, 0-9 and single hyphens, like docker/basics",
        )
    return ident


def index_path(ident: str) -> str:
    """The index file of an id, relative to the registry base."""
    return f"{INDEX_DIR}/{check_id(ident)}"


# --------------------------------------------------------------------------- #
# parsing


def _one_line_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def parse_config(data: bytes | str, where: str) -> RegistryConfig:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise SourceError(f"{where}: config.json is not valid JSON ({e})") from None
    if not isinstance(obj, dict) or "skillpm-registry" not in obj:
        raise SourceError(
            f"{where}: config.json is not a skillpm registry config",
            hint='a registry has a config.json like {"skillpm-registry": 1}',
        )
    try:
        return RegistryConfig.model_validate(obj)
    except ValidationError as e:
        raise SourceError(f"{where}: config.json: {_one_line_error(e)}") from None


def parse_index(data: bytes | str, ident: str, where: str) -> list[IndexLine]:
    """Every version of `ident`, in file order. Later lines may only flip `yanked`."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    lines: dict[str, IndexLine] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = IndexLine.model_validate_json(raw)
        except ValidationError as e:
            raise SourceError(f"{where}: line {n}: {_one_line_error(e)}") from None
        if line.name != ident:
            raise SourceError(f"{where}: line {n}: names {line.name!r}, not {ident!r}")
        key = str(line.version)
        prev = lines.get(key)
        if prev is not None and (prev.cksum, prev.integrity) != (line.cksum, line.integrity):
            raise SourceError(
                f"{where}: line {n}: {ident} {key} is published twice with different content",
                hint="published versions are immutable; the registry's index is corrupt",
            )
        lines[key] = line
    return list(lines.values())


def parse_search(data: bytes | str, where: str) -> list[SearchEntry]:
    try:
        obj = json.loads(data)
        skills = obj["skills"]
        return [SearchEntry.model_validate(s) for s in skills]
    except (ValueError, KeyError, TypeError, ValidationError) as e:
        raise SourceError(f"{where}: index.json is not a skillpm search index ({type(e).__name__})") from None


# --------------------------------------------------------------------------- #
# writing (deterministic)


def dump_config(config: RegistryConfig | None = None) -> str:
    config = config or RegistryConfig.model_validate({"skillpm-registry": PROTOCOL_VERSION})
    obj = {"skillpm-registry": config.version, "dl": config.dl}
    if config.api:
        obj["api"] = config.api
    return json.dumps(obj, indent=2) + "\n"


def dump_line(line: IndexLine) -> str:
    """One index line: fixed key order, compact, no trailing newline."""
    obj = {
        "name": line.name,
        "vers": line.vers,
        "deps": dict(sorted(line.deps.items())),
        "cksum": line.cksum,
        "integrity": line.integrity,
        "yanked": line.yanked,
    }
    if line.description:
        obj["description"] = line.description
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def latest(lines: list[IndexLine]) -> IndexLine | None:
    """The newest non-yanked release (prereleases only if nothing else), else None."""
    live = [ln for ln in lines if not ln.yanked]
    if not live:
        return None
    stable = [ln for ln in live if not ln.version.is_prerelease]
    return max(stable or live, key=lambda ln: ln.version)


def dump_search(entries: list[SearchEntry]) -> str:
    skills = [
        {"name": e.name, "vers": e.vers, "description": e.description}
        for e in sorted(entries, key=lambda e: e.name)
    ]
    return json.dumps({"skillpm-index": PROTOCOL_VERSION, "skills": skills}, ensure_ascii=False, indent=1) + "\n"


# --------------------------------------------------------------------------- #
# deps <-> metadata.dependencies


def deps_to_specs(deps: dict[str, str]) -> tuple[str, ...]:
    """`{"docker/basics": "^1.0", "x/y": "*"}` -> `("docker/basics@^1.0", "x/y")`.

    The range goes before a git URL's `#fragment`. Sorted by key: the order of
    a skill's dependencies carries no meaning.
    """
    out = []
    for key, rng in sorted(deps.items()):
        rng = rng.strip()
        if not rng or rng == "*":
            out.append(key)
            continue
        base, hash_, frag = key.partition("#")
        out.append(f"{base}@{rng}{hash_}{frag}")
    return tuple(out)


def specs_to_deps(specs: tuple[str, ...] | list[str], *, where: str = "metadata.dependencies") -> dict[str, str]:
    """Raw `metadata.dependencies` strings -> the index `deps` mapping.

    Refuses local paths (a published skill cannot reach into the installer's
    disk) and the same dependency twice.
    """
    deps: dict[str, str] = {}
    for text in specs:
        try:
            spec = parse_spec(text)
        except SpecError as e:
            raise SourceError(f"{where}: {e.message}", hint=e.hint) from None
        if isinstance(spec, PathSpec):
            raise SourceError(f"{where}: {text!r} is a local path; a published skill may depend only on registry ids and git URLs")
        key = str(replace(spec, range=None))  # registry id (maybe `reg:`-qualified) or git URL + fragment
        if key in deps:
            raise SourceError(f"{where}: {key!r} is listed twice")
        deps[key] = spec.range or "*"
    return deps
