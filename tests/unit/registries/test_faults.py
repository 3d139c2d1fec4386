"""Fault injection: a registry over a mock network that times out, fails, truncates or lies.

Each fault must be refused with one clear line and leave the project exactly as
it was: skills.toml unchanged, no skills.lock, no skill folder installed.
The CLI runs in-process (`skillpm.cli.app.main`) so the mock transport applies.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import httpx
import pytest

from skillpm.registries.publish import build_registry

BASE = "http://registry.test/"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    from skillpm.cli.app import main

    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def state(project: Path) -> dict:
    install = project / ".agents" / "skills"
    return {
        "manifest": (project / "skills.toml").read_bytes(),
        "lock": (project / "skills.lock").read_bytes() if (project / "skills.lock").exists() else None,
        "folders": sorted(p.name for p in install.iterdir() if not p.name.startswith(".")) if install.is_dir() else [],
        "txn": (install / ".skillpm" / "txn").exists(),
    }


def tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, data


class FakeRegistry:
    """A real registry folder's files, served from memory; tests tamper with them."""

    def __init__(self, root: Path) -> None:
        self.files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        self.fault = None  # callable(request) -> Response | None

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.fault is not None:
            answer = self.fault(request)
            if answer is not None:
                return answer
        rel = request.url.path.lstrip("/")
        if rel in self.files:
            return httpx.Response(200, content=self.files[rel])
        return httpx.Response(404)

    def replace_archive(self, ident: str, version: str, data: bytes, *, cksum: str | None = None) -> None:
        """Serve `data` as the archive, with an index line whose cksum matches it (or `cksum`)."""
        self.files[f"dl/{ident}/{version}.tar.gz"] = data
        lines = [json.loads(ln) for ln in self.files[f"index/{ident}"].decode().splitlines()]
        for ln in lines:
            if ln["vers"] == version:
                ln["cksum"] = cksum or "sha256:" + hashlib.sha256(data).hexdigest()
        self.files[f"index/{ident}"] = ("\n".join(json.dumps(ln) for ln in lines) + "\n").encode()


@pytest.fixture
def fake(make_skill, tmp_path, mock_net):
    tree = tmp_path / "tree"
    make_skill("core", parent=tree / "lib", version="1.0.0")
    make_skill("web", parent=tree / "app", version="1.0.0", dependencies=["lib/core@^1"])
    build_registry(tree, tmp_path / "built")
    registry = FakeRegistry(tmp_path / "built")
    registry.seen = mock_net(registry.handler)
    return registry


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    root.mkdir()
    (root / "skills.toml").write_text(f'[skills]\n\n[registries]\ndefault = "{BASE}"\n\n[install]\ndir = ".agents/skills"\n')
    monkeypatch.chdir(root)
    return root


def test_the_fake_registry_works(fake, project, capsys):
    code, _, err = run_cli(capsys, "add", "app/web")
    assert code == 0, err
    assert state(project)["folders"] == ["core", "web"]


def assert_refused(capsys, project, *needles: str, args=("add", "app/web")) -> str:
    before = state(project)
    code, out, err = run_cli(capsys, *args)
    assert code == 1, err
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line, err
    for needle in needles:
        assert needle in line, line
    assert state(project) == before
    assert "Traceback" not in err
    return line


def test_timeouts(fake, project, capsys):
    def fault(request):
        raise httpx.ReadTimeout("timed out", request=request)

    fake.fault = fault
    assert_refused(capsys, project, "timed out after 3 attempts", BASE)
    assert len(fake.seen) == 3  # bounded retries, then a clear failure


def test_500s_are_retried_then_fail(fake, project, capsys):
    fake.fault = lambda request: httpx.Response(500)
    assert_refused(capsys, project, "server error 500 after 3 attempts")
    assert len(fake.seen) == 3


def test_a_flaky_server_is_survived(fake, project, capsys):
    failures = {"n": 0}

    def fault(request):
        if failures["n"] < 2:
            failures["n"] += 1
            return httpx.Response(503)
        return None

    fake.fault = fault
    code, _, err = run_cli(capsys, "add", "app/web")
    assert code == 0, err


def test_archive_download_failing_writes_nothing(fake, project, capsys):
    fake.fault = lambda request: httpx.Response(500) if request.url.path.startswith("/dl/") else None
    assert_refused(capsys, project, "downloading", "server error 500")


