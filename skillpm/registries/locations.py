"""Which registry a name, URL or path means, and the `Registry` that reads it.

A registry location is one of

    https://skills.example.com/        (http:// too) a static host or the skillpm server
    file:///srv/registry  /srv/registry  ./registry  ~/registry    a folder
    git+https://host/r.git  git+ssh://git@host/r.git  git+file:///srv/r.git   a git repository
    embedded                           the skills shipped inside skillpm

`[registries]` in skills.toml maps names to locations; `default` is a name or
a location. No default configured: the embedded registry.

The lock records `registry+<lock URL>`: the base URL with a trailing '/' and no
credentials, `git+<URL>`, `embedded`, or for a folder either

    ./vendor/registry/   ../shared/registry/     a folder given as a relative path in the project's
                                                 [registries]: relative to the project root, '/'-separated,
                                                 always starting with ./ or ../ and ending with /
    file:///srv/registry/                        any other folder (absolute, ~/…, file://…)

so a lock naming a project-relative folder is the same in every checkout.
Two locations are the same registry when their `key`s are equal: a folder's
resolved path, however it is spelled; otherwise the lock URL.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePath, PurePosixPath
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

from skillpm.errors import IntegrityError, SourceError

EMBEDDED = "embedded"


@dataclass(frozen=True)
class Location:
    kind: str  # "http" | "folder" | "git" | "embedded"
    url: str  # http: base URL ('/'-terminated); git: the git URL; folder: file:// URL
    lock_url: str  # what the lock writes after "registry+" (folder: "./rel/" or the file:// URL)
    path: Path | None = None  # folder and embedded registries

    def __str__(self) -> str:
        return self.lock_url

    @property
    def key(self) -> str:
        """This registry's identity: equal keys name the same registry however they
        are spelled (a folder: its resolved file:// URL; otherwise the lock URL)."""
        return self.url if self.kind == "folder" else self.lock_url


def parse_location(text: str, *, root: Path | None = None) -> Location:
    """A location string, or SourceError: `_parse_location` with every failure of
    the path and URL machinery (NUL bytes, unknown ~user, bad Unicode) made ours."""
    try:
        return _parse_location(text, root=root)
    except SourceError:
        raise
    except (ValueError, RuntimeError, UnicodeError, OSError) as e:
        from skillpm.spec import redact_url

        raise SourceError(f"registry {redact_url(str(text))[:200]!r}: not a usable location ({e})") from e


def _parse_location(text: str, *, root: Path | None = None) -> Location:
    """A location string (as written in [registries], in a lock, or given to --registry).

    `root` is the project root: a relative folder is resolved against it and
    recorded relative to it (`./vendor/registry/`), the same in every checkout.
    Without `root`, a relative folder is resolved against the working directory
    and recorded as its absolute file:// URL.
    """
    from skillpm.spec import check_git_url, redact_url

    s = text.strip()
    if not s:
        raise SourceError("empty registry location")
    if s == EMBEDDED:
        return Location("embedded", EMBEDDED, EMBEDDED)
    low = s.lower()
    if low.startswith("git+"):
        url = s[4:]
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in ("https", "http", "ssh", "file"):
            raise SourceError(f"registry {text!r}: git+ must be followed by an https, ssh or file URL")
        check_git_url(url)
        return Location("git", url, "git+" + redact_url(url))
    if low.startswith(("http://", "https://")):
        parts = urlsplit(s)
        if parts.username or parts.password:
            raise SourceError(
                f"registry {redact_url(s)!r}: credentials in a registry URL are not supported",
                hint="remove them from the URL and run `skillpm login --registry <name>` (or set SKILLPM_TOKEN_<NAME>)",
            )
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        base = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))
        return Location("http", base, base)
    if low.startswith("file://"):
        parts = urlsplit(s)
        if parts.netloc not in ("", "localhost"):
            raise SourceError(f"registry {text!r}: file URLs must be local (file:///path)")
        folder = Path(url2pathname(parts.path))
        return _folder(folder)
    if "://" in s:
        raise SourceError(
            f"registry {text!r}: unsupported URL scheme",
            hint="use https://…, file:///…, a folder path, or git+https://… / git+ssh://… / git+file://…",
        )
    folder = Path(s).expanduser()
    if folder.is_absolute():
        return _folder(folder)
    if root is None:
        return _folder(Path.cwd() / folder)
    return _folder(root / folder, lock_url=relative_lock_url(s))


def relative_lock_url(text: str) -> str:
    """How the lock spells a folder given relative to the project: '/'-separated,
    starting with ./ or ../, ending with /, without empty or '.' segments.

    '..' segments are kept as written (resolving them lexically could disagree
    with the file system when a folder on the way is a symlink).
    """
    rel = PurePosixPath(PurePath(text).as_posix()).as_posix()
    if rel == ".":
        return "./"
    if rel != ".." and not rel.startswith("../"):
        rel = "./" + rel
    return rel + "/"


def _folder(folder: Path, *, lock_url: str | None = None) -> Location:
    folder = folder.resolve()
    uri = folder.as_uri() + "/"
    return Location("folder", uri, lock_url or uri, folder)


