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


def test_folder_locations(tmp_path: Path):
    loc = parse_location("./reg", root=tmp_path)
    assert loc.kind == "folder" and loc.path == (tmp_path / "reg").resolve()
    assert loc.lock_url == (tmp_path / "reg").resolve().as_uri() + "/"
    assert parse_location(loc.lock_url).path == loc.path  # the lock URL reads back
    assert parse_location(str(tmp_path / "reg")).lock_url == loc.lock_url
    with pytest.raises(SourceError, match="must be local"):
        parse_location("file://otherhost/srv/reg")


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
