"""Real transports: git daemon (git://) and smart HTTP with Basic auth."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from skillpm.digest import tree_digest
from skillpm.errors import SourceError
from skillpm.sources.git import GitSource, clean_cache, discover, git_cache_dir, materialize_locked, prefetch
from skillpm.spec import GitSpec, parse_spec, redact_url

SECRET = "s3cr3t-Pw-7731"


def everything_in(folder: Path) -> str:
    """All file names and contents under `folder`, as one searchable string."""
    chunks = []
    for root, dirs, files in os.walk(folder):
        chunks += dirs + files
        for f in files:
            try:
                chunks.append((Path(root) / f).read_bytes().decode("latin-1"))
            except OSError:
                pass
    return "\n".join(chunks)


def test_git_daemon_transport(monorepo, git_daemon, tmp_path):
    mono = monorepo(n_skills=3)
    url = git_daemon(mono.repo)
    src = GitSource(parse_spec(f"{url}#path=skills/skill-02"))
    rels = src.releases()
    assert [str(r.version) for r in rels] == ["1.1.0", "1.0.0"]
    assert src.dependencies(rels[0]) == (f"{mono.url}#path=skills/skill-01",)
    src.materialize(rels[1], tmp_path / "out")
    assert src.mirror.partial
    assert tree_digest(tmp_path / "out") == mono.repo.blob_digest("skills/skill-02/v1.0.0", "skills/skill-02")
    assert [d.path for d in discover(url)] == mono.folders
    assert src.lock_source == f"git+{url}"


def test_http_with_credentials_in_url_never_leaks_them(monorepo, git_http, tmp_path):
    mono = monorepo(n_skills=3)
    server = git_http(user="deploy", password=SECRET)
    url = server.serve(mono.repo, user="deploy", password=SECRET)
    assert SECRET in url
    src = GitSource(parse_spec(f"{url}#path=skills/skill-03"))
    rels = src.releases()
    src.dependencies(rels[0])
    src.materialize(rels[0], tmp_path / "out")
    assert tree_digest(tmp_path / "out") == mono.repo.blob_digest("HEAD", "skills/skill-03")
    assert any(auth for _m, _p, auth in server.requests), "the server saw no credentials"
    clean = url.replace(f"deploy:{SECRET}@", "")
    assert src.lock_source == f"git+{clean}"
    assert src.display_url == clean == redact_url(url)
    for text in (src.lock_source, repr(rels), str(src.spec), " ".join(src.warnings), str(src.mirror)):
        assert SECRET not in text
    # nothing in the cache (folder names, config, refs) holds the password
    assert SECRET not in everything_in(git_cache_dir())
    assert "deploy" not in "".join(p.name for p in git_cache_dir().iterdir())
    materialize_locked(url, "skills/skill-01", rels[0].commit, tmp_path / "locked")
    assert [d.name for d in discover(url)] == [f"skill-{i:02d}" for i in range(1, 4)]
    assert SECRET not in everything_in(git_cache_dir())


def test_mirror_commands_never_carry_the_credentialed_url(monorepo, git_http, tmp_path, monkeypatch):
    """The mirror gets remote.origin.url through the environment, not `-c` on argv."""
    import subprocess

    mono = monorepo(n_skills=2)
    server = git_http(user="deploy", password=SECRET)
    url = server.serve(mono.repo, user="deploy", password=SECRET)
    seen: list[str] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def run(args, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append(" ".join(map(str, args)))
        return real_run(args, *a, **kw)

    def popen(args, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append(" ".join(map(str, args)))
        return real_popen(args, *a, **kw)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(subprocess, "Popen", popen)
    src = GitSource(parse_spec(f"{url}#path=skills/skill-02"))
    rels = src.releases()
    src.materialize(rels[0], tmp_path / "out")
    mirror_cmds = [c for c in seen if "--git-dir=" in c]
    assert mirror_cmds and any(" fetch " in c for c in mirror_cmds) and any(" archive " in c for c in mirror_cmds)
    assert not [c for c in mirror_cmds if SECRET in c or "remote.origin.url" in c]


def test_http_wrong_credentials_error_is_redacted_and_fast(monorepo, git_http):
    mono = monorepo(n_skills=1)
    server = git_http(user="deploy", password=SECRET)
    good = server.serve(mono.repo, user="deploy", password=SECRET)
    for bad in (good.replace(SECRET, "wr0ng-Pw-99331"), good.replace(f"deploy:{SECRET}@", "")):
        started = time.monotonic()
        with pytest.raises(SourceError) as err:
            GitSource(parse_spec(bad)).releases()
        assert time.monotonic() - started < 20  # no prompt waiting for a password
        message = str(err.value)
        assert "wr0ng-Pw-99331" not in message and SECRET not in message
        assert redact_url(bad) in message
    # the same failure while cloning into the cache (after refs were listed)
    with pytest.raises(SourceError) as err:
        materialize_locked(good.replace(SECRET, "wr0ng-Pw-99331"), "", "a" * 40, Path("/nonexistent/x"))
    assert "wr0ng-Pw-99331" not in str(err.value)


def test_private_remote_through_the_users_credential_helper(monorepo, git_http, global_git_config, tmp_path):
    mono = monorepo(n_skills=2)
    server = git_http(user="deploy", password=SECRET)
    url = server.serve(mono.repo)  # no credentials in the URL
    store = tmp_path / "git-credentials"
    store.write_text(f"http://deploy:{SECRET}@127.0.0.1:{server.port}\n")
    global_git_config("credential.helper", f"store --file={store}")
    src = GitSource(parse_spec(f"{url}#path=skills/skill-01"))
    src.materialize(src.releases()[0], tmp_path / "out")
    assert (tmp_path / "out/SKILL.md").is_file()
    assert SECRET not in everything_in(git_cache_dir())


def test_private_remote_through_git_askpass(monorepo, git_http, monkeypatch, tmp_path):
    mono = monorepo(n_skills=1)
    server = git_http(user="deploy", password=SECRET)
    url = server.serve(mono.repo, user="deploy")  # user only; the password comes from askpass
    askpass = tmp_path / "askpass.sh"
    askpass.write_text(f"#!/bin/sh\necho {SECRET}\n")
    os.chmod(askpass, 0o755)
    monkeypatch.setenv("GIT_ASKPASS", str(askpass))
    src = GitSource(parse_spec(f"{url}#path=skills/skill-01"))
    rels = src.releases()
    src.materialize(rels[0], tmp_path / "out")
    assert (tmp_path / "out/scripts/run.sh").stat().st_mode & 0o111


def test_prefetch_over_several_transports(monorepo, git_http, git_daemon):
    a = monorepo(n_skills=2, name="a")
    b = monorepo(n_skills=2, name="b")
    server = git_http()
    sources = [
        GitSource(GitSpec(url=git_daemon(a.repo), path="skills/skill-01")),
        GitSource(GitSpec(url=server.serve(b.repo), path="skills/skill-02")),
        GitSource(GitSpec(url=a.url, path="skills/skill-02")),
    ]
    results = prefetch(sources)
    assert list(results.values()) == [None, None, None]
    assert len([p for p in git_cache_dir().iterdir() if p.is_dir()]) == 3
    clean_cache()
    assert not git_cache_dir().exists()
