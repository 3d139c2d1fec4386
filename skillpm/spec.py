"""The one grammar for saying where a skill comes from.

Used by `skillpm add SPEC`, by the string form of `[skills]` entries in the
manifest, and by `metadata.dependencies` inside skills. Pure: no I/O.

Forms (see README "Spec grammar"):

    docker/basics                 registry id, any version
    docker/basics@^1.0            registry id with a range
    team:docker/basics@~1.2       registry id in the registry named "team"
    github:owner/repo             GitHub repository (skill at the root or discovered)
    github:owner/repo/skills/x@^1 GitHub repository, skill in a subdirectory, range
    https://host/o/r.git#path=skills/x&tag=v1.2.0
    git@host:o/r.git@^1.0         scp-like SSH URL with a range
    ssh://git@host/o/r.git#branch=main
    file:///srv/repos/r.git#rev=<commit>
    https://github.com/o/r/tree/<ref>/<path>      GitHub web URL
    https://gitlab.com/g/r/-/tree/<ref>/<path>    GitLab web URL
    ./path/to/skill               local path (also ../x, /abs, ~/x)

A bare `a/b` is always a registry id, never GitHub shorthand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from skillpm.errors import UsageError

ID_SEGMENT = r"[a-z0-9]+(?:-[a-z0-9]+)*"
ID_RE = re.compile(rf"^{ID_SEGMENT}(?:/{ID_SEGMENT})*$")
REGISTRY_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SCP_RE = re.compile(r"^(?P<user>[A-Za-z0-9._~-]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>(?!/).+)$")
_GIT_SCHEMES = ("https", "http", "ssh", "git", "file")

ACCEPTED_FORMS = (
    "docker/basics[@RANGE]",
    "REGISTRY:docker/basics[@RANGE]",
    "github:OWNER/REPO[/PATH][@RANGE]",
    "GIT-URL[@RANGE][#path=P&tag=T|branch=B|rev=R]",
    "https://github.com/O/R/tree/REF/PATH",
    "./local/path",
)


class SpecError(UsageError):
    """A spec that matches none of the accepted forms."""

    def __init__(self, spec: str, why: str) -> None:
        self.why = why
        super().__init__(
            f"invalid skill spec {redact_spec(spec)!r}: {why}",
            hint="accepted forms: " + ", ".join(ACCEPTED_FORMS),
        )


@dataclass(frozen=True)
class RegistrySpec:
    id: str
    range: str | None = None  # the user's range text; None = any
    registry: str | None = None  # None = the default registry

    kind = "registry"

    @property
    def name(self) -> str:
        """The resolver's package key: the id, qualified when not default."""
        return f"{self.registry}:{self.id}" if self.registry else self.id

    def __str__(self) -> str:
        prefix = f"{self.registry}:" if self.registry else ""
        suffix = f"@{self.range}" if self.range else ""
        return f"{prefix}{self.id}{suffix}"


@dataclass(frozen=True)
class GitSpec:
    url: str  # credentials never stripped here: see redact_url for display
    path: str = ""  # the skill's folder inside the repository, "" = root
    range: str | None = None
    tag: str | None = None
    branch: str | None = None
    rev: str | None = None
    ref: str | None = None  # from a web URL: a tag or a branch, the source decides

    kind = "git"

    @property
    def name(self) -> str:
        """Default package key: the skill folder's name, else the repo's name."""
        if self.path:
            return self.path.rstrip("/").rsplit("/", 1)[-1]
        tail = re.split(r"[/:]", self.url.rstrip("/"))[-1]
        return tail[:-4] if tail.endswith(".git") else tail

    def pins(self) -> dict[str, str]:
        return {k: v for k, v in (("tag", self.tag), ("branch", self.branch), ("rev", self.rev), ("ref", self.ref)) if v}

    def __str__(self) -> str:
        frag = [f"path={self.path}"] if self.path else []
        frag += [f"{k}={v}" for k, v in self.pins().items()]
        s = redact_url(self.url)
        if self.range:
            s += f"@{self.range}"
        return s + ("#" + "&".join(frag) if frag else "")


@dataclass(frozen=True)
class PathSpec:
    path: str  # as the user wrote it (relative to the manifest's folder)

    kind = "path"

    @property
    def name(self) -> str:
        return self.path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.path


Spec = RegistrySpec | GitSpec | PathSpec


def is_local_path(text: str) -> bool:
    return (
        text.startswith(("./", "../", "/", "~", ".\\", "..\\"))
        or text in (".", "..")
        or bool(re.match(r"^[A-Za-z]:[\\/]", text))
    )


