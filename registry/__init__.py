"""The skillpm registry server (the optional extra `skillpm[registry]`).

It serves the static registry protocol (config.json, index/<id>, dl/…, the
same files any static host or a git clone can serve), a write API for
publishing, yanking, owners and tokens, and HTML pages to browse the skills.

    from registry.app import create_app
    app = create_app("/srv/registry")        # an ASGI app (FastAPI)

Command line: `skillpm registry init DIR`, `skillpm registry serve --data DIR`.
See docs/registry-server.md.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(data_dir, **kwargs):  # noqa: ANN001, ANN201 - lazy: fastapi is optional
    from registry.app import create_app as _create_app

    return _create_app(data_dir, **kwargs)
