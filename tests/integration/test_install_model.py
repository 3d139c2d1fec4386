"""Model-based test of the install transaction (issue #10), with crashes.

A hypothesis state machine drives a real project through the real CLI (one
process per command, so a kill is a real SIGKILL): it changes the lock (a new
skills.toml + `skillpm lock`, or a teammate's skills.toml/skills.lock pair
written back), edits or deletes installed folders, runs `install`,
`install --force` and `remove`, and kills any of those (and `lock`) at a drawn
write point (`SKILLPM_KILL_AT`, skillpm/failpoints.py), sometimes killing the
recovery too. The write points are counted, not hard-coded: before a crash the
same command runs unkilled with `SKILLPM_FAILPOINT_LOG` (its end state is kept
as "the new state"), the project is put back, and the kill point is drawn from
1..count.

The model is small: what skills.lock on disk wants (folder -> tree digest,
every digest one of the known contents of the sources), and the user's edits
(folder, file) -> bytes that are not yet known to be in a backup. A folder is
"dirty" while one of its edits is still in place. Checked:

(a) no edit is lost without a backup: its bytes are still in the folder, or in
    a file under $SKILLPM_CACHE_DIR/backups;
(b) after a kill, recovery (`skillpm lock`, which recovers first and moves no
    folder; itself sometimes killed and run again) leaves the whole project,
    install dir + skills.toml + skills.lock, exactly in its old state or exactly
    in the state the same command reached when run unkilled: never a
    mix; then `install` must behave as in (c);
(c) `install` exits 0 iff no folder is dirty (conflicts exit 1), leaves every
    clean locked folder at the locked digest, dirty ones untouched and nothing
    else; exit 0 means the install dir is the lock and `verify` exits 0;
    `--force` always ends equal to the lock;
(d) no `*.tmp` file is left in the project after a command that was not killed,
    and `verify` never reports a pending transaction then.

`test_install_model` is the quick run (15 examples x up to 15 steps; override
with SKILLPM_MODEL_EXAMPLES / SKILLPM_MODEL_STEPS); `test_install_model_long`
(marked slow) runs 100 x 25. Both print how many examples, steps, commands and
kills ran. No shrinking by default (each example takes seconds); set
SKILLPM_MODEL_SHRINK=1 for a minimal failing sequence. `test_kill_at_every_write_point`
is deterministic: one scenario with every kind of step, killed at each of its
write points in turn (and, for --force, its recovery killed at each of its own).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.conftest import isolated_env
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import skill_text, write_files

INSTALL_DIR = Path(".agents/skills")
KILLED = -signal.SIGKILL
PENDING = "interrupted install is pending"


# -- the world: local path skills and a folder registry with versions ------------------------


def _local_files(name: str) -> dict:
    return {
        "SKILL.md": skill_text(
            f"# {name}\n\nInstructions for {name}.\n",
            name=name,
            description=f"Model skill {name}. Use when testing skillpm.",
            metadata={"version": "1.0.0"},
        ),
        "references/guide.md": f"# {name} guide\n",
        "scripts/run.sh": (f"#!/bin/sh\necho {name}\n", 0o755),
    }


LOCAL = {name: _local_files(name) for name in ("alpha", "beta", "gamma")}


def _registry_files(ident: str, version: str, deps: str | None = None) -> dict:
    name = ident.rpartition("/")[2]
    meta = {"version": version, **({"dependencies": deps} if deps else {})}
    files: dict = {
        "SKILL.md": skill_text(
            f"# {name} {version}\n\nInstructions for {name}.\n",
            name=name,
            description=f"Model registry skill {name}. Use when testing skillpm.",
            metadata=meta,
        ),
        "references/notes.md": f"{ident} {version}\n",
    }
    major = version.split(".")[0]
    files[f"references/v{major}.md"] = f"only in major {major}\n"  # trees differ in shape, not only bytes
    if version == "1.1.0":
        files["scripts/extra.sh"] = ("#!/bin/sh\necho extra\n", 0o755)
    return files


REGISTRY = {
    "lib/core": {v: _registry_files("lib/core", v) for v in ("1.0.0", "1.1.0", "2.0.0")},
    "lib/util": {
        "1.0.0": _registry_files("lib/util", "1.0.0"),
        "2.0.0": _registry_files("lib/util", "2.0.0", deps="lib/core@>=1.0.0"),
    },
}
RANGES = {"lib/core": ["=1.0.0", "=1.1.0", "=2.0.0", "^1.0"], "lib/util": ["=1.0.0", "=2.0.0", "*"]}


def _content(spec) -> bytes:
    content = spec[0] if isinstance(spec, tuple) else spec
    return content.encode() if isinstance(content, str) else bytes(content)


def files_digest(files: dict[str, bytes]) -> str:
    """The documented tree digest: sha256 over sorted `relpath\\0sha256hex\\n` lines."""
    lines = sorted((rel.encode(), hashlib.sha256(data).hexdigest()) for rel, data in files.items())
    h = hashlib.sha256()
    for rel, hexdigest in lines:
        h.update(rel + b"\0" + hexdigest.encode() + b"\n")
    return "sha256:" + h.hexdigest()


KNOWN = {
    files_digest({rel: _content(spec) for rel, spec in files.items()})
    for group in (LOCAL, *REGISTRY.values())
    for files in group.values()
}


def tree_digest(folder: Path) -> str:
    if folder.is_symlink() or not folder.is_dir():
        return "<not a folder>"
    files = {}
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_dir():
            files[path.relative_to(folder).as_posix()] = path.read_bytes() if path.is_file() else b"<special>"
    return files_digest(files)


def base_env(root: Path) -> dict[str, str]:
    """Like tests/integration/conftest.py's cli_env, rooted at `root`."""
    return isolated_env(root)


