"""The command line: parse, call an operation, print. No logic lives here.

Exit codes: 0 ok, 1 failure, 2 usage error. Errors are one line on stderr;
--debug shows the traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from skillpm import __version__

app = typer.Typer(
    name="skillpm",
    help="A package manager for agent skills: lockfile, semver ranges, dependencies, registries.",
    epilog="Example: skillpm init && skillpm add ./skills/my-skill && skillpm verify",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
cache_app = typer.Typer(help="Inspect or clear skillpm's download cache.", epilog="Example: skillpm cache dir", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


class _State:
    debug = False
    quiet = False
    verbose = False


state = _State()


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _info(message: str) -> None:
    if not state.quiet:
        print(message, file=sys.stderr)


def _version_callback(value: bool) -> None:
    if value:
        print(f"skillpm {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and requested data.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more detail.")] = False,
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    """skillpm: install agent skills with a lockfile, like cargo or uv do for code.

    Example: skillpm init && skillpm add ./skills/my-skill && skillpm verify
    """
    state.debug = debug or bool(os.environ.get("SKILLPM_DEBUG"))
    state.quiet = quiet
    state.verbose = verbose
    from skillpm.cli.output import install_progress

    install_progress(quiet=quiet)


GlobalOpt = Annotated[
    bool, typer.Option("--global", "-g", help="Your own skills (manifest and lock in the config dir, installed under ~), not the project's.")
]


def _project(global_: bool = False, *, create: bool = False, broken_lock_ok: bool = False):
    if global_:
        from skillpm.ops.global_scope import ensure_global_manifest, global_project

        if create:
            made = ensure_global_manifest()
            if made is not None:
                path, targets = made
                _info(f"Created {path} (targets: {', '.join(targets) or 'none yet; see `skillpm targets`'})")
        return global_project(broken_lock_ok=broken_lock_ok)
    from skillpm.ops.project import find_project

    return find_project(Path.cwd(), broken_lock_ok=broken_lock_ok)


def _print_targets(results) -> None:
    """What syncing agent targets did (a list of TargetSync), one line per target, warnings last."""
    from skillpm.ops.targets import summarize

    info, warnings = summarize(results, Path.cwd())
    for line in info:
        _info(f"  {line}")
    for line in warnings:
        _info(f"warning: {line}")


def _print_verbose(report) -> None:
    if not state.verbose or state.quiet:
        return
    stats = getattr(report, "stats", None)
    if stats is not None:
        _info(
            f"resolver: {stats.decisions} decisions, {stats.conflicts} conflicts, {stats.backtracks} backtracks, "
            f"{stats.provider_calls} source queries in {stats.seconds:.2f}s"
        )
    outcome = getattr(report, "outcome", None)
    for e in outcome.entries if outcome is not None else []:
        pin = f" @ {e.commit[:12]}" if e.commit else ""
        _info(f"  {e.name} {e.version} from {e.source}{(' ' + e.path) if e.path else ''}{pin}")


def _print_messages(report) -> None:
    """Notes (e.g. a rolled-back interrupted install) and warnings, on stderr."""
    for note in report.notes:
        _info(f"note: {note}")
    for w in report.warnings:
        _info(f"warning: {w}")


_SIGNS = {"added": "+", "restored": "+", "upgraded": "~", "downgraded": "~", "changed": "~", "removed": "-"}


def _print_outcome(outcome) -> None:
    """What changed, one line each, then what was kept, backups and agent targets, then a count."""
    for c in outcome.changes:
        sign = _SIGNS[c.kind]
        if c.kind == "added":
            _info(f"  {sign} {c.name} {c.new} -> {c.folder}/")
        elif c.kind == "restored":
            _info(f"  {sign} {c.name} {c.new} -> {c.folder}/ (restored)")
        elif c.kind == "removed":
            _info(f"  {sign} {c.name} {c.old}" if c.old else f"  {sign} {c.folder}/ (not skillpm's)")
        elif c.old == c.new:
            _info(f"  {sign} {c.name} {c.new} (files changed)")
        else:
            _info(f"  {sign} {c.name} {c.old} -> {c.new}" + ("" if c.kind == "upgraded" else f" ({c.kind})"))
    for conflict in outcome.conflicts:
        _info(f"  ! {conflict.describe()}")
    for b in outcome.backups:
        _info(f"note: the replaced copy was kept at {b}")
    _print_targets(outcome.targets)


def _summary(outcome) -> str:
    counts = []
    for kind in ("added", "upgraded", "downgraded", "changed", "removed", "restored"):
        n = len(outcome.of(kind))
        if n:
            counts.append(f"{n} {kind}")
    for reason in sorted({c.reason for c in outcome.conflicts}):
        counts.append(f"{sum(c.reason == reason for c in outcome.conflicts)} kept ({reason})")
    if counts:
        return ", ".join(counts) + "."
    written = [p.name for p in outcome.written]
    if written:
        return f"No skill changed; updated {' and '.join(written)}."
    if any(t.changed for t in outcome.targets):
        return "No skill changed; updated the agent folders."
    return "Already up to date."


def _finish(report) -> None:
    """Exit 1 when folders were left in conflict: the install dir is not the lock."""
    if report.ok:
        return
    outcome = report.outcome
    n = len(outcome.conflicts)
    _err(f"error: {n} folder{'s' if n > 1 else ''} left as {'they are' if n > 1 else 'it is'}, so the install dir is not what skills.lock says")
    for hint in dict.fromkeys(c.hint for c in outcome.conflicts):
        _err(f"hint: {hint}")
    raise typer.Exit(1)


def _print_report(report) -> None:
    _print_messages(report)
    _print_targets(report.recovered_targets)
    outcome = report.outcome
    if outcome is None:
        return
    _print_outcome(outcome)
    _print_verbose(report)
    _info(_summary(outcome))
    _finish(report)


@app.command()
def init(
    install_dir: Annotated[Optional[str], typer.Option("--dir", help="Install dir (default .agents/skills).")] = None,
) -> None:
    """Create skills.toml in the current folder.

    Example: skillpm init --dir .claude/skills
    """
    from skillpm.ops.sync import init as do_init

    path = do_init(Path.cwd(), install_dir=install_dir)
    _info(f"Created {path.name}. Next: skillpm add SPEC")


@app.command()
def add(
    specs: Annotated[list[str], typer.Argument(help="What to add: a registry id, a git URL or a local path.", show_default=False, metavar="SPEC")],
    force: Annotated[bool, typer.Option("--force", help="Replace folders skillpm did not install (a backup is kept).")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; no network.")] = False,
    global_: GlobalOpt = False,
    skill: Annotated[
        Optional[list[str]], typer.Option("--skill", metavar="NAME", help="From a repository with several skills: add this one (repeatable).")
    ] = None,
    all_skills: Annotated[bool, typer.Option("--all", help="From a repository with several skills: add all of them.")] = False,
) -> None:
    """Add skills to skills.toml, resolve, install and lock them.

    Example: skillpm add ./skills/reviewer docker/basics@^1.0   (skillpm add -g ... for your own skills)
    Example: skillpm add github:anthropics/skills --skill pdf --skill docx
    """
    from skillpm.ops.sync import add as do_add

    choose = _prompt_for_skills if sys.stdin.isatty() and sys.stderr.isatty() else None
    report = do_add(
        _project(global_, create=True),
        specs,
        cwd=Path.cwd(),
        force=force,
        offline=offline,
        skills=skill,
        all_skills=all_skills,
        choose=choose,
    )
    _print_report(report)


def _prompt_for_skills(where: str, found: list) -> list:
    """Ask on the terminal which of a repository's skills to add."""
    from skillpm.errors import UsageError

    _err(f"{where} holds {len(found)} skills:")
    for i, d in enumerate(found, 1):
        _err(f"  {i:>2}. {d.name}  ({d.path or 'root'})  {d.version or ''}")
    answer = typer.prompt("Add which? (numbers or names, comma-separated, or 'all')", err=True).strip()
    if answer.lower() == "all":
        return found
    picked = []
    for part in filter(None, (p.strip() for p in answer.split(","))):
        match = [d for i, d in enumerate(found, 1) if part in (str(i), d.name)]
        if not match:
            raise UsageError(f"{part!r} is not one of the listed skills")
        picked.extend(match)
    return picked


