"""The static tree on disk, and the locks that keep its writes in order.

    DATA/config.json            written once by `skillpm registry init`
    DATA/index/<id>             one line per version; appended, only `yanked` flips
    DATA/dl/<id>/<v>.tar.gz     created once (hard link of a complete temp file:
                                never replaced, never seen half-written)
    DATA/index.json             ids with their latest version and description
    DATA/owners/<id>.json       who may publish the id (mirror of the database,
                                so the git history shows owner changes)
    DATA/.gitignore             keeps .registry/ out of git
    DATA/.registry/             the database, locks, temp files: never served

Every file a reader can see is replaced in one step (temp file + rename) or
created complete, so static readers (this server, nginx, a CDN origin, `git
clone`) see the old or the new state, never a mix.

Writes to one id are serialized by a per-id lock (a threading lock for the
threads of this process plus a file lock for other processes on the same
folder); the files every write touches (index.json, git) take one global lock
after it. Lock order is always id, then global.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from registry.errors import ApiError
from skillpm.fs import atomic_write
from skillpm.registries.protocol import (
    CONFIG_FILE,
    DEFAULT_DL,
    INDEX_DIR,
    SEARCH_FILE,
    IndexLine,
    RegistryConfig,
    SearchEntry,
    dump_config,
    dump_line,
    dump_search,
    latest,
    parse_index,
    parse_search,
)

META_DIR = ".registry"
DB_FILE = "registry.db"
DL_DIR = "dl"
OWNERS_DIR = "owners"
GITIGNORE = f"/{META_DIR}/\n"
LOCK_TIMEOUT = 60.0

__all__ = ["Storage", "META_DIR", "DB_FILE", "GITIGNORE"]


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.meta = self.root / META_DIR
        self.db_path = self.meta / DB_FILE
        self._guard = threading.Lock()
        self._thread_locks: dict[str, threading.Lock] = {}
        self._global = threading.Lock()

    # ---- layout ----------------------------------------------------- #

    def is_initialized(self) -> bool:
        return (self.root / CONFIG_FILE).is_file()

    def create(self, *, api: str | None = "api", dl: str = DEFAULT_DL) -> None:
        """Make the folder a registry (idempotent: existing files are kept)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for sub in (INDEX_DIR, DL_DIR, META_DIR, f"{META_DIR}/locks", f"{META_DIR}/tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.meta, 0o700)
        cfg = self.root / CONFIG_FILE
        if not cfg.exists():
            config = RegistryConfig.model_validate({"skillpm-registry": 1, "dl": dl, "api": api})
            atomic_write(cfg, dump_config(config))
        if not (self.root / SEARCH_FILE).exists():
            atomic_write(self.root / SEARCH_FILE, dump_search([]))
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            atomic_write(ignore, GITIGNORE)

    def config(self) -> dict:
        return json.loads((self.root / CONFIG_FILE).read_text(encoding="utf-8"))

    def index_file(self, ident: str) -> Path:
        return self.root / INDEX_DIR / ident

    def archive_file(self, ident: str, version: str) -> Path:
        return self.root / DL_DIR / ident / f"{version}.tar.gz"

    def owners_file(self, ident: str) -> Path:
        return self.root / OWNERS_DIR / f"{ident}.json"

    # ---- locks ------------------------------------------------------ #

    @contextlib.contextmanager
    def _locked(self, tlock: threading.Lock, name: str, what: str) -> Iterator[None]:
        from filelock import FileLock, Timeout

        if not tlock.acquire(timeout=LOCK_TIMEOUT):
            raise ApiError(503, f"the registry is busy writing {what}; try again")
        try:
            lock = FileLock(str(self.meta / "locks" / name), is_singleton=False)
            try:
                lock.acquire(timeout=LOCK_TIMEOUT)
            except Timeout:
                raise ApiError(503, f"another process holds the write lock on {what}; try again") from None
            try:
                yield
            finally:
                lock.release()
        finally:
            tlock.release()

    def id_lock(self, ident: str):
        """Serialize every write to one id (threads and processes)."""
        with self._guard:
            tlock = self._thread_locks.setdefault(ident, threading.Lock())
        return self._locked(tlock, ident.replace("/", "+") + ".lock", ident)

    def global_lock(self):
        """Serialize the files every write touches (index.json, owners, git)."""
        return self._locked(self._global, "_global.lock", "the registry")

    # ---- reading ---------------------------------------------------- #

    def read_lines(self, ident: str) -> list[IndexLine]:
        p = self.index_file(ident)
        try:
            data = p.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return []
        return parse_index(data, ident, f"index/{ident}")

    def ids(self) -> list[str]:
        base = self.root / INDEX_DIR
        out = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = os.path.relpath(dirpath, base)
            for f in filenames:
                if f.startswith("."):
                    continue
                out.append(f if rel == "." else f"{rel}/{f}".replace(os.sep, "/"))
        return sorted(out)

    def id_conflict(self, ident: str) -> str | None:
        """Why a new id cannot live beside the existing ones (`index/<id>` is a file), or None."""
        if self.index_file(ident).is_dir():
            return f"{ident!r} is a namespace of existing ids ({ident}/…); it cannot also be an id"
        parts = ident.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if self.index_file(prefix).is_file():
                return f"{prefix!r} is an id; it cannot also be a namespace of {ident!r}"
        return None

    def search_entries(self) -> list[SearchEntry]:
        p = self.root / SEARCH_FILE
        try:
            return parse_search(p.read_bytes(), SEARCH_FILE)
        except FileNotFoundError:
            return []

    def read_owners_file(self, ident: str) -> list[str] | None:
        try:
            data = json.loads(self.owners_file(ident).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        users = data.get("users") if isinstance(data, dict) else None
        return [u for u in users if isinstance(u, str)] if isinstance(users, list) else None

    # ---- writing (callers hold the locks) ---------------------------- #

    def write_archive(self, ident: str, version: str, data: bytes) -> Path:
        """Create the archive; FileExistsError if it exists (never replaced)."""
        from skillpm.fs import create_exclusive

        path = self.archive_file(ident, version)
        create_exclusive(path, data)
        return path

    def remove_archive(self, ident: str, version: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.archive_file(ident, version).unlink()

    def append_line(self, ident: str, line: IndexLine) -> None:
        """Append one line; the earlier lines keep their exact bytes."""
        p = self.index_file(ident)
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            old = p.read_bytes()
        except FileNotFoundError:
            old = b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        atomic_write(p, old + dump_line(line).encode("utf-8") + b"\n", mode=0o644)

    def set_yanked(self, ident: str, version: str, yanked: bool) -> bool:
        """Rewrite only the `yanked` field of one line. Returns False if unchanged."""
        from skillpm.semver import Version

        want = Version.parse(version)
        p = self.index_file(ident)
        out: list[str] = []
        changed = False
        for raw in p.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            obj = json.loads(raw)
            if Version.parse(obj["vers"]) == want and obj.get("yanked") is not yanked:
                obj["yanked"] = yanked
                raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
                changed = True
            out.append(raw)
        if changed:
            atomic_write(p, "\n".join(out) + "\n", mode=0o644)
        return changed

    def update_search(self, ident: str, lines: list[IndexLine]) -> None:
        """Refresh one id's entry in index.json (caller holds the global lock)."""
        entries = {e.name: e for e in self.search_entries()}
        top = latest(lines)
        if top is None:
            entries.pop(ident, None)
        else:
            entries[ident] = SearchEntry(name=ident, vers=top.vers, description=top.description or "")
        atomic_write(self.root / SEARCH_FILE, dump_search(list(entries.values())), mode=0o644)

    def write_owners_file(self, ident: str, users: list[str]) -> None:
        atomic_write(self.owners_file(ident), json.dumps({"users": sorted(users)}) + "\n", mode=0o644)
