"""Team sync that follows the lock over time (issue #10), through the real CLI.

Two teammates share one git-versioned project: a bare "origin" repository and
two clones at different paths, A and B, each with its own HOME, config and
cache (SKILLPM_CACHE_DIR), running `python -m skillpm` in a subprocess.
`skills.toml`, `skills.lock` and a vendored folder registry (`vendor/registry`)
are committed; the install dir `.agents/skills/` is gitignored.

Three real sources, built once per module:

- "registry": a static registry folder served over HTTP on 127.0.0.1
  (`[registries] main`, the default);
- "folder":   a registry folder committed inside the project
  (`[registries] local = "./vendor/registry"`, ids `local:team/...`);
- "git":      a tagged git repository of skills over file:// (tags
  `skills/<name>/vX.Y.Z`).

Each scenario: A changes the skills and pushes; B pulls / switches branch /
merges / takes a revert and runs `skillpm install --frozen` (sometimes plain
`install`). Each runs twice: clean, and "+edit" where B has edited the folder
the change touches (or, for an addition, has its own folder in the way); the
edit is never lost: `install --frozen` and `install` exit 1 naming the folder
and leave the edited file; `install --force` keeps a backup and restores the
lock's files.

After every step: `install` exit 0 implies `verify` exit 0 and the install
dir's folders (and each folder's files) are exactly the lock's; `install
--frozen` never writes skills.lock; no temp files remain anywhere in the
project; both clones hold the same skills.lock bytes at the same commit.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import skill_text, write_files
from tests.integration.conftest import isolated_env
from tests.integration.registries.conftest import StaticServer, _Handler

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
GIT = shutil.which("git") or "git"
KINDS = ("registry", "folder", "git")
INSTALL_DIR = ".agents/skills"
VENDOR = "vendor/registry"
EDIT = b"\nmy local note: do not lose me\n"

Tree = dict[str, tuple[bytes, bool]]  # relpath -> (bytes, executable)


@dataclass
class Result:
    rc: int
    out: str
    err: str
    args: tuple[str, ...] = ()

    def __repr__(self) -> str:  # shown by pytest on failure
        return f"Result(skillpm {' '.join(self.args)} -> rc={self.rc})\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


# --------------------------------------------------------------------------- #
# environments


def base_env(root: Path) -> dict[str, str]:
    """An isolated HOME, config and cache under root, a fixed git identity."""
    env = isolated_env(root, identity="Team Mate")
    env["XDG_CONFIG_HOME"] = str(root / "home" / ".config")
    return env


def run_git(env: dict[str, str], cwd: Path, *args: str, rc: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([GIT, *args], cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if rc is not None:
        assert proc.returncode == rc, f"git {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def run_skillpm(env: dict[str, str], cwd: Path, *args: str, rc: int | None = 0) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "skillpm", *args],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
    )
    result = Result(proc.returncode, proc.stdout, proc.stderr, args)
    assert "Traceback" not in proc.stderr, result
    if rc is not None:
        assert proc.returncode == rc, result
    return result


def read_tree(root: Path) -> Tree:
    out: Tree = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[p.relative_to(root).as_posix()] = (p.read_bytes(), bool(p.stat().st_mode & 0o100))
    return out


# --------------------------------------------------------------------------- #
# the sources, built once


def skill_files(kind: str, name: str, version: str, *, skill_name: str | None = None, deps: str | None = None) -> dict:
    """One version of a skill; the bytes say which source and version they came from."""
    meta = {"version": version}
    if deps:
        meta["dependencies"] = deps
    shown = skill_name or name
    files: dict = {
        "SKILL.md": skill_text(
            f"# {shown}\n\n{shown} {version}, from the {kind} source.\n",
            name=shown, description=f"Test skill {shown}. Use when testing team sync.", metadata=meta,
        ),
        "references/guide.md": f"# {shown} {version}\n\nfrom the {kind} source\n",
        "scripts/run.sh": (f"#!/bin/sh\necho {shown} {version} {kind}\n", 0o755),
    }
    if name == "alpha" and version.startswith("1."):
        files["notes/old.md"] = "only in 1.x\n"  # dropped by 2.0.0
    if name == "alpha" and version == "1.1.0":
        files["references/extra.md"] = "new in 1.1.0\n"
    return files


# (id, version, skill_name, registry deps) per publish layer; layers are published in order
REGISTRY_LAYERS = [
    [
        ("team/alpha", "1.0.0", None, None),
        ("team/base", "1.0.0", None, None),
        ("team/beta", "1.0.0", None, None),
        ("team/gamma", "1.0.0", None, None),
        ("team/fmt", "1.0.0", None, None),
        ("tools/fmt", "1.0.0", None, None),  # a different skill for the same folder
    ],
    [("team/alpha", "1.1.0", None, None)],
    [("team/alpha", "2.0.0", None, "team/base@^1.0")],
]


@dataclass
class Sources:
    registry_url: str
    registry_dir: Path
    vendor_dir: Path  # copied into each project as vendor/registry
    git_url: str
    expected: dict[tuple[str, str, str], Tree] = field(default_factory=dict)  # (kind, ident, version) -> files


def build_registry(tools_env: dict[str, str], work: Path, kind: str, dest: Path, expected: dict) -> None:
    for n, layer in enumerate(REGISTRY_LAYERS):
        base = work / f"{kind}-layer{n}" / "skills"
        for ident, version, skill_name, deps in layer:
            folder = base / ident
            write_files(folder, skill_files(kind, ident.rsplit("/", 1)[1], version, skill_name=skill_name, deps=deps))
            expected[(kind, ident, version)] = read_tree(folder)
        run_skillpm(tools_env, work, "publish", "--all", str(base), "--registry", str(dest))


def build_git(tools_env: dict[str, str], path: Path, expected: dict) -> str:
    path.mkdir(parents=True)
    run_git(tools_env, path, "init", "-q", "-b", "main")
    run_git(tools_env, path, "config", "core.autocrlf", "false")
    url = path.as_uri()

    def release(items: list[tuple[str, str, str | None, str | None]]) -> None:
        for name, version, skill_name, deps in items:
            folder = path / "skills" / name
            shutil.rmtree(folder, ignore_errors=True)  # each version is exactly its files
            write_files(folder, skill_files("git", name, version, skill_name=skill_name, deps=deps))
            expected[("git", f"skills/{name}", version)] = read_tree(folder)
        run_git(tools_env, path, "add", "-A")
        run_git(tools_env, path, "commit", "-q", "-m", "release " + ", ".join(f"{n} {v}" for n, v, _, _ in items))
        for name, version, _, _ in items:
            run_git(tools_env, path, "tag", f"skills/{name}/v{version}")

    (path / "README.md").write_text("# team skills\n")
    release([("alpha", "1.0.0", None, None), ("base", "1.0.0", None, None), ("beta", "1.0.0", None, None),
             ("gamma", "1.0.0", None, None), ("fmt", "1.0.0", None, None)])
    release([("alpha", "1.1.0", None, None)])
    release([("alpha", "2.0.0", None, f"{url}#path=skills/base")])
    release([("fmt", "2.0.0", "formatter", None)])  # a new version whose SKILL.md name differs
    return url


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sources]:
    work = tmp_path_factory.mktemp("team-sources")
    tools_env = base_env(work / "tools")
    expected: dict = {}
    registry_dir = work / "http-registry"
    build_registry(tools_env, work, "registry", registry_dir, expected)
    vendor_dir = work / "vendor-registry"
    build_registry(tools_env, work, "folder", vendor_dir, expected)
    git_url = build_git(tools_env, work / "git" / "team-skills", expected)

    state = StaticServer(url="", root=registry_dir)
    handler = type("Handler", (_Handler,), {"server_ref": state})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield Sources(state.url, registry_dir, vendor_dir, git_url, expected)
    finally:
        httpd.shutdown()
        httpd.server_close()


# --------------------------------------------------------------------------- #
# teammates


@dataclass
class Teammate:
    name: str
    root: Path  # the clone
    env: dict[str, str]

    @property
    def install_dir(self) -> Path:
        return self.root / INSTALL_DIR

    @property
    def lock_path(self) -> Path:
        return self.root / "skills.lock"

    def git(self, *args: str, rc: int | None = 0) -> subprocess.CompletedProcess[str]:
        return run_git(self.env, self.root, *args, rc=rc)

    def skillpm(self, *args: str, rc: int | None = 0) -> Result:
        return run_skillpm(self.env, self.root, *args, rc=rc)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def lock_bytes(self) -> bytes:
        return self.lock_path.read_bytes()

    def locked(self) -> list[dict]:
        return tomllib.loads(self.lock_path.read_text()).get("skill", [])

    def folders(self) -> set[str]:
        if not self.install_dir.is_dir():
            return set()
        return {p.name for p in self.install_dir.iterdir() if not p.name.startswith(".")}

    def commit_push(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", "HEAD")

    def pull(self) -> None:
        self.git("pull", "-q", "--ff-only")


def manifest_text(src: Sources, entries: list[str]) -> str:
    return (
        "# the team's skills\n[skills]\n" + "".join(e + "\n" for e in entries)
        + f'\n[install]\ndir = "{INSTALL_DIR}"\n'
        + f'\n[registries]\ndefault = "main"\nmain = "{src.registry_url}"\nlocal = "./{VENDOR}"\n'
    )


@dataclass
class Team:
    a: Teammate
    b: Teammate
    src: Sources
    origin: Path
    edit: bool
    tmp: Path

    def entry(self, kind: str, name: str, rng: str) -> str:
        if kind == "registry":
            return f'"team/{name}" = "{rng}"'
        if kind == "folder":
            return f'"local:team/{name}" = "{rng}"'
        return f'{name} = {{ git = "{self.src.git_url}", path = "skills/{name}", version = "{rng}" }}'

    @staticmethod
    def key(kind: str, name: str) -> str:
        return {"registry": f"team/{name}", "folder": f"local:team/{name}", "git": name}[kind]

    def write_manifest(self, who: Teammate, entries: list[str]) -> None:
        (who.root / "skills.toml").write_text(manifest_text(self.src, entries))


def make_team(tmp: Path, src: Sources, edit: bool) -> Team:
    origin = tmp / "origin.git"
    env = base_env(tmp / "origin-tools")
    run_git(env, tmp, "init", "-q", "--bare", "-b", "main", str(origin))
    a = Teammate("A", tmp / "alice" / "work" / "project", base_env(tmp / "alice-env"))
    b = Teammate("B", tmp / "bob" / "checkouts" / "team-project", base_env(tmp / "bob-env"))
    a.root.parent.mkdir(parents=True)
    b.root.parent.mkdir(parents=True)
    run_git(a.env, a.root.parent, "clone", "-q", str(origin), a.root.name)
    return Team(a, b, src, origin, edit, tmp)


# --------------------------------------------------------------------------- #
# checks


TEMP_NAME = re.compile(r"(\.tmp$|^\.skillpm-tmp-)")


def classify(entry: dict) -> tuple[str, str]:
    """(kind, ident) of a lock entry, to find the files its version holds."""
    source = entry["source"]
    if source.startswith("git+"):
        return "git", entry.get("path", "")
    ident = entry["name"].split(":", 1)[-1]
    if source.startswith("registry+http"):
        return "registry", ident
    return "folder", ident


def assert_no_temp_files(t: Teammate) -> None:
    leftovers = []
    for dirpath, dirnames, filenames in os.walk(t.root):
        if Path(dirpath) == t.root and ".git" in dirnames:
            dirnames.remove(".git")
        for n in dirnames + filenames:
            if TEMP_NAME.search(n):
                leftovers.append(os.path.join(dirpath, n))
    status = t.git("status", "--porcelain", "--ignored", "-uall").stdout
    leftovers += [ln for ln in status.splitlines() if TEMP_NAME.search(ln.rsplit("/", 1)[-1])]
    assert not leftovers, f"{t.name}: temp files left behind: {leftovers}"


def assert_lock_is_portable(t: Teammate, team: Team) -> None:
    text = t.lock_path.read_text()
    for mate in (team.a, team.b):
        assert str(mate.root) not in text and mate.root.as_uri() not in text, f"skills.lock holds {mate.name}'s path:\n{text}"


def assert_folder_is_locked(t: Teammate, src: Sources, entry: dict) -> None:
    kind, ident = classify(entry)
    want = src.expected.get((kind, ident, entry["version"]))
    assert want is not None, f"no such release in the test sources: {entry}"
    got = read_tree(t.install_dir / entry["folder"])
    assert got == want, f"{t.name}: {entry['folder']}/ differs from {kind} {ident} {entry['version']}: {sorted(set(got) ^ set(want)) or 'contents'}"


def assert_matches_lock(t: Teammate, src: Sources, *, verify: bool = True) -> None:
    """The install dir is exactly the lock: folders, files, and `verify` agrees."""
    locked = t.locked()
    assert t.folders() == {e["folder"] for e in locked}, f"{t.name}: install dir {sorted(t.folders())} != lock {[e['folder'] for e in locked]}"
    for entry in locked:
        assert_folder_is_locked(t, src, entry)
    if verify:
        t.skillpm("verify", rc=0)


def assert_clean_worktree(t: Teammate) -> None:
    """skillpm wrote nothing git sees (only the ignored install dir)."""
    status = t.git("status", "--porcelain").stdout
    assert status == "", f"{t.name}: the working tree changed:\n{status}"


def install(t: Teammate, src: Sources, *flags: str, rc: int | None = 0, expect_lock_unchanged: bool = True) -> Result:
    """`skillpm install FLAGS`: the lock is not rewritten (same bytes, same file), and exit 0 means in sync."""
    before = t.lock_bytes() if t.lock_path.exists() else None
    st = t.lock_path.stat() if t.lock_path.exists() else None
    r = t.skillpm("install", *flags, rc=rc)
    if expect_lock_unchanged and before is not None:
        assert t.lock_bytes() == before, f"{t.name}: skillpm install {' '.join(flags)} rewrote skills.lock\n{r!r}"
        after = t.lock_path.stat()
        assert (after.st_ino, after.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), f"{t.name}: skills.lock was written (same bytes)\n{r!r}"
    if r.rc == 0:
        assert_matches_lock(t, src)
    assert_no_temp_files(t)
    return r


def frozen(t: Teammate, src: Sources, rc: int | None = 0) -> Result:
    return install(t, src, "--frozen", rc=rc)


def assert_same_lock(team: Team) -> None:
    a, b = team.a, team.b
    assert a.head() == b.head(), "the clones are not at the same commit"
    assert a.lock_bytes() == b.lock_bytes(), "skills.lock differs between the clones at the same commit"


def install_dir_snapshot(t: Teammate) -> dict[str, Tree]:
    return {f: read_tree(t.install_dir / f) for f in sorted(t.folders())}


# --------------------------------------------------------------------------- #
# shared steps


def start(team: Team, entries: list[str]) -> None:
    """A commits the project (manifest, lock, vendored registry, .gitignore) and pushes; B clones and installs."""
    a, b, src = team.a, team.b, team.src
    shutil.copytree(src.vendor_dir, a.root / VENDOR)
    (a.root / ".gitignore").write_text(f"/{INSTALL_DIR}/\n")
    team.write_manifest(a, entries)
    a.skillpm("install")
    assert_matches_lock(a, src, verify=False)
    assert_lock_is_portable(a, team)
    a.git("add", "-A")
    a.git("commit", "-q", "-m", "skills")
    a.git("push", "-q", "-u", "origin", "main")
    run_git(b.env, b.root.parent, "clone", "-q", str(team.origin), b.root.name)
    frozen(b, src)
    assert_clean_worktree(b)
    assert_same_lock(team)


def a_changes(team: Team, entries: list[str] | None, message: str, *command: str) -> None:
    """A edits skills.toml (when entries are given) and runs skillpm (`install` by default); commits, pushes."""
    a = team.a
    if entries is not None:
        team.write_manifest(a, entries)
    a.skillpm(*(command or ("install",)))
    assert_matches_lock(a, team.src, verify=False)
    assert_lock_is_portable(a, team)
    a.commit_push(message)


def local_edit(t: Teammate, folder: str, *, foreign: bool) -> tuple[Path, bytes]:
    """B edits a skill in place, or makes a folder of its own where a skill will go."""
    if foreign:
        target = t.install_dir / folder / "SKILL.md"
        assert not target.parent.exists()
        target.parent.mkdir(parents=True)
        data = skill_text("# mine\n\nB's own skill.\n", name=folder, description="B wrote this by hand.").encode() + EDIT
    else:
        target = t.install_dir / folder / "references" / "guide.md"
        assert target.is_file(), f"nothing to edit at {target}"
        data = target.read_bytes() + EDIT
    target.write_bytes(data)
    return target, data


def land(team: Team, sync: Callable[[], None], *, touched: str, foreign: bool = False, plain: bool = False) -> None:
    """B (with a local edit in `touched` when team.edit) syncs and installs."""
    b, src = team.b, team.src
    edited = local_edit(b, touched, foreign=foreign) if team.edit else None
    sync()
    if edited is None:
        install(b, src, *(() if plain else ("--frozen",)))
        assert_clean_worktree(b)
        return
    path, data = edited

    # --frozen changes nothing and says which folder is in the way
    before = install_dir_snapshot(b)
    r = frozen(b, src, rc=1)
    assert touched in r.err, r
    assert install_dir_snapshot(b) == before, "install --frozen changed the install dir while refusing"
    assert path.read_bytes() == data

    # install applies everything else and keeps the edit
    r = install(b, src, rc=1)
    assert re.search(rf"^\s*! {re.escape(touched)}/?: kept\b", r.err, re.MULTILINE), r
    assert path.read_bytes() == data, "the local edit was lost"
    locked = b.locked()
    assert b.folders() == {e["folder"] for e in locked} | {touched}, f"{sorted(b.folders())} vs lock {[e['folder'] for e in locked]} + {touched}"
    for entry in locked:
        if entry["folder"] != touched:
            assert_folder_is_locked(b, src, entry)

    # --force keeps a backup (and says where) and restores the lock's files
    r = install(b, src, "--force")
    assert_backup_holds(r, touched, path.relative_to(b.install_dir / touched), data)
    assert_clean_worktree(b)


def assert_backup_holds(r: Result, folder: str, rel: Path, data: bytes) -> None:
    """`install --force` said where the replaced copy went, and it holds the edited bytes."""
    backups = [Path(p.strip()) for p in re.findall(r"note: the replaced copy was kept at (.+)$", r.out + r.err, re.MULTILINE)]
    assert backups, f"no backup note\n{r!r}"
    assert any((p / rel).is_file() and (p / rel).read_bytes() == data for p in backups + [p / folder for p in backups]), (
        f"the backup does not hold the edited {folder}/{rel}: {backups}"
    )


def finish(team: Team) -> None:
    """Both at the same commit with the same lock bytes, and B is up to date."""
    b = team.b
    assert_same_lock(team)
    r = frozen(b, team.src)
    assert "Already up to date." in r.err, r
    assert_clean_worktree(b)


# --------------------------------------------------------------------------- #
# scenarios


def upgrade(team: Team, kind: str) -> None:
    start(team, [team.entry(kind, "alpha", "~1.0")])
    a_changes(team, [team.entry(kind, "alpha", "^2.0")], "upgrade alpha to 2 (pulls in base)")
    land(team, team.b.pull, touched="alpha")
    assert {e["folder"]: e["version"] for e in team.b.locked()} == {"alpha": "2.0.0", "base": "1.0.0"}
    finish(team)


def downgrade(team: Team, kind: str) -> None:
    start(team, [team.entry(kind, "alpha", "^2.0")])
    a_changes(team, [team.entry(kind, "alpha", "~1.0")], "back to alpha 1.0")
    land(team, team.b.pull, touched="alpha")
    assert {e["folder"]: e["version"] for e in team.b.locked()} == {"alpha": "1.0.0"}
    finish(team)


def addition(team: Team, kind: str) -> None:
    start(team, [team.entry(kind, "alpha", "~1.0")])
    a_changes(team, [team.entry(kind, "alpha", "~1.0"), team.entry(kind, "beta", "^1.0")], "add beta")
    land(team, team.b.pull, touched="beta", foreign=True, plain=True)
    assert {e["folder"] for e in team.b.locked()} == {"alpha", "beta"}
    finish(team)


def removal(team: Team, kind: str) -> None:
    start(team, [team.entry(kind, "alpha", "~1.0"), team.entry(kind, "beta", "^1.0")])
    a_changes(team, None, "remove beta", "remove", team.key(kind, "beta"))
    land(team, team.b.pull, touched="beta", plain=True)
    assert {e["folder"] for e in team.b.locked()} == {"alpha"}
    finish(team)


def source_change(team: Team, _kind: str) -> None:
    """registry -> git: another source for the same folder, with other bytes."""
    start(team, [team.entry("registry", "alpha", "~1.0")])
    a_changes(team, [team.entry("git", "alpha", "~1.0")], "take alpha from git")
    land(team, team.b.pull, touched="alpha")
    [entry] = team.b.locked()
    assert entry["source"].startswith("git+") and entry["folder"] == "alpha"
    finish(team)


def rename_git(team: Team, _kind: str) -> None:
    """fmt 2.0.0's SKILL.md is named `formatter`: the folder moves."""
    start(team, [team.entry("git", "fmt", "^1.0")])
    a_changes(team, [team.entry("git", "fmt", "^2.0")], "fmt 2 (now named formatter)")
    land(team, team.b.pull, touched="fmt")
    assert {e["folder"] for e in team.b.locked()} == {"formatter"}
    finish(team)


