"""Safety: hostile specs never reach git; nothing from a fetched repo ever runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from skillpm.errors import SkillpmError, SourceError
from skillpm.sources.git import GitSource, check_tag, discover, materialize_locked, prefetch
from skillpm.sources.git.source import prefetch_releases
from skillpm.sources.git import command as git_command
from skillpm.spec import GitSpec, SpecError, parse_spec

from .conftest import GIT, git


@pytest.fixture
def no_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything starts a process."""

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError(f"a process was started: {args[0] if args else kwargs}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


HOSTILE_URLS = [
    "--upload-pack=touch /tmp/pwned",
    "-oProxyCommand=touch /tmp/pwned",
    "ext::sh -c touch% /tmp/pwned",
    "ext::sh",
    "fd::3",
    "file:///tmp/x --upload-pack=touch",
    "https://host/repo.git\n--upload-pack=x",
    "https://host/repo.git --config=core.sshCommand=x",
    "javascript://x/y",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_urls_refused_before_git_runs(url, no_git, tmp_path):
    with pytest.raises(SkillpmError):
        GitSource(GitSpec(url=url))
    with pytest.raises(SkillpmError):
        materialize_locked(url, "", "a" * 40, tmp_path / "x")
    with pytest.raises(SkillpmError):
        check_tag(url, "v1.0.0", "a" * 40)
    with pytest.raises(SkillpmError):
        discover(GitSpec(url=url))
    with pytest.raises(SpecError):
        parse_spec(url)


@pytest.mark.parametrize(
    "pin",
    [
        {"tag": "--upload-pack=x"},
        {"tag": "-x"},
        {"branch": "--output=/tmp/pwned"},
        {"rev": "--all"},
        {"rev": "HEAD@{1}"},
        {"ref": "-c"},
        {"tag": "a..b"},
        {"branch": "x y"},
        {"tag": "v1:path"},
    ],
)
def test_hostile_refs_refused_before_git_runs(pin, no_git):
    with pytest.raises(SkillpmError):
        GitSource(GitSpec(url="https://example.invalid/r.git", **pin))


@pytest.mark.parametrize("path", ["../etc", "a/../../b", "-x", "a//b", "x/./y"])
def test_hostile_paths_refused(path, no_git, tmp_path):
    with pytest.raises(SkillpmError):
        GitSource(GitSpec(url="https://example.invalid/r.git", path=path))
    with pytest.raises(SkillpmError):
        materialize_locked("https://example.invalid/r.git", path, "a" * 40, tmp_path / "x")


def test_locked_commit_must_be_full_hex(no_git, tmp_path):
    for commit in ("--all", "HEAD", "abc123", "g" * 40):
        with pytest.raises(SourceError, match="full 40-hex"):
            materialize_locked("https://example.invalid/r.git", "", commit, tmp_path / "x")


def test_ssh_option_injection_in_host_is_blocked_by_git(tmp_path):
    marker = tmp_path / "pwned"
    url = f"ssh://-oProxyCommand=touch%20{marker}/x/repo.git"
    with pytest.raises(SourceError):
        GitSource(GitSpec(url=url)).releases()
    assert not marker.exists()


def _hostile_user_config(tmp_path: Path, marker: Path) -> None:
    """Global config whose hooks, filter driver and fsmonitor would all write `marker`."""
    hooks = tmp_path / "evil-hooks"
    hooks.mkdir()
    script = f"#!/bin/sh\necho \"$0\" >> {marker}\ncat\n"
    for name in ("reference-transaction", "post-checkout", "post-merge", "pre-auto-gc", "post-index-change"):
        (hooks / name).write_text(script)
        os.chmod(hooks / name, 0o755)
    fsmon = tmp_path / "fsmonitor.sh"
    fsmon.write_text(f"#!/bin/sh\necho fsmonitor >> {marker}\n")
    os.chmod(fsmon, 0o755)
    template = tmp_path / "template"
    (template / "hooks").mkdir(parents=True)
    for name in ("reference-transaction", "post-checkout"):
        (template / "hooks" / name).write_text(script)
        os.chmod(template / "hooks" / name, 0o755)
    for key, value in [
        ("core.hooksPath", str(hooks)),
        ("init.templateDir", str(template)),
        ("filter.evil.smudge", f"sh -c 'echo smudge >> {marker}; cat'"),
        ("filter.evil.clean", "cat"),
        ("filter.evil.required", "true"),
        ("filter.lfs.smudge", f"sh -c 'echo lfs >> {marker}; cat'"),
        ("filter.lfs.process", f"sh -c 'echo lfs-process >> {marker}'"),
        ("core.fsmonitor", str(fsmon)),
    ]:
        git("config", "--global", key, value)


def test_hooks_filters_and_fsmonitor_never_run(git_repo, make_git_repo, tmp_path):
    marker = tmp_path / "marker"
    # a repository that asks for everything it can: filters on every file, a
    # hooks folder, LFS, and a submodule whose URL would run a command
    git_repo.write(".gitattributes", "* filter=evil ident\n*.bin filter=lfs diff=lfs merge=lfs\n")
    git_repo.write(".gitmodules", '[submodule "x"]\n\tpath = skills/s/sub\n\turl = ext::sh -c touch% /tmp/pwned-by-submodule\n')
    git_repo.write_skill("skills/s", version="1.0.0", files={"a.bin": "payload\n", ".githooks/post-checkout": ("#!/bin/sh\ntouch " + str(marker) + "\n", 0o755)})
    git_repo.write("hooks/post-checkout", f"#!/bin/sh\ntouch {marker}\n", mode=0o755)
    other = make_git_repo("sub")
    other.write("f", "x")
    sub = other.commit()
    git_repo.run("update-index", "--add", "--cacheinfo", f"160000,{sub},skills/s/sub")
    git_repo.commit()
    git_repo.tag("v1.0.0")

    _hostile_user_config(tmp_path, marker)
    # control: plain git with this user config does run them
    control = tmp_path / "control-marker"
    subprocess.run([GIT, "clone", "-q", git_repo.url, str(tmp_path / "control")], capture_output=True)
    assert marker.exists(), "the hostile config is not hostile: the test proves nothing"
    marker.rename(control)

    spec = GitSpec(url=git_repo.url, path="skills/s")
    src = GitSource(spec)
    prefetch([src])
    rel = src.releases()[0]
    src.dependencies(rel)
    src.materialize(rel, tmp_path / "out")
    materialize_locked(git_repo.url, "", rel.commit, tmp_path / "root")
    assert [d.path for d in discover(git_repo.url, rel.commit)] == ["skills/s"]
    assert not marker.exists(), marker.read_text()
    assert not Path("/tmp/pwned-by-submodule").exists()
    assert (tmp_path / "out/a.bin").read_text() == "payload\n"
    assert not (tmp_path / "out/sub").exists()
    assert (tmp_path / "root/.gitattributes").read_text().startswith("* filter=evil")
    # the mirror got no hooks from the template
    assert not (src.mirror.path / "hooks").exists()


def test_repository_redirection_variables_are_ignored(git_repo, make_git_repo, monkeypatch, tmp_path):
    decoy = make_git_repo("decoy")
    decoy.write_skill("", "decoy", version="9.9.9")
    decoy.commit()
    decoy.tag("v9.9.9")
    git_repo.write_skill("", "real", version="1.0.0")
    git_repo.commit()
    git_repo.tag("v1.0.0")
    monkeypatch.setenv("GIT_DIR", str(decoy.path / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(decoy.path))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(decoy.path / ".git/objects"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "index"))
    src = GitSource(GitSpec(url=git_repo.url))
    (rel,) = src.releases()
    assert str(rel.version) == "1.0.0"
    src.materialize(rel, tmp_path / "out")
    assert "real" in (tmp_path / "out/SKILL.md").read_text()


def test_git_environment_is_safe(monkeypatch):
    monkeypatch.setenv("GIT_DIR", "/somewhere")
    monkeypatch.setenv("GIT_ASKPASS", "/usr/bin/my-askpass")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/tmp/agent.sock")
    env = git_command.git_env()
    assert "GIT_DIR" not in env
    assert env["GIT_TERMINAL_PROMPT"] == "0"  # pytest's stdin is not a terminal
    assert env["GIT_LFS_SKIP_SMUDGE"] == "1"
    # the user's credential plumbing is kept
    assert env["GIT_ASKPASS"] == "/usr/bin/my-askpass" and env["SSH_AUTH_SOCK"] == "/tmp/agent.sock"
    args = git_command.git_args(["fetch"])
    flags = [args[i + 1] for i, a in enumerate(args) if a == "-c"]
    for needed in (
        "protocol.ext.allow=never",
        "core.hooksPath=/dev/null",
        "submodule.recurse=false",
        "core.fsmonitor=false",
        "filter.lfs.smudge=",
        "filter.lfs.process=",
        "filter.lfs.required=false",
    ):
        assert needed in flags
    assert "credential.helper" not in " ".join(flags)
    assert git_command.git_env(offline=True)["GIT_ALLOW_PROTOCOL"]


TOKEN = "ghp_SECRETtoken1234"
CRED_URL = f"https://user:{TOKEN}@example.invalid/o/r.git"


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: GitSource(GitSpec(url=CRED_URL, path="../x")),
        lambda tmp: GitSource(GitSpec(url=CRED_URL, tag="a..b")),
        lambda tmp: GitSource(GitSpec(url=CRED_URL, rev="--all")),
        lambda tmp: GitSource(GitSpec(url=CRED_URL + " --upload-pack=x")),
        lambda tmp: GitSource(GitSpec(url=f"ftp://user:{TOKEN}@example.invalid/r.git")),
        lambda tmp: materialize_locked(CRED_URL, "../x", "a" * 40, tmp / "x"),
        lambda tmp: materialize_locked(CRED_URL, "", "HEAD", tmp / "x"),
        lambda tmp: materialize_locked(CRED_URL + "\n--upload-pack=x", "", "a" * 40, tmp / "x"),
        lambda tmp: check_tag(CRED_URL + " x", "v1.0.0", "a" * 40),
        lambda tmp: check_tag(CRED_URL, "--x", "a" * 40),
        lambda tmp: discover(GitSpec(url=CRED_URL + " x")),
        lambda tmp: prefetch_releases([(CRED_URL, "../x", "a" * 40)]),
    ],
)
def test_credentials_never_in_refusals(make, no_git, tmp_path):
    with pytest.raises(SkillpmError) as info:
        make(tmp_path)
    text = f"{info.value} {getattr(info.value, 'hint', '')} {info.value!r}"
    assert TOKEN not in text


def test_unparsable_credentialed_url_is_a_spec_error(no_git, tmp_path):
    url = f"https://user:{TOKEN}@[::1/o/r.git"
    for make in (
        lambda: GitSource(GitSpec(url=url)),
        lambda: materialize_locked(url, "x", "a" * 40, tmp_path / "x"),
        lambda: check_tag(url, "v1.0.0", "a" * 40),
    ):
        with pytest.raises(SpecError) as info:
            make()
        assert TOKEN not in str(info.value)
