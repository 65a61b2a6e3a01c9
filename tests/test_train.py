"""train.py end to end on the tiny model: all phases, exact resume after SIGKILL, torchrun DDP parity; helpers.

Run: python -m pytest -q tests/test_train.py
Every run is a subprocess from the repository root, as a user would start it (configs/smoke.yaml and the fixtures
of tests/fixtures/train/, made by its make_fixtures.py).
"""
from __future__ import annotations

import csv
import json
import math
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import train
from config import load_config

ROOT = Path(__file__).resolve().parents[1]
SMOKE = "configs/smoke.yaml"


def run_train(args: list[str], env_extra: dict | None = None, torchrun: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", **(env_extra or {})}
    cmd = [sys.executable, "train.py", *args]
    if torchrun:
        with socket.socket() as s:  # a free port for the rendezvous
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={torchrun}", "--nnodes=1",
               "--master_addr=127.0.0.1", f"--master_port={port}", "train.py", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def read_metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def out_args(run_dir: Path) -> list[str]:
    return [f"train.out_dir={run_dir}", f"eval.results={run_dir / 'all_results.csv'}"]


@pytest.mark.slow
def test_smoke_config_runs_every_phase_loss_falls_and_writes_rows_for_every_language(tmp_path):
    run_dir = tmp_path / "smoke"
    p = run_train(["--cfg", SMOKE, *out_args(run_dir)])
    assert p.returncode == 0, p.stderr[-3000:]
    metrics = read_metrics(run_dir)
    def falls(xs: list[float]) -> bool:  # mean of the last third below the mean of the first third
        k = len(xs) // 3
        return sum(xs[-k:]) / k < sum(xs[:k]) / k

    for phase, key in (("intermediate", "loss_sst2"), ("intermediate", "loss_mlm"), ("target", "loss")):
        losses = [m[key] for m in metrics if m["phase"] == phase and key in m]
        assert len(losses) >= 6 and all(math.isfinite(x) for x in losses), losses
        assert falls(losses), f"{phase} {key} did not fall: {losses}"
    assert {m["phase"] for m in metrics if "dev_score" in m} == {"intermediate", "target"}
    # selected models in the checkpoint layout evaluate.py / retrieval.py read
    for f in ("config.json", "model.safetensors", "sentencepiece.bpe.model", "head.json", "head.safetensors"):
        assert (run_dir / "target" / "best" / f).is_file(), f
    assert (run_dir / "intermediate" / "best" / "heads" / "mnli" / "head.json").is_file()
    assert not (run_dir / "target" / "checkpoint.pt").exists()  # removed once the phase is done
    meta = json.loads((run_dir / "target" / "best" / "head.json").read_text())
    assert meta["intermediate_task"] == "mnli+sst2+mlm" and meta["target_task"] == "pawsx"
    for results in (run_dir / "results.csv", run_dir / "all_results.csv"):
        rows = list(csv.DictReader(results.open()))
        assert sorted(r["lang"] for r in rows) == ["de", "en", "fr"]
        assert {(r["model"], r["intermediate_task"], r["target_task"], r["seed"], r["split"], r["metric"])
                for r in rows} == {("random-tiny", "mnli+sst2+mlm", "pawsx", "0", "test", "accuracy")}
    # the target's item scores (data/items.py) in the run folder: their means are the accuracy rows
    from data.items import read_item_scores
    items = read_item_scores([run_dir / "items"])
    means = items.groupby("lang")["score"].mean().to_dict()
    assert means == pytest.approx({r["lang"]: float(r["value"]) for r in rows}, abs=1e-9)
    assert set(items["model"]) == {"random-tiny"} and set(items["target_task"]) == {"pawsx"}
    saved = load_config(run_dir / "config.yaml")
    assert saved.train.out_dir == str(run_dir) and saved.intermediate.tasks == ["mnli", "sst2"]
    # intermediate.from_run: target training from that run's selected intermediate encoder gives the very same
    # target model (stage 2 always starts from <run>/intermediate/best, encoder only, with a seeded fresh head)
    reuse = tmp_path / "reuse"
    p = run_train(["--cfg", SMOKE, *out_args(reuse), "intermediate.tasks=[]", "data.mlm_files=[]",
                   f"intermediate.from_run={run_dir}"])
    assert p.returncode == 0, p.stderr[-3000:]
    assert not (reuse / "intermediate").exists()
    a, b = load_file(run_dir / "target/best/model.safetensors"), load_file(reuse / "target/best/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rows = list(csv.DictReader((reuse / "results.csv").open()))
    assert {r["intermediate_task"] for r in rows} == {"mnli+sst2+mlm"}
    # a second start into the same folder is refused without --resume
    again = run_train(["--cfg", SMOKE, *out_args(run_dir)])
    assert again.returncode != 0 and "--resume" in again.stderr


def best_tensors(run_dir: Path) -> dict[str, torch.Tensor]:
    out = {}
    for phase in ("intermediate", "target"):
        for f in sorted((run_dir / phase / "best").rglob("*.safetensors")):
            for k, v in load_file(f).items():
                out[f"{f.relative_to(run_dir)}:{k}"] = v
    return out


# Short enough to stay fast, long enough to checkpoint (every 3 steps) before the crash.
RESUME_ARGS = ["intermediate.epochs=1", "target.epochs=1", "train.save_every=3", "intermediate.eval_every=5",
               "target.eval_every=4", "eval.langs=[en]"]


@pytest.fixture(scope="module")
def uninterrupted_run(tmp_path_factory) -> Path:
    ref = tmp_path_factory.mktemp("resume") / "ref"
    p = run_train(["--cfg", SMOKE, *out_args(ref), *RESUME_ARGS])
    assert p.returncode == 0, p.stderr[-3000:]
    return ref


# crash after step 7 of the intermediate phase (last checkpoint: step 6) or step 5 of the target (checkpoint 3)
@pytest.mark.slow
@pytest.mark.parametrize("crash_at,resumed_at", [("intermediate:7", 6), ("target:5", 3)])
def test_sigkill_then_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, uninterrupted_run, crash_at,
                                                                        resumed_at):
    ref, crashed = uninterrupted_run, tmp_path / "crashed"
    p = run_train(["--cfg", SMOKE, *out_args(crashed), *RESUME_ARGS], {train.CRASH_ENV: crash_at})
    assert p.returncode == -signal.SIGKILL, (p.returncode, p.stderr[-3000:])
    phase = crash_at.split(":")[0]
    assert (crashed / phase / "checkpoint.pt").is_file() and not (crashed / phase / "done.json").exists()
    if phase == "target":  # resuming under another config is refused (it could not be bit-identical)
        p = run_train(["--cfg", SMOKE, *out_args(crashed), *RESUME_ARGS, "target.lr=1e-4", "--resume"])
        assert p.returncode != 0 and "the config differs" in p.stderr
    p = run_train(["--cfg", SMOKE, *out_args(crashed), *RESUME_ARGS, "--resume"])
    assert p.returncode == 0, p.stderr[-3000:]
    assert f"[{phase}] resumed at step {resumed_at}" in p.stdout
    a, b = best_tensors(ref), best_tensors(crashed)
    assert a.keys() == b.keys() and len(a) > 10
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"
    assert (ref / "results.csv").read_text().replace(str(ref), "X") == \
        (crashed / "results.csv").read_text().replace(str(crashed), "X")
    # the bookkeeping too (log_every 5, checkpoints every 3: the first record after the resume averages steps
    # from before and after it, and tokens go on from the steps before the checkpoint that no record counted yet)
    assert bookkeeping(read_metrics(crashed)) == bookkeeping(read_metrics(ref))
    assert tensorboard_scalars(crashed) == tensorboard_scalars(ref)  # each step once: the replayed ones purged


def bookkeeping(records: list[dict]) -> list[tuple]:
    """What must not depend on an interruption: every record's phase, step, losses, tokens, lr and dev scores."""
    return [tuple(sorted((k, v) for k, v in r.items() if k not in ("wall_s", "tokens_per_s"))) for r in records]


def tensorboard_scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """(step, value) of every scalar TensorBoard shows (it drops the events a resume purged), tokens/s left out."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = {}
    for folder in sorted((run_dir / "tensorboard").iterdir()):
        events = EventAccumulator(str(folder))
        events.Reload()
        for tag in events.Tags()["scalars"]:
            if not tag.endswith("tokens_per_s"):
                out[tag] = [(e.step, e.value) for e in events.Scalars(tag)]
    return out


@pytest.mark.slow
def test_torchrun_two_processes_match_one_process_with_the_same_effective_batch(tmp_path):
    # no dropout (each rank has its own dropout stream) and no MLM arm (masks are drawn per rank); the two
    # intermediate heads exercise DDP's unused-parameter path (each step trains one head)
    common = ["model.dropout=0.0", "model.attn_dropout=0.0", "data.mlm_files=[]", "intermediate.epochs=1",
              "target.epochs=1", "intermediate.eval_every=0", "target.eval_every=0", "eval.langs=[en]",
              # The attention key bias has an exactly-zero gradient (adding a constant to every score of a query
              # leaves its softmax unchanged): what reaches it is rounding noise that depends on the reduction
              # order, and Adam with a tiny epsilon would scale that noise up to lr-sized updates. An epsilon
              # above the noise keeps the comparison about the training, not about float summation order.
              "train.adam_eps=1e-6"]
    one, two = tmp_path / "one", tmp_path / "two"
    p = run_train(["--cfg", SMOKE, *out_args(one), *common, "intermediate.batch_size=8", "target.batch_size=8"])
    assert p.returncode == 0, p.stderr[-3000:]
    p = run_train(["--cfg", SMOKE, *out_args(two), *common, "intermediate.batch_size=4", "target.batch_size=4"],
                  torchrun=2)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "effective batch 8 = 4 per device x 1 accumulation x 2 processes" in p.stdout
    a, b = best_tensors(one), best_tensors(two)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], atol=1e-5, rtol=0, msg=f"{k} differs between 1 and 2 processes")
    assert len(read_metrics(two)) > 0 and not (two / "metrics.jsonl").read_text().count("\n\n")


KIND_RUNS = {  # every head kind trains, selects on English dev and (where there is a target) evaluates
    "span+multiple_choice->tag": (["intermediate.tasks=[squad_v1, hellaswag]", "intermediate.max_len=64",
                                   "intermediate.doc_stride=32", "target.task=udpos", "eval.split=dev",
                                   "eval.langs=[en, de, fr]"], {"en", "de", "fr"}, {"f1", "precision", "recall", "accuracy"}),
    "baseline span (xquad trains on squad_v1)": (["intermediate.tasks=[]", "target.task=xquad", "target.max_len=64",
                                                  "target.doc_stride=32", "eval.langs=[en, de]"],
                                                 {"en", "de"}, {"exact_match", "f1"}),
    "bf16 autocast on CPU (GPU runs default to it)": (["intermediate.tasks=[]", "train.precision=bf16",
                                                        "eval.langs=[en]"], {"en"}, {"accuracy"}),
    "retrieval target: intermediate only": (["intermediate.tasks=[sst2]", "target.task=tatoeba", "eval.langs=[]"],
                                            set(), set()),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", KIND_RUNS)
def test_every_task_kind_trains_and_scores_end_to_end(tmp_path, name):
    overrides, langs, metrics = KIND_RUNS[name]
    run_dir = tmp_path / "run"
    p = run_train(["--cfg", SMOKE, *out_args(run_dir), "data.mlm_files=[]", "intermediate.max_steps=6",
                   "target.max_steps=6", *overrides])
    assert p.returncode == 0, p.stderr[-3000:]
    losses = [m["loss"] for m in read_metrics(run_dir) if "loss" in m]
    assert losses and all(math.isfinite(x) for x in losses)
    if not langs:  # BUCC / Tatoeba: no target training; the intermediate encoder goes to retrieval.py
        assert not (run_dir / "target").exists() and (run_dir / "intermediate" / "best" / "model.safetensors").is_file()
        assert f"python retrieval.py --ckpt {run_dir / 'intermediate' / 'best'} --task tatoeba" in p.stdout
        return
    rows = list(csv.DictReader((run_dir / "results.csv").open()))
    assert {r["lang"] for r in rows} == langs and {r["metric"] for r in rows} == metrics
    assert all(0 <= float(r["value"]) <= 100 for r in rows)


@pytest.mark.slow
def test_bad_override_fails_before_training_with_one_clear_message(tmp_path):
    p = run_train(["--cfg", SMOKE, *out_args(tmp_path / "bad"), "target.lr=fast"])
    assert p.returncode != 0
    assert "config error: config key target.lr" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "bad").exists()


# --- pure helpers ------------------------------------------------------------------------------------------
def test_lr_warms_up_linearly_then_decays_to_zero():
    lrs = [train.get_lr(s, 20, 1.0, 0.1) for s in range(20)]
    assert lrs[:3] == [0.5, 1.0, 1.0 * 18 / 18]
    assert lrs[2] == 1.0 and lrs[19] == pytest.approx(1 / 18)
    assert all(a >= b for a, b in zip(lrs[1:], lrs[2:]))
    assert train.get_lr(5, 10, 2.0, 0.0) == pytest.approx(1.0)  # no warmup: 2 * (10 - 5) / 10


def test_task_weights_follow_size_temperature_and_cap():
    w = train.task_weights({"a": 300, "b": 100}, temperature=1.0, cap=0)
    assert w == pytest.approx({"a": 0.75, "b": 0.25})
    w = train.task_weights({"a": 400, "b": 100}, temperature=2.0, cap=0)  # sqrt: 20 vs 10
    assert w == pytest.approx({"a": 2 / 3, "b": 1 / 3})
    w = train.task_weights({"a": 1000, "b": 100}, temperature=1.0, cap=100)
    assert w == pytest.approx({"a": 0.5, "b": 0.5})


def test_optimizer_skips_weight_decay_for_biases_and_layernorm():
    from xlmr.model import XLMRConfig, XLMREncoder

    enc = XLMREncoder(XLMRConfig.tiny(vocab_size=50))
    cfg = load_config(SMOKE_PATH)
    opt = train.make_optimizer(enc, 1e-3, cfg, torch.device("cpu"))
    decay, no_decay = opt.param_groups
    names = {id(p): n for n, p in enc.named_parameters()}
    assert decay["weight_decay"] == cfg.train.weight_decay and no_decay["weight_decay"] == 0.0
    assert all(names[id(p)].endswith("weight") and p.dim() == 2 for p in decay["params"])
    no_decay_names = [names[id(p)] for p in no_decay["params"]]
    assert any("LayerNorm" in n or "norm" in n.lower() for n in no_decay_names)
    assert all(n.endswith("bias") or "norm" in n.lower() for n in no_decay_names), no_decay_names
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(enc.parameters()))


def test_mask_tokens_masks_only_real_tokens_at_the_rate_asked():
    class Tok:
        bos_id, pad_id, eos_id, mask_id, vocab_size = 0, 1, 2, 99, 100

    ids = torch.randint(4, 98, (256, 50), generator=torch.Generator().manual_seed(1))
    ids[:, 0], ids[:, -1], ids[:32, 40:] = 0, 2, 1  # <s>, </s>, pads
    masked, labels = train.mask_tokens(ids, Tok, 0.15, torch.Generator().manual_seed(0))
    chosen = labels != train.IGNORE
    special = (ids == 0) | (ids == 1) | (ids == 2)
    assert not (chosen & special).any()
    assert torch.equal(labels[chosen], ids[chosen]) and torch.equal(masked[~chosen], ids[~chosen])
    assert 0.13 < chosen.float().sum() / (~special).sum() < 0.17
    share_mask = (masked[chosen] == 99).float().mean()
    assert 0.75 < share_mask < 0.85
    again = train.mask_tokens(ids, Tok, 0.15, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], masked) and torch.equal(again[1], labels)


def test_compute_loss_ignores_unlabelled_positions():
    logits = torch.randn(2, 3, 4)
    labels = torch.tensor([[1, -100, 2], [-100, -100, 3]])
    got = train.compute_loss("tag", logits, {"label": labels})
    keep = labels != -100
    want = torch.nn.functional.cross_entropy(logits[keep], labels[keep])
    torch.testing.assert_close(got, want)
    start, end = torch.randn(2, 5), torch.randn(2, 5)
    got = train.compute_loss("span", (start, end), {"start_position": torch.tensor([0, 3]),
                                                    "end_position": torch.tensor([0, 4])})
    want = (torch.nn.functional.cross_entropy(start, torch.tensor([0, 3]))
            + torch.nn.functional.cross_entropy(end, torch.tensor([0, 4]))) / 2
    torch.testing.assert_close(got, want)


SMOKE_PATH = ROOT / SMOKE


def test_frozen_embeddings_get_no_update_and_no_optimizer_state():
    """model.freeze_embeddings: the embeddings (word, position, type, LayerNorm) keep their values through a step and
    hold no AdamW state; every other parameter trains."""
    from xlmr.model import XLMRConfig, XLMREncoder

    cfg = load_config(SMOKE, ["model.freeze_embeddings=true"])
    encoder = XLMREncoder(XLMRConfig.tiny(vocab_size=100))
    train.configure_encoder(encoder, cfg)
    frozen = {id(p) for p in encoder.embeddings.parameters()}
    before = {n: p.detach().clone() for n, p in encoder.named_parameters()}
    opt = train.make_optimizer(encoder, 1e-2, cfg, torch.device("cpu"))
    assert frozen and not frozen & {id(p) for g in opt.param_groups for p in g["params"]}
    ids = torch.randint(5, 100, (2, 7))
    encoder(ids, ids.ne(1)).pow(2).mean().backward()
    opt.step()
    for name, p in encoder.named_parameters():
        assert torch.equal(p, before[name]) == name.startswith("embeddings."), name
    train.configure_encoder(encoder, load_config(SMOKE))  # the default trains them again
    assert all(p.requires_grad for p in encoder.embeddings.parameters())
