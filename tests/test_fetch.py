"""The download client and safe unpacking, against a real HTTP server on 127.0.0.1.

Run: python -m pytest -q tests/test_fetch.py
"""
from __future__ import annotations

import hashlib
import io
import stat
import zipfile

import pytest

from common.fetch import (DownloadError, copy_verified, extract_archive, fetch, read_manifest, sha256_file,
                        write_manifest)
from tests.fixtures.download.loopback import LoopbackServer, make_tar, make_zip

BODY = bytes(range(256)) * 2000  # 512 000 bytes: several read chunks, so "half" is a real midpoint
BODY_SHA = hashlib.sha256(BODY).hexdigest()


def _fetch(url, dest, **kw):
    kw.setdefault("backoff", 0.0)
    kw.setdefault("progress", False)
    kw.setdefault("timeout", 5.0)
    return fetch(url, dest, **kw)


def test_full_download_returns_sha256_and_leaves_no_part_file(tmp_path):
    with LoopbackServer({"/f.bin": BODY}) as server:
        digest = _fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=BODY_SHA.upper())
    assert digest == BODY_SHA
    assert (tmp_path / "f.bin").read_bytes() == BODY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_dropped_connection_is_resumed_with_a_range_request(tmp_path):
    with LoopbackServer({"/f.bin": BODY}, mode="drop_once") as server:
        digest = _fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=BODY_SHA)
    assert digest == BODY_SHA and sha256_file(tmp_path / "f.bin") == BODY_SHA
    assert server.requests == [("/f.bin", None), ("/f.bin", f"bytes={len(BODY) // 2}-")]


def test_server_ignoring_range_restarts_the_file_cleanly(tmp_path):
    with LoopbackServer({"/f.bin": BODY}, mode="drop_ignore") as server:
        digest = _fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=BODY_SHA)
    assert digest == BODY_SHA  # not the half body twice
    assert (tmp_path / "f.bin").stat().st_size == len(BODY)
    assert [r for _, r in server.requests] == [None, f"bytes={len(BODY) // 2}-"]


def test_existing_part_file_is_continued(tmp_path):
    (tmp_path / "f.bin.part").write_bytes(BODY[:1000])
    with LoopbackServer({"/f.bin": BODY}) as server:
        assert _fetch(server.url("/f.bin"), tmp_path / "f.bin") == BODY_SHA
    assert server.requests == [("/f.bin", "bytes=1000-")]


def test_part_file_longer_than_the_remote_file_is_discarded(tmp_path):
    (tmp_path / "f.bin.part").write_bytes(b"x" * (len(BODY) + 10))  # server answers 416
    with LoopbackServer({"/f.bin": BODY}) as server:
        assert _fetch(server.url("/f.bin"), tmp_path / "f.bin") == BODY_SHA
    assert [r for _, r in server.requests] == [f"bytes={len(BODY) + 10}-", None]


def test_checksum_mismatch_raises_and_leaves_no_file_under_final_name(tmp_path):
    with LoopbackServer({"/f.bin": BODY}, mode="wrong") as server:
        with pytest.raises(DownloadError, match="SHA-256 mismatch") as err:
            _fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=BODY_SHA)
    assert server.url("/f.bin") in str(err.value) and BODY_SHA in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_404_is_one_line_naming_the_url_and_not_retried(tmp_path):
    with LoopbackServer({}) as server:
        url = server.url("/missing.zip")
        with pytest.raises(DownloadError) as err:
            _fetch(url, tmp_path / "missing.zip", retries=3)
    assert str(err.value) == f"{url}: HTTP 404 Not Found"
    assert len(server.requests) == 1
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_gives_up_after_bounded_retries(tmp_path):
    with LoopbackServer({}) as server:
        url = server.url("/f.bin")
    # the server is shut down: every attempt is refused
    with pytest.raises(DownloadError, match=r"gave up after 3 attempts without progress"):
        _fetch(url, tmp_path / "f.bin", retries=2)
    assert not (tmp_path / "f.bin").exists()


def test_backoff_doubles_between_attempts(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr("common.fetch.time.sleep", waits.append)
    with LoopbackServer({}) as server:
        url = server.url("/f.bin")
    with pytest.raises(DownloadError):
        _fetch(url, tmp_path / "f.bin", retries=3, backoff=0.5)
    assert waits == [0.5, 1.0, 2.0]


def test_existing_file_with_right_checksum_is_not_fetched_again(tmp_path):
    (tmp_path / "f.bin").write_bytes(BODY)
    with LoopbackServer({"/f.bin": BODY}) as server:
        assert _fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=BODY_SHA) == BODY_SHA
    assert server.requests == []


def test_existing_file_with_wrong_checksum_is_fetched_again(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"stale")
    with LoopbackServer({"/f.bin": BODY}) as server:
        assert _fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=BODY_SHA) == BODY_SHA
    assert len(server.requests) == 1


