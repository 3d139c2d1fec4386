"""Workspace commands: targets, import, new, doctor.

Registered on the main app by one import at the end of skillpm/cli/app.py.
Like the rest of the CLI: parse, call an operation, print.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from skillpm.cli.app import GlobalOpt, _info, _print_changes, _project, app


@app.command("targets")
def targets_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """List the agents skillpm links skills into: configured, detected, project and user folders.

    Example: skillpm targets --json
    """
    from skillpm.cli.output import table
    from skillpm.ops.project import NoManifestError
    from skillpm.ops.targets import describe

    try:
        project = _project(global_)
    except NoManifestError:  # a broken skills.toml is an error, not "no project"
        project = None
    rows = describe(project, root=Path.cwd())
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    cells = [("target", "configured", "detected", "project folder", "user folder")]
    for r in rows:
        folder = r["project_dir"]
        if project is not None and project.scope == "project":
            try:
                folder = str(Path(folder).relative_to(project.root))
            except ValueError:
                pass
        cells.append((r["name"], "yes" if r["configured"] else "-", "yes" if r["detected"] else "-", folder, r["user_dir"]))
    for line in table(cells):
        print(line)
    if project is None:
        _info("No skills.toml here: add targets under [install] in skills.toml, e.g. targets = [\"claude-code\"]")
    else:
        for r in rows:
            if r.get("is_install_dir"):
                _info(f"note: {r['name']} reads the install dir itself; nothing to link")


@app.command("import")
def import_cmd(
    lock_file: Annotated[
        Optional[Path],
        typer.Argument(help="A skills-lock.json (npx skills) or .skill-lock.json (npx skills / gh skill). Default: ./skills-lock.json, or the user lock with -g.", show_default=False),
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; no network.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Write skills.toml and skills.lock from the lock of `npx skills` or `gh skill` (installs nothing).

    Example: skillpm import skills-lock.json   (skillpm import -g reads ~/.agents/.skill-lock.json)
    """
    from skillpm.errors import SkillpmError
    from skillpm.interop.importer import import_lock
    from skillpm.interop.skills_lock import PROJECT_LOCK, user_lock_path

    if global_:
        project = _project(True, create=True)
        source = lock_file or user_lock_path()
    else:
        from skillpm.ops.project import NoManifestError

        try:
            project = _project()
        except NoManifestError:
            from skillpm.ops.project import load_project
            from skillpm.ops.sync import init

            path = init(Path.cwd())
            _info(f"Created {path.name}.")
            project = load_project(path)
        source = lock_file or (project.root / PROJECT_LOCK)
        if lock_file is None and not source.exists() and (Path.cwd() / PROJECT_LOCK).exists():
            source = Path.cwd() / PROJECT_LOCK
    if not source.exists():
        raise SkillpmError(f"{source}: not found", hint="give the lock file to import: skillpm import PATH")
    report = import_lock(project, source, offline=offline)
    for item in report.imported:
        _info(f"  + {item.key}: {item.spec} ({item.how})")
    for name, why in report.skipped:
        _info(f"warning: could not import {name}: {why}")
    for w in report.warnings:
        _info(f"warning: {w}")
    _print_changes(report.changes)
    for name, why in report.targets:
        _info(f"  + target {name} in [install] targets ({why})")
    if report.unknown_agents:
        _info(f"note: skillpm has no target for agent(s) {', '.join(report.unknown_agents)} named in {source.name} (`skillpm targets` lists the known ones)")
    if report.imported:
        target = "the global skills.toml" if global_ else "skills.toml"
        _info(f"Imported {len(report.imported)} of {len(report.imported) + len(report.skipped)} skill(s) from {source.name} into {target} and skills.lock.")
        _info("Next: skillpm install --force   (replaces the folders the other tool made; a backup is kept)")
    else:
        _info(f"Nothing imported from {source}.")
    if report.skipped:
        raise typer.Exit(1)


@app.command("new")
def new_cmd(
    name: Annotated[str, typer.Argument(help="The skill's name (lowercase letters, digits, hyphens).", show_default=False)],
    path: Annotated[Path, typer.Option("--path", help="The folder to create the skill in.")] = Path("."),
    description: Annotated[Optional[str], typer.Option("--description", help="The description (what it does, when to use it).")] = None,
) -> None:
    """Create a skill folder (SKILL.md, references/, scripts/) that passes `skillpm validate --strict`.

    Example: skillpm new pdf-tools --path skills
    """
    from skillpm.scaffold import new_skill

    folder = new_skill(name, path, description=description)
    _info(f"Created {folder}/ (SKILL.md, references/, scripts/). Next: edit SKILL.md, then skillpm validate --strict {folder}")


@app.command("doctor")
def doctor_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Check git, the cache, agent targets, the lock and the installed skills; exit 1 if something is wrong.

    Example: skillpm doctor
    """
    from skillpm.ops.doctor import run

    checks = run(Path.cwd(), global_=global_)
    failed = any(c.status == "fail" for c in checks)
    if as_json:
        print(json.dumps({"ok": not failed, "checks": [c.to_json() for c in checks]}, indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            print(f"{c.status:<4}  {c.name:<{width}}  {c.detail}")
        print("doctor: something is wrong (see fail lines)" if failed else "doctor: all good", file=sys.stderr if failed else sys.stdout)
    if failed:
        raise typer.Exit(1)