def parse_spec(text: str) -> Spec:
    """Parse one spec string; raise SpecError with the accepted forms."""
    s = text.strip()
    if not s:
        raise SpecError(text, "empty")
    if s.startswith("-"):
        raise SpecError(text, "a spec may not start with '-'")
    if "::" in s.split("#", 1)[0].split("/", 1)[0] or s.startswith("ext:"):
        raise SpecError(text, "git remote helpers such as ext:: are not allowed")
    if is_local_path(s):
        return PathSpec(s)
    if s.startswith("github:"):
        return _parse_github_short(text, s[len("github:") :])
    if s.startswith("git+"):
        s = s[len("git+") :]
        if not s.split(":", 1)[0] in _GIT_SCHEMES:
            raise SpecError(text, "git+ must be followed by an https, ssh or file URL")
    scheme = s.split(":", 1)[0].lower() if "://" in s else ""
    if scheme:
        if scheme not in _GIT_SCHEMES:
            raise SpecError(text, f"unsupported URL scheme {scheme!r}")
        web = _parse_web_url(s)
        if web is not None:
            return web
        return _parse_git_url(text, s)
    if _SCP_RE.match(s.split("#", 1)[0]) and "/" in s and not _looks_like_registry(s):
        return _parse_git_url(text, s)
    return _parse_registry(text, s)


def _looks_like_registry(s: str) -> bool:
    """`reg:id[@range]` rather than scp-like `[user@]host:path`.

    A user part (`git@host:…`) or a dotted host (`github.com:o/r.git`) makes it
    a git URL; registry names contain neither '@' before ':' nor dots.
    """
    head = s.split("@", 1)[0]
    if ":" not in head:
        return False
    reg, _, ident = head.partition(":")
    return bool(REGISTRY_NAME_RE.match(reg) and ID_RE.match(ident))


def _parse_registry(text: str, s: str) -> RegistrySpec:
    ident, at, rng = s.partition("@")
    registry = None
    if ":" in ident:
        registry, _, ident = ident.partition(":")
        if not REGISTRY_NAME_RE.match(registry):
            raise SpecError(text, f"registry name {registry!r} must be lowercase letters, digits, - or _")
    if not ID_RE.match(ident):
        if ident != ident.lower() and ID_RE.match(ident.lower()):
            raise SpecError(text, f"registry ids are lowercase: did you mean {ident.lower()!r}?")
        raise SpecError(text, "not a registry id (segments of a-z, 0-9 and single hyphens, joined by '/')")
    if at and not rng.strip():
        raise SpecError(text, "empty range after '@'")
    rng = rng.strip() or None
    if rng is not None:
        _check_range(text, rng)
    return RegistrySpec(id=ident, range=rng, registry=registry)


def _check_range(text: str, rng: str) -> None:
    from skillpm.semver import InvalidRange, Range

    try:
        Range.parse(rng)
    except InvalidRange as e:
        raise SpecError(text, str(e)) from None


def _split_fragment(text: str, s: str) -> tuple[str, dict[str, str]]:
    base, _, frag = s.partition("#")
    opts: dict[str, str] = {}
    if frag:
        for part in frag.split("&"):
            key, eq, value = part.partition("=")
            if not eq or key not in ("path", "tag", "branch", "rev") or not value:
                raise SpecError(text, f"unknown fragment {part!r}; use #path=P, #tag=T, #branch=B or #rev=R")
            if key in opts:
                raise SpecError(text, f"{key} given twice")
            opts[key] = value
    return base, opts


def _split_range(text: str, base: str) -> tuple[str, str | None]:
    at = base.rfind("@")
    if at > base.rfind("/") and at != -1:
        tail = base[at + 1 :]
        if tail and ":" not in tail:
            return base[:at], tail
    return base, None


def make_git(text: str, url: str, opts: dict[str, str], rng: str | None) -> GitSpec:
    """A GitSpec from its parts (`opts`: path, tag, branch, rev), every rule checked.

    Shared by the string grammar and the manifest's `{ git = … }` tables.
    """
    pins = [k for k in ("tag", "branch", "rev") if k in opts]
    if len(pins) > 1:
        raise SpecError(text, "give at most one of tag, branch and rev")
    if pins and rng:
        raise SpecError(text, f"a range cannot be combined with {pins[0]}")
    if rng is not None:
        _check_range(text, rng)
    path = normalize_subpath(text, opts.get("path", ""))
    check_git_url(url, spec=text)
    for key in pins:
        check_ref(opts[key], spec=text)
    return GitSpec(url=url, path=path, range=rng, tag=opts.get("tag"), branch=opts.get("branch"), rev=opts.get("rev"))


def _parse_git_url(text: str, s: str) -> GitSpec:
    base, opts = _split_fragment(text, s)
    base, rng = _split_range(text, base)
    return make_git(text, base, opts, rng)