def test_copy_verified_checks_the_hand_fetched_file(tmp_path):
    src = tmp_path / "AmazonPhotos.zip"
    src.write_bytes(BODY)
    assert copy_verified(src, tmp_path / "out" / "a.zip", BODY_SHA) == BODY_SHA
    with pytest.raises(DownloadError, match="SHA-256 mismatch"):
        copy_verified(src, tmp_path / "out" / "b.zip", "0" * 64)
    assert not (tmp_path / "out" / "b.zip").exists()
    with pytest.raises(DownloadError, match="no such file"):
        copy_verified(tmp_path / "nope.zip", tmp_path / "c.zip")


def test_manifest_round_trip_and_sha256sum_format(tmp_path):
    entries = {"downloads/b.zip": "b" * 64, "downloads/a.json": "a" * 64}
    write_manifest(tmp_path / "MANIFEST.sha256", entries)
    text = (tmp_path / "MANIFEST.sha256").read_text()
    assert text == f"{'a' * 64}  downloads/a.json\n{'b' * 64}  downloads/b.zip\n"
    assert read_manifest(tmp_path / "MANIFEST.sha256") == entries


def test_bad_manifest_line_names_file_and_line(tmp_path):
    p = tmp_path / "m.sha256"
    p.write_text(f"# comment\n{'a' * 64}  x\nnot a checksum line\n")
    with pytest.raises(ValueError, match=r"m\.sha256:3: expected"):
        read_manifest(p)
    p.write_text(f"{'a' * 64}  x\n{'b' * 64}  x\n")
    with pytest.raises(ValueError, match=r"m\.sha256:2: x listed twice"):
        read_manifest(p)


# --- unpacking -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,mode", [("a.zip", None), ("a.tar.gz", "w:gz"), ("a.tar.bz2", "w:bz2"),
                                       ("a.tar", "w")])
def test_archives_unpack_into_target(tmp_path, name, mode):
    members = {"top/x.txt": b"x", "top/sub/y.txt": b"y"}
    data = make_zip(members) if mode is None else make_tar(members, mode)
    (tmp_path / name).write_bytes(data)
    out = extract_archive(tmp_path / name, tmp_path / "out")
    assert (out / "top" / "x.txt").read_bytes() == b"x" and (out / "top" / "sub" / "y.txt").read_bytes() == b"y"


def _zip_symlink(name: str, target: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        info = zipfile.ZipInfo(name)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, target)
    return buf.getvalue()


EVIL = [
    ("dotdot.zip", lambda: make_zip({"ok.txt": b"fine", "../evil.txt": b"evil"}), "../evil.txt"),
    ("nested.zip", lambda: make_zip({"ok.txt": b"fine", "a/../../evil.txt": b"evil"}), "a/../../evil.txt"),
    ("abs.zip", lambda: make_zip({"ok.txt": b"fine", "/tmp/evil.txt": b"evil"}), "/tmp/evil.txt"),
    ("drive.zip", lambda: make_zip({"ok.txt": b"fine", "C:/evil.txt": b"evil"}), "C:/evil.txt"),
    ("link.zip", lambda: _zip_symlink("link", "../outside"), "link"),
    ("dotdot.tar.gz", lambda: make_tar({"ok.txt": b"fine", "../evil.txt": b"evil"}), "../evil.txt"),
    ("abs.tar.gz", lambda: make_tar({"ok.txt": b"fine", "/tmp/evil.txt": b"evil"}), "/tmp/evil.txt"),
    ("sym.tar.gz", lambda: make_tar({"ok.txt": b"fine"}, symlinks={"link": "../outside"}), "link"),
    ("symabs.tar.bz2", lambda: make_tar({"ok.txt": b"fine"}, "w:bz2", symlinks={"d/link": "/etc"}), "d/link"),
    ("symdeep.tar", lambda: make_tar({"ok.txt": b"fine"}, "w", symlinks={"d/link": "../../x"}), "d/link"),
    ("hard.tar.gz", lambda: make_tar({"ok.txt": b"fine"}, hardlinks={"h": "../outside"}), "h"),
    # a link through a link: "d/.." is "." lexically, the parent folder on disk (tarfile's filter refused it
    # only after "ok.txt" and "d" were written)
    ("linklink.tar", lambda: make_tar({"ok.txt": b"fine"}, "w", symlinks={"d": ".", "d2": "d/.."}), "d2"),
    ("through.tar", lambda: make_tar({"ok.txt": b"fine", "d/x.txt": b"x"}, "w", symlinks={"d": "sub"}), "d/x.txt"),
    ("dotdotlink.tar", lambda: make_tar({"ok.txt": b"fine", "sub/x.txt": b"x"}, "w",
                                        symlinks={"s": "sub", "up": "s/../.."}), "up"),
    ("hardtolink.tar", lambda: make_tar({"ok.txt": b"fine"}, "w", symlinks={"s": "ok.txt"},
                                        hardlinks={"h": "s"}), "h"),
    ("fileasdir.zip", lambda: make_zip({"ok.txt": b"fine", "a": b"file", "a/b": b"inside a file"}), "a/b"),
    ("fileasdir.tar", lambda: make_tar({"ok.txt": b"fine", "a": b"file", "a/b": b"inside a file"}, "w"), "a/b"),
    ("dirandlink.tar", lambda: make_tar({"ok.txt": b"fine", "a/x": b"x"}, "w", symlinks={"a": "ok.txt"}), "a"),
]