def test_truncated_archive(fake, project, capsys):
    def fault(request):
        if request.url.path.startswith("/dl/"):
            data = fake.files[request.url.path.lstrip("/")]
            return httpx.Response(200, content=data[: len(data) // 2], headers={"Content-Length": str(len(data))})
        return None

    fake.fault = fault
    assert_refused(capsys, project, "truncated response")


def test_wrong_cksum_is_refused_before_extracting(fake, project, capsys, tmp_path):
    good = fake.files["dl/lib/core/1.0.0.tar.gz"]
    fake.replace_archive("lib/core", "1.0.0", good, cksum="sha256:" + "0" * 64)
    line = assert_refused(capsys, project, "lib/core 1.0.0", "checksum", "sha256:" + "0" * 64)
    assert "nothing was installed" in line
    for cached in (tmp_path / "cache" / "archives").rglob("*.tar.gz"):  # the cache holds only verified bytes
        assert hashlib.sha256(cached.read_bytes()).hexdigest() + ".tar.gz" == cached.name


def test_a_damaged_body_with_the_index_cksum_is_refused(fake, project, capsys):
    good = fake.files["dl/lib/core/1.0.0.tar.gz"]
    fake.files["dl/lib/core/1.0.0.tar.gz"] = good[:-10] + b"\0" * 10  # same length, other bytes
    assert_refused(capsys, project, "checksum")


def test_dot_dot_entries_are_refused(fake, project, capsys, tmp_path):
    evil = tar_gz([file_member("SKILL.md", b"---\nname: core\n---\n"), file_member("../../escape.txt", b"pwned\n")])
    fake.replace_archive("lib/core", "1.0.0", evil)
    assert_refused(capsys, project, "refused", "'..'")
    assert not list(tmp_path.rglob("escape.txt"))


def test_absolute_entries_are_refused(fake, project, capsys, tmp_path):
    evil = tar_gz([file_member("/tmp/abs-escape.txt", b"pwned\n")])
    fake.replace_archive("lib/core", "1.0.0", evil)
    assert_refused(capsys, project, "refused", "absolute")


def test_symlinks_are_refused(fake, project, capsys):
    link = tarfile.TarInfo("references/passwd")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    evil = tar_gz([file_member("SKILL.md", b"---\nname: core\n---\n"), (link, None)])
    fake.replace_archive("lib/core", "1.0.0", evil)
    assert_refused(capsys, project, "refused", "symbolic link")


def test_hard_links_are_refused(fake, project, capsys):
    link = tarfile.TarInfo("copy")
    link.type = tarfile.LNKTYPE
    link.linkname = "SKILL.md"
    evil = tar_gz([file_member("SKILL.md", b"---\nname: core\n---\n"), (link, None)])
    fake.replace_archive("lib/core", "1.0.0", evil)
    assert_refused(capsys, project, "refused", "hard link")


def test_a_small_archive_that_expands_past_the_limits(fake, project, capsys):
    from skillpm.registries.extract import LIMITS

    big = LIMITS.max_file + 1
    evil = tar_gz([file_member("SKILL.md", b"---\nname: core\n---\n"), file_member("zeros.bin", b"\0" * big)])
    assert len(evil) < 256 * 1024  # tiny on the wire, 25 MiB unpacked
    fake.replace_archive("lib/core", "1.0.0", evil)
    assert_refused(capsys, project, "refused", "over the per-file limit")


def test_an_archive_with_too_many_files(fake, project, capsys):
    from skillpm.registries.extract import LIMITS

    members = [file_member(f"f/{i}.txt", b"") for i in range(LIMITS.max_files + 1)]
    fake.replace_archive("lib/core", "1.0.0", tar_gz(members))
    assert_refused(capsys, project, "refused", f"more than {LIMITS.max_files} entries")


def test_megabytes_of_garbage_after_a_short_member(fake, project, capsys):
    """A member declaring 10 bytes, then 8 MiB that are no tar header: never unpacked, refused."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("SKILL.md")
        info.size = 10
        tar.addfile(info, io.BytesIO(b"0123456789"))
    body = raw.getvalue()[:-1024] + b"A" * (8 * 1024 * 1024)
    fake.replace_archive("lib/core", "1.0.0", gzip.compress(body, compresslevel=9, mtime=0))
    assert_refused(capsys, project, "lib/core 1.0.0", "nothing was installed")


def test_tree_digest_mismatch_is_refused(fake, project, capsys, make_skill, tmp_path):
    """The archive is internally fine and matches its cksum, but not the index's tree digest."""
    from skillpm.archive import pack

    other = make_skill("core", parent=tmp_path / "other" / "lib", files={"extra.md": "surprise\n"})
    fake.replace_archive("lib/core", "1.0.0", pack(other))
    assert_refused(capsys, project, "digest", "was expected")


def test_offline_with_a_cold_cache(fake, project, capsys):
    line = assert_refused(capsys, project, "offline", "not in the cache", args=("add", "--offline", "app/web"))
    assert "run once without --offline" in line
    assert fake.seen == []


def test_nothing_written_on_frozen_install_failure(fake, project, capsys):
    import shutil

    from skillpm.registries import locations

    code, _, err = run_cli(capsys, "add", "app/web")
    assert code == 0, err
    shutil.rmtree(project / ".agents" / "skills" / "core")
    for p in (project.parent / "cache" / "archives").rglob("*.tar.gz"):
        p.unlink()  # a cold archive cache: it must download (and refuse) again
    good = fake.files["dl/lib/core/1.0.0.tar.gz"]
    fake.files["dl/lib/core/1.0.0.tar.gz"] = good[:-10] + b"\0" * 10
    locations.reset()
    before = state(project)
    code, _, err = run_cli(capsys, "install", "--frozen")
    assert code == 1 and "checksum" in err and err.count("\n") == 1
    assert state(project) == before
