"""Publishing, yanking and building registries.

- folder registries: the files are written here, under a file lock kept in the
  registry folder itself (`.skillpm/publish.lock`, so every publisher on every
  account shares it); the archive is created once and never replaced, the index
  line appended, index.json updated;
- git registries: the same, in a temporary clone of the default branch, then one
  commit ("publish <id> <version>") pushed back;
- HTTP registries: the write API (`PUT {api}/v1/skills/{id}/{version}`).

A published version is never overwritten.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from skillpm.errors import SkillFormatError, SkillpmError, SourceError
from skillpm.fs import atomic_write, file_lock
from skillpm.registries.protocol import (
    CONFIG_FILE,
    SEARCH_FILE,
    IndexLine,
    SearchEntry,
    dump_config,
    dump_line,
    dump_search,
    index_path,
    latest,
    parse_config,
    parse_index,
    parse_search,
    specs_to_deps,
)
from skillpm.spec import ID_RE

__all__ = [
    "AlreadyPublished",
    "InvalidSkill",
    "Prepared",
    "build_registry",
    "derive_id",
    "find_skills",
    "owners",
    "prepare",
    "publish",
    "yank",
]


class InvalidSkill(SkillFormatError):
    """The skill fails strict validation; `problems` holds every finding."""

    def __init__(self, folder: Path, problems: list) -> None:
        n = len(problems)
        super().__init__(
            f"{folder}: not publishable ({n} problem{'s' if n != 1 else ''})",
            hint=f"fix them; `skillpm validate --strict {folder}` checks again",
        )
        self.problems = problems


class AlreadyPublished(SkillpmError):
    """That version exists; published versions are immutable."""


@dataclass
class Prepared:
    folder: Path
    ident: str
    version: str
    archive: bytes
    line: IndexLine
    description: str = ""
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- #
# preparing


def derive_id(folder: Path, info, explicit: str | None = None) -> str:  # noqa: ANN001
    """The registry id of a skill folder, first match wins:

    1. `--id ID`;
    2. `metadata.skill_id` in SKILL.md, else `skill_id` in metadata.json;
    3. `metadata.namespace` in SKILL.md: `<namespace>/<name>`;
    4. the folder's path below the nearest enclosing folder named `skills`:
       `skills/docker/basics` -> `docker/basics`.

    The last id segment must equal the SKILL.md `name` (it is the install folder).
    """
    how = ""
    ident = None
    if explicit:
        ident, how = explicit.strip(), "--id"
    elif info.skill_id:
        ident, how = info.skill_id, "skill_id"
    elif info.metadata.get("namespace", "").strip():
        ident, how = f"{info.metadata['namespace'].strip().strip('/')}/{info.name}", "metadata.namespace"
    else:
        parts = Path(os.path.abspath(folder)).parts
        for i in range(len(parts) - 2, -1, -1):
            if parts[i] == "skills":
                ident, how = "/".join(parts[i + 1 :]), "the path under skills/"
                break
    if ident is None:
        raise SkillpmError(
            f"{folder}: no registry id",
            hint="pass --id NAMESPACE/NAME, or set metadata.skill_id in SKILL.md (or skill_id in metadata.json)",
        )
    if not ID_RE.match(ident):
        raise SkillpmError(
            f"{folder}: {ident!r} (from {how}) is not a registry id",
            hint="ids are '/'-separated segments of a-z, 0-9 and single hyphens, like docker/basics",
        )
    if ident.rsplit("/", 1)[-1] != info.name:
        raise SkillpmError(
            f"{folder}: the id {ident!r} (from {how}) must end with the skill's name {info.name!r}",
            hint="the last id segment is the folder skills are installed into",
        )
    return ident


def prepare(folder: Path, *, ident: str | None = None) -> Prepared:
    """Validate strictly, pack deterministically, and compute the index line."""
    from skillpm.archive import pack
    from skillpm.digest import tree_digest
    from skillpm.registries.index_cache import sha256_of
    from skillpm.skill import SKILL_FILE, read_skill

    folder = Path(folder)
    if folder.name.lower() == SKILL_FILE.lower() and folder.is_file():
        folder = folder.parent
    info, problems = read_skill(folder, strict=True)
    errors = [p for p in problems if p.is_error]
    if errors or info is None:
        raise InvalidSkill(folder, errors or problems)
    ident = derive_id(folder, info, ident)
    assert info.version is not None  # strict mode requires it
    from skillpm.semver import Version

    version = str(Version.parse(info.version))
    deps = specs_to_deps(info.dependencies, where=f"{folder / SKILL_FILE}: metadata.dependencies")
    archive = pack(folder)
    from skillpm.registries.extract import LIMITS

    if len(archive) > LIMITS.max_compressed:
        raise SkillpmError(f"{folder}: the archive is {len(archive)} bytes, over the registry limit of {LIMITS.max_compressed}")
    line = IndexLine(
        name=ident,
        vers=version,
        deps=deps,
        cksum=sha256_of(archive),
        integrity=tree_digest(folder),
        yanked=False,
        description=info.description,
    )
    return Prepared(folder=folder, ident=ident, version=version, archive=archive, line=line, description=info.description)


# --------------------------------------------------------------------------- #
# folder registries


#: skillpm's own files in a registry folder: never read by clients, never committed.
META_DIR = ".skillpm"
LOCK_FILE = f"{META_DIR}/publish.lock"
_META_IGNORE = b"# skillpm's publish lock: never commit it\n*\n"
#: Entries of a folder that do not make it "not empty" for a new registry.
_NOT_CONTENT = {".git", META_DIR}


def _folder_lock(root: Path, *, create: bool, where: str):
    """The lock that serializes writes to a registry folder: `<root>/.skillpm/publish.lock`.

    It lives in the registry itself, so publishers with different HOME or
    SKILLPM_CACHE_DIR (or on other machines sharing the folder) wait for each
    other. A `.gitignore` beside it keeps it out of a registry kept in git.
    """
    if create:
        _check_new_registry(root)  # a foreign folder: refuse before putting a lock into it
        root.mkdir(parents=True, exist_ok=True)
    else:
        _config_of(root, create=False)  # no registry there: say so, and create nothing
    path = _inside(root, LOCK_FILE, where)
    path.parent.mkdir(exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists() and not ignore.is_symlink():
        try:
            atomic_write(ignore, _META_IGNORE)
        except OSError:
            pass  # a read-only or odd folder: the lock still works
    return file_lock(path, what=f"the registry {where}")


def _check_new_registry(root: Path) -> None:
    """Refuse to make a registry of a folder that is neither one nor empty."""
    if (root / CONFIG_FILE).is_file() or not root.exists():
        return
    if not root.is_dir():
        raise SourceError(f"{root} is not a folder; refusing to publish into it")
    # ignored: .git, skillpm's own files, and the temp file of a config.json being written
    tmp = f".{CONFIG_FILE}."
    if any(p.name not in _NOT_CONTENT and not (p.name.startswith(tmp) and p.name.endswith(".tmp")) for p in root.iterdir()):
        raise SourceError(
            f"{root} is not a skillpm registry (no {CONFIG_FILE}) and is not empty; refusing to publish into it",
            hint="publish into an empty or new folder, or one made by `skillpm registry build`",
        )


def _config_of(root: Path, *, create: bool):
    cfg = root / CONFIG_FILE
    if cfg.is_file():
        return parse_config(cfg.read_bytes(), str(root))
    if not create:
        raise SourceError(f"{root} is not a skillpm registry (no {CONFIG_FILE})")
    _check_new_registry(root)
    root.mkdir(parents=True, exist_ok=True)
    atomic_write(cfg, dump_config())
    return parse_config(cfg.read_bytes(), str(root))


def _read_lines(root: Path, ident: str) -> list[IndexLine]:
    p = root / index_path(ident)
    try:
        return parse_index(p.read_bytes(), ident, str(p))
    except FileNotFoundError:
        return []


def _append_line(path: Path, line: IndexLine) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as f:
        if f.tell() > 0:
            with open(path, "rb") as r:
                r.seek(-1, os.SEEK_END)
                if r.read(1) != b"\n":
                    f.write(b"\n")
        f.write(dump_line(line).encode("utf-8") + b"\n")
        f.flush()
        os.fsync(f.fileno())


def _inside(root: Path, rel: str, where: str) -> Path:
    """`root / rel`, after proving a write there stays inside `root`.

    Refuses a symlink anywhere below `root` on the way (a registry repository
    may commit one), a non-folder where a folder belongs, and a parent whose
    real path is outside the registry.
    """
    base = root.resolve()
    path = root / rel
    cur = root
    parts = Path(rel).parts
    for i, part in enumerate(parts):
        cur = cur / part
        if cur.is_symlink():
            raise SkillpmError(
                f"{where}: {'/'.join(parts[: i + 1])} is a symlink; skillpm never writes through symlinks in a registry",
                hint="remove the symlink from the registry",
            )
        if i < len(parts) - 1 and cur.exists() and not cur.is_dir():
            raise SkillpmError(f"{where}: {'/'.join(parts[: i + 1])} is not a folder; cannot write {rel}")
    parent = Path(os.path.realpath(path.parent))
    if parent != base and base not in parent.parents:
        raise SkillpmError(f"{where}: {rel} resolves outside the registry folder; refusing to write it")
    return path


def _write_create_only(path: Path, data: bytes) -> None:
    """Write a new archive; an identical one already there is fine (an interrupted publish)."""
    if path.exists():
        if path.read_bytes() == data:
            return
        raise AlreadyPublished(f"{path} already exists with other content; published archives are never replaced")
    from skillpm.fs import create_exclusive

    try:
        create_exclusive(path, data)  # fails if someone else created it meanwhile: never replaces
    except FileExistsError:
        raise AlreadyPublished(f"{path} already exists; published archives are never replaced") from None


def _update_search(root: Path, ident: str, lines: list[IndexLine]) -> None:
    p = root / SEARCH_FILE
    entries: dict[str, SearchEntry] = {}
    if p.is_file():
        try:
            entries = {e.name: e for e in parse_search(p.read_bytes(), str(p))}
        except SourceError:
            entries = {}
    top = latest(lines)
    if top is None:
        entries.pop(ident, None)
    else:
        entries[ident] = SearchEntry(name=ident, vers=top.vers, description=top.description or "")
    atomic_write(p, dump_search(list(entries.values())))


def _already(prep: Prepared, where: str) -> AlreadyPublished:
    return AlreadyPublished(
        f"{prep.ident} {prep.version} is already published in {where}; published versions are never overwritten",
        hint="bump metadata.version in SKILL.md and publish again",
    )


def publish_to_folder(root: Path, prep: Prepared, *, where: str | None = None, skip_same: bool = False, lock: bool = True) -> str:
    """Write one version into a registry folder. Returns "published" or "unchanged"."""
    import contextlib

    where = where or str(root)
    with _folder_lock(root, create=True, where=where) if lock else contextlib.nullcontext():
        for rel in (CONFIG_FILE, SEARCH_FILE, index_path(prep.ident)):
            _inside(root, rel, where)
        config = _config_of(root, create=True)
        lines = _read_lines(root, prep.ident)
        for ln in lines:
            if ln.version == prep.line.version:
                if skip_same and ln.integrity == prep.line.integrity:
                    return "unchanged"
                raise _already(prep, where)
        ref = config.archive_ref(prep.ident, prep.version)
        if "://" in ref or ref.startswith("/"):
            raise SourceError(
                f"{where}: its dl template {config.dl!r} points outside the registry folder; skillpm cannot place the archive",
                hint="publish through the host that serves the archives",
            )
        from skillpm.digest import check_relpath

        check_relpath(ref)
        _write_create_only(_inside(root, ref, where), prep.archive)
        _append_line(root / index_path(prep.ident), prep.line)
        _update_search(root, prep.ident, [*lines, prep.line])
    return "published"


def yank_in_folder(root: Path, ident: str, version: str, *, undo: bool, where: str | None = None, lock: bool = True) -> bool:
    """Flip the yanked flag of one version. Returns False when it already had that value."""
    import contextlib

    where = where or str(root)
    with _folder_lock(root, create=False, where=where) if lock else contextlib.nullcontext():
        for rel in (CONFIG_FILE, SEARCH_FILE, index_path(ident)):
            _inside(root, rel, where)
        _config_of(root, create=False)
        p = root / index_path(ident)
        lines = _read_lines(root, ident)
        from skillpm.semver import Version

        want = Version.parse(version)
        match = [ln for ln in lines if ln.version == want]
        if not match:
            have = ", ".join(ln.vers for ln in lines) or "none"
            raise SourceError(f"{ident} {version} is not published in {where} (versions: {have})")
        target = not undo
        if match[0].yanked == target:
            return False
        out = []
        for raw in p.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            ln = IndexLine.model_validate_json(raw)
            if ln.version == want:
                ln = ln.model_copy(update={"yanked": target})
            out.append(dump_line(ln))
        atomic_write(p, "\n".join(out) + "\n")
        _update_search(root, ident, _read_lines(root, ident))
    return True


# --------------------------------------------------------------------------- #
# git registries


def _run(args: list[str], *, cwd: Path | None = None, url: str, config: tuple[str, ...] = ()):
    from skillpm.sources.git.command import GitFailed, run_git

    try:
        return run_git(args, urls=[url], cwd=cwd, config=config)
    except GitFailed as e:
        from skillpm.spec import redact_url

        raise SourceError(f"git registry {redact_url(url)}: {e}") from None


#: Settings of the temporary clone a git registry is changed in.
_WORK_CONFIG = ("core.symlinks=false",)


def _in_clone(url: str, change, message: str):  # noqa: ANN001
    """Clone the default branch, apply `change(worktree)`, commit and push."""
    from skillpm.sources.git.command import run_git

    from skillpm.sources.git.mirror import ATTRIBUTES

    with tempfile.TemporaryDirectory(prefix="skillpm-publish-") as tmp:
        work = Path(tmp) / "registry"
        # Nothing in the registry repository may act on this machine: check out
        # symlinks as plain files (so no write can follow one out of the clone)
        # and apply no attributes (so no filter driver the user configured runs).
        _run(["clone", "--quiet", "--no-tags", "--no-checkout", "--", url, str(work)], url=url, config=_WORK_CONFIG)
        for item in _WORK_CONFIG:
            key, _, value = item.partition("=")
            _run(["config", key, value], cwd=work, url=url)
        info = work / ".git" / "info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "attributes").write_bytes(ATTRIBUTES)
        try:
            run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=work, urls=[url])
        except Exception:  # noqa: BLE001 - an empty repository: nothing to check out
            pass
        else:
            _run(["checkout", "--quiet", "--force", "HEAD"], cwd=work, url=url, config=_WORK_CONFIG)
        head = run_git(["symbolic-ref", "--short", "HEAD"], cwd=work, urls=[url])
        branch = head.stdout.decode().strip() or "main"
        result = change(work)
        if result in ("unchanged", False):
            return result
        _run(["add", "--all", "--", "."], cwd=work, url=url)
        ident_cfg: tuple[str, ...] = ()
        try:
            run_git(["config", "user.email"], cwd=work, urls=[url])
        except Exception:  # noqa: BLE001 - no identity configured: use skillpm's
            ident_cfg = ("user.name=skillpm", "user.email=skillpm@localhost")
        _run(["commit", "--quiet", "--no-verify", "-m", message], cwd=work, url=url, config=ident_cfg)
        _run(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], cwd=work, url=url)
        return result


# --------------------------------------------------------------------------- #
# one entry point per operation


def _http_api(reg, what: str) -> str:  # noqa: ANN001
    api = reg.api_base()
    if not api:
        raise SourceError(
            f"{reg.label} has no write API (its config.json has no `api`); {what} needs one",
            hint="publish into the registry's folder or git repository instead",
        )
    return api


def _need_token(reg, auth) -> None:  # noqa: ANN001
    if auth is None:
        from skillpm.registries.auth import env_var

        name = reg.name if reg.name else "<name>"
        raise SkillpmError(
            f"no token for {reg.label}",
            hint=f"run `skillpm login --registry {reg.name or reg.lock_url}` or set {env_var(name)}",
        )


def _api_url(api: str, ident: str, version: str, tail: str = "") -> str:
    from urllib.parse import quote

    return f"{api}v1/skills/{quote(ident, safe='/')}/{quote(version, safe='')}{tail}"


def publish(reg, prep: Prepared) -> str:  # noqa: ANN001
    """Publish to any registry kind. Returns a one-line summary."""
    kind = reg.location.kind
    if kind == "embedded":
        raise SkillpmError("the embedded registry is read-only (it ships inside skillpm)")
    if kind == "folder":
        publish_to_folder(reg.location.path, prep, where=reg.label)
        return f"published {prep.ident} {prep.version} to {reg.label}"
    if kind == "git":
        _in_clone(reg.location.url, lambda work: publish_to_folder(work, prep, where=reg.label, lock=False), f"publish {prep.ident} {prep.version}")
        return f"published {prep.ident} {prep.version} to {reg.label} (pushed)"
    from skillpm.registries.client import error_detail, request

    api = _http_api(reg, "publishing")
    auth = reg.api_auth()
    _need_token(reg, auth)
    url = _api_url(api, prep.ident, prep.version)
    answer = request(
        "PUT",
        url,
        auth=auth,
        content=prep.archive,
        headers={"Content-Type": "application/gzip", "Accept": "application/json"},
        what=f"publishing {prep.ident} {prep.version} to {reg.label}",
        idempotent=False,
    )
    if answer.status == 409:
        raise AlreadyPublished(
            f"{prep.ident} {prep.version} is already published in {reg.label}: {error_detail(answer)}",
            hint="bump metadata.version in SKILL.md and publish again",
        )
    if answer.status not in (200, 201):
        raise SourceError(f"publishing {prep.ident} {prep.version} to {reg.label}: {error_detail(answer)}", hint=_hint_for(answer.status, reg))
    try:
        got = answer.json()
    except ValueError:
        got = {}
    # The server may repack (its zlib may differ: another cksum); the files must be the same.
    if isinstance(got, dict) and got.get("integrity") and got["integrity"] != prep.line.integrity:
        raise SourceError(
            f"{reg.label} stored {prep.ident} {prep.version} with tree digest {got['integrity']}, "
            f"but the published folder's is {prep.line.integrity}"
        )
    return f"published {prep.ident} {prep.version} to {reg.label}"


def _hint_for(status: int, reg) -> str | None:  # noqa: ANN001
    if status in (401, 403):
        return f"check your token: `skillpm login --registry {reg.name or reg.lock_url}`"
    if status == 413:
        return "the archive is too large for this registry"
    return None


def yank(reg, ident: str, version: str, *, undo: bool = False) -> str:  # noqa: ANN001
    from skillpm.semver import Version

    version = str(Version.parse(version))
    verb = "unyanked" if undo else "yanked"
    kind = reg.location.kind
    if kind == "embedded":
        raise SkillpmError("the embedded registry is read-only (it ships inside skillpm)")
    if kind == "folder":
        changed = yank_in_folder(reg.location.path, ident, version, undo=undo, where=reg.label)
    elif kind == "git":
        changed = _in_clone(
            reg.location.url,
            lambda work: yank_in_folder(work, ident, version, undo=undo, where=reg.label, lock=False),
            f"{'unyank' if undo else 'yank'} {ident} {version}",
        )
    else:
        from skillpm.registries.client import error_detail, request

        api = _http_api(reg, "yanking")
        auth = reg.api_auth()
        _need_token(reg, auth)
        answer = request(
            "DELETE" if undo else "PUT",
            _api_url(api, ident, version, "/yank"),
            auth=auth,
            headers={"Accept": "application/json"},
            what=f"{'unyanking' if undo else 'yanking'} {ident} {version} in {reg.label}",
            idempotent=True,
        )
        if answer.status >= 300:
            raise SourceError(f"{'unyanking' if undo else 'yanking'} {ident} {version} in {reg.label}: {error_detail(answer)}", hint=_hint_for(answer.status, reg))
        changed = True
    if not changed:
        return f"{ident} {version} was already {verb} in {reg.label}"
    return f"{verb} {ident} {version} in {reg.label}"


def owners(reg, ident: str, *, users: list[str] | None = None, add: bool = True, token: str | None = None) -> list[str]:  # noqa: ANN001
    """List (`users` None), add or remove the owners of `ident` on an HTTP registry.

    `token` (else the registry's own) goes only where the registry's tokens go:
    its own URL, and its API when that is on the same origin.
    """
    import json

    from skillpm.registries.client import error_detail, request

    if reg.location.kind != "http":
        raise SkillpmError(f"{reg.label} is not an HTTP registry; owners live on a registry server")
    api = _http_api(reg, "changing owners" if users is not None else "listing owners")
    auth = reg.api_auth(token)
    url = _api_url(api, ident, "", "").rstrip("/") + "/owners"
    if users is not None:
        _need_token(reg, auth)
    if users is not None and auth is not None and not auth.header_for(url):
        from skillpm.spec import redact_url

        raise SkillpmError(
            f"{reg.label}: its API {redact_url(api)} is on another host than the registry; skillpm sends tokens only to the registry's own host",
            hint="use the registry URL on the API's host",
        )
    method = "GET" if users is None else ("PUT" if add else "DELETE")
    body = json.dumps({"users": users}).encode() if users is not None else None
    answer = request(
        method,
        url,
        auth=auth,
        headers={"Accept": "application/json", **({"Content-Type": "application/json"} if body else {})},
        content=body,
        what=f"owners of {ident} on {reg.label}",
        idempotent=True,
    )
    if answer.status >= 300:
        raise SkillpmError(f"owners of {ident} on {reg.label}: {error_detail(answer)}", hint=_hint_for(answer.status, reg))
    try:
        got = answer.json()
    except ValueError:
        got = {}
    return list(got.get("users", [])) if isinstance(got, dict) else []


# --------------------------------------------------------------------------- #
# building a registry from a skill tree


_SKIP = re.compile(r"^[._]")


def find_skills(tree: Path) -> list[Path]:
    """Folders holding a SKILL.md under `tree`, sorted; hidden and `_` folders skipped."""
    found: list[Path] = []

    def visit(folder: Path) -> None:
        if (folder / "SKILL.md").is_file():
            found.append(folder)
            return
        for child in sorted(folder.iterdir()):
            if child.is_dir() and not child.is_symlink() and not _SKIP.match(child.name):
                visit(child)

    visit(tree)
    return sorted(found)


def build_registry(tree: Path, out: Path, *, lock: bool = True) -> list[tuple[str, str, str]]:
    """Publish every skill under `tree` into the registry folder `out` (created if needed).

    Ids come from the path below `tree` (`tree/docker/basics` -> `docker/basics`)
    unless a skill declares one. Versions already there with the same content are
    kept ("unchanged"); the same version with other content is refused.
    Returns (id, version, status) per skill. Deterministic: same tree, same bytes.
    """
    from skillpm.skill import read_skill

    tree = Path(tree).resolve()
    if not tree.is_dir():
        raise SkillpmError(f"{tree}: not a folder")
    skills = find_skills(tree)
    if not skills:
        raise SkillpmError(f"{tree}: no skill folders (folders holding a SKILL.md) found")
    prepared: list[Prepared] = []
    problems: list = []
    for folder in skills:
        info, found = read_skill(folder, strict=True)
        errs = [p for p in found if p.is_error]
        if errs or info is None:
            problems.extend(errs or found)
            continue
        explicit = None if info.skill_id or info.metadata.get("namespace") else "/".join(folder.relative_to(tree).parts)
        prepared.append(prepare(folder, ident=explicit))
    if problems:
        raise InvalidSkill(tree, problems)
    ids = [p.ident for p in prepared]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SkillpmError(f"{tree}: two skill folders have the id {dupes[0]!r}")
    out = Path(out)
    results = []
    for prep in sorted(prepared, key=lambda p: p.ident):
        status = publish_to_folder(out, prep, skip_same=True, lock=lock)
        results.append((prep.ident, prep.version, status))
    return results