@pytest.mark.parametrize("name,build,member", EVIL, ids=[e[0] for e in EVIL])
def test_escaping_member_is_refused_and_nothing_is_written(tmp_path, name, build, member):
    root = tmp_path / "root"
    (root / "archives").mkdir(parents=True)
    archive = root / "archives" / name
    archive.write_bytes(build())
    target = root / "target" / "inner"
    with pytest.raises(DownloadError) as err:
        extract_archive(archive, target)
    message = str(err.value)
    assert str(archive) in message and repr(member) in message
    # nothing written anywhere: not outside the target, and not even the harmless member inside it
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "root", "root/archives", f"root/archives/{name}"]


def test_symlink_inside_the_target_is_accepted(tmp_path):
    (tmp_path / "a.tar.gz").write_bytes(make_tar({"d/x.txt": b"x"}, symlinks={"d/link": "x.txt"}))
    out = extract_archive(tmp_path / "a.tar.gz", tmp_path / "out")
    assert (out / "d" / "link").read_bytes() == b"x"


@pytest.mark.parametrize("name", ["empty.tar.gz", "empty.tar", "empty.zip"])
def test_empty_archive_is_a_one_line_error(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(DownloadError) as err:
        extract_archive(tmp_path / name, tmp_path / "out")
    kind = "zip" if name.endswith("zip") else "tar"
    assert str(err.value) == f"{tmp_path / name}: empty file (0 bytes); expected a {kind} archive"
    (tmp_path / name).write_bytes(b"garbage, not an archive" * 40)
    with pytest.raises(DownloadError) as err:
        extract_archive(tmp_path / name, tmp_path / "out")
    assert "\n" not in str(err.value) and f"{name}: not a readable {kind} archive (" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_hard_link_is_written_as_a_copy_of_its_file(tmp_path):
    (tmp_path / "a.tar").write_bytes(make_tar({"d/x.txt": b"x"}, "w", hardlinks={"d/y.txt": "d/x.txt"}))
    out = extract_archive(tmp_path / "a.tar", tmp_path / "out")
    assert (out / "d" / "y.txt").read_bytes() == b"x" and not (out / "d" / "y.txt").is_symlink()
    assert (out / "d" / "y.txt").stat().st_ino != (out / "d" / "x.txt").stat().st_ino


def test_nothing_is_written_below_a_symlink_already_on_disk(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "top").symlink_to(tmp_path / "elsewhere")  # left by another archive, or by hand
    (tmp_path / "a.zip").write_bytes(make_zip({"top/x.txt": b"x"}))
    with pytest.raises(DownloadError, match=r"refusing member 'top/x\.txt': .*out/top is a symbolic link on disk"):
        extract_archive(tmp_path / "a.zip", tmp_path / "out")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_symlink_through_strip_stays_inside_and_is_rewritten(tmp_path):
    (tmp_path / "a.tar").write_bytes(make_tar({"top/d/x.txt": b"x"}, "w", symlinks={"top/l": "d/x.txt",
                                                                                  "top/e/m": "../d/x.txt"}))
    out = extract_archive(tmp_path / "a.tar", tmp_path / "out", strip=1)
    assert (out / "l").read_bytes() == b"x" and (out / "e" / "m").read_bytes() == b"x"
    (tmp_path / "b.tar").write_bytes(make_tar({"top/x.txt": b"x", "other/y": b"y"}, "w",
                                              symlinks={"top/l": "../other/y"}))
    with pytest.raises(DownloadError, match=r"refusing member 'top/l': .* points outside the unpacked part"):
        extract_archive(tmp_path / "b.tar", tmp_path / "out2", strip=1)


def test_unknown_or_corrupt_archive_is_a_clear_error(tmp_path):
    (tmp_path / "a.rar").write_bytes(b"x")
    with pytest.raises(DownloadError, match=r"a\.rar: unknown archive type"):
        extract_archive(tmp_path / "a.rar", tmp_path / "out")
    (tmp_path / "b.zip").write_bytes(b"not a zip")
    with pytest.raises(DownloadError, match=r"b\.zip: not a readable zip archive"):
        extract_archive(tmp_path / "b.zip", tmp_path / "out")


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_include_and_strip_select_and_relocate_members(tmp_path, kind):
    members = {"top/en/a.conllu": b"a", "top/en/README": b"r", "top/fr/b.conllu": b"b"}
    name = "x.zip" if kind == "zip" else "x.tgz"
    (tmp_path / name).write_bytes(make_zip(members) if kind == "zip" else make_tar(members))
    out = extract_archive(tmp_path / name, tmp_path / "out", include=["top/*.conllu"], strip=1)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == ["en/a.conllu", "fr/b.conllu"]
    with pytest.raises(DownloadError, match=r"no member matches nothing/\*"):
        extract_archive(tmp_path / name, tmp_path / "out2", include=["nothing/*"])


def test_complete_part_file_is_renamed_without_fetching_the_body_again(tmp_path):
    (tmp_path / "f.bin.part").write_bytes(BODY)  # a run stopped between the last byte and the rename
    with LoopbackServer({"/f.bin": BODY}) as server:
        assert _fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=BODY_SHA) == BODY_SHA
    assert server.requests == [("/f.bin", f"bytes={len(BODY)}-")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_server_error_is_retried(tmp_path):
    with LoopbackServer({"/f.bin": BODY}, mode="busy_once") as server:
        assert _fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=BODY_SHA) == BODY_SHA
    assert server.requests == [("/f.bin", None), ("/f.bin", None)]


