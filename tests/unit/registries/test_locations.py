"""Registry names, URLs, paths and git+ URLs -> locations and registries; tokens."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from skillpm.errors import SourceError
from skillpm.registries import auth
from skillpm.registries.locations import (
    parse_location,
    pick_registry,
    registry_for_lock,
    resolve_registry,
)


def test_http_locations_are_canonical():
    loc = parse_location("HTTPS://Skills.Example.com/reg?x=1#y")
    assert (loc.kind, loc.url, loc.lock_url) == ("http", "https://skills.example.com/reg/", "https://skills.example.com/reg/")
    assert parse_location("http://127.0.0.1:8080").lock_url == "http://127.0.0.1:8080/"


def test_credentials_in_a_registry_url_are_refused_without_echoing_them():
    with pytest.raises(SourceError) as e:
        parse_location("https://user:hunter2@skills.example.com/")
    assert "hunter2" not in str(e.value) and "skillpm login" in str(e.value)


def test_folder_locations(tmp_path: Path, monkeypatch):
    uri = (tmp_path / "reg").resolve().as_uri() + "/"
    loc = parse_location(str(tmp_path / "reg"), root=tmp_path / "elsewhere")
    assert loc.kind == "folder" and loc.path == (tmp_path / "reg").resolve()
    assert loc.lock_url == uri  # an absolute folder: its file:// URL
    assert parse_location(loc.lock_url).path == loc.path  # the lock URL reads back
    assert parse_location(uri, root=tmp_path).lock_url == uri
    monkeypatch.chdir(tmp_path)
    assert parse_location("./reg").lock_url == uri  # no project root: relative to the working dir, absolute in the lock
    with pytest.raises(SourceError, match="must be local"):
        parse_location("file://otherhost/srv/reg")


@pytest.mark.parametrize(
    ("written", "spelled"),
    [
        ("./vendor/registry", "./vendor/registry/"),
        ("vendor/registry", "./vendor/registry/"),
        ("./vendor//registry/.", "./vendor/registry/"),
        ("./vendor/registry/", "./vendor/registry/"),
        (".", "./"),
        ("../shared/reg", "../shared/reg/"),
        ("./a/../reg", "./a/../reg/"),  # '..' kept: resolving it lexically could disagree with a symlink
        ("./embedded", "./embedded/"),  # never read back as the embedded registry
    ],
)
def test_a_folder_relative_to_the_project_is_locked_relative_to_it(tmp_path: Path, written: str, spelled: str):
    one, two = tmp_path / "one" / "proj", tmp_path / "two" / "deeper" / "proj"
    for root in (one, two):
        (root / "a").mkdir(parents=True)
    first = parse_location(written, root=one)
    assert first.kind == "folder" and first.lock_url == spelled
    assert first.path == (one / written).resolve() and first.key == (one / written).resolve().as_uri() + "/"
    # the lock spelling reads back, relative to the project root, to the same folder and spelling
    again = parse_location(first.lock_url, root=one)
    assert (again.lock_url, again.path, again.key) == (first.lock_url, first.path, first.key)
    assert again == first
    # another checkout: the same spelling, another folder
    other = parse_location(written, root=two)
    assert other.lock_url == spelled and other.path == (two / written).resolve() and other.key != first.key


def test_registries_are_matched_by_folder_not_spelling(tmp_path: Path, monkeypatch):
    (tmp_path / "vendor" / "reg").mkdir(parents=True)
    absolute = str((tmp_path / "vendor" / "reg").resolve())
    relative = {"local": "./vendor/reg"}
    # a lock spelled ./vendor/reg/ finds the registry configured by absolute path, and the other way round
    assert registry_for_lock("./vendor/reg/", {"local": absolute}, root=tmp_path, offline=False).name == "local"
    found = registry_for_lock(Path(absolute).as_uri() + "/", relative, root=tmp_path, offline=False)
    assert (found.name, found.lock_source) == ("local", "registry+./vendor/reg/")
    assert registry_for_lock("./vendor/other/", relative, root=tmp_path, offline=False).name is None
    # --registry PATH from a subfolder names the configured registry
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    picked = pick_registry("../vendor/reg", project_root=tmp_path, registries=relative)
    assert (picked.name, picked.lock_url) == ("local", "./vendor/reg/")
    # one process, two checkouts with the same spelling: two registries
    other = tmp_path / "clone"
    (other / "vendor" / "reg").mkdir(parents=True)
    a = resolve_registry("local", relative, root=tmp_path, offline=False)
    b = resolve_registry("local", relative, root=other, offline=False)
    assert a.lock_source == b.lock_source == "registry+./vendor/reg/"
    assert a is not b and a.location.path != b.location.path


def test_git_locations():
    loc = parse_location("git+https://git.example.com/team/registry.git")
    assert (loc.kind, loc.url, loc.lock_url) == ("git", "https://git.example.com/team/registry.git", "git+https://git.example.com/team/registry.git")
    assert parse_location("git+ssh://git@h/r.git").lock_url == "git+ssh://git@h/r.git"
    assert parse_location("git+file:///srv/r.git").kind == "git"
    with pytest.raises(SourceError, match="git\\+ must be followed"):
        parse_location("git+ftp://h/r.git")
    with pytest.raises(SourceError, match="unsupported URL scheme"):
        parse_location("ftp://h/r")


def test_embedded_is_the_default_when_nothing_is_configured(tmp_path):
    reg = resolve_registry(None, {}, root=tmp_path, offline=False)
    assert reg.is_embedded and reg.lock_source == "registry+embedded"
    assert resolve_registry("embedded", {"team": "https://t.example/"}, root=tmp_path, offline=False).is_embedded


def test_default_by_name_or_location_and_named_registries(tmp_path):
    regs = {"default": "main", "main": "https://m.example/", "team": "./team"}
    main = resolve_registry(None, regs, root=tmp_path, offline=False)
    assert (main.name, main.lock_url) == ("main", "https://m.example/")
    team = resolve_registry("team", regs, root=tmp_path, offline=False)
    assert team.location.path == (tmp_path / "team").resolve()
    direct = resolve_registry(None, {"default": "https://d.example"}, root=tmp_path, offline=False)
    assert (direct.name, direct.lock_url) == ("default", "https://d.example/")
    with pytest.raises(SourceError, match="no registry named 'nope'.*configured: main, team"):
        resolve_registry("nope", regs, root=tmp_path, offline=False)


def test_registry_objects_are_shared_within_a_run(tmp_path):
    regs = {"default": "https://m.example/"}
    assert resolve_registry(None, regs, root=tmp_path, offline=False) is resolve_registry(None, regs, root=tmp_path, offline=False)
    assert resolve_registry(None, regs, root=tmp_path, offline=True) is not resolve_registry(None, regs, root=tmp_path, offline=False)


def test_lock_urls_find_their_configured_name_for_tokens(tmp_path):
    regs = {"default": "main", "main": "https://m.example", "team": "https://t.example/"}
    assert registry_for_lock("https://t.example/", regs, root=tmp_path, offline=False).name == "team"
    assert registry_for_lock("https://m.example/", regs, root=tmp_path, offline=False).name == "main"
    assert registry_for_lock("https://other.example/", regs, root=tmp_path, offline=False).name is None
    assert registry_for_lock("embedded", regs, root=tmp_path, offline=False).is_embedded


def test_pick_registry_for_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    regs = {"team": "https://t.example/"}
    assert pick_registry("team", project_root=tmp_path, registries=regs).lock_url == "https://t.example/"
    assert pick_registry("https://t.example", project_root=tmp_path, registries=regs).name == "team"
    assert pick_registry("./somewhere", project_root=tmp_path, registries=regs).location.kind == "folder"
    with pytest.raises(SourceError, match="no registry named 'tema'"):
        pick_registry("tema", project_root=tmp_path, registries=regs)


def test_env_token_beats_stored_token_and_names_are_normalized(monkeypatch):
    assert auth.env_var("team-main") == "SKILLPM_TOKEN_TEAM_MAIN"
    auth.store_token("https://t.example/", "stored-1")
    assert auth.token_for("team", "https://t.example/") == "stored-1"
    assert auth.token_for(None, "https://t.example/") == "stored-1"
    monkeypatch.setenv("SKILLPM_TOKEN_TEAM", "from-env")
    assert auth.token_for("team", "https://t.example/") == "from-env"
    assert auth.token_for("other", "https://o.example/") is None


def test_credentials_file_is_private(tmp_path):
    path = auth.store_token("https://t.example/", "abc")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) & 0o077 == 0
    auth.store_token("https://u.example/", "def")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert auth.forget_token("https://t.example/") is True
    assert auth.token_for(None, "https://t.example/") is None
    assert auth.token_for(None, "https://u.example/") == "def"
    with pytest.raises(Exception, match="empty or contains whitespace"):
        auth.store_token("https://t.example/", "a b")


def test_only_http_registries_get_tokens(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLPM_TOKEN_LOCAL", "x")
    reg = resolve_registry("local", {"local": str(tmp_path)}, root=tmp_path, offline=False)
    assert reg.token is None and reg.auth is None