def rename_registry(team: Team, _kind: str) -> None:
    """team/fmt is replaced by tools/fmt: another skill in the same folder."""
    start(team, ['"team/fmt" = "^1.0"'])
    a_changes(team, ['"tools/fmt" = "^1.0"'], "use tools/fmt instead of team/fmt")
    land(team, team.b.pull, touched="fmt")
    [entry] = team.b.locked()
    assert (entry["name"], entry["folder"]) == ("tools/fmt", "fmt")
    finish(team)


def branch_switch(team: Team, kind: str) -> None:
    """B goes back to a release branch with an older lock, and returns to main."""
    a, b, src = team.a, team.b, team.src
    start(team, [team.entry(kind, "alpha", "~1.0")])
    old_lock = a.lock_bytes()
    a.git("push", "-q", "origin", "HEAD:refs/heads/release-1")
    a_changes(team, [team.entry(kind, "alpha", "^2.0")], "alpha 2 on main")
    b.pull()
    frozen(b, src)
    assert b.folders() == {"alpha", "base"}

    def to_release() -> None:
        b.git("fetch", "-q", "origin")
        b.git("checkout", "-q", "-b", "release-1", "origin/release-1")

    land(team, to_release, touched="alpha")
    assert b.lock_bytes() == old_lock == a.git("show", "origin/release-1:skills.lock").stdout.encode()
    assert {e["folder"]: e["version"] for e in b.locked()} == {"alpha": "1.0.0"}

    b.git("checkout", "-q", "main")
    frozen(b, src)
    assert b.folders() == {"alpha", "base"}
    assert_clean_worktree(b)
    finish(team)


