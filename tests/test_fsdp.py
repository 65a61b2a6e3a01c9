"""train.fsdp (FSDP2, xlmr/fsdp.py) on CPU with gloo, 2 processes: one sharded step equals the unsharded step, the
exported checkpoint folder scores as the sharded model does, and a sharded save, SIGKILL and resume (intermediate phase) is bit-identical
to an uninterrupted sharded run.

    python -m pytest -q tests/test_fsdp.py
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import train
from tests.test_train import RESUME_ARGS, best_tensors, bookkeeping, out_args, read_metrics, tensorboard_scalars

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def torchrun(*args: str, env_extra: dict | None = None, nproc: int = 2) -> subprocess.CompletedProcess:
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--nnodes=1",
           "--master_addr=127.0.0.1", f"--master_port={port}", *args]
    return subprocess.run(cmd, cwd=ROOT, env={**ENV, **(env_extra or {})}, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_one_sharded_step_equals_the_unsharded_step_and_the_export_scores_the_same(tmp_path):
    out = tmp_path / "fsdp.json"
    p = torchrun("tests/fsdp_worker.py", str(out))
    assert p.returncode == 0, p.stderr[-3000:]
    reports = json.loads(out.read_text())
    assert len(reports) == 3  # post-LN, + activation checkpointing, pre-LN + activation checkpointing
    for name, report in reports.items():
        assert report["params"] > 20 and report["max_abs_update"] > 5e-4, (name, report)  # the step moved things
        assert report["max_abs_param_diff"] <= 1e-6 and report["max_abs_grad_diff"] <= 1e-6, (name, report)
        assert report["max_abs_logit_diff_exported"] <= 1e-6 and report["same_predictions"], (name, report)


def test_fsdp_with_fp16_is_refused_before_anything_runs():
    from config import load_config

    with pytest.raises(ValueError, match="train.fsdp with train.precision=fp16 is not supported"):
        load_config(ROOT / "configs/smoke.yaml", ["train.fsdp=true", "train.precision=fp16", "train.device=auto"])
    assert load_config(ROOT / "configs/smoke.yaml", ["train.fsdp=true"]).train.fsdp is True


# 12 steps of the intermediate phase (multi-task, MLM arm; sharded checkpoints every 3 steps): the target phase
# resumes through the same train_phase, and the export the target is scored from is checked by the one-step test.
FSDP_ARGS = ["--cfg", "configs/smoke.yaml", "train.fsdp=true", *RESUME_ARGS, "intermediate.max_steps=12", "target.task=",
             "eval.langs=[]"]


@pytest.mark.slow
def test_sharded_save_sigkill_and_resume_is_bit_identical_to_an_uninterrupted_sharded_run(tmp_path):
    ref, crashed = tmp_path / "ref", tmp_path / "crashed"
    p = torchrun("train.py", *FSDP_ARGS, *out_args(ref))
    assert p.returncode == 0, p.stderr[-3000:]
    p = torchrun("train.py", *FSDP_ARGS, *out_args(crashed), env_extra={train.CRASH_ENV: "intermediate:7"})
    assert p.returncode != 0
    shards = sorted((crashed / "intermediate").glob("checkpoint.dcp.*"))
    assert [s.name for s in shards] == ["checkpoint.dcp.6"], shards  # the one checkpoint.pt points to
    ck = torch.load(crashed / "intermediate" / "checkpoint.pt", weights_only=True)
    assert ck["model"] is None and ck["sharded"] == "checkpoint.dcp.6"  # no full copy of the weights on rank 0
    p = torchrun("train.py", *FSDP_ARGS, *out_args(crashed), "--resume")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "[intermediate] resumed at step 6" in p.stdout
    a, b = best_tensors(ref), best_tensors(crashed)
    assert a.keys() == b.keys() and len(a) > 10 and all(k.startswith("intermediate") for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"
    assert bookkeeping(read_metrics(crashed)) == bookkeeping(read_metrics(ref))
    assert tensorboard_scalars(crashed) == tensorboard_scalars(ref)
    assert not list(crashed.glob("*/checkpoint.dcp.*"))  # removed with checkpoint.pt when the phase is done
