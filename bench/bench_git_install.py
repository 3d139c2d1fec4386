#!/usr/bin/env python3
"""Benchmark: installing 100 skills from one local git monorepo.

    .venv/bin/python bench/bench_git_install.py [--skills 100] [--keep]

Builds a monorepo with N skills (SKILL.md, a few reference files, one
executable script each, per-skill tags `skills/sNNN/v1.0.0`), then times in
one run:

  (a) GitSource: resolve + materialize all N, cold cache (partial clone)
  (a') the same, cold cache, after prefetch() of all N sources
  (a") the same, cold cache: resolve all, prefetch_releases(), then materialize
  (b) GitSource: resolve + materialize all N, warm cache (a new run)
  (c) git clone --depth 1 file://… of the same repository
  (d) cp -r of the same N folders
  (e) the CLI, if present: `skillpm add` of the N specs (cold cache), then
      `skillpm install` into an emptied install dir (warm cache)

Every GitSource install is checked against the tree digest of the copied
folder. Times are wall-clock seconds; no assertions are made on them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from skillpm.digest import tree_digest  # noqa: E402


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{proc.stdout}\n{proc.stderr}")
    return proc


def build_monorepo(root: Path, n: int) -> tuple[Path, list[str]]:
    repo = root / "mono"
    repo.mkdir()
    run("git", "init", "-q", "-b", "main", str(repo))
    run("git", "config", "uploadpack.allowFilter", "true", cwd=repo)
    folders = []
    for i in range(1, n + 1):
        name = f"s{i:03d}"
        folder = repo / "skills" / name
        (folder / "scripts").mkdir(parents=True)
        (folder / "references").mkdir()
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: Benchmark skill {name}. Use when benchmarking.\n"
            f"metadata:\n  version: 1.0.0\n---\n# {name}\n\nRead references/guide.md.\n"
        )
        (folder / "scripts" / "run.sh").write_text(f"#!/bin/sh\necho {name}\n")
        os.chmod(folder / "scripts" / "run.sh", 0o755)
        (folder / "scripts" / "lib.py").write_text(f"NAME = {name!r}\n" + "# padding\n" * 50)
        (folder / "references" / "guide.md").write_text(f"# Guide for {name}\n\n" + "Lorem ipsum dolor sit amet. " * 200)
        (folder / "references" / "api.md").write_text(f"# API {i}\n\n" + "- item\n" * 100)
        folders.append(f"skills/{name}")
    (repo / "README.md").write_text("# bench monorepo\n")
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-q", "-m", "100 skills", cwd=repo)
    for f in folders:
        run("git", "tag", f"{f}/v1.0.0", cwd=repo)
    return repo, folders


def timed(label: str, results: list[tuple[str, float, str]], fn, note: str = "") -> float:  # noqa: ANN001
    start = time.perf_counter()
    extra = fn()
    elapsed = time.perf_counter() - start
    results.append((label, elapsed, extra or note))
    print(f"  {label:<58} {elapsed:7.2f}s  {extra or note}", flush=True)
    return elapsed


def install_all(url: str, folders: list[str], dest: Path, *, mode: str = "plain") -> str:
    """Resolve (releases + dependencies) and materialize every skill.

    mode "plain": one source after the other, as a naive caller would;
    "prefetch": prefetch(sources) first (refs, mirror, SKILL.md files, newest trees);
    "releases": resolve first, then prefetch_releases(picked), then materialize.
    """
    from skillpm.sources.git import GitSource, prefetch, prefetch_releases
    from skillpm.spec import GitSpec

    sources = [GitSource(GitSpec(url=url, path=f)) for f in folders]
    if mode == "prefetch":
        errors = [e for e in prefetch(sources).values() if e]
        if errors:
            raise SystemExit(f"prefetch failed: {errors[0]}")
    picked = []
    for src in sources:
        rel = src.releases()[0]
        src.dependencies(rel)
        picked.append((src, rel))
        if mode == "plain":
            src.materialize(rel, dest / src.name)
    if mode == "releases":
        errors = [e for e in prefetch_releases(picked).values() if e]
        if errors:
            raise SystemExit(f"prefetch_releases failed: {errors[0]}")
    if mode != "plain":
        for src, rel in picked:
            src.materialize(rel, dest / src.name)
    return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skills", type=int, default=100)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="skillpm-bench-git-"))
    home = tmp / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("")
    os.environ.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@example.invalid",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@example.invalid",
    )
    from skillpm.sources.git import reset_run_state

    results: list[tuple[str, float, str]] = []
    try:
        print(f"building a monorepo with {args.skills} skills in {tmp} …", flush=True)
        repo, folders = build_monorepo(tmp, args.skills)
        url = repo.as_uri()
        n = len(folders)
        git_version = run("git", "--version").stdout.strip()
        print(f"{git_version}; {n} skills; 5 files each (one executable)\n", flush=True)

        os.environ["SKILLPM_CACHE_DIR"] = str(tmp / "cache-a")
        reset_run_state()
        timed(f"(a)  GitSource, cold cache ({n} skills)", results, lambda: install_all(url, folders, tmp / "out-a"))

        os.environ["SKILLPM_CACHE_DIR"] = str(tmp / "cache-a2")
        reset_run_state()
        timed(
            "(a') GitSource, cold cache, prefetch() first",
            results,
            lambda: install_all(url, folders, tmp / "out-a2", mode="prefetch"),
        )

        os.environ["SKILLPM_CACHE_DIR"] = str(tmp / "cache-a3")
        reset_run_state()
        timed(
            "(a\") GitSource, cold cache, resolve, prefetch_releases()",
            results,
            lambda: install_all(url, folders, tmp / "out-a3", mode="releases"),
        )

        os.environ["SKILLPM_CACHE_DIR"] = str(tmp / "cache-a")
        reset_run_state()
        timed(f"(b)  GitSource, warm cache ({n} skills)", results, lambda: install_all(url, folders, tmp / "out-b"))

        timed("(c)  git clone --depth 1 file://…", results, lambda: run("git", "clone", "-q", "--depth", "1", url, str(tmp / "clone")) and "")

        def copy_all() -> str:
            for f in folders:
                run("cp", "-r", str(repo / f), str(tmp / "out-d" / f.rsplit("/", 1)[-1]))
            return ""

        (tmp / "out-d").mkdir()
        timed(f"(d)  cp -r of the {n} folders (one cp per folder)", results, copy_all)
        timed("(d') cp -r of skills/ (one cp)", results, lambda: run("cp", "-r", str(repo / "skills"), str(tmp / "out-d2")) and "")

        # correctness: every install equals the plain copy
        for out in ("out-a", "out-a2", "out-a3", "out-b"):
            for f in folders:
                name = f.rsplit("/", 1)[-1]
                got, want = tmp / out / name, tmp / "out-d" / name
                if tree_digest(got) != tree_digest(want):
                    raise SystemExit(f"digest mismatch for {out}/{name}")
                if not os.access(got / "scripts" / "run.sh", os.X_OK):
                    raise SystemExit(f"{out}/{name}/scripts/run.sh lost its executable bit")
        print("\n  all installs match the plain copies (tree digest and exec bit)\n", flush=True)

        cli_rows(tmp, url, folders, results)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print("| step | seconds | note |")
    print("| --- | ---: | --- |")
    for label, secs, note in results:
        print(f"| {label} | {secs:.2f} | {note} |")


def cli_rows(tmp: Path, url: str, folders: list[str], results: list[tuple[str, float, str]]) -> None:
    skillpm = [sys.executable, "-m", "skillpm"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "SKILLPM_CACHE_DIR": str(tmp / "cache-cli"), "NO_COLOR": "1"}

    def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*skillpm, *args], cwd=cwd, env=env, capture_output=True, text=True)

    probe = cli("--help")
    if probe.returncode != 0 or " add " not in probe.stdout:
        why = (probe.stderr.strip().splitlines() or ["no add command"])[-1]
        results.append(("(e)  CLI", 0.0, f"skillpm CLI not usable ({why}): not timed"))
        return
    note = "" if "--all" in cli("add", "--help").stdout else "`add --all` does not exist: the specs are given one by one"
    project = tmp / "project"
    project.mkdir()
    cli("init", cwd=project)
    specs = [f"{url}#path={f}" for f in folders]

    def step(label: str, *args: str, note: str = "") -> bool:
        start = time.perf_counter()
        proc = cli(*args, cwd=project)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            why = (proc.stderr.strip().splitlines() or ["?"])[-1]
            results.append((label, elapsed, f"FAILED: {why}"))
            print(f"  {label:<58} failed: {why}", flush=True)
            return False
        results.append((label, elapsed, note))
        print(f"  {label:<58} {elapsed:7.2f}s  {note}", flush=True)
        return True

    if not step(f"(e)  CLI: skillpm add of {len(specs)} git specs, cold cache", "add", *specs, note=note):
        return
    installed = list(project.rglob("SKILL.md"))
    if installed:
        install_dir = installed[0].parent.parent
        for child in install_dir.iterdir():
            if child.is_dir() and not child.name.startswith("."):
                shutil.rmtree(child)
        step("(e') CLI: skillpm install from the lock, warm cache", "install")


if __name__ == "__main__":
    main()