def merge_conflict(team: Team, _kind: str) -> None:
    """Both move alpha (git) and add a skill: A takes alpha 1.1 and adds team/beta (HTTP registry),
    B takes alpha 2 and adds local:team/gamma (vendored registry). B's pull conflicts in skills.toml
    and skills.lock; B settles skills.toml by hand (alpha ~1.1, both additions), then runs
    `skillpm lock` and `skillpm install` (README "Work as a team", docs/lockfile.md)."""
    a, b, src = team.a, team.b, team.src
    alpha10, alpha11, alpha2 = (team.entry("git", "alpha", r) for r in ("~1.0", "~1.1", "^2.0"))
    beta, gamma = team.entry("registry", "beta", "^1.0"), team.entry("folder", "gamma", "^1.0")
    start(team, [alpha10])
    a_changes(team, [alpha11, beta], "alpha 1.1, add beta")

    # B works on its own meanwhile
    team.write_manifest(b, [alpha2, gamma])
    install(b, src, expect_lock_unchanged=False)
    assert b.folders() == {"alpha", "base", "gamma"}
    b.git("commit", "-q", "-am", "alpha 2, add gamma")
    edited = local_edit(b, "alpha", foreign=False) if team.edit else None

    merge = b.git("pull", "-q", "--no-rebase", "--no-edit", rc=None)
    assert merge.returncode != 0, "the scenario needs a conflicted merge"
    assert "<<<<<<<" in b.lock_path.read_text(), "skills.lock should be conflicted"

    # B settles skills.toml by hand; the conflicted lock is refused with the way out, and left alone
    assert "<<<<<<<" in (b.root / "skills.toml").read_text()
    team.write_manifest(b, [alpha11, beta, gamma])
    conflicted = b.lock_bytes()
    for args in (("install", "--frozen"), ("install",)):
        r = b.skillpm(*args, rc=None)
        assert r.rc != 0 and "skillpm lock" in r.err, r
        assert b.lock_bytes() == conflicted
    assert b.folders() == {"alpha", "base", "gamma"}
    assert_no_temp_files(b)

    # then as documented: `skillpm lock`, `skillpm install`
    b.skillpm("lock")
    assert "<<<<<<<" not in b.lock_path.read_text()
    assert_lock_is_portable(b, team)
    assert {e["folder"]: e["version"] for e in b.locked()} == {"alpha": "1.1.0", "beta": "1.0.0", "gamma": "1.0.0"}
    if edited is None:
        install(b, src)
    else:
        path, data = edited
        r = install(b, src, rc=1)
        assert re.search(r"^\s*! alpha/?: kept\b", r.err, re.MULTILINE), r
        assert path.read_bytes() == data, "the local edit was lost"
        assert b.folders() == {"alpha", "beta", "gamma"}  # base (alpha 2's dependency) went
        for entry in b.locked():
            if entry["folder"] != "alpha":
                assert_folder_is_locked(b, src, entry)
        r = install(b, src, "--force")
        assert_backup_holds(r, "alpha", path.relative_to(b.install_dir / "alpha"), data)
    b.git("add", "-A")
    b.git("commit", "-q", "--no-edit")
    b.git("push", "-q", "origin", "HEAD")
    assert_clean_worktree(b)

    # A takes the merge; the lock B wrote is the one A's skillpm would write
    a.pull()
    frozen(a, src)
    assert_same_lock(team)
    before, st = a.lock_bytes(), a.lock_path.stat()
    a.skillpm("lock")
    assert a.lock_bytes() == before, "skillpm lock at A's path gives other bytes than at B's"
    after = a.lock_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), "skillpm lock rewrote an unchanged skills.lock"
    assert_clean_worktree(a)
    finish(team)


