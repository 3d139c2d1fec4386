"""The one HTTP client skillpm uses for registries.

- one `httpx.Client` per process, created on first use (connection reuse);
- timeouts: 10 s to connect, 30 s between bytes;
- retries: connection errors, timeouts, truncated bodies and 5xx answers are
  retried with a short backoff (RETRY_DELAYS: 3 attempts in all), then fail
  with one clear line;
- a token is sent only to URLs under its registry's own base URL (same scheme,
  host and port, path below the base), re-checked on every redirect hop, so a
  `dl` template on another host never sees it;
- bodies are read with a size cap (no unbounded downloads).

Tests replace the transport with `set_transport_factory(lambda: httpx.MockTransport(...))`.
"""

from __future__ import annotations

import atexit
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from skillpm.errors import SourceError

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
RETRY_DELAYS: tuple[float, ...] = (0.2, 0.8)  # sleeps between attempts
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_transport_factory: Callable[[], httpx.BaseTransport] | None = None
_client: httpx.Client | None = None


def set_transport_factory(factory: Callable[[], httpx.BaseTransport] | None) -> None:
    """Use `factory()` as the transport of the next client (tests). Resets the client."""
    global _transport_factory
    _transport_factory = factory
    close_client()


def get_client() -> httpx.Client:
    global _client
    if _client is None:
        from skillpm import __version__

        transport = _transport_factory() if _transport_factory is not None else None
        _client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            follow_redirects=False,  # redirects are followed here, to re-check the token's scope
            headers={"User-Agent": f"skillpm/{__version__}"},
            trust_env=True,
        )
    return _client


def close_client() -> None:
    global _client
    if _client is not None:
        _client.close()
        _client = None


atexit.register(close_client)


# --------------------------------------------------------------------------- #
# token scope


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


#: Percent-encoded `.`, `/` and `\\`: a server may decode them into a path that
#: leaves the base, so a path holding one is never "under" anything.
_ENCODED_SEPARATOR = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


def _sent_path(url: str) -> str | None:
    """The path httpx will actually send for `url` (`.` and `..` resolved), or None."""
    try:
        raw = httpx.URL(url).raw_path
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    path = raw.split(b"?", 1)[0].decode("ascii", "replace") or "/"
    if _ENCODED_SEPARATOR.search(path) or "\\" in path:
        return None
    return path


def url_under(url: str, base: str) -> bool:
    """True when `url` is `base` or below it (same scheme, host, port; path prefix).

    Paths are compared as sent on the wire, after `.`/`..` segments are resolved;
    a path with a percent-encoded `.`, `/` or `\\` is never under a base.
    """
    try:
        if _origin(url) != _origin(base):
            return False
    except ValueError:  # e.g. a port that is not a number
        return False
    path = _sent_path(url)
    base_path = _sent_path(base)
    if path is None or base_path is None:
        return False
    if not base_path.endswith("/"):
        base_path += "/"
    return path == base_path.rstrip("/") or path.startswith(base_path)


@dataclass(frozen=True)
class Auth:
    """A bearer token and the URL prefixes it may be sent to."""

    token: str = field(repr=False)
    scopes: tuple[str, ...]

    def header_for(self, url: str) -> dict[str, str]:
        if any(url_under(url, s) for s in self.scopes):
            return {"Authorization": f"Bearer {self.token}"}
        return {}

    def __repr__(self) -> str:  # never show the token
        return f"Auth(token=***, scopes={self.scopes!r})"


# --------------------------------------------------------------------------- #
# requests


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes
    url: str

    def json(self):
        import json

        return json.loads(self.content)


class _Retry(Exception):
    def __init__(self, why: str) -> None:
        self.why = why


def _redact(url: str) -> str:
    from skillpm.spec import redact_url

    return redact_url(url)


def request(
    method: str,
    url: str,
    *,
    auth: Auth | None = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    what: str | None = None,
    idempotent: bool = True,
) -> Answer:
    """Send one request (following redirects), retrying what is worth retrying.

    Returns every answer below 500 (the caller decides about 404, 304, 409...);
    raises SourceError for 5xx after the retries, network failures, timeouts
    and bodies over `max_bytes`. Non-idempotent requests are retried only when
    the connection could not be made at all.
    """
    label = what or f"{method} {_redact(url)}"
    attempts = len(RETRY_DELAYS) + 1
    last = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(RETRY_DELAYS[attempt - 1])
        try:
            return _once(method, url, auth=auth, headers=headers, content=content, max_bytes=max_bytes, label=label)
        except _Retry as r:
            last = r.why
            if not idempotent:
                break
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            last = _describe(e)
        except httpx.TimeoutException as e:
            last = _describe(e)
            if not idempotent:
                break
        except httpx.TransportError as e:
            last = _describe(e)
            if not idempotent:
                break
    tries = f" after {attempt + 1} attempts" if attempt else ""
    raise SourceError(f"{label}: {last}{tries}", hint="check the registry URL and your network, or use --offline with a warm cache")


def _describe(e: Exception) -> str:
    if isinstance(e, httpx.TimeoutException):
        return "timed out"
    if isinstance(e, httpx.ConnectError):
        return f"cannot connect ({' '.join(str(e).split()) or 'connection refused'})"
    if isinstance(e, httpx.RemoteProtocolError):
        return "the connection broke mid-answer (truncated response)"
    return f"network error ({type(e).__name__}: {' '.join(str(e).split())[:200]})"


def _once(method, url, *, auth, headers, content, max_bytes, label) -> Answer:  # noqa: ANN001
    client = get_client()
    for _hop in range(MAX_REDIRECTS + 1):
        hdrs = dict(headers or {})
        if auth is not None:
            hdrs.update(auth.header_for(url))
        req = client.build_request(method, url, headers=hdrs, content=content)
        resp = client.send(req, stream=True)
        try:
            if resp.is_redirect and "location" in resp.headers:
                nxt = urljoin(url, resp.headers["location"])
                if urlsplit(nxt).scheme not in ("http", "https"):
                    raise SourceError(f"{label}: redirected to a non-HTTP URL")
                url = nxt
                if resp.status_code == 303:
                    method, content = "GET", None
                continue
            if resp.status_code >= 500:
                raise _Retry(f"server error {resp.status_code}")
            body = _read(resp, max_bytes, label)
            return Answer(resp.status_code, resp.headers, body, str(resp.url))
        finally:
            resp.close()
    raise SourceError(f"{label}: more than {MAX_REDIRECTS} redirects")


def _read(resp: httpx.Response, max_bytes: int, label: str) -> bytes:
    declared = resp.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise SourceError(f"{label}: the answer is {declared} bytes, over the limit of {max_bytes}")
    chunks = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(f"{label}: the answer is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    # bytes on the wire (Content-Length counts those, before any Content-Encoding)
    raw = resp.num_bytes_downloaded or (None if resp.headers.get("content-encoding") else len(body))
    if declared is not None and declared.isdigit() and raw is not None and raw != int(declared):
        raise _Retry(f"truncated response ({raw} of {declared} bytes)")
    return body


def error_detail(answer: Answer) -> str:
    """The one-line message of an API error answer (`{"errors": [{"detail": …}]}`)."""
    try:
        obj = answer.json()
        details = [str(e.get("detail", "")).strip() for e in obj.get("errors", []) if isinstance(e, dict)]
        text = "; ".join(d for d in details if d)
        if text:
            return " ".join(text.split())[:500]
    except Exception:  # noqa: BLE001 - any body that is not the documented shape
        pass
    reason = httpx.codes.get_reason_phrase(answer.status)
    return f"HTTP {answer.status} {reason}".strip()
