"""The HTTP server: the static protocol, the write API and the browse pages.

    GET  /config.json /index.json /index/<id> /dl/<id>/<v>.tar.gz   (ETag, 304)
    PUT  /api/v1/skills/<id>/<version>           publish (body: the .tar.gz)
    PUT|DELETE /api/v1/skills/<id>/<version>/yank
    GET|PUT|DELETE /api/v1/skills/<id>/owners    {"users": [...]}
    POST|GET /api/v1/tokens   DELETE /api/v1/tokens/<id>
    GET  /api/v1/search?q=TERM
    GET  /  /skills/<id>                         HTML, strict CSP

Only those paths are served: nothing under a dot-folder (`.registry/` holds
the database, `.git/` the history) is reachable, whatever the URL encoding.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from email.utils import formatdate
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import ApiError
from registry.service import DEFAULT_MAX_UPLOAD, Registry
from skillpm.spec import ID_RE

log = logging.getLogger("registry")

__all__ = ["create_app"]

_SMALL = 1 << 20  # files up to this size are read in one go; larger ones stream
_STATIC_DIR = Path(__file__).with_name("static")
_STATIC_FILES = {"browse.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
_NO_CACHE = "no-cache"
_IMMUTABLE = "public, max-age=31536000, immutable"
_VERSION_FILE = re.compile(r"^(?P<v>[0-9A-Za-z.+-]{1,256})\.tar\.gz$")
_JSON_HEADERS = {"X-Content-Type-Options": "nosniff"}


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1)
    patterns: list[str] = Field(default_factory=list)
    expires_in_days: int | None = None
    user: str | None = None  # admins only: create the token for this user (created if new)


class OwnersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: list[str]


def _error(status: int, details: list[str], headers: dict | None = None) -> JSONResponse:
    h = dict(_JSON_HEADERS)
    if status == 401:
        h["WWW-Authenticate"] = 'Bearer realm="skillpm registry"'
    h.update(headers or {})
    return JSONResponse({"errors": [{"detail": d} for d in details]}, status_code=status, headers=h)


def _etag(st: os.stat_result) -> str:
    return f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'


def _not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _serve_file(request: Request, path: Path, media_type: str, cache: str) -> Response:
    """One file of the static tree, with ETag / If-None-Match (304)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return _error(404, ["not found"])
    except OSError:
        return _error(404, ["not found"])
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return _error(404, ["not found"])
        etag = _etag(st)
        headers = {
            "ETag": etag,
            "Cache-Control": cache,
            "Last-Modified": formatdate(st.st_mtime, usegmt=True),
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
        }
        if _not_modified(request, etag):
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            headers["Content-Length"] = str(st.st_size)
            return Response(status_code=200, headers=headers, media_type=media_type)
        if st.st_size <= _SMALL:
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read()
            return Response(data, media_type=media_type, headers=headers)
    finally:
        os.close(fd)
    return FileResponse(path, media_type=media_type, headers=headers, stat_result=st)


def _split_skill_path(rest: str) -> tuple[str, str | None, str | None]:
    """`<id>/<version>[/yank]` or `<id>/owners` -> (id, version, action)."""
    parts = rest.strip("/").split("/")
    if len(parts) >= 2 and parts[-1] == "owners":
        return "/".join(parts[:-1]), None, "owners"
    if len(parts) >= 3 and parts[-1] == "yank":
        return "/".join(parts[:-2]), parts[-2], "yank"
    if len(parts) >= 2:
        return "/".join(parts[:-1]), parts[-1], "publish"
    return rest, None, None


