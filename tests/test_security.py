"""Crafted archives served from a loopback HTTP server, fetched by `python -m data.download` in a subprocess as a
user would run it: nothing may land outside the data folder, no link may be moved into it, and unpacking is bounded.

Run: python -m pytest -q tests/test_security.py
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.download.loopback import LoopbackServer, make_tar, make_zip

REPO = Path(__file__).resolve().parents[1]
PAWSX_PATH = "/storage.googleapis.com/paws/pawsx/x-final.tar.gz"  # no published checksum: a mirror can swap it
SST2_PATH = "/dl.fbaipublicfiles.com/glue/data/SST-2.zip"


def run_download(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data.download", "--quiet", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def files_under(root: Path) -> list[str]:
    """Every path below `root` (files, folders, links), relative, sorted; links are not followed."""
    return sorted(str(Path(dirpath, name).relative_to(root))
                  for dirpath, dirs, names in os.walk(root) for name in dirs + names)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, proc.stderr
    assert lines and lines[-1].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    return lines[-1]


def _tar(entries: list[tuple[str, str, object]]) -> bytes:
    """A tar.gz of ("dir" | "file" | "sym", name, content or link target) entries, in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for kind, name, value in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o777
                tf.addfile(info)
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, value
                tf.addfile(info)
            else:
                info.size = len(value)
                tf.addfile(info, io.BytesIO(value))
    return buf.getvalue()


