"""What the server does, without HTTP: publish, yank, owners, tokens, search.

`Registry` ties the static tree (storage), the accounts (store) and the
history (git) together. Every method raises `ApiError(status, detail)` for a
request it refuses; the web layer (app.py) only translates HTTP to calls.
The methods block (disk, git): the app runs them in worker threads.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from registry.errors import ApiError
from registry.history import History
from registry.storage import Storage
from registry.store import SCOPES, Store, Token, pattern_covers
from skillpm.archive import ArchiveLimits
from skillpm.registries.protocol import IndexLine, latest
from skillpm.spec import ID_RE

log = logging.getLogger("registry")

__all__ = ["Registry", "SkillPage", "init_registry", "DEFAULT_MAX_UPLOAD"]

#: The largest archive the server accepts: the client's own download limit,
#: so that whatever can be published can also be installed.
from skillpm.registries.extract import LIMITS as _CLIENT_LIMITS  # noqa: E402

DEFAULT_MAX_UPLOAD = _CLIENT_LIMITS.max_compressed
_README_MAX = 1 << 20


def _check_id(ident: str) -> str:
    if not ID_RE.match(ident) or len(ident) > 200:
        raise ApiError(
            422, f"{ident!r} is not a registry id ('/'-separated segments of a-z, 0-9 and single hyphens, like docker/basics)"
        )
    return ident


def _check_version(version: str) -> str:
    from skillpm.semver import Version

    try:
        parsed = Version.parse(version)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    if str(parsed) != version:
        raise ApiError(422, f"write the version as {str(parsed)!r}, not {version!r}")
    return version


@dataclass
class SkillPage:
    """Everything the browse page shows about one id."""

    ident: str
    lines: list[IndexLine]  # newest first
    latest: IndexLine | None
    owners: list[str]
    meta: dict[str, dict]  # vers -> description, keywords, publisher, published_at
    readme_version: str | None
    frontmatter: dict
    body: str


class Registry:
    def __init__(self, root: Path, *, max_upload: int = DEFAULT_MAX_UPLOAD) -> None:
        self.root = Path(root)
        self.storage = Storage(self.root)
        if not self.storage.is_initialized():
            self.storage.create()
        self.store = Store(self.storage.db_path)
        self.history = History(self.root)
        self.max_upload = max_upload
        self.limits = ArchiveLimits(
            max_compressed=max_upload,
            max_total=_CLIENT_LIMITS.max_total,
            max_files=_CLIENT_LIMITS.max_files,
            max_file=_CLIENT_LIMITS.max_file,
        )
        self.backfill()

    # ---- auth ------------------------------------------------------- #

    def authenticate(self, authorization: str | None) -> Token:
        if not authorization:
            raise ApiError(401, "this needs a token: send `Authorization: Bearer <token>`")
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() not in ("bearer", "token") or not value.strip():
            raise ApiError(401, "send the token as `Authorization: Bearer <token>`")
        return self.store.verify(value.strip())

    def _require(self, token: Token, scope: str, ident: str) -> None:
        if not token.has(scope):
            raise ApiError(403, f"this token lacks the {scope!r} scope (it has: {', '.join(sorted(token.scopes))})")
        if not token.matches(ident):
            raise ApiError(403, f"this token may only act on ids matching {', '.join(token.patterns)}; not {ident}")

    def _require_owner(self, token: Token, ident: str) -> None:
        if token.is_admin or self.store.is_owner(ident, token.user_id):
            return
        owners = self.store.owners(ident)
        raise ApiError(
            403,
            f"{token.user} is not an owner of {ident}"
            + (f" (owners: {', '.join(owners)}; ask one to run `skillpm owner add {ident} {token.user}`)" if owners else ""),
        )

    def _check_publish(self, token: Token, ident: str, exists: bool) -> None:
        if exists:
            self._require(token, "publish-update", ident)
            self._require_owner(token, ident)
        else:
            self._require(token, "publish-new", ident)

    def _exists(self, ident: str) -> bool:
        return self.storage.index_file(ident).is_file()

    # ---- publish ---------------------------------------------------- #

    def precheck_publish(self, token: Token, ident: str, version: str) -> None:
        """Refuse early, before the body is read: bad id/version, scope, owners."""
        _check_id(ident)
        _check_version(version)
        self._check_publish(token, ident, self._exists(ident))

    def _validate(self, ident: str, version: str, data: bytes) -> tuple[IndexLine, bytes, tuple[str, ...]]:
        """Extract under limits, validate strictly, repack. Returns (line, archive, keywords)."""
        from skillpm.archive import extract, pack
        from skillpm.digest import tree_digest
        from skillpm.errors import SkillpmError, SourceError
        from skillpm.registries.protocol import specs_to_deps
        from skillpm.semver import Version
        from skillpm.skill import read_skill

        name = ident.rsplit("/", 1)[-1]
        with tempfile.TemporaryDirectory(prefix="publish-", dir=self.storage.meta / "tmp") as tmp:
            folder = Path(tmp) / name
            try:
                extract(data, folder, limits=self.limits)
            except SkillpmError as exc:
                raise ApiError(422, exc.message.replace(str(folder), ident)) from None

            info, problems = read_skill(folder, strict=True)

            def shown(p) -> str:  # noqa: ANN001
                return str(p).replace(str(folder), ident)

            errors = [shown(p) for p in problems if p.is_error]
            if errors or info is None:
                raise ApiError(422, errors or [f"{ident}: not a valid skill"])
            if info.name != name:  # also caught above via the folder name; say it plainly
                raise ApiError(422, f"{ident}/SKILL.md: name: {info.name!r} must equal the last id segment {name!r}")
            if info.skill_id and info.skill_id != ident:
                raise ApiError(422, f"{ident}/SKILL.md: metadata.skill_id: {info.skill_id!r} differs from the id {ident!r}")
            assert info.version is not None
            if Version.parse(info.version) != Version.parse(version) or str(Version.parse(info.version)) != version:
                raise ApiError(
                    422, f"{ident}/SKILL.md: metadata.version: {info.version!r} differs from the version published ({version!r})"
                )
            try:
                deps = specs_to_deps(info.dependencies, where=f"{ident}/SKILL.md: metadata.dependencies")
            except SourceError as exc:
                raise ApiError(422, exc.message) from None
            integrity = tree_digest(folder)
            archive = pack(folder)  # the stored archive is always the deterministic one
        line = IndexLine(
            name=ident,
            vers=version,
            deps=deps,
            cksum="sha256:" + hashlib.sha256(archive).hexdigest(),
            integrity=integrity,
            yanked=False,
            description=info.description,
        )
        return line, archive, info.keywords

    def publish(self, token: Token, ident: str, version: str, data: bytes) -> dict:
        self.precheck_publish(token, ident, version)
        if len(data) > self.max_upload:
            raise ApiError(413, f"the archive is {len(data)} bytes; this registry accepts at most {self.max_upload}")
        line, archive, keywords = self._validate(ident, version, data)
        with self.storage.id_lock(ident):
            lines = self.storage.read_lines(ident)
            new = not lines
            self._check_publish(token, ident, not new)  # again: owners may have changed meanwhile
            if any(ln.version == line.version for ln in lines):
                raise ApiError(409, f"{ident} {version} is already published; published versions are never overwritten (bump the version)")
            if new:
                why = self.storage.id_conflict(ident)
                if why:
                    raise ApiError(409, why)
            try:
                self.storage.write_archive(ident, version, archive)
            except FileExistsError:
                # archives are deterministic: the same bytes with no index line are a
                # publish interrupted between the two writes; complete it
                try:
                    same = self.storage.archive_file(ident, version).read_bytes() == archive
                except OSError:
                    same = False
                if not same:
                    raise ApiError(409, f"{ident} {version} is already published; published versions are never overwritten") from None
            except (NotADirectoryError, IsADirectoryError):
                raise ApiError(409, f"{ident!r} conflicts with an existing id or namespace") from None
            try:
                self.storage.append_line(ident, line)
            except BaseException:
                self.storage.remove_archive(ident, version)
                raise
            self.store.add_release(ident, version, description=line.description or "", keywords=keywords, publisher=token.user)
            if new:
                self.store.add_owners(ident, [token.user], by=token.user)
            with self.storage.global_lock():
                self.storage.update_search(ident, [*lines, line])
                if new:
                    self.storage.write_owners_file(ident, self.store.owners(ident))
                self.history.commit(f"publish {ident} {version}", author=token.user)
        self._readme.cache_clear()
        log.info("published %s %s by %s", ident, version, token.user)
        return {"name": ident, "vers": version, "cksum": line.cksum, "integrity": line.integrity}

    # ---- yank ------------------------------------------------------- #

    def yank(self, token: Token, ident: str, version: str, *, yanked: bool) -> dict:
        _check_id(ident)
        _check_version(version)
        if not self._exists(ident):
            raise ApiError(404, f"no skill {ident} on this registry")
        self._require(token, "yank", ident)
        self._require_owner(token, ident)
        from skillpm.semver import Version

        want = Version.parse(version)
        with self.storage.id_lock(ident):
            lines = self.storage.read_lines(ident)
            if not any(ln.version == want for ln in lines):
                have = ", ".join(ln.vers for ln in lines) or "none"
                raise ApiError(404, f"{ident} has no version {version} (versions: {have})")
            if self.storage.set_yanked(ident, version, yanked):
                lines = self.storage.read_lines(ident)
                with self.storage.global_lock():
                    self.storage.update_search(ident, lines)
                    self.history.commit(f"{'yank' if yanked else 'unyank'} {ident} {version}", author=token.user)
        return {"name": ident, "vers": version, "yanked": yanked}

    # ---- owners ----------------------------------------------------- #

    def owners(self, ident: str) -> dict:
        _check_id(ident)
        if not self._exists(ident):
            raise ApiError(404, f"no skill {ident} on this registry")
        return {"users": self.store.owners(ident)}

    def change_owners(self, token: Token, ident: str, users: list[str], *, add: bool) -> dict:
        _check_id(ident)
        if not isinstance(users, list) or not users or not all(isinstance(u, str) and u for u in users):
            raise ApiError(422, 'send {"users": ["name", ...]} with at least one user name')
        if not self._exists(ident):
            raise ApiError(404, f"no skill {ident} on this registry")
        self._require(token, "owners", ident)
        self._require_owner(token, ident)
        with self.storage.id_lock(ident):
            if add:
                changed = self.store.add_owners(ident, users, by=token.user)
            else:
                changed = self.store.remove_owners(ident, users)
            current = self.store.owners(ident)
            if changed:
                with self.storage.global_lock():
                    self.storage.write_owners_file(ident, current)
                    verb = "add" if add else "remove"
                    self.history.commit(f"owners {verb} {ident}: {', '.join(changed)}", author=token.user)
        return {"users": current}

    # ---- tokens ----------------------------------------------------- #

    def create_token(
        self,
        token: Token,
        *,
        name: str,
        scopes: list[str],
        patterns: list[str],
        expires_in_days: int | None,
        user: str | None,
    ) -> dict:
        target = user or token.user
        if not token.is_admin:
            if target != token.user:
                raise ApiError(403, "only an admin token can create tokens for another user")
            extra = sorted((set(scopes) & set(SCOPES)) - set(token.scopes))  # unknown ones: 422 below
            if extra:
                raise ApiError(403, f"a token can only hand out scopes it has itself; this one lacks {', '.join(extra)}")
            if token.patterns:
                if not patterns:
                    raise ApiError(403, f"this token is limited to ids matching {', '.join(token.patterns)}; give the new token patterns within them")
                outside = [p for p in patterns if not any(pattern_covers(o, p) for o in token.patterns)]
                if outside:
                    raise ApiError(403, f"pattern(s) {', '.join(outside)} reach beyond this token's {', '.join(token.patterns)}")
        # a token never outlives the (non-admin) token that made it: an absolute cap,
        # not whole days, so a token about to expire cannot mint a fresh day, forever
        not_after = token.expires_at if not token.is_admin else None
        token_id, secret = self.store.create_token(
            target, name=name, scopes=scopes, patterns=patterns, expires_in_days=expires_in_days, created_by=token.user,
            not_after=not_after,
        )
        entry = next(t for t in self.store.tokens(None) if t["id"] == token_id)
        return {**entry, "token": secret}

    def list_tokens(self, token: Token) -> dict:
        return {"tokens": self.store.tokens(None if token.is_admin else token.user_id)}

    def revoke_token(self, token: Token, token_id: str) -> dict:
        if not self.store.revoke(token_id, user_id=None if token.is_admin else token.user_id):
            raise ApiError(404, f"no token {token_id!r} of yours")
        return {"id": token_id, "revoked": True}

    # ---- search and browse ------------------------------------------ #

    def catalog(self) -> list[dict]:
        """Every id with its latest version, description and keywords, sorted by id."""
        keywords = self.store.keywords()
        return [
            {"name": e.name, "vers": e.vers, "description": e.description, "keywords": list(keywords.get((e.name, e.vers), ()))}
            for e in sorted(self.storage.search_entries(), key=lambda e: e.name)
        ]

    def search(self, q: str, *, limit: int = 50) -> dict:
        terms = [t for t in q.lower().split() if t]
        scored = []
        for entry in self.catalog():
            name, desc = entry["name"], entry["description"].lower()
            kws = [k.lower() for k in entry["keywords"]]
            score = 0
            for t in terms:
                if t == name or t == name.rsplit("/", 1)[-1]:
                    score += 100
                elif t in name:
                    score += 20
                elif any(t in k for k in kws):
                    score += 10
                elif t in desc:
                    score += 1
                else:
                    score = -1
                    break
            if score >= 0:
                scored.append((-score, name, entry))
        scored.sort(key=lambda s: (s[0], s[1]))
        return {"skills": [{"name": e["name"], "vers": e["vers"], "description": e["description"]} for _, _, e in scored[:limit]]}

    def page(self, ident: str) -> SkillPage:
        _check_id(ident)
        lines = self.storage.read_lines(ident)
        if not lines:
            raise ApiError(404, f"no skill {ident} on this registry")
        from skillpm.semver import Version

        top = latest(lines) or max(lines, key=lambda ln: ln.version)
        fm, body = self._readme(ident, top.vers, top.cksum)
        return SkillPage(
            ident=ident,
            lines=sorted(lines, key=lambda ln: Version.parse(ln.vers), reverse=True),
            latest=latest(lines),
            owners=self.store.owners(ident),
            meta=self.store.releases(ident),
            readme_version=top.vers,
            frontmatter=fm,
            body=body,
        )

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one Registry per app, lives as long
    def _readme(self, ident: str, version: str, cksum: str) -> tuple[dict, str]:
        return read_skill_md(self.storage.archive_file(ident, version))

    # ---- startup ---------------------------------------------------- #

    def backfill(self) -> None:
        """Bring the database up to the tree: releases and owners it lacks.

        A data folder restored from a git clone (the database is never
        committed) gets its search keywords and owners back this way.
        """
        known = self.store.known_releases()
        for ident in self.storage.ids():
            try:
                lines = self.storage.read_lines(ident)
            except Exception as exc:  # noqa: BLE001 - a corrupt index must not stop the server
                log.error("index/%s: %s", ident, exc)
                continue
            for ln in lines:
                if (ident, ln.vers) in known:
                    continue
                fm, _ = read_skill_md(self.storage.archive_file(ident, ln.vers))
                meta = fm.get("metadata") if isinstance(fm.get("metadata"), dict) else {}
                from skillpm.skill import split_list

                kw = meta.get("keywords", "")
                self.store.add_release(
                    ident,
                    ln.vers,
                    description=ln.description or str(fm.get("description", "")),
                    keywords=split_list(kw) if isinstance(kw, str) else (),
                    publisher=None,
                    published_at=None,
                )
            if not self.store.owners(ident):
                users = [u for u in (self.storage.read_owners_file(ident) or []) if self.store.user_id(u) is not None]
                if users:
                    self.store.add_owners(ident, users, by=None)


def read_skill_md(archive: Path) -> tuple[dict, str]:
    """(frontmatter, markdown body) of the SKILL.md in a stored archive; ({}, "") if unreadable."""
    from skillpm.skill import parse_frontmatter

    try:
        with open(archive, "rb") as f, gzip.GzipFile(fileobj=f) as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
            for m in tar:
                if m.name in ("SKILL.md", "./SKILL.md") and m.isfile() and m.size <= _README_MAX:
                    src = tar.extractfile(m)
                    text = src.read().decode("utf-8", "replace") if src else ""
                    fm, body, _ = parse_frontmatter(text)
                    return fm, body
    except (OSError, tarfile.TarError, EOFError) as exc:
        log.warning("%s: cannot read SKILL.md: %s", archive, exc)
    return {}, ""


def init_registry(
    root: Path,
    *,
    base_url: str | None = None,
    git: bool = False,
    admin: str = "admin",
) -> str:
    """Create a registry data folder; returns the first admin token (shown once)."""
    root = Path(root)
    storage = Storage(root)
    if storage.is_initialized() or (storage.db_path.exists()):
        raise ApiError(409, f"{root} is already a registry data folder")
    if root.exists() and any(p.name != ".git" for p in root.iterdir()):
        raise ApiError(409, f"{root} is not empty; a registry data folder starts empty (or as an empty git repository)")
    api = "api"
    if base_url:
        base = base_url if base_url.endswith("/") else base_url + "/"
        if not base.startswith(("http://", "https://")):
            raise ApiError(422, f"--base-url {base_url!r} must be an http:// or https:// URL")
        api = base + "api"
    storage.create(api=api)
    store = Store(storage.db_path)
    _, token = store.create_token(admin, name="initial admin token", scopes=SCOPES, created_by=None)
    if git:
        History(root).init(author=admin)
    return token