@dataclass
class Result:
    args: tuple[str, ...]
    rc: int
    out: str
    err: str
    points: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"Result(skillpm {' '.join(self.args)} -> rc={self.rc}, {len(self.points)} points)\n"
                f"--- stdout\n{self.out}\n--- stderr\n{self.err}")


def skillpm(args, *, cwd: Path, env: dict[str, str], kill_at: int | None = None, log: Path | None = None) -> Result:
    env = dict(env)
    if kill_at is not None:
        env["SKILLPM_KILL_AT"] = str(kill_at)
    if log is not None:
        log.unlink(missing_ok=True)
        env["SKILLPM_FAILPOINT_LOG"] = str(log)
    proc = subprocess.run([sys.executable, "-m", "skillpm", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)
    points = log.read_text().splitlines() if log is not None and log.exists() else []
    r = Result(tuple(args), proc.returncode, proc.stdout, proc.stderr, points)
    assert "Traceback" not in r.err, f"traceback on stderr:\n{r!r}"
    STATS.commands += 1
    STATS.points.update(points)
    return r


# -- counters for the closing note ------------------------------------------------------------


@dataclass
class Stats:
    examples: int = 0
    steps: int = 0
    commands: int = 0
    crash_rules: int = 0
    kills: int = 0
    recovery_kills: int = 0
    forced_over_edits: int = 0
    sweep_kills: int = 0
    most_points: int = 0
    points: set[str] = field(default_factory=set)
    rules: dict[str, int] = field(default_factory=dict)

    def step(self, name: str) -> None:
        self.steps += 1
        self.rules[name] = self.rules.get(name, 0) + 1

    def line(self, seconds: float) -> str:
        return (f"install model: {self.examples} examples, {self.steps} steps ({self.rules}), "
                f"{self.commands} skillpm runs, {self.crash_rules} crash steps, {self.kills} kills "
                f"(+{self.recovery_kills} during recovery), {self.forced_over_edits} --force runs over a local edit, "
                f"up to {self.most_points} write points in one run, "
                f"points seen: {sorted(self.points)}; {seconds:.0f}s")


STATS = Stats()


# -- the machine -------------------------------------------------------------------------------


def toml_text(manifest: dict, registry: Path) -> str:
    lines = ["[skills]"]
    for key, spec in manifest.items():
        if isinstance(spec, dict):
            lines.append(f'{json.dumps(key)} = {{ path = {json.dumps(spec["path"])} }}')
        else:
            lines.append(f"{json.dumps(key)} = {json.dumps(spec)}")
    lines += ["", "[install]", f'dir = "{INSTALL_DIR.as_posix()}"', "",
              "[registries]", 'default = "main"', f"main = {json.dumps(registry.as_posix())}", ""]
    return "\n".join(lines)


manifests = st.fixed_dictionaries(
    {},
    optional={
        **{name: st.just({"path": f"./src/{name}"}) for name in LOCAL},
        **{ident: st.sampled_from(ranges) for ident, ranges in RANGES.items()},
    },
)


class InstallModel(RuleBasedStateMachine):
    registry: Path  # set by the test before running

    def __init__(self) -> None:
        super().__init__()
        STATS.examples += 1
        self.root = Path(tempfile.mkdtemp(prefix="skillpm-model-"))
        self.project = self.root / "project"
        self.idir = self.project / INSTALL_DIR
        self.backups = self.root / "cache" / "backups"
        (self.root / "cache").mkdir()
        self.env = base_env(self.root)
        self.edits: dict[tuple[str, str], bytes] = {}  # (folder, file) -> the user's bytes, not yet backed up
        self.history: list[tuple[bytes, bytes]] = []  # (skills.toml, skills.lock) pairs seen: "teammates' pushes"
        self.counter = 0
        self.log = self.root / "failpoints.log"
        for name, files in LOCAL.items():
            write_files(self.project / "src" / name, files)

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- reading the world --

    def run(self, *args: str, kill_at: int | None = None) -> Result:
        r = skillpm(args, cwd=self.project, env=self.env, kill_at=kill_at, log=self.log)
        STATS.most_points = max(STATS.most_points, len(r.points))
        return r

    def lock_entries(self) -> list[dict]:
        path = self.project / "skills.lock"
        return tomllib.loads(path.read_text()).get("skill", []) if path.exists() else []

    def wanted(self) -> dict[str, str]:
        """Folder -> the digest skills.lock wants there."""
        out = {}
        for entry in self.lock_entries():
            assert entry["integrity"] in KNOWN, f"lock entry {entry} is none of the known contents"
            out[entry["folder"]] = entry["integrity"]
        return out

    def manifest_keys(self) -> list[str]:
        path = self.project / "skills.toml"
        return sorted(tomllib.loads(path.read_text()).get("skills", {})) if path.exists() else []

    def disk(self, project: Path | None = None) -> dict[str, str]:
        idir = (project or self.project) / INSTALL_DIR
        if not idir.is_dir():
            return {}
        return {p.name: tree_digest(p) for p in idir.iterdir() if not p.name.startswith(".")}

    def snapshot(self, project: Path | None = None) -> tuple:
        """(install dir folder -> digest, skills.toml bytes, skills.lock bytes): a project's whole state."""
        project = project or self.project
        files = tuple((project / n).read_bytes() if (project / n).exists() else None for n in ("skills.toml", "skills.lock"))
        return (self.disk(project), *files)

    def dirty(self) -> set[str]:
        """Folders holding a user edit right now."""
        return {folder for (folder, rel), data in self.edits.items() if self._in_place(folder, rel, data)}

    def _in_place(self, folder: str, rel: str, data: bytes) -> bool:
        path = self.idir / folder / rel
        return path.is_file() and not path.is_symlink() and path.read_bytes() == data

    def remember(self) -> None:
        toml, lock = self.project / "skills.toml", self.project / "skills.lock"
        if toml.exists() and lock.exists():
            pair = (toml.read_bytes(), lock.read_bytes())
            if pair not in self.history:
                self.history.append(pair)

    # -- checks --

    def check_edits(self, *, mid_crash: bool = False) -> None:
        """(a): every edit is in its folder or in a backup. Mid-crash, anywhere in the install dir counts."""
        def hashes(root: Path) -> set[str]:
            if not root.is_dir():
                return set()
            return {hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}

        saved = hashes(self.backups) | (hashes(self.idir) if mid_crash else set())
        for (folder, rel), data in list(self.edits.items()):
            if self._in_place(folder, rel, data):
                continue
            assert hashlib.sha256(data).hexdigest() in saved, (
                f"the user's edit of {folder}/{rel} is neither in {folder}/ nor in a backup under {self.backups}"
            )
            if not mid_crash:
                del self.edits[(folder, rel)]  # safe in a backup, gone from the folder: nothing left to protect

    def check_synced(self, r: Result, before: dict[str, str], *, forced: bool) -> None:
        """(c) after `install` (or the install that recovers from a kill)."""
        self.check_edits()
        wanted, disk, dirty = self.wanted(), self.disk(), self.dirty()
        if forced:
            assert not dirty, f"--force left edited folders {sorted(dirty)}\n{r!r}"
        assert r.rc == (1 if dirty else 0), f"expected exit {1 if dirty else 0} (edited folders: {sorted(dirty)})\n{r!r}"
        if dirty:
            assert "kept (local edit)" in r.err, r
        for folder in sorted(dirty):
            assert disk.get(folder) == before.get(folder), f"{folder}/ holds a local edit and was changed\n{r!r}"
        for folder, digest in wanted.items():
            if folder not in dirty:
                assert disk.get(folder) == digest, (
                    f"{folder}/ is {disk.get(folder)}, the lock wants {digest}\n{r!r}"
                )
        extra = set(disk) - set(wanted) - dirty
        assert not extra, f"folders not in the lock left behind: {sorted(extra)}\n{r!r}"
        if r.rc == 0:
            assert set(disk) == set(wanted)
            v = self.run("verify")
            assert v.rc == 0, f"install exited 0 but verify failed\n{r!r}\n{v!r}"
            assert PENDING not in v.out + v.err, v

    @invariant()
    def no_edit_lost(self) -> None:
        self.check_edits()

    @invariant()
    def no_temp_files(self) -> None:
        """(d): every rule ends with a command that was not killed (a crash step ends with recovery)."""
        left = [p.relative_to(self.project).as_posix() for p in self.project.rglob("*.tmp")]
        assert not left, f"temporary files left in the project: {left}"

    # -- rules --

    @initialize(manifest=st.tuples(st.sampled_from(sorted(LOCAL)), st.sampled_from(RANGES["lib/core"]), manifests)
                .map(lambda t: {t[0]: {"path": f"./src/{t[0]}"}, "lib/core": t[1], **t[2]}))
    def start(self, manifest: dict) -> None:
        (self.project / "skills.toml").write_text(toml_text(manifest, self.registry))
        r = self.run("install")
        self.check_synced(r, {}, forced=False)
        self.remember()

    @rule(manifest=manifests)
    def change_manifest_and_lock(self, manifest: dict) -> None:
        STATS.step("lock")
        before = self.disk()
        (self.project / "skills.toml").write_text(toml_text(manifest, self.registry))
        r = self.run("lock")
        assert r.rc == 0, r
        assert self.disk() == before, "`skillpm lock` changed the install dir"
        self.wanted()  # every entry a known content
        self.remember()

    @precondition(lambda self: len(self.history) > 1)
    @rule(data=st.data())
    def pull(self, data) -> None:
        """A teammate's skills.toml + skills.lock land in the checkout."""
        STATS.step("pull")
        toml, lock = data.draw(st.sampled_from(self.history), label="pair")
        (self.project / "skills.toml").write_bytes(toml)
        (self.project / "skills.lock").write_bytes(lock)

    @precondition(lambda self: bool(self.disk()))
    @rule(data=st.data())
    def edit_file(self, data) -> None:
        """Append to an installed file."""
        STATS.step("edit")
        folder = data.draw(st.sampled_from(sorted(self.disk())), label="folder")
        files = sorted(p.relative_to(self.idir / folder).as_posix()
                       for p in (self.idir / folder).rglob("*") if p.is_file())
        rel = data.draw(st.sampled_from(files), label="file")
        self.write_edit(folder, rel, (self.idir / folder / rel).read_bytes())

    @precondition(lambda self: bool(self.disk()))
    @rule(data=st.data())
    def add_file(self, data) -> None:
        """Add a file of one's own to an installed folder."""
        STATS.step("add file")
        folder = data.draw(st.sampled_from(sorted(self.disk())), label="folder")
        self.write_edit(folder, f"notes-{self.counter + 1}.md", b"")

    def write_edit(self, folder: str, rel: str, old: bytes) -> None:
        self.counter += 1
        content = old + f"local edit {self.counter}\n".encode()  # unique: never any skill's bytes
        (self.idir / folder / rel).write_bytes(content)
        self.edits[(folder, rel)] = content

    @precondition(lambda self: bool(self.disk()))
    @rule(data=st.data())
    def delete_folder(self, data) -> None:
        STATS.step("delete")
        folder = data.draw(st.sampled_from(sorted(self.disk())), label="folder")
        shutil.rmtree(self.idir / folder)
        self.edits = {k: v for k, v in self.edits.items() if k[0] != folder}  # the user threw them away

    @rule()
    def install(self) -> None:
        STATS.step("install")
        self.run_install(force=False)

    @rule()
    def install_force(self) -> None:
        STATS.step("install --force")
        self.run_install(force=True)

    def run_install(self, *, force: bool) -> None:
        before = self.disk()
        if force and self.dirty():
            STATS.forced_over_edits += 1
        r = self.run("install", *(["--force"] if force else []))
        self.check_synced(r, before, forced=force)
        self.remember()

    @precondition(lambda self: bool(self.manifest_keys()))
    @rule(data=st.data(), force=st.booleans())
    def remove(self, data, force: bool) -> None:
        STATS.step("remove")
        name = data.draw(st.sampled_from(self.manifest_keys()), label="name")
        refuse = self.remove_must_refuse(name, force)
        if force and name.rpartition("/")[2] in self.dirty():
            STATS.forced_over_edits += 1
        self.check_removed(name, refuse, self.run("remove", *(["--force"] if force else []), name))

    def remove_must_refuse(self, name: str, force: bool) -> bool:
        """Without --force, removing a skill whose folder holds an edit (and that nothing else needs) refuses."""
        needed = any(name in e.get("dependencies", []) for e in self.lock_entries() if e["name"] != name)
        return not force and not needed and name.rpartition("/")[2] in self.dirty()

    def check_removed(self, name: str, refuse: bool, r: Result) -> None:
        assert r.rc in (0, 1), r
        if refuse:
            assert r.rc == 1, f"`remove {name}` of a locally edited folder must refuse without --force\n{r!r}"
        if r.rc == 0:
            assert name not in self.manifest_keys(), r
            locked = {e["folder"] for e in self.lock_entries()}
            for entry_folder in {name.rpartition("/")[2]} - locked:
                assert entry_folder in self.dirty() or not (self.idir / entry_folder).exists(), (
                    f"{entry_folder}/ is still installed after `remove {name}`\n{r!r}")
        self.remember()

    @rule(data=st.data(), command=st.sampled_from(["install", "install --force", "remove", "remove --force", "lock"]))
    def crash(self, data, command: str) -> None:
        """Kill a command at a drawn write point (maybe its recovery too); then recover and check (b)."""
        STATS.step("crash")
        STATS.crash_rules += 1
        args = command.split()
        if args[0] == "remove":
            keys = self.manifest_keys()
            if not keys:
                args = ["install"]
            else:
                args.append(data.draw(st.sampled_from(keys), label="name"))
        if args[0] == "lock":
            (self.project / "skills.toml").write_text(toml_text(data.draw(manifests, label="manifest"), self.registry))

        points = self.count_points(args)
        k = data.draw(st.integers(1, points), label="kill_at") if points else None
        k2 = data.draw(st.none() | st.integers(1, 12), label="kill_recovery_at") if points else None
        self.crash_at(args, k, k2, points)

    def crash_at(self, args: list[str], k: int | None, k2: int | None = None, points: int = 0) -> tuple[bool, bool]:
        """Run `args` killed at write point k (None: not killed); recover with `skillpm lock` (killed at
        k2 when given, then again); check (b): the project is wholly in its old state or wholly in the
        state the same command reached unkilled (count_points); then `install` and check (c).
        Returns (killed, recovery killed). count_points(args) must have run just before."""
        pre = self.snapshot()
        new = self.last_post
        if "--force" in args and self.dirty():
            STATS.forced_over_edits += 1
        refuse = args[0] == "remove" and self.remove_must_refuse(args[-1], "--force" in args)
        r = self.run(*args, kill_at=k)
        if r.rc != KILLED:  # not killed (or fewer points this time than when counted): it simply finished
            self.finish_uninterrupted(args, pre[0], r, refuse)
            return False, False
        STATS.kills += 1
        where = f"after killing `skillpm {' '.join(args)}` at write point {k} of {points} ({r.points[-1:]})"
        self.check_edits(mid_crash=True)
        v = self.run("verify")
        assert v.rc in (0, 1), v

        # `skillpm lock` takes the project lock, so it recovers first (ops/sync.py locked_project),
        # and it moves no folder: what it leaves is what recovery did.
        recovery_killed = False
        if k2 is not None:
            r2 = self.run("lock", kill_at=k2)
            assert r2.rc in (0, KILLED), r2
            recovery_killed = r2.rc == KILLED
            if recovery_killed:
                STATS.recovery_kills += 1
                where += f", recovery killed at point {k2} ({r2.points[-1:]})"
                self.check_edits(mid_crash=True)
        rec = self.run("lock")
        assert rec.rc == 0, f"{where}:\n{rec!r}"
        v = self.run("verify")
        assert PENDING not in v.out + v.err, f"{where}: `skillpm lock` did not finish the interrupted install\n{v!r}"
        self.check_edits()
        after = self.snapshot()
        if args[0] == "lock":  # only skills.lock moves: the folders are untouched
            assert after[0] == pre[0], f"{where}: folders changed\n{rec!r}"
        elif after != pre and after != new:
            diff = [f"  {f}/: old {pre[0].get(f)}, new {new[0].get(f)}, now {after[0].get(f)}"
                    for f in sorted(set(pre[0]) | set(new[0]) | set(after[0]))
                    if len({pre[0].get(f), new[0].get(f), after[0].get(f)}) > 1]
            for i, name in ((1, "skills.toml"), (2, "skills.lock")):
                if len({pre[i], new[i], after[i]}) > 1:
                    diff.append(f"  {name}: {'old' if after[i] == pre[i] else 'new' if after[i] == new[i] else 'neither'}")
            raise AssertionError(f"{where}, recovery left a mix of the old and the new state:\n"
                                 + "\n".join(diff) + f"\n{rec!r}")

        final = self.run("install")
        self.check_synced(final, after[0], forced=False)
        self.remember()
        return True, recovery_killed

    def count_points(self, args: list[str]) -> int:
        """Run the command unkilled, counting its write points and keeping the state it reaches
        (self.last_post), then put the project and cache back as they were."""
        saved = self.root / "saved"
        self.save(saved)
        r = skillpm(args, cwd=self.project, env=self.env, log=self.root / "points.log")
        self.last_post = self.snapshot()  # the state the command reaches when not killed
        self.restore(saved)
        shutil.rmtree(saved)
        self.last_points = r.points
        STATS.most_points = max(STATS.most_points, len(r.points))
        return len(r.points)

    def save(self, dest: Path) -> None:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(self.project, dest / "project", symlinks=True)
        shutil.copytree(self.root / "cache", dest / "cache", symlinks=True)

    def restore(self, saved: Path) -> None:
        """Put back what save() kept. In place: skillpm trusts its install state only in the folder
        it wrote it in (checkout id = device and inode of `.skillpm/`), so that folder stays."""
        keep = self.idir / ".skillpm"

        def clear(folder: Path) -> None:
            for p in folder.iterdir():
                if p == keep or keep.is_relative_to(p):
                    clear(p)
                elif p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()

        clear(self.project)
        shutil.copytree(saved / "project", self.project, symlinks=True, dirs_exist_ok=True)
        shutil.rmtree(self.root / "cache")
        shutil.copytree(saved / "cache", self.root / "cache", symlinks=True)

    def finish_uninterrupted(self, args: list[str], pre: dict[str, str], r: Result, refuse: bool) -> None:
        if args[0] == "install":
            self.check_synced(r, pre, forced="--force" in args)
        elif args[0] == "remove":
            self.check_removed(args[-1], refuse, r)
        else:
            assert r.rc == 0, r
            assert self.disk() == pre, "`skillpm lock` changed the install dir"
        self.remember()


# -- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_registry(tmp_path_factory) -> Path:
    """A folder registry with lib/core 1.0.0, 1.1.0, 2.0.0 and lib/util 1.0.0, 2.0.0 (-> lib/core >=1.0.0)."""
    root = tmp_path_factory.mktemp("model-registry")
    env = base_env(root)
    reg = root / "registry"
    for ident, versions in REGISTRY.items():
        ns, _, name = ident.rpartition("/")
        for version, files in versions.items():
            folder = root / "pub" / version / "skills" / ns / name
            write_files(folder, files)
            r = skillpm(["publish", str(folder), "--registry", str(reg)], cwd=root, env=env)
            assert r.rc == 0, r
    return reg


# Shrinking re-runs whole examples (seconds each): minutes per failure. A failure without it
# still prints every step; set SKILLPM_MODEL_SHRINK=1 to get a minimal one.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate) + (
    (Phase.shrink, Phase.explain) if os.environ.get("SKILLPM_MODEL_SHRINK") else ()
)

