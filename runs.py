"""A training run folder: its file names, phases and done markers, the one-writer lock, the resume checkpoint
format and metrics.jsonl. train.py writes run folders; config.py (`intermediate.from_run`) and study.py read them.

    from runs import BEST, phase_done, phase_path, hold_lock
    phase_path(run, "target", BEST)        # run/target/best: the selected target model (a checkpoint folder)
    phase_done(run, "intermediate")        # run/intermediate/done.json exists: the phase finished

Layout of a run folder (`train.out_dir`):
    config.yaml          the resolved config (RUN_CONFIG); --resume insists on the same one
    metrics.jsonl        one JSON record per log step and per dev evaluation (RUN_METRICS)
    results.csv          this run's result rows (RUN_RESULTS)
    train.lock           held (flock) by the train.py writing the folder; holds "pid P on host H" (LOCK)
    tensorboard/<phase>/ TensorBoard event files of the phase (TB_DIR)
    <phase>/best/        the selected model: a checkpoint folder (xlmr/checkpoint.py knows its inside)
    <phase>/checkpoint.pt  resumable training state, while the phase runs (RESUME; removed when done); with
                         train.fsdp the model and optimizer shards sit in <phase>/checkpoint.dcp.<step>/ beside it
                         (torch.distributed.checkpoint, one file per rank), and checkpoint.pt names that folder
    <phase>/done.json    written last: the phase finished (DONE)

This module imports neither torch nor xlmr at import time (study.py reads run folders without them); the
functions that handle tensors import torch when called.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from common.io import atomic_path, atomic_write_text

RUN_CONFIG, RUN_METRICS, RUN_RESULTS = "config.yaml", "metrics.jsonl", "results.csv"
PHASES = ("intermediate", "target")
BEST, RESUME, DONE = "best", "checkpoint.pt", "done.json"
RESUME_SHARDS = "checkpoint.dcp"  # train.fsdp: <phase>/checkpoint.dcp.<step>/, the shards checkpoint.pt points to
LOCK = "train.lock"  # in a run folder; study.py's driver holds STUDY_LOCK in the study folder
STUDY_LOCK = "study.lock"
TB_DIR = "tensorboard"  # one event folder per phase: a resume purges only its own phase's replayed steps
ITEMS_DIR = "items"  # the target's per-item scores (data/items.py), which study.py collect hands to correlate.py


def phase_path(run_dir, phase: str, name: str = "") -> Path:
    """run_dir/<phase>[/name]: e.g. phase_path(run, "target", BEST) is the selected target model."""
    assert phase in PHASES, f"phase {phase!r} is not one of {PHASES}"
    return Path(run_dir) / phase / name if name else Path(run_dir) / phase


def phase_done(run_dir, phase: str) -> bool:
    """Whether the run's phase finished (its done.json exists)."""
    return phase_path(run_dir, phase, DONE).is_file()


def mark_done(run_dir, phase: str, summary: dict) -> None:
    """Write <phase>/done.json (the phase summary) and remove the phase's resume checkpoint (model + 2 Adam
    moments: large, and no longer needed)."""
    atomic_write_text(phase_path(run_dir, phase, DONE), json.dumps(summary, indent=1) + "\n")
    phase_path(run_dir, phase, RESUME).unlink(missing_ok=True)
    for shards in phase_path(run_dir, phase).glob(f"{RESUME_SHARDS}.*"):
        shutil.rmtree(shards, ignore_errors=True)


def started(run_dir) -> bool:
    """Whether a run folder holds anything a rerun must not throw away (a checkpoint, a selected model, a done
    phase): a run that failed before any of these may start afresh."""
    return any(phase_path(run_dir, p, x).exists() for p in PHASES for x in (RESUME, BEST, DONE))


def recover_best(run_dir, phase: str) -> None:
    """A run killed between the two renames that swap in a new <phase>/best left it as best.old: put it back."""
    best, old = phase_path(run_dir, phase, BEST), phase_path(run_dir, phase, BEST + ".old")
    if old.exists() and not best.exists():
        os.replace(old, best)


# --- one writer per folder ---------------------------------------------------------------------------------
class LockedError(ValueError):
    """Another live process holds the folder's lock."""


@dataclass
class FolderLock:
    """An advisory lock (fcntl.flock) on `folder/name`, held until release() or the end of the process.

    The kernel drops a flock when its holder exits, however it exits (SIGKILL included), so a crashed writer never
    leaves a stale lock behind; the lock file itself stays, holding the last holder's "pid P on host H since T".
    flock works between processes of one host; on a network file system it depends on the mount (NFSv4 and Lustre
    with `flock` mount option do; see flock(2)).
    """

    path: Path
    _fd: int | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor of the open file releases the flock
            self._fd = None


