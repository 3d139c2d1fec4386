"""Accounts of trust: users, tokens, owners and release metadata in SQLite.

The database lives at `DATA/.registry/registry.db` (never served, never
committed). Tokens are random (`skp_` + 43 url-safe characters, 256 bits),
shown once when created and stored only as their SHA-256: a leaked database
gives nobody a usable token.

A token carries
  * scopes: publish-new, publish-update, yank, owners, admin;
  * id patterns (optional): globs where `*` matches any run of characters,
    including `/` (`docker/*`, `acme-*`); no patterns = every id;
  * an expiry (optional), and a revocation time once deleted.

Each thread keeps its own connection; sqlite in WAL mode lets the threads of
one server (and other processes on the same folder) read while one writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from registry.errors import ApiError

__all__ = [
    "SCOPES",
    "TOKEN_PREFIX",
    "Store",
    "StoreError",
    "Token",
    "check_pattern",
    "hash_token",
    "pattern_covers",
]

#: Every scope a token can hold. `admin` implies all the others, may create
#: tokens for any user and acts on any id regardless of owners.
SCOPES = ("publish-new", "publish-update", "yank", "owners", "admin")
TOKEN_PREFIX = "skp_"
USER_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_PATTERN_RE = re.compile(r"^[a-z0-9*/-]{1,200}$")
_DAY = 86_400

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    hash TEXT UNIQUE NOT NULL,
    scopes TEXT NOT NULL,
    patterns TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
);
CREATE TABLE IF NOT EXISTS owners (
    skill TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    added_at INTEGER NOT NULL,
    added_by TEXT,
    PRIMARY KEY (skill, user_id)
);
CREATE TABLE IF NOT EXISTS releases (
    skill TEXT NOT NULL,
    vers TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    keywords TEXT NOT NULL DEFAULT '[]',
    publisher TEXT,
    published_at INTEGER,
    PRIMARY KEY (skill, vers)
);
"""


#: A request the store refuses; `status` is the HTTP status to answer with.
StoreError = ApiError


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_pattern(pattern: str) -> str:
    if not _PATTERN_RE.match(pattern) or "//" in pattern or pattern.startswith("/") or pattern.endswith("/"):
        raise StoreError(
            422,
            f"id pattern {pattern!r}: use id characters (a-z, 0-9, '-', '/') and '*' (any characters), e.g. 'docker/*'",
        )
    return pattern


def pattern_covers(outer: str, inner: str) -> bool:
    """True if every id `inner` matches is matched by `outer` too.

    Patterns only use `*`, and id characters never include `*`, so taking
    `inner` literally works: each `*` of `inner` must fall inside a `*` of
    `outer`, which matches anything put in its place.
    """
    return fnmatchcase(inner, outer)


@dataclass(frozen=True)
class Token:
    id: str
    user: str
    user_id: int
    name: str
    scopes: frozenset[str]
    patterns: tuple[str, ...]
    created_at: int
    expires_at: int | None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def has(self, scope: str) -> bool:
        return scope in self.scopes or self.is_admin

    def matches(self, skill: str) -> bool:
        return not self.patterns or any(fnmatchcase(skill, p) for p in self.patterns)

    def public(self) -> dict:
        return {
            "id": self.id,
            "user": self.user,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "patterns": list(self.patterns),
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
        }