def test_server_dropping_every_connection_without_range_support_gives_up(tmp_path, monkeypatch):
    # every answer is the first half of the body then a dropped connection, and Range is ignored:
    # the .part never grows past half, so the bounded count of attempts without progress ends it
    waits = []
    monkeypatch.setattr("common.fetch.time.sleep", waits.append)
    with LoopbackServer({"/f.bin": BODY}, mode="drop_always") as server:
        with pytest.raises(DownloadError, match="gave up after 3 attempts without progress"):
            _fetch(server.url("/f.bin"), tmp_path / "f.bin", retries=2, backoff=1.0)
    assert len(server.requests) == 4  # 1 with progress (half the body) + 3 without
    assert waits == [1.0, 2.0]
    assert (tmp_path / "f.bin.part").stat().st_size == len(BODY) // 2 and not (tmp_path / "f.bin").exists()


# ---- issue 22 items 14, 17: archive faults are one-line errors naming the archive ---------------------------------
def _tar_with(entries) -> bytes:
    """A tar of ("file", name, bytes) / ("hard", name, linkname) / ("sym", name, linkname) entries, in order."""
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for kind, name, value in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(value)
                tf.addfile(info, io.BytesIO(value))
            else:
                info.type = tarfile.LNKTYPE if kind == "hard" else tarfile.SYMTYPE
                info.linkname = value
                tf.addfile(info)
    return buf.getvalue()


def test_hard_link_named_with_a_backslash_is_written_as_a_copy_of_its_file(tmp_path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(_tar_with([("file", "d/x.txt", b"hello"), ("hard", "d/y.txt", "d\\x.txt")]))
    extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out/d/y.txt").read_bytes() == b"hello"


def test_symlink_member_on_an_existing_folder_is_refused_naming_the_archive_before_anything_is_written(tmp_path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(_tar_with([("file", "data.txt", b"x"), ("sym", "link", "data.txt")]))
    (tmp_path / "out/link").mkdir(parents=True)
    with pytest.raises(DownloadError, match=r"a\.tar: refusing member 'link': .*out/link is a folder on disk"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "out/data.txt").exists()


@pytest.mark.parametrize("kw, message", [
    ({"max_ratio": float("nan")}, "max_ratio must be a finite number > 0 or None, got nan"),
    ({"max_ratio": 0}, "max_ratio must be a finite number > 0"),
    ({"max_bytes": -1}, "max_bytes must be a whole number of bytes >= 0"),
])
def test_archive_bounds_that_would_disable_themselves_are_refused(tmp_path, kw, message):
    archive = tmp_path / "a.tar"
    archive.write_bytes(_tar_with([("file", "data.txt", b"x")]))
    with pytest.raises(ValueError, match=message):
        extract_archive(archive, tmp_path / "out", **kw)


@pytest.mark.parametrize("flag, value", [("--max-ratio", "nan"), ("--max-unpacked-gib", "nan"),
                                         ("--max-unpacked-gib", "inf"), ("--max-ratio", "-1")])
def test_download_refuses_nan_inf_and_negative_archive_bounds_in_one_line(capsys, flag, value):
    from data.download import main

    with pytest.raises(SystemExit) as e:
        main(["--tasks", "sst2", "--out", "/nonexistent", flag, value])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err == f"error: {flag} {float(value)}: give a finite number > 0\n"