# --------------------------------------------------------------------------- #
# names -> registries


_MEMO: dict[tuple, Registry] = {}
_POOL: ThreadPoolExecutor | None = None
PREFETCH_WORKERS = 8


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=PREFETCH_WORKERS, thread_name_prefix="skillpm-index")
    return _POOL


def reset() -> None:
    """Forget every Registry of this process (tests; a new cache dir)."""
    _MEMO.clear()


def registry(location: Location, *, name: str | None, offline: bool) -> Registry:
    """The (per-process, memoized) Registry for a location."""
    from skillpm.cache import cache_dir

    key = (location.key, location.lock_url, name, offline, str(cache_dir()))
    reg = _MEMO.get(key)
    if reg is None:
        reg = Registry(location, name=name, offline=offline)
        _MEMO[key] = reg
    return reg


def configured(registries: dict[str, str], root: Path) -> dict[str, Location]:
    """Name -> location of every registry in [registries] (`default` too when it is a location)."""
    out: dict[str, Location] = {}
    for name, value in registries.items():
        if name == "default" and value in registries and value != "default":
            continue
        out[name] = parse_location(value, root=root)
    return out


def location_for(name: str | None, registries: dict[str, str], *, root: Path) -> tuple[Location, str]:
    """(location, display name) of the registry a RegistrySpec's `registry` names (None: the default).

    Pure apart from resolving relative folder paths: no network.
    """
    if name is None or name == "default":
        default = registries.get("default")
        if default is None:
            return parse_location(EMBEDDED), EMBEDDED
        if default in registries and default != "default":
            return parse_location(registries[default], root=root), default
        return parse_location(default, root=root), "default"
    if name in registries:
        return parse_location(registries[name], root=root), name
    if name == EMBEDDED:
        return parse_location(EMBEDDED), EMBEDDED
    known = ", ".join(sorted(k for k in registries if k != "default")) or "none"
    raise SourceError(
        f"no registry named {name!r} (configured: {known})",
        hint=f'add it to skills.toml: [registries] {name} = "https://…" (a URL, a folder or git+URL)',
    )


def resolve_registry(name: str | None, registries: dict[str, str], *, root: Path, offline: bool) -> Registry:
    """The registry a RegistrySpec's `registry` names (None: the default)."""
    location, display = location_for(name, registries, root=root)
    return registry(location, name=display, offline=offline)


def registry_for_lock(lock_url: str, registries: dict[str, str], *, root: Path, offline: bool) -> Registry:
    """The registry a lock entry's `registry+<url>` names, with its configured name if any
    (matched by identity: a folder locked as ./x/ is the one configured as /abs/project/x)."""
    location = parse_location(lock_url, root=root)
    for name, loc in configured(registries, root).items():
        if loc.key == location.key:
            return registry(loc, name=name, offline=offline)
    return registry(location, name=EMBEDDED if location.kind == "embedded" else None, offline=offline)


def pick_registry(given: str | None, *, project_root: Path | None, registries: dict[str, str], offline: bool = False) -> Registry:
    """--registry R for commands: a configured name, else a location; None: the default."""
    root = project_root or Path.cwd()
    if given is None:
        return resolve_registry(None, registries, root=root, offline=offline)
    if given in registries or given in (EMBEDDED, "default"):
        return resolve_registry(given, registries, root=root, offline=offline)
    from skillpm.spec import REGISTRY_NAME_RE

    looks_like_name = REGISTRY_NAME_RE.match(given) and not Path(given).expanduser().exists()
    if looks_like_name:
        known = ", ".join(sorted(k for k in registries if k != "default")) or "none"
        raise SourceError(
            f"no registry named {given!r} (configured: {known})",
            hint="give a configured name, a URL, a folder path (./dir) or git+URL",
        )
    loc = parse_location(given)  # relative to the working directory, like any path argument
    for name, known_loc in configured(registries, root).items():
        if known_loc.key == loc.key:
            return registry(known_loc, name=name, offline=offline)
    return registry(loc, name=None, offline=offline)


# --------------------------------------------------------------------------- #
# the registry