def _iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        with contextlib.suppress(OSError):
            self.path.chmod(0o600)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (kept open: closing the last one checkpoints the WAL)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        yield db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ---- users ------------------------------------------------------ #

    def ensure_user(self, name: str) -> int:
        if not USER_RE.match(name):
            raise StoreError(422, f"user name {name!r}: use 1-63 of a-z, 0-9, '_', '.', '-' (starting with a letter or digit)")
        with self._tx() as db:
            row = db.execute("SELECT id FROM users WHERE name=?", (name,)).fetchone()
            if row:
                return row[0]
            return db.execute("INSERT INTO users(name, created_at) VALUES (?, ?)", (name, int(time.time()))).lastrowid

    def user_id(self, name: str) -> int | None:
        with self._db() as db:
            row = db.execute("SELECT id FROM users WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def users(self) -> list[str]:
        with self._db() as db:
            return [r[0] for r in db.execute("SELECT name FROM users ORDER BY name")]

    # ---- tokens ----------------------------------------------------- #

    def create_token(
        self,
        user: str,
        *,
        name: str,
        scopes: Iterable[str],
        patterns: Iterable[str] = (),
        expires_in_days: int | None = None,
        created_by: str | None = None,
        now: int | None = None,
        not_after: int | None = None,
    ) -> tuple[str, str]:
        """Create a token; returns (token id, the token). The token is never stored.

        `not_after` (a Unix time) caps the expiry: the token expires then at the latest.
        """
        scopes = sorted(set(scopes))
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise StoreError(422, f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
        if not scopes:
            raise StoreError(422, "a token needs at least one scope")
        patterns = sorted({check_pattern(p) for p in patterns})
        name = name.strip()
        if not name or len(name) > 100:
            raise StoreError(422, "a token needs a name of 1-100 characters")
        if expires_in_days is not None and not (1 <= expires_in_days <= 3650):
            raise StoreError(422, "expires_in_days must be between 1 and 3650")
        now = int(time.time()) if now is None else now
        expires = now + expires_in_days * _DAY if expires_in_days else None
        if not_after is not None:
            if not_after <= now:
                raise StoreError(403, "the token creating this one has expired")
            expires = not_after if expires is None else min(expires, not_after)
        user_id = self.ensure_user(user)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(8)
        with self._tx() as db:
            db.execute(
                "INSERT INTO tokens(id, user_id, name, hash, scopes, patterns, created_at, created_by, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (token_id, user_id, name, hash_token(token), json.dumps(scopes), json.dumps(patterns), now, created_by, expires),
            )
        return token_id, token

    def _token(self, row: tuple) -> Token:
        tid, user, user_id, name, scopes, patterns, created, expires = row
        return Token(tid, user, user_id, name, frozenset(json.loads(scopes)), tuple(json.loads(patterns)), created, expires)

    _TOKEN_COLS = (
        "t.id, u.name, u.id, t.name, t.scopes, t.patterns, t.created_at, t.expires_at"
    )

    def verify(self, token: str, *, now: int | None = None) -> Token:
        """The live token for a bearer string; StoreError(401) otherwise."""
        now = int(time.time()) if now is None else now
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise StoreError(401, "invalid token")
        with self._db() as db:
            row = db.execute(
                f"SELECT {self._TOKEN_COLS}, t.revoked_at, t.last_used_at FROM tokens t JOIN users u ON u.id=t.user_id"
                " WHERE t.hash=?",
                (hash_token(token),),
            ).fetchone()
            if row is None:
                raise StoreError(401, "invalid token")
            revoked, last_used = row[8], row[9]
            if revoked is not None:
                raise StoreError(401, "this token was revoked")
            if row[7] is not None and row[7] <= now:
                raise StoreError(401, f"this token expired at {_iso(row[7])}")
            if last_used is None or now - last_used >= 60:
                db.execute("UPDATE tokens SET last_used_at=? WHERE id=?", (now, row[0]))
        return self._token(row[:8])

    def tokens(self, user_id: int | None) -> list[dict]:
        """Live (unrevoked) tokens of one user, or of everyone when None."""
        query = (
            f"SELECT {self._TOKEN_COLS}, t.last_used_at FROM tokens t JOIN users u ON u.id=t.user_id"
            " WHERE t.revoked_at IS NULL"
        )
        args: tuple = ()
        if user_id is not None:
            query += " AND t.user_id=?"
            args = (user_id,)
        with self._db() as db:
            rows = db.execute(query + " ORDER BY t.created_at, t.id", args).fetchall()
        out = []
        for row in rows:
            entry = self._token(row[:8]).public()
            entry["last_used_at"] = _iso(row[8])
            out.append(entry)
        return out

    def revoke(self, token_id: str, *, user_id: int | None, now: int | None = None) -> bool:
        """Revoke a token (of `user_id` only, unless None). False if there is no such live token."""
        now = int(time.time()) if now is None else now
        query = "UPDATE tokens SET revoked_at=? WHERE id=? AND revoked_at IS NULL"
        args: tuple = (now, token_id)
        if user_id is not None:
            query += " AND user_id=?"
            args += (user_id,)
        with self._tx() as db:
            return db.execute(query, args).rowcount == 1

    # ---- owners ----------------------------------------------------- #

    def owners(self, skill: str) -> list[str]:
        with self._db() as db:
            return [
                r[0]
                for r in db.execute(
                    "SELECT u.name FROM owners o JOIN users u ON u.id=o.user_id WHERE o.skill=? ORDER BY u.name", (skill,)
                )
            ]

    def is_owner(self, skill: str, user_id: int) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM owners WHERE skill=? AND user_id=?", (skill, user_id)).fetchone() is not None

    def add_owners(self, skill: str, users: Iterable[str], *, by: str | None) -> list[str]:
        """Add existing users as owners; returns those newly added. StoreError(404) for unknown users."""
        users = list(dict.fromkeys(users))
        now = int(time.time())
        added = []
        with self._tx() as db:
            ids = {}
            for name in users:
                row = db.execute("SELECT id FROM users WHERE name=?", (name,)).fetchone()
                if row is None:
                    raise StoreError(404, f"no user named {name!r} on this registry")
                ids[name] = row[0]
            for name, uid in ids.items():
                cur = db.execute(
                    "INSERT OR IGNORE INTO owners(skill, user_id, added_at, added_by) VALUES (?, ?, ?, ?)", (skill, uid, now, by)
                )
                if cur.rowcount:
                    added.append(name)
        return added

    def remove_owners(self, skill: str, users: Iterable[str]) -> list[str]:
        """Remove owners; refuses (409) to leave an id without any owner."""
        users = list(dict.fromkeys(users))
        with self._tx() as db:
            current = {
                r[0]: r[1]
                for r in db.execute("SELECT u.name, u.id FROM owners o JOIN users u ON u.id=o.user_id WHERE o.skill=?", (skill,))
            }
            missing = [u for u in users if u not in current]
            if missing:
                raise StoreError(404, f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not an owner of {skill}")
            if set(current) <= set(users):
                raise StoreError(409, f"{skill} must keep at least one owner; add the new owner before removing the last one")
            for name in users:
                db.execute("DELETE FROM owners WHERE skill=? AND user_id=?", (skill, current[name]))
        return users

    # ---- releases (search and browse metadata) ---------------------- #

    def add_release(
        self, skill: str, vers: str, *, description: str, keywords: Iterable[str], publisher: str | None, published_at: int | None = None
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO releases(skill, vers, description, keywords, publisher, published_at) VALUES (?, ?, ?, ?, ?, ?)",
                (skill, vers, description, json.dumps(list(keywords)), publisher, published_at or int(time.time())),
            )

    def releases(self, skill: str) -> dict[str, dict]:
        with self._db() as db:
            rows = db.execute(
                "SELECT vers, description, keywords, publisher, published_at FROM releases WHERE skill=?", (skill,)
            ).fetchall()
        return {
            r[0]: {"description": r[1], "keywords": json.loads(r[2]), "publisher": r[3], "published_at": _iso(r[4])}
            for r in rows
        }

    def known_releases(self) -> set[tuple[str, str]]:
        with self._db() as db:
            return {(r[0], r[1]) for r in db.execute("SELECT skill, vers FROM releases")}

    def keywords(self) -> dict[tuple[str, str], tuple[str, ...]]:
        with self._db() as db:
            return {(r[0], r[1]): tuple(json.loads(r[2])) for r in db.execute("SELECT skill, vers, keywords FROM releases")}
