"""The shared git cache: partial clones, fallback, offline, locks, parallel fetches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from skillpm.digest import tree_digest
from skillpm.errors import SourceError
from skillpm.sources.git import (
    GitSource,
    Mirror,
    NotCachedError,
    clean_cache,
    git_cache_dir,
    materialize_locked,
    prefetch,
    prefetch_releases,
    reset_run_state,
)
from skillpm.spec import GitSpec

from .conftest import git

REPO_ROOT = Path(__file__).resolve().parents[3]


def missing_blobs(mirror: Mirror) -> set[str]:
    out = git("--git-dir", str(mirror.path), "rev-list", "--objects", "--all", "--missing=print")
    return {line[1:] for line in out.splitlines() if line.startswith("?")}


def blobs_of(repo, commit: str, folder: str) -> set[str]:
    out = repo.run("ls-tree", "-r", f"{commit}:{folder}")
    return {line.split()[2] for line in out.splitlines()}


def test_cache_layout_one_mirror_per_remote(monorepo, cache):
    mono = monorepo(n_skills=3)
    a = GitSource(GitSpec(url=mono.url, path="skills/skill-01"))
    b = GitSource(GitSpec(url=mono.url, path="skills/skill-02"))
    a.dependencies(a.releases()[0])
    b.dependencies(b.releases()[0])
    assert git_cache_dir() == cache / "git"
    mirrors = [p for p in git_cache_dir().iterdir() if p.is_dir()]
    assert mirrors == [a.mirror.path] == [b.mirror.path]
    assert (a.mirror.path / "HEAD").is_file() and not (a.mirror.path / "hooks").exists()
    config = (a.mirror.path / "config").read_text()
    assert "remote.origin.url" not in config and "url =" not in config.split("[skillpm]")[0]
    assert clean_cache() == 1
    assert not git_cache_dir().exists()


def test_partial_clone_fetches_only_what_is_used(monorepo, tmp_path):
    mono = monorepo(n_skills=6)
    src = GitSource(GitSpec(url=mono.url, path="skills/skill-01"))
    rel = src.releases()[0]
    src.dependencies(rel)
    mirror = src.mirror
    assert mirror.partial
    before = missing_blobs(mirror)
    skill = blobs_of(mono.repo, rel.commit, "skills/skill-01")
    assert len(before) > 20  # the other skills' files are still on the server
    assert len(skill & before) == len(skill) - 1  # only SKILL.md was read
    src.materialize(rel, tmp_path / "out")
    after = missing_blobs(mirror)
    assert after == before - skill  # exactly the skill's files were fetched


def test_partial_clone_fallback_when_server_refuses_filters(monorepo, tmp_path):
    mono = monorepo(n_skills=3)
    mono.repo.config("uploadpack.allowFilter", "false")
    src = GitSource(GitSpec(url=mono.url, path="skills/skill-02"))
    rel = src.releases()[0]
    src.materialize(rel, tmp_path / "out")
    assert not src.mirror.partial
    assert missing_blobs(src.mirror) == set()
    config = (src.mirror.path / "config").read_text()
    assert "promisor" not in config and "partialclonefilter" not in config
    assert tree_digest(tmp_path / "out") == mono.repo.blob_digest("HEAD", "skills/skill-02")


def test_partial_clone_fallback_over_http(monorepo, git_http, tmp_path):
    mono = monorepo(n_skills=2)
    server = git_http()
    for allow in (True, False):
        url = server.serve(mono.repo, allow_filter=allow)
        clean_cache()
        src = GitSource(GitSpec(url=url, path="skills/skill-01"))
        dest = tmp_path / f"out-{allow}"
        src.materialize(src.releases()[0], dest)
        assert src.mirror.partial is allow
        assert tree_digest(dest) == mono.repo.blob_digest("HEAD", "skills/skill-01")


def test_offline_works_from_a_warm_cache(monorepo, tmp_path):
    mono = monorepo(n_skills=3, versions=("1.0.0", "1.1.0", "2.0.0"))
    spec = GitSpec(url=mono.url, path="skills/skill-03", range="^1.0")
    online = GitSource(spec)
    rels = online.releases()
    for rel in rels:
        online.dependencies(rel)
    picked = rels[1]
    online.materialize(picked, tmp_path / "online")
    # the remote disappears; offline still resolves and installs from the mirror
    shutil.move(mono.repo.path, tmp_path / "moved-away")
    reset_run_state()
    offline = GitSource(spec, offline=True)
    assert [str(r.version) for r in offline.releases()] == [str(r.version) for r in rels]
    assert offline.releases()[1].commit == picked.commit
    offline.materialize(offline.releases()[1], tmp_path / "offline")
    assert tree_digest(tmp_path / "offline") == tree_digest(tmp_path / "online")
    materialize_locked(mono.url, "skills/skill-03", picked.commit, tmp_path / "locked", offline=True)
    # files never fetched (another skill's) are missing: a clear error, no network
    other = GitSource(GitSpec(url=mono.url, path="skills/skill-01"), offline=True)
    with pytest.raises(NotCachedError, match="not in the cache; run without --offline once"):
        other.materialize(other.releases()[0], tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_offline_with_a_cold_cache_fails_clearly(monorepo, tmp_path):
    mono = monorepo(n_skills=1)
    src = GitSource(GitSpec(url=mono.url, path="skills/skill-01"), offline=True)
    with pytest.raises(NotCachedError) as err:
        src.releases()
    assert str(err.value) == f"git+{mono.url} is not in the cache; run without --offline once"
    with pytest.raises(NotCachedError, match="not in the cache"):
        materialize_locked(mono.url, "skills/skill-01", mono.repo.head(), tmp_path / "x", offline=True)
    assert not git_cache_dir().exists() or not any(git_cache_dir().iterdir())


def test_untagged_offline_uses_the_recorded_default_branch(git_repo, tmp_path):
    git_repo.write_skill("", "solo", version="0.2.0")
    git_repo.checkout("trunk", new=True)
    head = git_repo.commit()
    GitSource(GitSpec(url=git_repo.url)).releases()
    reset_run_state()
    (rel,) = GitSource(GitSpec(url=git_repo.url), offline=True).releases()
    assert (rel.branch, rel.commit, str(rel.version)) == ("trunk", head, "0.2.0")


def test_incremental_fetch_picks_up_new_tags(monorepo, tmp_path):
    mono = monorepo(n_skills=2, versions=("1.0.0",))
    spec = GitSpec(url=mono.url, path="skills/skill-01")
    src = GitSource(spec)
    src.materialize(src.releases()[0], tmp_path / "v1")
    mono.repo.write_skill("skills/skill-01", version="1.5.0")
    mono.repo.commit()
    mono.repo.tag("skills/skill-01/v1.5.0")
    reset_run_state()  # a new run
    src = GitSource(spec)
    rel = src.releases()[0]
    assert str(rel.version) == "1.5.0"
    src.materialize(rel, tmp_path / "v15")
    assert "1.5.0" in (tmp_path / "v15/SKILL.md").read_text()
    assert git("--git-dir", str(src.mirror.path), "rev-parse", "refs/tags/skills/skill-01/v1.5.0^{commit}").strip() == rel.commit


def test_materialize_locked_fetches_the_commit_by_id(monorepo, tmp_path):
    mono = monorepo(n_skills=2, versions=("1.0.0",))
    src = GitSource(GitSpec(url=mono.url, path="skills/skill-01"))
    src.dependencies(src.releases()[0])  # warm mirror, without the next commit
    mono.repo.write_skill("skills/skill-01", version="1.0.1")
    newer = mono.repo.commit()
    reset_run_state()
    materialize_locked(mono.url, "skills/skill-01", newer, tmp_path / "out")
    assert "1.0.1" in (tmp_path / "out/SKILL.md").read_text()
    refs = git("--git-dir", str(src.mirror.path), "for-each-ref", "--format=%(refname)")
    assert f"refs/skillpm/commits/{newer}" in refs  # fetched by id, kept for offline use
    assert "refs/heads/main" in refs


def test_materialize_locked_falls_back_when_fetch_by_id_is_refused(monorepo, tmp_path, global_git_config):
    global_git_config("protocol.version", "0")  # v0 servers refuse unadvertised ids
    mono = monorepo(n_skills=1, versions=("1.0.0",))
    mono.repo.config("uploadpack.allowReachableSHA1InWant", "false")
    mono.repo.config("uploadpack.allowAnySHA1InWant", "false")
    src = GitSource(GitSpec(url=mono.url, path="skills/skill-01"))
    src.dependencies(src.releases()[0])
    mono.repo.write_skill("skills/skill-01", version="1.0.2")
    newer = mono.repo.commit()
    mono.repo.write("unrelated.txt", "later\n")
    mono.repo.commit()  # so `newer` is no longer advertised as a branch tip
    reset_run_state()
    materialize_locked(mono.url, "skills/skill-01", newer, tmp_path / "out")
    assert "1.0.2" in (tmp_path / "out/SKILL.md").read_text()
    refs = git("--git-dir", str(src.mirror.path), "for-each-ref", "--format=%(refname)")
    assert f"refs/skillpm/commits/{newer}" not in refs  # came with the branch instead
    with pytest.raises(SourceError, match="is not in"):
        materialize_locked(mono.url, "skills/skill-01", "1" * 40, tmp_path / "bad")


def test_concurrent_materialize_threads_share_one_mirror(monorepo, tmp_path):
    mono = monorepo(n_skills=8)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        try:
            src = GitSource(GitSpec(url=mono.url, path=f"skills/skill-{i:02d}"))
            rel = src.releases()[0]
            barrier.wait()
            src.materialize(rel, tmp_path / "out" / str(i))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i in range(1, 9):
        assert tree_digest(tmp_path / "out" / str(i)) == mono.repo.blob_digest("HEAD", f"skills/skill-{i:02d}")
    assert len([p for p in git_cache_dir().iterdir() if p.is_dir()]) == 1


_CHILD = """
import json, sys
from pathlib import Path
from skillpm.spec import GitSpec
from skillpm.sources.git import GitSource
from skillpm.digest import tree_digest
url, path, dest = sys.argv[1:4]
src = GitSource(GitSpec(url=url, path=path))
rel = src.releases()[0]
src.materialize(rel, Path(dest))
print(json.dumps({"digest": tree_digest(Path(dest)), "partial": src.mirror.partial}))
"""


def test_concurrent_materialize_processes_cold_cache(monorepo, tmp_path):
    mono = monorepo(n_skills=4)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, mono.url, f"skills/skill-0{i}", str(tmp_path / f"p{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for i in (1, 2, 3)
    ]
    for i, proc in zip((1, 2, 3), procs):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        result = json.loads(out)
        assert result["digest"] == mono.repo.blob_digest("HEAD", f"skills/skill-0{i}")
        assert result["partial"] is True
    assert len([p for p in git_cache_dir().iterdir() if p.is_dir()]) == 1
    assert not [p for p in git_cache_dir().iterdir() if p.name.startswith(".tmp-")]


def test_parallel_prefetch_of_several_remotes(make_git_repo, monkeypatch):
    repos = []
    for i in range(4):
        repo = make_git_repo(f"r{i}")
        repo.write_skill("", f"skill-{i}", version="1.0.0")
        repo.commit()
        repo.tag("v1.0.0")
        repos.append(repo)
    sources = [GitSource(GitSpec(url=r.url)) for r in repos]
    sources.append(GitSource(GitSpec(url=repos[0].url, path="")))  # same remote twice
    sources.append(GitSource(GitSpec(url=(repos[0].path.parent / "missing").as_uri())))

    from skillpm.sources.git import command

    active = {"now": 0, "max": 0}
    lock = threading.Lock()
    real = command.subprocess.run

    def tracking(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        try:
            return real(*args, **kw)
        finally:
            with lock:
                active["now"] -= 1

    monkeypatch.setattr(command.subprocess, "run", tracking)
    results = prefetch(sources)
    assert set(results) == {r.url for r in repos} | {sources[-1].display_url}
    assert [results[r.url] for r in repos] == [None] * 4
    assert isinstance(results[sources[-1].display_url], SourceError)
    assert active["max"] > 1  # really in parallel
    for src in sources[:4]:
        assert src.mirror.exists() and src.mirror.synced
    # everything is there now: an offline run resolves and reads each one
    reset_run_state()
    for r in repos:
        off = GitSource(GitSpec(url=r.url), offline=True)
        assert off.dependencies(off.releases()[0]) == ()


def test_prefetch_releases_then_install_needs_no_network(monorepo, tmp_path):
    mono = monorepo(n_skills=5, versions=("1.0.0", "2.0.0"))
    sources = [GitSource(GitSpec(url=mono.url, path=f, range="^1.0")) for f in mono.folders[:3]]
    picked = [(src, src.candidates()[0]) for src in sources]
    assert {str(rel.version) for _s, rel in picked} == {"1.0.0"}
    locked = (mono.url, mono.folders[4], mono.repo.rev("HEAD"))
    assert prefetch_releases([*picked, locked]) == {mono.url: None}
    # all of it is in the cache now: install everything offline
    reset_run_state()
    for src, rel in picked:
        offline = GitSource(src.spec, offline=True)
        offline.materialize(rel, tmp_path / src.name)
        assert tree_digest(tmp_path / src.name) == mono.repo.blob_digest(rel.commit, src.path)
    materialize_locked(*locked, tmp_path / "locked", offline=True)
    # but nothing else was fetched: skill-04 is not in the cache
    with pytest.raises(NotCachedError):
        materialize_locked(mono.url, mono.folders[3], locked[2], tmp_path / "other", offline=True)
