"""Running the server: `skillpm registry init|serve|token` call these.

Also `python -m registry serve --data DIR` for hosts without the skillpm CLI.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

INSTALL_HINT = "the registry server needs its extra packages: pip install 'skillpm[registry]'"

__all__ = ["INSTALL_HINT", "check_server_deps", "init", "serve", "mint_token", "main"]


def check_server_deps() -> str | None:
    """None if fastapi, uvicorn, markdown-it-py and nh3 import; else the one-line hint."""
    try:
        import fastapi  # noqa: F401
        import markdown_it  # noqa: F401
        import nh3  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return INSTALL_HINT
    return None


def init(data: Path, *, base_url: str | None = None, git: bool = False, admin: str = "admin") -> str:
    """Create the data folder; returns the first admin token (print it once)."""
    from registry.service import init_registry

    return init_registry(Path(data), base_url=base_url, git=git, admin=admin)


def mint_token(
    data: Path,
    *,
    user: str,
    scopes: list[str],
    patterns: list[str] = (),  # type: ignore[assignment]
    name: str = "created on the server",
    expires_in_days: int | None = None,
) -> str:
    """Create a token directly in the database (for the operator on the machine)."""
    from registry.storage import Storage
    from registry.store import Store

    storage = Storage(Path(data))
    if not storage.is_initialized():
        raise FileNotFoundError(f"{data}: not a registry data folder (run `skillpm registry init {data}`)")
    _, token = Store(storage.db_path).create_token(
        user, name=name, scopes=scopes, patterns=list(patterns), expires_in_days=expires_in_days, created_by="server"
    )
    return token


_ENV_DATA = "SKILLPM_REGISTRY_DATA"
_ENV_MAX_UPLOAD = "SKILLPM_REGISTRY_MAX_UPLOAD"


def app_from_env():  # noqa: ANN201 - the uvicorn factory for --workers N
    from registry.app import create_app

    max_upload = os.environ.get(_ENV_MAX_UPLOAD)
    return create_app(Path(os.environ[_ENV_DATA]), **({"max_upload": int(max_upload)} if max_upload else {}))


def serve(
    data: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_upload: int | None = None,
    log_level: str = "info",
    workers: int = 1,
) -> None:
    """Run uvicorn. With workers > 1 each process serves reads on its own; writes
    still go one at a time (per-id and global file locks), see docs/registry-server.md."""
    import uvicorn

    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO), format="%(levelname)s: %(name)s: %(message)s")
    common = dict(host=host, port=port, log_level=log_level, proxy_headers=True, server_header=False, access_log=log_level == "debug")
    if workers > 1:
        os.environ[_ENV_DATA] = str(Path(data).resolve())
        if max_upload is not None:
            os.environ[_ENV_MAX_UPLOAD] = str(max_upload)
        from registry.app import create_app

        create_app(Path(data))  # create/backfill once, before the workers start
        uvicorn.run("registry.cli:app_from_env", factory=True, workers=workers, **common)
        return
    from registry.app import create_app

    kwargs = {} if max_upload is None else {"max_upload": max_upload}
    uvicorn.run(create_app(Path(data), **kwargs), **common)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry", description="The skillpm registry server.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_init = sub.add_parser("init", help="create a data folder and print the first admin token")
    p_init.add_argument("data", type=Path)
    p_init.add_argument("--base-url")
    p_init.add_argument("--git", action="store_true")
    p_serve = sub.add_parser("serve", help="serve a data folder")
    p_serve.add_argument("--data", type=Path, required=True)
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    hint = check_server_deps()
    if hint:
        print(f"error: {hint}", file=sys.stderr)
        return 1
    if args.cmd == "init":
        print(init(args.data, base_url=args.base_url, git=args.git))
        return 0
    serve(args.data, host=args.host, port=args.port, workers=args.workers)
    return 0