@app.command()
def remove(
    names: Annotated[list[str], typer.Argument(help="Skill names (manifest key, registry id or folder).", show_default=False, metavar="NAME")],
    force: Annotated[bool, typer.Option("--force", help="Remove even if locally edited (a backup is kept).")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Remove skills from skills.toml and from the install dir.

    Example: skillpm remove reviewer
    """
    from skillpm.ops.sync import remove as do_remove

    _print_report(do_remove(_project(global_), names, force=force))


@app.command()
def install(
    frozen: Annotated[bool, typer.Option("--frozen", help="Install exactly skills.lock; fail if it is out of date.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace locally edited or foreign folders (a backup is kept).")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; no network.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Bring the install dir to skills.lock (resolving first if skills.toml changed).

    Example: skillpm install --frozen
    """
    from skillpm.ops.sync import install as do_install

    _print_report(do_install(_project(global_, create=True), frozen=frozen, force=force, offline=offline))


@app.command()
def lock(
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; no network.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Resolve skills.toml and write skills.lock; install nothing (a conflicted or broken skills.lock is regenerated).

    Example: skillpm lock
    """
    from skillpm.ops.sync import lock as do_lock

    report = do_lock(_project(global_, broken_lock_ok=True), offline=offline)
    _print_messages(report)
    _print_verbose(report)
    _print_changes(report.changes)
    _info("Wrote skills.lock." if report.wrote_lock else "skills.lock is up to date.")


def _print_changes(changes) -> None:
    for name, old, new in changes:
        if old is None:
            _info(f"  + {name} {new}")
        elif new is None:
            _info(f"  - {name} {old}")
        else:
            _info(f"  ~ {name} {old} -> {new}")


@app.command()
def update(
    names: Annotated[Optional[list[str]], typer.Argument(help="Skills to update (default: all).", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace locally edited skills (a backup is kept).")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; no network.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Move skills to the newest versions their ranges allow.

    Example: skillpm update docker/basics --dry-run
    """
    from skillpm.ops.sync import update as do_update

    report = do_update(_project(global_), names or [], dry_run=dry_run, force=force, offline=offline)
    if dry_run or report.outcome is None:
        _print_messages(report)
        if not report.changes:
            _info("Nothing to update.")
        _print_changes(report.changes)
        for c in report.blocked:
            _info(f"  ! {c.problem()}: `skillpm update` will stop here; with --force it replaces it (a backup is kept)")
        _info("Dry run: nothing was changed.")
        _print_verbose(report)
        return
    if not report.changes and report.outcome.ok and not report.outcome.changed:
        _print_messages(report)
        _info("Nothing to update.")
        _print_verbose(report)
        return
    _print_report(report)


@app.command()
def outdated(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; no network.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Show current, newest-within-range and newest versions of every skill.

    Example: skillpm outdated --json
    """
    from skillpm.ops.outdated import outdated as do_outdated

    rows = do_outdated(_project(global_), offline=offline)
    if as_json:
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return
    stale = [r for r in rows if r.is_outdated]
    if not stale:
        _info("All skills are at their newest versions.")
        return
    from skillpm.cli.output import table

    header = ("name", "current", "in range", "latest")
    for line in table([header] + [(r.name, r.current or "-", r.compatible or "-", r.latest or "-") for r in stale]):
        print(line)


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """List the installed skills.

    Example: skillpm list --json
    """
    from skillpm.ops.inspect import listing

    rows = listing(_project(global_))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        _info("No skills installed. Add one with `skillpm add SPEC`.")
        return
    from skillpm.cli.output import table

    for line in table([(r["name"], r["version"], r["source"], "" if r["state"] == "ok" else f"[{r['state']}]") for r in rows]):
        print(line)
    if any(r["state"] == "pending" for r in rows):
        from skillpm.installer import PENDING

        _info(f"note: {PENDING}")


@app.command()
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Check every installed skill's files (and agent targets) against skills.lock (exit 1 on any mismatch).

    Example: skillpm verify
    """
    from skillpm.ops.inspect import verify as do_verify

    result = do_verify(_project(global_))
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    elif result.pending:
        from skillpm.installer import PENDING

        print(f"pending   {PENDING}")
        print("verify failed: installed files are mid-transaction")
    else:
        for name, version, st in result.skills:
            if st.state == "ok":
                print(f"ok        {name} {version}")
            else:
                print(f"{st.state:<9} {name} {version}: {st.describe()}")
        for folder in result.unexpected_folders:
            print(f"unexpected {folder}/ (not in skills.lock)")
        for check in getattr(result, "targets", []):
            if not check.problems and not check.skipped:
                print(f"ok        target {check.target}: {len(check.ok)} skill(s) in {check.folder}")
            for skill, problem in check.problems:
                print(f"target    {check.target} {skill}: {problem} ({check.folder}/{skill})")
        print("verified: all skills match skills.lock" if result.ok else "verify failed: installed files differ from skills.lock")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Skill folders (or SKILL.md files).", show_default=False, metavar="PATH")],
    strict: Annotated[bool, typer.Option("--strict", help="Every rule of the spec is an error (as when publishing).")] = False,
) -> None:
    """Check skill folders against the Agent Skills specification.

    Example: skillpm validate --strict skills/*
    """
    from skillpm.skill import read_skill

    errors = 0
    for path in paths:
        folder = path.parent if path.name.lower() == "skill.md" else path
        _, problems = read_skill(folder, strict=strict)
        for p in problems:
            print(f"{p.severity}: {p}" if p.severity == "warning" else str(p), file=sys.stderr if p.severity == "warning" else sys.stdout)
            errors += p.severity == "error"
        if not any(p.severity == "error" for p in problems):
            _info(f"ok: {folder}")
    if errors:
        raise typer.Exit(1)


@app.command()
def tree(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (nested: name, version, dependencies).")] = False,
    global_: GlobalOpt = False,
) -> None:
    """Show the dependency tree of the locked skills.

    Example: skillpm tree --json
    """
    from skillpm.ops.inspect import tree as do_tree

    if as_json:
        from skillpm.ops.inspect import tree_json

        print(json.dumps(tree_json(_project(global_)), indent=2))
        return
    for line in do_tree(_project(global_)):
        print(line)


@app.command()
def why(
    name: Annotated[str, typer.Argument(help="A locked skill.", show_default=False)],
    global_: GlobalOpt = False,
) -> None:
    """Show every chain from the project to a skill.

    Example: skillpm why docker/basics
    """
    from skillpm.ops.inspect import why as do_why

    chains = do_why(_project(global_), name)
    if not chains:
        from skillpm.errors import SkillpmError

        raise SkillpmError(f"{name!r} is not required by this project", hint="see `skillpm list`")
    for chain in chains:
        print(" -> ".join(["the project", *chain]))


@cache_app.command("dir")
def cache_dir_cmd() -> None:
    """Print the cache folder.

    Example: skillpm cache dir
    """
    from skillpm.cache import cache_dir

    print(cache_dir())


@cache_app.command("clean")
def cache_clean() -> None:
    """Delete what skillpm downloaded (fetched again when needed); backups of replaced skills stay.

    Example: skillpm cache clean
    """
    from skillpm.cache import KEPT_BY_CLEAN, cache_dir, clean_cache

    removed = clean_cache()
    _info(f"Removed {removed} item(s) from {cache_dir()} (kept {', '.join(KEPT_BY_CLEAN)}/)")


def main(argv: list[str] | None = None) -> None:
    """Entry point: turn every known failure into one line and an exit code.

    Click's standalone mode handles usage errors (exit 2), --help and Ctrl-C;
    our own errors surface here as exceptions.
    """
    from skillpm.errors import SkillpmError

    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="skillpm")
    except SkillpmError as e:
        if state.debug:
            raise
        _err(f"error: {e}")
        sys.exit(e.exit_code)
    except OSError as e:
        if state.debug:
            raise
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        _err(f"error: {e.strerror or e}{where}")
        sys.exit(1)


from skillpm.cli import registry_cmds as _registry_cmds  # noqa: E402,F401  (registers commands)
from skillpm.cli import server_cmds as _server_cmds  # noqa: E402,F401
from skillpm.cli import workspace_cmds as _workspace_cmds  # noqa: E402,F401  (targets, import, new, doctor)
