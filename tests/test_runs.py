"""runs.py: one writer per run folder and per study (an flock that dies with its holder), and a study's jobs die
with the driver that started them. The resume bookkeeping (metrics.jsonl, TensorBoard) is checked against an
uninterrupted run in tests/test_train.py (test_sigkill_then_resume_is_bit_identical_to_an_uninterrupted_run).

    python -m pytest -q tests/test_runs.py
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import runs

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
HOLD = "import runs, sys, time; runs.hold_lock(sys.argv[1], sys.argv[2], what='holder'); print('held', flush=True); " \
       "time.sleep(120)"


def hold_elsewhere(folder: Path, name: str = runs.LOCK) -> subprocess.Popen:
    """Another process that takes the lock and sleeps."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), name], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def wait_for(condition, timeout: float = 120.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_held_lock_is_refused_naming_its_holder_and_is_free_once_the_holder_is_killed(tmp_path):
    holder = hold_elsewhere(tmp_path)
    try:
        with pytest.raises(runs.LockedError, match=f"^{tmp_path}: in use by another writer \\(holder pid "
                                                   f"{holder.pid} on host "):
            runs.hold_lock(tmp_path)
        assert runs.held_by(tmp_path).startswith(f"holder pid {holder.pid} on host")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert runs.held_by(tmp_path) is None  # the kernel dropped the lock with its holder
    lock = runs.hold_lock(tmp_path)
    assert f"train.py pid {os.getpid()} on host" in (tmp_path / runs.LOCK).read_text()
    assert runs.held_by(tmp_path).startswith(f"train.py pid {os.getpid()}")
    lock.release()
    assert runs.held_by(tmp_path) is None


def test_status_calls_a_run_folder_whose_train_py_still_holds_it_running_not_interrupted(tmp_path):
    import json

    import study

    job = study.Job("mnli/none/s0", "intermediate", str(tmp_path), ["train.py"])
    (tmp_path / "study_attempts.jsonl").write_text(json.dumps({"event": "start", "time": 0}) + "\n")
    assert study.job_status(job, {}, {})[0] == "interrupted"  # the launcher died, nothing holds the folder
    holder = hold_elsewhere(tmp_path)  # its train.py lives on (started by hand, or orphaned)
    try:
        state, detail = study.job_status(job, {}, {})
        assert state == "running" and detail.startswith(f"holder pid {holder.pid} on host"), (state, detail)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


def test_a_file_system_without_flock_warns_and_goes_on_unguarded(tmp_path, monkeypatch, capsys):
    import errno

    def no_flock(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")
    monkeypatch.setattr(runs.fcntl, "flock", no_flock)
    runs.hold_lock(tmp_path).release()
    assert f"warning: {tmp_path / runs.LOCK}: cannot lock (No locks available)" in capsys.readouterr().err


def test_study_py_imports_neither_torch_nor_xlmr():
    code = "import sys, study; bad = [m for m in ('torch', 'xlmr') if m in sys.modules]; print(bad)"
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "[]", (p.stdout, p.stderr[-2000:])


def train_cmd(run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "train.py", "--cfg", "configs/smoke.yaml", f"train.out_dir={run_dir}",
            f"eval.results={run_dir.parent / 'all.csv'}", "data.mlm_files=[]", "intermediate.tasks=[sst2]", *extra]


@pytest.mark.slow
def test_a_second_train_py_on_a_folder_in_use_is_refused_naming_the_first(tmp_path):
    run_dir = tmp_path / "run"
    first = subprocess.Popen(train_cmd(run_dir, "intermediate.max_steps=100000"), cwd=ROOT, env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: runs.held_by(run_dir), what="the first train.py to take its lock")
        p = subprocess.run(train_cmd(run_dir, "intermediate.max_steps=100000", "--resume"), cwd=ROOT, env=ENV,
                           capture_output=True, text=True, timeout=120)
        line = p.stderr.strip().splitlines()[-1]
        assert p.returncode == 1 and line.startswith(
            f"train.py: error: {run_dir}: in use by another writer (train.py pid {first.pid} on host "), line
        assert first.poll() is None  # the first goes on undisturbed
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert runs.held_by(run_dir) is None  # free again after a SIGKILL: a --resume may take over
    runs.hold_lock(run_dir).release()


@pytest.mark.slow
def test_a_second_study_driver_is_refused_and_a_killed_drivers_train_py_dies_with_it(tmp_path):
    import yaml

    raw = yaml.safe_load((ROOT / "configs/study/smoke.yaml").read_text())
    raw["overrides"].append("intermediate.max_steps=100000")  # a job that outlives the test unless it is killed
    study_cfg = tmp_path / "long.yaml"
    study_cfg.write_text(yaml.safe_dump(raw))
    out = tmp_path / "study"
    cmd = [sys.executable, "study.py", "run", str(study_cfg), "--launcher", "local", "--out-dir", str(out)]
    driver = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def training_child():
            held = [f.parent for f in out.glob(f"**/{runs.LOCK}") if runs.held_by(f.parent)]
            return held[0] if held else None
        run_dir = wait_for(training_child, what="the driver's first train.py")
        child = int(runs.held_by(run_dir).split(" pid ")[1].split()[0])
        second = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
        line = second.stderr.strip().splitlines()[-1]
        assert second.returncode == 1 and line.startswith(
            f"study.py: error: {out}: in use by another writer (study.py run pid {driver.pid} on host "), line
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    # PR_SET_PDEATHSIG: the orphaned train.py gets SIGTERM and ends, its lock with it
    wait_for(lambda: runs.held_by(run_dir) is None, timeout=15, what=f"train.py {child} to die with its launcher")
    assert runs.held_by(out, runs.STUDY_LOCK) is None