def _parse_github_short(text: str, rest: str) -> GitSpec:
    base, opts = _split_fragment(text, rest)
    base, rng = _split_range(text, base)
    parts = [p for p in base.split("/") if p]
    if len(parts) < 2 or not all(re.match(r"^[A-Za-z0-9._-]+$", p) for p in parts):
        raise SpecError(text, "expected github:OWNER/REPO[/PATH]")
    owner, repo, sub = parts[0], parts[1], "/".join(parts[2:])
    if repo.endswith(".git"):
        repo = repo[:-4]
    if sub and "path" in opts:
        raise SpecError(text, "path given twice")
    if sub:
        opts["path"] = sub
    return make_git(text, f"https://github.com/{owner}/{repo}.git", opts, rng)


def _parse_web_url(s: str) -> GitSpec | None:
    try:
        parts = urlsplit(s)
    except ValueError as e:  # e.g. a broken [IPv6] host
        raise SpecError(s, f"not a valid URL ({e})") from None
    if parts.scheme not in ("https", "http") or parts.fragment or parts.query:
        return None
    segs = [p for p in parts.path.split("/") if p]
    for marker in (["-", "tree"], ["-", "blob"], ["tree"], ["blob"]):
        n = len(marker)
        for i in range(2, len(segs) - n + 1):
            if segs[i : i + n] == marker and i + n < len(segs):
                repo_path = "/".join(segs[:i])
                ref = segs[i + n]
                sub = segs[i + n + 1 :]
                if marker[-1] == "blob" and sub and sub[-1] in ("SKILL.md", "skill.md"):
                    sub = sub[:-1]
                repo_url = urlunsplit((parts.scheme, parts.netloc, "/" + repo_path + ("" if repo_path.endswith(".git") else ".git"), "", ""))
                check_ref(ref, spec=s)
                check_git_url(repo_url, spec=s)
                return GitSpec(url=repo_url, path=normalize_subpath(s, "/".join(sub)), ref=ref)
    return None


def normalize_subpath(spec: str, path: str) -> str:
    """A repository-relative folder: '/'-separated, no '..', no leading '/'."""
    p = path.replace("\\", "/").strip("/")
    if not p:
        return ""
    segs = p.split("/")
    if any(seg in ("", ".", "..") for seg in segs) or p.startswith("-"):
        raise SpecError(spec, f"path {path!r} must be a plain relative folder (no '..', '.' or empty parts)")
    return p


def check_git_url(url: str, *, spec: str | None = None) -> str:
    """Refuse URLs that git would take as an option or another transport."""
    where = spec if spec is not None else url
    if url.startswith("-"):
        raise SpecError(where, "a git URL may not start with '-'")
    if "::" in url.split("/", 1)[0] or url.lower().startswith("ext:"):
        raise SpecError(where, "git remote helpers (ext::, fd::, …) are not allowed")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise SpecError(where, "a git URL may not contain spaces or control characters")
    if "--upload-pack" in url or "--receive-pack" in url or "--config" in url:
        raise SpecError(where, "git options inside a URL are not allowed")
    if "://" in url:
        scheme = url.split("://", 1)[0].lower()
        if scheme not in _GIT_SCHEMES:
            raise SpecError(where, f"unsupported URL scheme {scheme!r}")
        try:
            urlsplit(url)
        except ValueError as e:  # e.g. a broken [IPv6] host
            raise SpecError(where, f"not a valid URL ({e})") from None
    elif not _SCP_RE.match(url):
        raise SpecError(where, "not a git URL")
    return url


def check_ref(ref: str, *, spec: str | None = None) -> str:
    """Refuse refs git would read as options or that are not valid ref names."""
    where = spec if spec is not None else ref
    bad = (
        not ref
        or ref.startswith(("-", "/"))
        or ref.endswith(("/", ".lock", "."))
        or ".." in ref
        or "@{" in ref
        or "//" in ref
        or any(c in ref for c in " ~^:?*[\\\0\n\r\t")
    )
    if bad:
        raise SpecError(where, f"{ref!r} is not a valid git ref name")
    return ref


def redact_spec(text: str) -> str:
    """A spec or URL as it may be shown: credentials removed, `git+` kept."""
    prefix = "git+" if text.lower().startswith("git+") else ""
    return prefix + redact_url(text[len(prefix) :])


def redact_url(url: str) -> str:
    """The URL without credentials: safe for locks, manifests, logs and errors.

    http(s) loses its whole user part (tokens are often sent as the user name);
    ssh keeps the login name (`ssh://git@host/…`) but loses any password.
    """
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # unparsable (e.g. a broken [IPv6] host): drop everything before the last '@' of the authority
        scheme, _, rest = url.partition("://")
        authority, slash, path = rest.partition("/")
        return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    if parts.scheme.lower() in ("ssh", "git+ssh"):
        user = userinfo.split(":", 1)[0]
        host = f"{user}@{host}" if user else host
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


__all__ = [
    "ACCEPTED_FORMS",
    "GitSpec",
    "ID_RE",
    "PathSpec",
    "RegistrySpec",
    "Spec",
    "SpecError",
    "check_git_url",
    "check_ref",
    "is_local_path",
    "make_git",
    "normalize_subpath",
    "parse_spec",
    "redact_url",
]

