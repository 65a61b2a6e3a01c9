"""Atomic writes. Run: python -m pytest -q tests/test_io.py"""
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.io import STALE_AFTER_S, atomic_path, atomic_write_bytes, atomic_write_text, remove_stale_temporaries

REPO = Path(__file__).resolve().parents[1]


def test_atomic_write_replaces_content(tmp_path):
    p = tmp_path / "sub" / "a.txt"
    atomic_write_text(p, "one")
    atomic_write_text(p, "two")
    assert p.read_text() == "two"
    assert sorted(x.name for x in p.parent.iterdir()) == ["a.txt"]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["a.txt"]


@pytest.fixture
def umask():
    """Set the process umask for one test, restoring it after."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def test_new_file_honours_the_umask_not_mkstemps_0600(tmp_path, umask):
    umask(0o022)
    atomic_write_text(tmp_path / "a.csv", "x")
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o644
    umask(0o077)
    atomic_write_bytes(tmp_path / "b.csv", b"x")
    assert stat.S_IMODE((tmp_path / "b.csv").stat().st_mode) == 0o600


def test_rewrite_keeps_the_existing_files_mode(tmp_path, umask):
    umask(0o077)
    p = tmp_path / "results.csv"
    p.write_text("old")
    p.chmod(0o664)  # a results file shared with a group
    with atomic_path(p) as tmp:
        tmp.write_text("old\nnew row")
    assert p.read_text() == "old\nnew row" and stat.S_IMODE(p.stat().st_mode) == 0o664


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from common.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    Path(sys.argv[2]).write_text("ready")
    time.sleep(600)
"""


def test_temporary_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target, ready = tmp_path / "out" / "metrics.jsonl", tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target), str(ready)], cwd=REPO)
    try:
        while not ready.exists():
            assert proc.poll() is None, "the writer died before writing"
            time.sleep(0.01)
        live = [p.name for p in target.parent.iterdir()]
        assert len(live) == 1 and live[0].startswith(".metrics.jsonl.") and live[0].endswith(".tmp")
        atomic_write_text(tmp_path / "out" / "other.txt", "x")  # another target's write leaves it alone
        assert sorted(p.name for p in target.parent.iterdir()) == sorted(live + ["other.txt"])
        assert remove_stale_temporaries(target) == []  # its writer still runs: not stale
    finally:
        proc.kill()  # SIGKILL: no chance to clean up
        proc.wait()
    assert (target.parent / live[0]).exists()
    atomic_write_text(target, "whole")
    assert sorted(p.name for p in target.parent.iterdir()) == ["metrics.jsonl", "other.txt"]


def test_old_temporary_file_of_another_host_is_removed_and_a_recent_one_kept(tmp_path):
    old = tmp_path / ".a.txt.node17.cluster.4242.abcdefgh.tmp"
    recent = tmp_path / ".a.txt.node18.4243.ijklmnop.tmp"
    for p in (old, recent):
        p.write_text("half")
    os.utime(old, (time.time() - STALE_AFTER_S - 60,) * 2)
    atomic_write_text(tmp_path / "a.txt", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a.txt", recent.name])


def test_appending_results_keeps_a_shared_files_mode(tmp_path, umask):
    from data.results import append_results

    row = {"model": "m", "intermediate_task": "none", "target_task": "xnli", "seed": 1, "lang": "de",
           "split": "test", "metric": "accuracy", "value": 50.0, "source": "runs/a"}
    umask(0o022)
    path = tmp_path / "results.csv"
    append_results(path, [row])
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by the other accounts of a shared study
    path.chmod(0o664)
    umask(0o077)
    append_results(path, [{**row, "lang": "fr"}])
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