class Registry:
    """One registry: its config, index lines and archives, over one backend."""

    def __init__(self, location: Location, *, name: str | None, offline: bool) -> None:
        self.location = location
        self.name = name
        self.offline = offline
        self._lines: dict[str, list] = {}
        self._pending: dict[str, Future] = {}

    def __repr__(self) -> str:
        return f"Registry({self.label})"

    @property
    def label(self) -> str:
        """How messages name this registry."""
        if self.location.kind == "embedded":
            return "the embedded registry"
        if self.name and self.name not in ("default",):
            return f"{self.name} ({self.location.lock_url})"
        return self.location.lock_url

    @property
    def lock_url(self) -> str:
        return self.location.lock_url

    @property
    def lock_source(self) -> str:
        return "registry+" + self.location.lock_url

    @property
    def is_embedded(self) -> bool:
        return self.location.kind == "embedded"

    # -- auth ----------------------------------------------------------

    @cached_property
    def token(self) -> str | None:
        if self.location.kind != "http":
            return None
        from skillpm.registries.auth import token_for

        return token_for(self.name, self.location.lock_url)

    @cached_property
    def auth(self):
        """The token, scoped to this registry's base URL: index files and archives under it."""
        from skillpm.registries.client import Auth

        if self.token is None:
            return None
        return Auth(self.token, (self.location.url,))

    def api_auth(self, token: str | None = None):
        """The token for API calls (`token`, else this registry's): sent to the
        registry's URL, and to the API base only when it is on the registry's own origin."""
        from skillpm.registries.client import Auth, _origin

        token = token or self.token
        if token is None:
            return None
        scopes = [self.location.url]
        api = self.api_base()
        if api and _origin(api) == _origin(self.location.url):
            scopes.append(api)
        return Auth(token, tuple(scopes))

    # -- backend -------------------------------------------------------

    @cached_property
    def backend(self):
        from skillpm.registries import backends

        kind = self.location.kind
        if kind == "http":
            return backends.HttpBackend(self.location.url, auth=self.auth, offline=self.offline)
        if kind == "git":
            return backends.GitBackend(self.location.url, offline=self.offline)
        if kind == "embedded":
            from skillpm.registries.embedded import ensure_built

            return backends.FolderBackend(ensure_built(), offline=self.offline)
        assert self.location.path is not None
        return backends.FolderBackend(self.location.path, offline=self.offline)

    def _read(self, rel: str) -> bytes | None:
        return self.backend.read(rel)

    @cached_property
    def config(self):
        from skillpm.registries.protocol import CONFIG_FILE, parse_config

        data = self._read(CONFIG_FILE)
        if data is None:
            raise SourceError(
                f"{self.label} is not a skillpm registry: it has no config.json",
                hint="check the URL; `skillpm registry build SKILLS_DIR OUT_DIR` makes a registry folder",
            )
        return parse_config(data, self.label)

    def api_base(self) -> str | None:
        """The write/search API base (`api` in config.json, made absolute), or None."""
        if self.location.kind != "http":
            return None
        api = self.config.api
        if not api:
            return None
        base = urljoin(self.location.url, api)
        return base if base.endswith("/") else base + "/"

    # -- index ---------------------------------------------------------

    def lines(self, ident: str) -> list:
        """Every published version of `ident` (empty when it does not exist)."""
        if ident not in self._lines:
            pending = self._pending.pop(ident, None)
            self._lines[ident] = pending.result() if pending is not None else self._load_lines(ident)
        return self._lines[ident]

    def _load_lines(self, ident: str) -> list:
        from skillpm.registries.protocol import index_path, parse_index

        self.config  # noqa: B018 - a registry without config.json fails here, clearly
        data = self._read(index_path(ident))
        return [] if data is None else parse_index(data, ident, f"{self.label}: index/{ident}")

    def prefetch(self, ident: str) -> None:
        """Start fetching an index file in the background (HTTP only; lines() waits for it).

        The resolver learns of every root skill, and of a skill's dependencies,
        before it asks for their versions one by one; fetching those index
        files concurrently saves a round trip per skill.
        """
        if self.location.kind != "http" or self.offline or ident in self._lines or ident in self._pending:
            return
        from skillpm.registries.protocol import ID_RE

        if not ID_RE.match(ident):
            return
        self.config  # noqa: B018 - fetched once, here, before the workers need it
        self._pending[ident] = _pool().submit(self._load_lines, ident)

    def search_entries(self):
        """index.json's entries, or None when the registry has none."""
        from skillpm.registries.protocol import SEARCH_FILE, parse_search

        self.config  # noqa: B018
        data = self._read(SEARCH_FILE)
        return None if data is None else parse_search(data, f"{self.label}: index.json")

    # -- archives ------------------------------------------------------

    def archive(self, ident: str, version: str, cksum: str | None) -> bytes:
        """The archive's bytes, checked against `cksum` (sha256 of the bytes)."""
        from skillpm.registries import index_cache
        from skillpm.registries.extract import LIMITS

        label = f"{ident} {version} from {self.label}"
        cache = self.location.kind in ("http", "git") and cksum is not None
        if cache:
            data = index_cache.cached_archive(cksum)
            if data is not None:
                return data
        ref = self.config.archive_ref(ident, version)
        data = self.backend.archive(ref, auth=self.auth, max_bytes=LIMITS.max_compressed, label=label)
        got = index_cache.sha256_of(data)
        if cksum is not None and got != cksum:
            raise IntegrityError(
                f"{label}: the archive's checksum is {got}, but {cksum} was expected",
                hint="the download is damaged or the registry changed a published archive; nothing was installed",
            )
        if cache:
            index_cache.store_archive(cksum, data)
        return data

    def materialize(self, ident: str, version: str, *, cksum: str | None, integrity: str | None, dest: Path) -> None:
        """Download (or read from cache), check, extract into `dest`, check the tree digest."""
        from skillpm.registries.extract import extract_checked

        data = self.archive(ident, version, cksum)
        extract_checked(data, dest, integrity=integrity, label=f"{ident} {version} from {self.label}")