def revert(team: Team, kind: str) -> None:
    """A updates alpha, B follows; A reverts the update, B follows back."""
    a, b, src = team.a, team.b, team.src
    start(team, [team.entry(kind, "alpha", "~1.0")])
    first_lock = a.lock_bytes()
    a_changes(team, [team.entry(kind, "alpha", "~1.1")], "alpha 1.1")
    b.pull()
    frozen(b, src)
    assert {e["version"] for e in b.locked()} == {"1.1.0"}

    a.git("revert", "--no-edit", "HEAD")
    a.git("push", "-q", "origin", "HEAD")
    frozen(a, src)
    land(team, b.pull, touched="alpha")
    assert b.lock_bytes() == first_lock
    assert {e["version"] for e in b.locked()} == {"1.0.0"}
    finish(team)


SCENARIOS: list[tuple[str, Callable[[Team, str], None], str]] = [
    *((f"upgrade-{k}", upgrade, k) for k in KINDS),
    *((f"downgrade-{k}", downgrade, k) for k in KINDS),
    *((f"addition-{k}", addition, k) for k in KINDS),
    *((f"removal-{k}", removal, k) for k in KINDS),
    ("source-change-registry-to-git", source_change, "registry"),
    ("rename-git-new-skill-name", rename_git, "git"),
    ("rename-registry-other-skill-same-folder", rename_registry, "registry"),
    ("branch-switch-folder", branch_switch, "folder"),
    ("merge-conflict", merge_conflict, "mixed"),
    ("revert-git", revert, "git"),
]

CASES = [
    pytest.param(fn, kind, edit, id=name + ("+edit" if edit else ""))
    for name, fn, kind in SCENARIOS
    for edit in (False, True)
]


@pytest.mark.parametrize(("scenario", "kind", "edit"), CASES)
def test_team_sync(scenario: Callable[[Team, str], None], kind: str, edit: bool, sources: Sources, tmp_path: Path) -> None:
    scenario(make_team(tmp_path, sources, edit), kind)