def lock_holder(path) -> str:
    """What a lock file says about its holder ("pid 123 on host h since ..."), or "" when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()[:200]
    except OSError:
        return ""


def hold_lock(folder, name: str = LOCK, what: str = "train.py") -> FolderLock:
    """Take the lock `folder/name` (creating the folder) or raise LockedError naming the holder."""
    path = Path(folder) / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise OSError(f"{path}: cannot create the lock file: {e.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise LockedError(f"{path.parent}: in use by another writer ({lock_holder(path) or 'holder unknown'}; "
                              f"lock file {path}); wait for it to end or stop it first") from None
        # a file system without flock (Lustre mounted without -o flock, some NFS setups): go on unguarded
        print(f"warning: {path}: cannot lock ({e.strerror}); a second writer on this folder would not be "
              "stopped", file=sys.stderr)
        return FolderLock(path)
    os.ftruncate(fd, 0)
    os.write(fd, f"{what} pid {os.getpid()} on host {socket.gethostname()} since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
    return FolderLock(path, fd)


def held_by(folder, name: str = LOCK) -> str | None:
    """The holder of `folder/name` while a live process holds it, else None (no file, or a free lock). It looks by
    taking a shared lock for an instant: a writer starting in that instant is refused (rerun it)."""
    path = Path(folder) / name
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return lock_holder(path) or "holder unknown"
    finally:
        os.close(fd)  # also releases the shared lock taken just to look
    return None


# --- the resume checkpoint (<phase>/checkpoint.pt) -----------------------------------------------------------
# model, optimizer and scaler state dicts; data: each task stream's (epoch, pos); task_gen, mask_gen (per rank),
# rng (per rank): generator states; log (per rank): the loss sums and token count since the last metrics record;
# world_size; step, best_score, best_step, bad_evals, tokens: the loop's counters.
CHECKPOINT_KEYS = ("model", "optimizer", "scaler", "data", "task_gen", "mask_gen", "rng", "world_size", "step",
                   "best_score", "best_step", "bad_evals", "tokens")
COUNTERS = ("step", "best_score", "best_step", "bad_evals", "tokens")


def rng_state(device) -> dict:
    import torch

    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device) -> None:
    import torch

    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _state_bytes(obj) -> int:
    """Bytes of the tensors in a nested checkpoint state (about what torch.save writes)."""
    if hasattr(obj, "element_size"):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_state_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_state_bytes(v) for v in obj)
    return 0


def save_training_state(path: Path, state: dict) -> None:
    """torch.save through a temp file + rename: a crash leaves the previous checkpoint intact. A failed write
    (torch reports a full disk as "unexpected pos N vs M") is an OSError naming the file and, when the disk is
    full, saying so."""
    import torch

    try:
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
    except (RuntimeError, OSError) as e:
        needed = _state_bytes(state)
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = None
        full = getattr(e, "errno", None) == errno.ENOSPC or (free is not None and free < needed)
        why = (f"no space left on the device ({(free or 0) / 2**20:.1f} MiB free, the checkpoint needs about "
               f"{needed / 2**20:.1f} MiB)") if full else " ".join(str(e).split())[:200]
        raise OSError(f"{path}: could not save the checkpoint: {why}; the previous checkpoint, if any, is "
                      "intact") from None


def load_training_state(path, world_size: int | None = None) -> dict:
    """A resume checkpoint through the weights' guarded loader (xlmr.checkpoint's weights_only unpickling: one
    line naming the file when it is truncated, random or holds anything but tensors and plain containers); it must
    be a dict with every CHECKPOINT_KEYS key, saved with `world_size` processes when that is given."""
    from xlmr.checkpoint import CheckpointError, torch_load_guarded  # only when resuming: study.py stays torch-free

    path = Path(path)
    ck = torch_load_guarded(path)
    if not isinstance(ck, dict):
        raise CheckpointError(f"{path}: a {type(ck).__name__}; expected a training checkpoint (a dict)")
    missing = [k for k in CHECKPOINT_KEYS if k not in ck]
    if missing:
        raise ValueError(f"{path}: lacks {', '.join(missing)}; not a checkpoint this train.py wrote (remove it to "
                         "restart the phase)")
    if world_size is not None and ck["world_size"] != world_size:
        raise ValueError(f"{path}: saved with world size {ck['world_size']!r}, resumed with {world_size}; "
                         "resume with as many processes")
    return ck


# --- metrics.jsonl and TensorBoard ------------------------------------------------------------------------------
TB_SCALARS = ("loss", "lr", "tokens_per_s", "dev_score")  # metrics.jsonl fields also written as TensorBoard scalars


def drop_replayed_metrics(path: Path, phase: str, step: int) -> None:
    """Remove the metrics.jsonl lines of `phase` after `step` (and a line cut short by a kill): a resumed run
    replays those steps and logs them again, so they would appear twice."""
    if not path.exists():
        return
    keep, dropped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            dropped += 1
            continue
        if isinstance(record, dict) and record.get("phase") == phase and record.get("step", 0) > step:
            dropped += 1
            continue
        keep.append(line)
    if dropped:
        atomic_write_text(path, "".join(line + "\n" for line in keep))


class MetricsLog:
    """metrics.jsonl of a run folder for one phase, and the phase's TensorBoard events (rank 0 only).

    Opened at `step` (the step a resume starts from, 0 on a fresh start): the records an interrupted run logged
    after that step are dropped from metrics.jsonl, and the TensorBoard writer is created with purge_step=step+1,
    so TensorBoard discards the replayed steps' old events (it purges every tag of the event folder at or after
    that step, hence one folder per phase: the target's steps restart at 1)."""

    def __init__(self, run_dir, phase: str, step: int = 0):
        self.path, self.phase, self.step0 = Path(run_dir) / RUN_METRICS, phase, step
        self.tb_dir = Path(run_dir) / TB_DIR / phase
        self._writer = None
        drop_replayed_metrics(self.path, phase, step)

    def write(self, record: dict) -> None:
        """One metrics.jsonl line; its loss (and per-task losses), lr, tokens/s and dev score also go to
        TensorBoard, tagged <phase>/<field> at the step (`tensorboard --logdir runs/`)."""
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"phase": self.phase, **record}) + "\n")
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.tb_dir), purge_step=self.step0 + 1 if self.step0 else None)
        for key, value in record.items():
            if key in TB_SCALARS or key.startswith("loss_"):
                self._writer.add_scalar(f"{self.phase}/{key}", value, record["step"])
        self._writer.flush()  # a killed run keeps what it logged

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
