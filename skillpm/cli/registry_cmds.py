"""Registry commands: publish, yank, search, info, login, logout, registry build.

Registered on the main app by one import at the end of skillpm/cli/app.py.
Heavy imports (httpx, pydantic) stay inside the functions: `skillpm --help`
must not load them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from skillpm.cli.app import _info, app

registry_app = typer.Typer(help="Build and inspect registries.", epilog="Example: skillpm registry build skills/ public/", no_args_is_help=True)
app.add_typer(registry_app, name="registry")

_REGISTRY_HELP = "A registry name from [registries] in skills.toml, a URL, a folder path or git+URL."


def _manifest_registries() -> tuple[dict[str, str], Path | None]:
    from skillpm.manifest import find_manifest, load_manifest

    path = find_manifest(Path.cwd().resolve())
    if path is None:
        return {}, None
    manifest = load_manifest(path)
    return manifest.registries, manifest.root


def _pick(given: str | None, *, offline: bool = False):
    from skillpm.registries.locations import pick_registry

    registries, root = _manifest_registries()
    return pick_registry(given, project_root=root, registries=registries, offline=offline)


def _split_qualified(text: str) -> tuple[str | None, str]:
    reg, sep, ident = text.rpartition(":")
    return (reg or None) if sep else None, ident


@app.command()
def publish(
    path: Annotated[Path, typer.Argument(help="The skill folder (with --all: a tree of skill folders).")] = Path("."),
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
    skill_id: Annotated[Optional[str], typer.Option("--id", help="The registry id (default: metadata.skill_id, or the path under skills/).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Publish every skill folder under PATH; versions already published unchanged are skipped.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and pack; publish nothing.")] = False,
) -> None:
    """Validate a skill strictly, pack it and publish it to a registry.

    Example: skillpm publish skills/docker/basics --registry ./registry
    """
    from skillpm.errors import SkillpmError
    from skillpm.registries.publish import InvalidSkill, find_skills, prepare
    from skillpm.registries.publish import publish as do_publish

    reg = _pick(registry)
    if reg.is_embedded and not dry_run:
        raise SkillpmError(
            "the embedded registry is read-only; say where to publish",
            hint="pass --registry NAME|URL|PATH, or set [registries] default in skills.toml",
        )
    if all_ and skill_id:
        raise SkillpmError("--id names one skill; it cannot be combined with --all")
    folders = find_skills(path) if all_ else [path]
    prepared = []
    try:
        for folder in folders:
            explicit = skill_id
            if all_:
                from skillpm.skill import read_skill

                info, _ = read_skill(folder, strict=True)
                if info is not None and not info.skill_id and not info.metadata.get("namespace"):
                    rel = folder.resolve().relative_to(path.resolve()).parts
                    explicit = "/".join(rel) if rel else None
            prepared.append(prepare(folder, ident=explicit))
    except InvalidSkill as e:
        for p in e.problems:
            print(str(p), file=sys.stderr)
        raise
    for prep in prepared:
        size = len(prep.archive)
        if dry_run:
            print(f"{prep.ident} {prep.version}: ok ({size} bytes, {prep.line.cksum})")
            continue
        if all_ and _exists(reg):
            same = [ln for ln in reg.lines(prep.ident) if ln.version == prep.line.version]
            if same and same[0].integrity == prep.line.integrity:
                _info(f"unchanged {prep.ident} {prep.version} (already published)")
                continue
        print(do_publish(reg, prep) + f" ({size} bytes)")


def _exists(reg) -> bool:  # noqa: ANN001
    """False for a folder or git registry that publishing is about to create."""
    from skillpm.errors import SourceError

    if reg.location.kind == "folder":
        return (reg.location.path / "config.json").is_file()
    if reg.location.kind == "git":
        try:
            reg.config  # noqa: B018
        except SourceError:
            return False
    return True


@app.command()
def yank(
    spec: Annotated[str, typer.Argument(help="ID@VERSION, e.g. docker/basics@1.2.0", show_default=False)],
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Unyank: make the version choosable again.")] = False,
) -> None:
    """Mark a published version as yanked: never chosen fresh, still installable from a lock.

    Example: skillpm yank docker/basics@1.2.0 --registry team
    """
    from skillpm.errors import UsageError
    from skillpm.registries.publish import yank as do_yank

    qual, rest = _split_qualified(spec)
    ident, at, version = rest.partition("@")
    if not at or not version:
        raise UsageError(f"{spec!r}: give ID@VERSION, e.g. docker/basics@1.2.0")
    reg = _pick(registry or qual)
    print(do_yank(reg, ident, version, undo=undo))


@app.command()
def search(
    term: Annotated[str, typer.Argument(help="Words to look for in ids and descriptions.", show_default=False)],
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; no network.")] = False,
) -> None:
    """Search a registry (the default one unless --registry).

    Example: skillpm search docker
    """
    from skillpm.registries.query import search as do_search

    reg = _pick(registry, offline=offline)
    hits = do_search(reg, term)
    if as_json:
        print(json.dumps([h.to_json() for h in hits], indent=2))
        return
    if not hits:
        _info(f"No skills match {term!r} in {reg.label}.")
        return
    width = max(len(h.name) for h in hits)
    for h in hits:
        desc = " ".join(h.description.split())
        if len(desc) > 80:
            desc = desc[:77] + "..."
        print(f"{h.name:<{width}}  {h.version:<10} {desc}".rstrip())


@app.command()
def info(
    skill: Annotated[str, typer.Argument(help="A registry id (REGISTRY:ID for a named registry).", show_default=False)],
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; no network.")] = False,
) -> None:
    """Show a registry skill: description, versions (yanked marked), dependencies, how to add it.

    Example: skillpm info docker/basics
    """
    from skillpm.registries.query import info as do_info

    qual, ident = _split_qualified(skill)
    reg = _pick(registry or qual, offline=offline)
    result = do_info(reg, ident, qualifier=qual)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
        return
    print(f"{result.name} {result.latest or '(all yanked)'}")
    print(f"registry: {result.registry}")
    if result.description:
        print(f"description: {' '.join(result.description.split())}")
    print("versions:")
    for v in result.versions:
        mark = "  (yanked)" if v["yanked"] else ""
        deps = ", ".join(v["dependencies"]) or "none"
        print(f"  {v['version']}{mark}  dependencies: {deps}")
    print(f"install: {result.install}")


def _read_token(given: str | None, label: str) -> str:
    import getpass

    if given is not None:
        _info("warning: a token given with --token lands in your shell history; prefer piping it on stdin")
        return given
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"Token for {label}: ")
    return sys.stdin.readline() if sys.stdin is not None else ""


@app.command()
def login(
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
    token: Annotated[Optional[str], typer.Option("--token", help="The token (prefer stdin: this lands in shell history).")] = None,
) -> None:
    """Store a registry token (read from stdin, not echoed) in credentials.toml (mode 0600).

    Example: skillpm login --registry team < token.txt
    """
    from skillpm.errors import SkillpmError
    from skillpm.registries.auth import store_token

    reg = _pick(registry)
    if reg.location.kind != "http":
        raise SkillpmError(f"{reg.label} is not an HTTP registry; tokens are only sent to HTTP registries")
    value = _read_token(token, reg.label).strip()
    if not value:
        raise SkillpmError("no token given", hint="pipe it on stdin: skillpm login --registry NAME < token.txt")
    path = store_token(reg.lock_url, value)
    _info(f"Saved the token for {reg.label} in {path}.")


@app.command()
def logout(
    registry: Annotated[Optional[str], typer.Option("--registry", "-r", help=_REGISTRY_HELP)] = None,
) -> None:
    """Forget the stored token of a registry.

    Example: skillpm logout --registry team
    """
    from skillpm.registries.auth import forget_token

    reg = _pick(registry)
    if forget_token(reg.lock_url):
        _info(f"Removed the token for {reg.label}.")
    else:
        _info(f"No stored token for {reg.label}.")


@registry_app.command("build")
def registry_build(
    skills_dir: Annotated[Path, typer.Argument(help="A tree of skill folders (ids from their paths).", show_default=False)],
    out_dir: Annotated[Path, typer.Argument(help="The registry folder to create or extend.", show_default=False)],
) -> None:
    """Build (or extend) a static registry folder from a tree of skills.

    Serve OUT_DIR with any static web server, or use it as a folder registry.
    Example: skillpm registry build skills/ public/
    """
    from skillpm.registries.publish import InvalidSkill, build_registry

    try:
        results = build_registry(skills_dir, out_dir)
    except InvalidSkill as e:
        for p in e.problems:
            print(str(p), file=sys.stderr)
        raise
    for ident, version, status in results:
        _info(f"  {'+' if status == 'published' else '='} {ident} {version}")
    added = sum(1 for r in results if r[2] == "published")
    _info(f"Registry {out_dir}: {added} published, {len(results) - added} unchanged.")