QUICK = settings(
    max_examples=int(os.environ.get("SKILLPM_MODEL_EXAMPLES", "15")),
    stateful_step_count=int(os.environ.get("SKILLPM_MODEL_STEPS", "15")),
    deadline=None,
    database=None,
    derandomize=True,
    phases=PHASES,
    suppress_health_check=list(HealthCheck),
)


def run_model(registry: Path, how: settings, capsys) -> None:
    global STATS
    STATS = Stats()
    InstallModel.registry = registry
    started = time.monotonic()
    try:
        run_state_machine_as_test(InstallModel, settings=how)
    finally:
        with capsys.disabled():
            print("\n" + STATS.line(time.monotonic() - started))


def test_install_model(model_registry, capsys):
    run_model(model_registry, QUICK, capsys)


@pytest.mark.slow
def test_install_model_long(model_registry, capsys):
    # 40 x 20 in CI (about 8 minutes here); SKILLPM_MODEL_EXAMPLES / _STEPS run the 100 x 25 of the closing note
    run_model(model_registry, settings(QUICK, max_examples=int(os.environ.get("SKILLPM_MODEL_EXAMPLES", "40")),
                                       stateful_step_count=int(os.environ.get("SKILLPM_MODEL_STEPS", "20"))), capsys)


# -- a deterministic sweep: kill one scenario at every write point ------------------------------

