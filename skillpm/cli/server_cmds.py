"""Registry server commands: `registry init|serve|token` and `owner add|remove|list`.

Registered by one import at the end of skillpm/cli/app.py. The server is the
optional extra `skillpm[registry]`: fastapi and uvicorn are imported only
inside `registry serve`, never by `skillpm --help`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from skillpm.cli.app import _info, app
from skillpm.errors import SkillpmError, UsageError


def _registry_group() -> typer.Typer:
    """The `registry` sub-app: shared with the client's commands (`registry build`)."""
    for group in app.registered_groups:
        if group.name == "registry" and group.typer_instance is not None:
            return group.typer_instance
    sub = typer.Typer(help="Build, serve and inspect registries.", no_args_is_help=True)
    app.add_typer(sub, name="registry")
    return sub


registry_app = _registry_group()
owner_app = typer.Typer(help="See and change who may publish a registry skill.", epilog="Example: skillpm owner list docker/basics", no_args_is_help=True)
app.add_typer(owner_app, name="owner")


def _api_error(exc) -> SkillpmError:  # noqa: ANN001 - registry.errors.ApiError
    return SkillpmError(exc.detail)


# --------------------------------------------------------------------------- #
# registry init / serve / token


@registry_app.command("init")
def registry_init(
    data: Annotated[Path, typer.Argument(help="The data folder to create (absent or empty).", show_default=False)],
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="The public URL the server is reached at (config.json's api).")] = None,
    git: Annotated[bool, typer.Option("--git", help="Make the folder a git repository: one commit per publish, yank and owner change.")] = False,
    admin: Annotated[str, typer.Option("--admin", help="The first admin user's name.")] = "admin",
) -> None:
    """Create a registry data folder and print its first admin token (shown once).

    Example: skillpm registry init /srv/skills --git --base-url https://skills.example.com/
    """
    from registry.errors import ApiError
    from registry.service import init_registry

    try:
        token = init_registry(data, base_url=base_url, git=git, admin=admin)
    except ApiError as exc:
        raise _api_error(exc) from None
    _info(f"Created the registry {data}{' (a git repository)' if git else ''}.")
    _info(f"The admin token of {admin!r} follows; it is shown only this once, store it now:")
    print(token)
    _info(f"Next: skillpm registry serve --data {data}")


@registry_app.command("serve")
def registry_serve(
    data: Annotated[Path, typer.Option("--data", help="The registry data folder (from `skillpm registry init`).", show_default=False)],
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port to listen on.")] = 8000,
    max_upload_mb: Annotated[Optional[float], typer.Option("--max-upload-mb", help="The largest archive accepted (default 25).")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="critical, error, warning, info or debug.")] = "info",
    workers: Annotated[int, typer.Option("--workers", help="Processes serving requests (writes still go one at a time).", min=1, max=64)] = 1,
) -> None:
    """Serve a registry: the static index, the write API and the browse pages.

    Example: skillpm registry serve --data /srv/skills --port 8000
    """
    from registry.cli import check_server_deps

    hint = check_server_deps()
    if hint:
        raise SkillpmError(hint)
    from registry.storage import Storage

    if not Storage(data).is_initialized():
        raise SkillpmError(f"{data}: not a registry data folder", hint=f"create one with `skillpm registry init {data}`")
    from registry.cli import serve

    _info(f"Serving {data} on http://{host}:{port}/ (Ctrl-C stops)")
    serve(
        data,
        host=host,
        port=port,
        max_upload=int(max_upload_mb * 1024 * 1024) if max_upload_mb else None,
        log_level=log_level,
        workers=workers,
    )


@registry_app.command("token")
def registry_token(
    data: Annotated[Path, typer.Option("--data", help="The registry data folder.", show_default=False)],
    user: Annotated[str, typer.Option("--user", help="Whose token (created if new).", show_default=False)],
    scope: Annotated[list[str], typer.Option("--scope", help="publish-new, publish-update, yank, owners, admin (repeat).", show_default=False)],
    pattern: Annotated[Optional[list[str]], typer.Option("--pattern", help="Limit to ids matching this glob, e.g. 'docker/*' (repeat).")] = None,
    expires_in_days: Annotated[Optional[int], typer.Option("--expires-in-days", help="Expire after N days.")] = None,
    name: Annotated[str, typer.Option("--name", help="A label for the token.")] = "created on the server",
) -> None:
    """Create a token directly in a data folder's database (for the server's operator).

    Remote users create tokens through the API (POST /api/v1/tokens) with a token they have.
    Example: skillpm registry token --data /srv/skills --user alice --scope publish-new --scope publish-update
    """
    from registry.cli import mint_token
    from registry.errors import ApiError

    try:
        token = mint_token(data, user=user, scopes=scope, patterns=pattern or [], name=name, expires_in_days=expires_in_days)
    except ApiError as exc:
        raise _api_error(exc) from None
    except FileNotFoundError as exc:
        raise SkillpmError(str(exc)) from None
    _info(f"A token for {user!r} follows; it is shown only this once:")
    print(token)


# --------------------------------------------------------------------------- #
# owner add / remove / list


_REGISTRY_HELP = "A registry name from [registries] in skills.toml, or its URL."
_TOKEN_HELP = "The token (default: SKILLPM_TOKEN_<NAME>, then the one `skillpm login` stored)."


def _owners_call(method: str, ident: str, registry: str | None, token: str | None, users: list[str] | None) -> list[str]:
    from skillpm.manifest import find_manifest, load_manifest
    from skillpm.registries.locations import pick_registry
    from skillpm.registries.publish import owners
    from skillpm.spec import ID_RE

    if not ID_RE.match(ident):
        raise UsageError(f"{ident!r} is not a registry id (like docker/basics)")
    path = find_manifest(Path.cwd().resolve())
    manifest = load_manifest(path) if path is not None else None
    reg = pick_registry(
        registry,
        project_root=manifest.root if manifest else None,
        registries=manifest.registries if manifest else {},
    )
    return owners(reg, ident, users=None if method == "GET" else users, add=method == "PUT", token=token)


@owner_app.command("add")
def owner_add(
    ident: Annotated[str, typer.Argument(help="The registry id.", show_default=False)],
    users: Annotated[list[str], typer.Argument(help="User names to add.", show_default=False)],
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
    token: Annotated[Optional[str], typer.Option("--token", help=_TOKEN_HELP)] = None,
) -> None:
    """Let more users publish new versions of a skill (needs the `owners` scope).

    Example: skillpm owner add docker/basics alice --registry team
    """
    owners = _owners_call("PUT", ident, registry, token, users)
    print(f"owners of {ident}: {', '.join(owners)}")


@owner_app.command("remove")
def owner_remove(
    ident: Annotated[str, typer.Argument(help="The registry id.", show_default=False)],
    users: Annotated[list[str], typer.Argument(help="User names to remove.", show_default=False)],
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
    token: Annotated[Optional[str], typer.Option("--token", help=_TOKEN_HELP)] = None,
) -> None:
    """Stop users from publishing a skill (a skill keeps at least one owner).

    Example: skillpm owner remove docker/basics bob --registry team
    """
    owners = _owners_call("DELETE", ident, registry, token, users)
    print(f"owners of {ident}: {', '.join(owners)}")


@owner_app.command("list")
def owner_list(
    ident: Annotated[str, typer.Argument(help="The registry id.", show_default=False)],
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
) -> None:
    """Print who may publish a skill, one user a line.

    Example: skillpm owner list docker/basics
    """
    for user in _owners_call("GET", ident, registry, None, None):
        print(user)