def long_symlink_chain_tar(dest: Path) -> bytes:
    """The CVE-2025-4517 construction (CPython's test_realpath_limit_attack): sixteen nested long-named folders,
    each reached through a one-letter link, so that `os.path.realpath` stops expanding at PATH_MAX and judges
    the rest lexically; a final link climbs back sixteen levels, `escape` points at `<chain>/..`, and
    `escape2` at `escape/..`: physically the data folder and its parent."""
    steps = "abcdefghijklmnop"
    max_path = os.pathconf(dest.parent, "PC_PATH_MAX")
    component = "d" * ((max_path - len(str(dest)) - 1) // (len(steps) + 1))
    entries, path = [], ""
    for step in steps:
        entries.append(("dir", f"{path}{component}", None))
        entries.append(("sym", f"{path}{step}", component))
        path = f"{path}{component}/"
    chain = "/".join(steps) + "/" + "l" * 254
    entries.append(("sym", chain, "/".join([".."] * len(steps))))
    entries.append(("sym", "escape", chain + "/.."))
    entries.append(("sym", "escape2", "escape/.."))
    entries.append(("file", "escape/PWNED_IN_DATA", b"x"))
    entries.append(("file", "escape2/PWNED_BESIDE_DATA", b"x"))
    return _tar(entries)


def test_long_symlink_chain_tar_cannot_write_outside_its_folder(tmp_path):
    data_dir = tmp_path / "home" / "data"
    data_dir.mkdir(parents=True)
    evil = long_symlink_chain_tar(data_dir / "pawsx")
    with LoopbackServer({PAWSX_PATH: evil}) as server:
        proc = run_download("--tasks", "pawsx", "--out", str(data_dir), "--base-url", server.base_url)
    # nothing anywhere but the fetched archive and its record: not beside DATA_DIR, not in it, not in pawsx/
    assert files_under(tmp_path) == ["home", "home/data", "home/data/MANIFEST.sha256", "home/data/downloads",
                                     "home/data/downloads/x-final.tar.gz"]
    line = one_error_line(proc)
    assert "x-final.tar.gz: refusing member 'a/" in line and "passes through the link 'a'" in line, line
    assert "nothing was extracted" in line


@pytest.mark.slow
def test_link_to_a_link_that_escapes_is_refused_and_nothing_is_extracted(tmp_path):
    # d -> . is harmless on its own; d2 -> d/.. is "." lexically but the parent folder on disk
    evil = _tar([("file", "x-final/en/train.tsv", b"id\tsentence1\tsentence2\tlabel\n"),
                 ("sym", "d", "."), ("sym", "d2", "d/.."), ("file", "d2/PWNED", b"x")])
    with LoopbackServer({PAWSX_PATH: evil}) as server:
        proc = run_download("--tasks", "pawsx", "--out", str(tmp_path / "data"), "--base-url", server.base_url)
    line = one_error_line(proc)
    assert "refusing member 'd2'" in line and "points at or through the link 'd'" in line, line
    assert files_under(tmp_path) == ["data", "data/MANIFEST.sha256", "data/downloads",
                                     "data/downloads/x-final.tar.gz"]


@pytest.mark.slow
def test_ccg_lay_out_moves_no_symlink_into_the_data_folder(tmp_path):
    # The link points inside the scratch folder where it is unpacked (so the unpacking checks pass), but once
    # moved to DATA/ccg/ it would point at tmp_path/outside.tsv, which data.check would then read as training data.
    (tmp_path / "outside.tsv").write_text("Hello world\tN N\n")
    ccg = _tar([("file", "ccg/ccg.dev.tsv", b"Hello world\tN N\n"), ("file", "ccg/ccg.test.tsv", b"Hi\tN\n"),
                ("file", "ccg/tags_to_id.json", b'{"N": 0}'), ("sym", "x/y/ccg.train.tsv", "../../outside.tsv")])
    (tmp_path / "ccg.tgz").write_bytes(ccg)
    data_dir = tmp_path / "data"
    with LoopbackServer({}) as server:
        proc = run_download("--tasks", "ccg", "--out", str(data_dir), "--base-url", server.base_url,
                            "--from-file", f"ccg={tmp_path / 'ccg.tgz'}")
    line = one_error_line(proc)
    assert line == f"error: {data_dir / 'downloads' / 'ccg.tgz'}: x/y/ccg.train.tsv is a symbolic link; " \
                   "expected a regular file", line
    assert not (data_dir / "ccg").exists() or not any(p.is_symlink() for p in (data_dir / "ccg").iterdir())
    assert not (data_dir / "downloads" / ".ccg.tgz.unpacked").exists()


def _zeros_zip(name: str, size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open(name, "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(block)
    return buf.getvalue()


def _zeros_tar(name: str, size: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=9) as tf:
        info = tarfile.TarInfo(name)
        info.size = size

        class Zeros(io.RawIOBase):
            left = size

            def readinto(self, b):
                n = min(len(b), self.left)
                b[:n] = bytes(n)
                self.left -= n
                return n

        tf.addfile(info, Zeros())
    return buf.getvalue()


@pytest.mark.parametrize("task,path,build,member", [
    ("sst2", SST2_PATH, _zeros_zip, "SST-2/train.tsv"),
    ("pawsx", PAWSX_PATH, _zeros_tar, "x-final/en/train.tsv"),
], ids=["zip", "tar.gz"])
@pytest.mark.slow
def test_compression_bomb_is_refused_before_anything_is_written(tmp_path, task, path, build, member):
    bomb = build(member, 256 << 20)  # 256 MiB of zeros in about 250 KB
    assert len(bomb) < 1 << 20
    with LoopbackServer({path: bomb}) as server:
        proc = run_download("--tasks", task, "--out", str(tmp_path), "--base-url", server.base_url)
    line = one_error_line(proc)
    assert f"to {256 << 20:,} (" in line and "times as many, more than the limit of 200" in line, line
    assert "--max-ratio" in line and "nothing was extracted" in line
    assert not (tmp_path / task).exists()


@pytest.mark.slow
def test_total_unpacked_size_is_bounded_and_the_bound_is_configurable(tmp_path):
    text = b"sentence\tlabel\n" + b"a fine film\t1\n" * 5000  # 70 KB, compresses ~100x: under the ratio floor
    archive = make_zip({"SST-2/train.tsv": text, "SST-2/dev.tsv": text})
    with LoopbackServer({SST2_PATH: archive}) as server:
        args = ["--tasks", "sst2", "--base-url", server.base_url, "--no-check"]
        proc = run_download(*args, "--out", str(tmp_path / "a"), "--max-unpacked-gib", str(100_000 / 2**30))
        line = one_error_line(proc)
        assert f"would unpack to {2 * len(text):,} bytes, more than the limit of 100,000" in line, line
        assert not (tmp_path / "a" / "sst2").exists()
        proc = run_download(*args, "--out", str(tmp_path / "b"), "--max-unpacked-gib", str(200_000 / 2**30))
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "b" / "sst2" / "SST-2" / "train.tsv").read_bytes() == text


def _corrupt_stored_zip(name: str, data: bytes) -> bytes:
    """A zip whose member is stored (not compressed) with one byte changed after the CRC was computed: every
    byte reads, and the CRC check fails only at the end, as a flipped bit in a download would."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("SST-2/dev.tsv", b"sentence\tlabel\ngood\t1\n")
        zf.writestr(name, data)
    raw = bytearray(buf.getvalue())
    at = raw.rindex(data[:64]) + len(data) // 2
    raw[at] ^= 0xFF
    return bytes(raw)


def test_member_failing_half_way_leaves_no_file_under_its_name(tmp_path):
    data = b"sentence\tlabel\n" + b"".join(b"film %d\t%d\n" % (i, i % 2) for i in range(100_000))
    with LoopbackServer({SST2_PATH: _corrupt_stored_zip("SST-2/train.tsv", data)}) as server:
        proc = run_download("--tasks", "sst2", "--out", str(tmp_path), "--base-url", server.base_url)
    line = one_error_line(proc)
    assert "SST-2.zip: unpacking member 'SST-2/train.tsv' failed (BadZipFile: Bad CRC-32" in line, line
    assert "the partial file was removed" in line
    folder = tmp_path / "sst2" / "SST-2"
    assert sorted(p.name for p in folder.iterdir()) == ["dev.tsv"]  # no train.tsv, and no temporary file