SWEEP_START = {"alpha": {"path": "./src/alpha"}, "beta": {"path": "./src/beta"}, "lib/core": "=1.0.0",
               "lib/util": "=1.0.0"}
SWEEP_NEXT = {"alpha": {"path": "./src/alpha"}, "beta": {"path": "./src/beta"}, "gamma": {"path": "./src/gamma"},
              "lib/core": "=2.0.0"}


@pytest.mark.parametrize("command", ["install --force", "install", "remove --force alpha"])
def test_kill_at_every_write_point(model_registry, command, capsys):
    """One scenario with every kind of step at once, killed at each of its write points in turn.

    Installed: alpha, beta, lib/core 1.0.0, lib/util 1.0.0. Then alpha/SKILL.md is edited, beta/ is
    deleted, and a teammate's lock arrives: + gamma, core 1.0.0 -> 2.0.0, - util. `install --force`
    backs alpha up and replaces it, restores beta, upgrades core, removes util and adds gamma; plain
    `install` does all but alpha (kept: exit 1). For `install --force` the recovery is also killed at
    each of its own points, after a kill just before the commit.
    """
    global STATS
    STATS = Stats()
    InstallModel.registry = model_registry
    started = time.monotonic()
    machine = InstallModel()
    try:
        machine.start(SWEEP_START)
        (machine.project / "skills.toml").write_text(toml_text(SWEEP_NEXT, model_registry))
        assert machine.run("lock").rc == 0
        skill_md = machine.idir / "alpha" / "SKILL.md"
        skill_md.write_bytes(skill_md.read_bytes() + b"local edit for the sweep\n")
        machine.edits[("alpha", "SKILL.md")] = skill_md.read_bytes()
        shutil.rmtree(machine.idir / "beta")
        snap = machine.root / "snap"
        machine.save(snap)
        edits = dict(machine.edits)

        def restore() -> None:
            machine.restore(snap)
            machine.edits = dict(edits)

        args = command.split()
        points = machine.count_points(args)
        names = list(machine.last_points)
        assert points >= 8, f"`skillpm {command}` hit only {names}"
        for k in range(1, points + 1):
            restore()
            killed, _ = machine.crash_at(args, k, None, points)
            assert killed, f"`skillpm {command}` was not killed at write point {k} of {points} ({names})"
            STATS.sweep_kills += 1
        if "--force" in args and "txn.commit" in names:
            k = names.index("txn.commit") + 1  # everything moved, not yet committed: recovery must roll back
            for k2 in range(1, 41):
                restore()
                killed, recovery_killed = machine.crash_at(args, k, k2, points)
                assert killed
                if not recovery_killed:
                    break
    finally:
        machine.teardown()
        with capsys.disabled():
            print(f"\nsweep `{command}`: {STATS.sweep_kills} kill points, " + STATS.line(time.monotonic() - started))