def create_app(data_dir: Path | str, *, max_upload: int = DEFAULT_MAX_UPLOAD) -> FastAPI:
    """The registry server for one data folder (created as a registry if empty)."""
    reg = Registry(Path(data_dir), max_upload=max_upload)
    root = reg.root
    app = FastAPI(
        title="skillpm registry",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.registry = reg

    # ---- errors ----------------------------------------------------- #

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if not request.url.path.startswith("/api/") and exc.status == 404:
            from registry.browse import render_error

            return render_error(request, 404, exc.detail)
        return _error(exc.status, exc.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = "not found"
        return _error(exc.status_code, [detail], headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            details.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
        return _error(422, details or ["invalid request"])

    @app.exception_handler(ValidationError)
    async def _model_error(request: Request, exc: ValidationError) -> Response:
        details = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            details.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
        return _error(422, details or ["invalid request"])

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _error(500, ["internal error; the registry's log has the details"])

    async def _auth(request: Request):
        return await run_in_threadpool(reg.authenticate, request.headers.get("authorization"))

    # ---- the static protocol ---------------------------------------- #

    @app.api_route("/config.json", methods=["GET", "HEAD"], include_in_schema=False)
    async def config_json(request: Request) -> Response:
        return _serve_file(request, root / "config.json", "application/json", _NO_CACHE)

    @app.api_route("/index.json", methods=["GET", "HEAD"], include_in_schema=False)
    async def index_json(request: Request) -> Response:
        return _serve_file(request, root / "index.json", "application/json", _NO_CACHE)

    @app.api_route("/index/{ident:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def index_file(request: Request, ident: str) -> Response:
        if not ID_RE.match(ident):
            return _error(404, ["not found"])
        return _serve_file(request, root / "index" / ident, "text/plain; charset=utf-8", _NO_CACHE)

    @app.api_route("/dl/{rest:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def archive(request: Request, rest: str) -> Response:
        ident, _, filename = rest.rpartition("/")
        m = _VERSION_FILE.match(filename)
        if not ID_RE.match(ident) or m is None or m["v"].startswith("."):
            return _error(404, ["not found"])
        return _serve_file(request, root / "dl" / ident / filename, "application/gzip", _IMMUTABLE)

    @app.api_route("/static/{name}", methods=["GET", "HEAD"], include_in_schema=False)
    async def static(request: Request, name: str) -> Response:
        if name not in _STATIC_FILES:
            return _error(404, ["not found"])
        return _serve_file(request, _STATIC_DIR / name, _STATIC_FILES[name], _NO_CACHE)

    # ---- the write API ---------------------------------------------- #

    @app.put("/api/v1/skills/{rest:path}", status_code=201)
    async def put_skill(request: Request, rest: str) -> Response:
        ident, version, action = _split_skill_path(rest)
        if action is None:
            raise ApiError(404, "use /api/v1/skills/<id>/<version>, …/<version>/yank or …/owners")
        token = await _auth(request)
        if action == "owners":
            body = OwnersRequest.model_validate(await _json(request))
            return JSONResponse(await run_in_threadpool(reg.change_owners, token, ident, body.users, add=True))
        if action == "yank":
            return JSONResponse(await run_in_threadpool(reg.yank, token, ident, version, yanked=True))
        await run_in_threadpool(reg.precheck_publish, token, ident, version)
        data = await _read_body(request, reg.max_upload)
        result = await run_in_threadpool(reg.publish, token, ident, version, data)
        return JSONResponse(result, status_code=201)

    @app.delete("/api/v1/skills/{rest:path}")
    async def delete_skill(request: Request, rest: str) -> Response:
        ident, version, action = _split_skill_path(rest)
        if action not in ("owners", "yank"):
            raise ApiError(404, "DELETE works on …/<version>/yank (unyank) and …/owners")
        token = await _auth(request)
        if action == "owners":
            body = OwnersRequest.model_validate(await _json(request))
            return JSONResponse(await run_in_threadpool(reg.change_owners, token, ident, body.users, add=False))
        return JSONResponse(await run_in_threadpool(reg.yank, token, ident, version, yanked=False))

    @app.get("/api/v1/skills/{rest:path}")
    async def get_skill(request: Request, rest: str) -> Response:
        ident, _, action = _split_skill_path(rest)
        if action != "owners":
            raise ApiError(404, "GET works on /api/v1/skills/<id>/owners; versions are in /index/<id>")
        return JSONResponse(await run_in_threadpool(reg.owners, ident))

    @app.post("/api/v1/tokens", status_code=201)
    async def create_token(request: Request) -> Response:
        token = await _auth(request)
        body = TokenRequest.model_validate(await _json(request))
        result = await run_in_threadpool(
            lambda: reg.create_token(
                token,
                name=body.name,
                scopes=body.scopes,
                patterns=body.patterns,
                expires_in_days=body.expires_in_days,
                user=body.user,
            )
        )
        return JSONResponse(result, status_code=201, headers={"Cache-Control": "no-store"})

    @app.get("/api/v1/tokens")
    async def list_tokens(request: Request) -> Response:
        token = await _auth(request)
        return JSONResponse(await run_in_threadpool(reg.list_tokens, token))

    @app.delete("/api/v1/tokens/{token_id}")
    async def revoke_token(request: Request, token_id: str) -> Response:
        token = await _auth(request)
        return JSONResponse(await run_in_threadpool(reg.revoke_token, token, token_id))

    @app.get("/api/v1/search")
    async def search(q: str = "", limit: int = 50) -> Response:
        limit = max(1, min(limit, 100))
        return JSONResponse(await run_in_threadpool(reg.search, q, limit=limit))

    @app.api_route("/api/{rest:path}", methods=["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"], include_in_schema=False)
    async def api_unknown(rest: str) -> Response:
        return _error(404, [f"no such API endpoint: /api/{rest}"])

    # ---- the browse pages ------------------------------------------- #

    @app.get("/", include_in_schema=False)
    async def home(request: Request, q: str = "") -> Response:
        from registry.browse import render_index

        catalog = await run_in_threadpool(reg.catalog)
        return render_index(request, catalog, q)

    @app.get("/skills/{ident:path}", include_in_schema=False)
    async def skill_page(request: Request, ident: str) -> Response:
        from registry.browse import render_error, render_skill

        if not ID_RE.match(ident):
            return render_error(request, 404, f"{ident!r} is not a registry id")
        page = await run_in_threadpool(reg.page, ident)
        return render_skill(request, page)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return JSONResponse({"ok": True})

    return app


async def _json(request: Request) -> Any:
    body = await request.body()
    if len(body) > 64 * 1024:
        raise ApiError(413, "the request body is over 64 KiB")
    import json

    try:
        return json.loads(body or b"null")
    except ValueError:
        raise ApiError(422, "the request body is not valid JSON") from None


async def _read_body(request: Request, limit: int) -> bytes:
    """The upload, refused with 413 as soon as it is over the limit."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ApiError(400, "invalid Content-Length") from None
        if size > limit:
            raise ApiError(413, f"the archive is {size} bytes; this registry accepts at most {limit}")
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise ApiError(413, f"the archive is over the limit of {limit} bytes")
    if not buf:
        raise ApiError(422, "the request body is empty; send the skill's .tar.gz")
    return bytes(buf)
