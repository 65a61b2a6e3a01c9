"""Intermediate-task then target-task fine-tuning of XLM-R, then zero-shot evaluation (Phang et al. 2020).

    python train.py --cfg configs/smoke.yaml                                  # tiny model, CPU, < 1 minute
    python train.py --cfg configs/model/xlmr_large.yaml configs/xstilts/mnli.yaml configs/target/xnli.yaml  # 1 GPU: stage 1, stage 2, evaluation
    torchrun --nproc_per_node=8 train.py --cfg configs/model/xlmr_large.yaml configs/xstilts/mnli.yaml configs/target/xnli.yaml \
        intermediate.grad_accum=1 target.grad_accum=1                         # 8 GPUs, same effective batch 32
    python train.py --cfg configs/model/xlmr_large.yaml configs/xstilts/mnli.yaml configs/target/xnli.yaml --resume   # after an interruption
    torchrun --nproc_per_node=8 train.py --cfg configs/model/xlmr_large.yaml ... train.fsdp=true  # FSDP2 shards (for XL, XXL)
    torchrun --nnodes=2 --node_rank=R --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 \
        train.py --cfg ...                                                    # 2 nodes (out_dir on a shared disk)
Several --cfg files merge in order; `section.field=value` overrides come last (config.py).

One code path; the config decides which phases run:
 1. intermediate (`intermediate.tasks`): English task(s) from the pretrained model. Several tasks = multi-task: one
    shared encoder, one head per task, each optimizer step on one task drawn with p_i ~ min(n_i, cap)^(1/T). With
    `data.mlm_files` an MLM "task" on raw text joins the draw (the auxiliary MLM arm, checkpoint's MLM head);
    machine-translated data is just another folder (`data.task_data_dirs`).
 2. target (`target.task`, not for retrieval targets): the English train set of `target.train_task` from the
    intermediate ENCODER only, with a fresh head. No intermediate tasks = the baseline.
 3. evaluation: the selected target model on every language of the target (evaluate.py), rows appended to
    `eval.results`. Retrieval targets (bucc2018, tatoeba) end after step 1: run retrieval.py on intermediate/best.
Model selection and early stopping read the English dev set only.

Several processes (torchrun) train DDP replicas by default; `train.fsdp: true` shards parameters, gradients and
Adam state with FSDP2 instead (xlmr/fsdp.py: one group per encoder layer, then the root; bf16 parameters and fp32
gradient reduction on GPU). Every rank then takes part in dev evaluation and in saving: the selected model is
gathered to rank 0 and written as the same plain checkpoint folder evaluate.py reads, and resume checkpoints are
sharded (torch.distributed.checkpoint, `<phase>/checkpoint.dcp.<step>/`). With one process it is the plain path.

Run folder (`train.out_dir`, its layout in runs.py): config.yaml (resolved), metrics.jsonl, TensorBoard events, and
per phase `<phase>/checkpoint.pt` (resumable: model, optimizer, scheduler step, scaler, RNG states, data position,
the metrics window; removed when the phase is done), `<phase>/best/` (the selected model: save_pretrained +
save_head) and `<phase>/done.json`. One train.py writes a folder at a time: rank 0 holds its lock (runs.LOCK), and
a second one stops with a line naming the holder. `--resume` rereads the same config and continues from the last
checkpoint; on CPU in fp32 the result is bit-identical to an uninterrupted run, metrics.jsonl and TensorBoard drop
the records of the steps that are run again, and the records after the resume (step, loss, tokens) are the ones an
uninterrupted run writes.

Errors: every file the run reads (tokenizer, train and dev files, MLM text, the results file) is checked before
config.yaml is written, and a run that fails before saving anything removes its config.yaml again, so a plain
rerun works. A config, data, checkpoint, results or disk error ends as one line (`train.py: error: ...`); a
non-finite loss stops the run. The score table is printed before the rows are appended; rows that cannot be
appended are written to a new CSV beside the results file and the error says where.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from common.io import atomic_write_text
from config import Config, check_files, dump_config, intermediate_name, load_config
from data.examples import DataError
from data.featurize import collate, featurize
from data.items import has_item_scores, item_rows, write_item_scores
from data.results import append_or_save_aside, check_results_path, format_table, result_rows
from data.sampler import BatchStream
from data.tasks import get_task
from evaluate import NonFiniteError, evaluate_langs, predict, row_sources  # training evaluates: the one entry point train.py calls
from runs import (BEST, ITEMS_DIR, RESUME, RESUME_SHARDS, RUN_CONFIG, RUN_METRICS, RUN_RESULTS, TB_DIR, MetricsLog, hold_lock,
                  load_training_state, mark_done, phase_done, phase_path, recover_best, rng_state, save_training_state, set_rng_state,
                  started)
from xlmr.checkpoint import (HEADS_DIR, check_checkpoint_dir, load_head, load_mlm_head, load_pretrained, save_head,
                             save_pretrained)
from xlmr.fsdp import full_state_dict, init_adam_state, load_sharded, save_sharded, shard
from xlmr.heads import MLMHead, make_head
from xlmr.model import XLMRConfig, XLMREncoder
from xlmr.tokenizer import XLMRTokenizer

CRASH_ENV = "XSTILTS_CRASH_AT_STEP"  # fault injection for the resume test: "<phase>:<step>" SIGKILLs after that step
IGNORE = -100  # label of tokens that carry no loss (pads, specials, unmasked MLM tokens, non-first sub-words)


# --- small helpers ---------------------------------------------------------------------------------------
def get_lr(step: int, total_steps: int, peak_lr: float, warmup_ratio: float) -> float:
    """Linear warmup over the first warmup_ratio of the steps, then linear decay to 0. `step` counts from 0."""
    warmup = int(total_steps * warmup_ratio)
    if step < warmup:
        return peak_lr * (step + 1) / warmup
    return peak_lr * max(0.0, (total_steps - step) / max(1, total_steps - warmup))


def make_optimizer(model: nn.Module, lr: float, cfg: Config, device: torch.device) -> torch.optim.AdamW:
    """AdamW; biases and LayerNorm weights (every 1-d tensor) get no weight decay. Fused kernels on GPU."""
    decay, no_decay = [], []
    for p in model.parameters():  # parameters() lists a shared (tied) tensor once
        if p.requires_grad:
            (decay if p.dim() >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.train.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=tuple(cfg.train.adam_betas), eps=cfg.train.adam_eps,
                             fused=device.type == "cuda")


def compute_loss(kind: str, out, batch: dict) -> torch.Tensor:
    """Mean cross-entropy of one micro-batch; `out` is what MultiTaskModel returns for the task kind."""
    if kind in ("single_cls", "pair_cls", "multiple_choice"):
        return F.cross_entropy(out.float(), batch["label"], ignore_index=IGNORE)  # (B, C) vs (B,)
    if kind == "tag":  # (B, T, C) vs (B, T)
        return F.cross_entropy(out.flatten(0, 1).float(), batch["label"].flatten(), ignore_index=IGNORE)
    if kind == "mlm":  # (N, V) logits of the masked positions only (MultiTaskModel's `select`)
        return F.cross_entropy(out.float(), batch["label"][batch["label"] != IGNORE])
    if kind == "span":  # (B, T) start and end logits vs (B,) positions; 0 = <s> for no answer
        start, end = out
        return (F.cross_entropy(start.float(), batch["start_position"], ignore_index=IGNORE)
                + F.cross_entropy(end.float(), batch["end_position"], ignore_index=IGNORE)) / 2
    raise ValueError(f"no loss for task kind {kind!r}")


def mask_tokens(input_ids: torch.Tensor, tokenizer, prob: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking for the MLM arm: `prob` of the non-special tokens are predicted; of those 80% become <mask>,
    10% a random token, 10% stay. Returns (masked input_ids, labels with IGNORE elsewhere), both (B, T)."""
    special = (input_ids == tokenizer.bos_id) | (input_ids == tokenizer.eos_id) | (input_ids == tokenizer.pad_id)
    chosen = (torch.rand(input_ids.shape, generator=gen) < prob) & ~special
    if not chosen.any():  # a batch of very short lines: predict one token anyway (an empty loss is NaN)
        real = (~special).nonzero()
        if len(real):
            chosen[tuple(real[int(torch.randint(len(real), (1,), generator=gen))])] = True
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE))
    roll = torch.rand(input_ids.shape, generator=gen)
    random_ids = torch.randint(4, tokenizer.vocab_size - 1, input_ids.shape, generator=gen)  # no specials/<mask>
    masked = torch.where(chosen & (roll < 0.8), torch.full_like(input_ids, tokenizer.mask_id), input_ids)
    masked = torch.where(chosen & (roll >= 0.8) & (roll < 0.9), random_ids, masked)
    return masked, labels


def task_weights(sizes: dict[str, int], temperature: float, cap: int) -> dict[str, float]:
    """Sampling probability of each task: p_i ~ min(n_i, cap)^(1/temperature) (cap 0 = none)."""
    capped = {t: float(min(n, cap) if cap else n) for t, n in sizes.items()}
    raw = {t: n ** (1.0 / temperature) for t, n in capped.items()}
    total = sum(raw.values())
    return {t: w / total for t, w in raw.items()}


class MultiTaskModel(nn.Module):
    """The shared encoder and one head per task (what DDP wraps). forward(task, ...) -> the head's logits."""

    def __init__(self, encoder: nn.Module, heads: dict[str, nn.Module], kinds: dict[str, str]):
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict(heads)
        self.kinds = dict(kinds)

    def forward(self, task: str, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                select: torch.Tensor | None = None):
        """`select` (B, T) bool, MLM only: the head runs on the selected (masked) positions alone -> (N, V);
        XLM-R's 250002-way logits for every position would cost ~1 GB per 4 x 256 tokens."""
        if self.kinds[task] == "multiple_choice":  # (B, N, T): one sequence per choice
            n = input_ids.shape[1]
            hidden = self.encoder(input_ids.flatten(0, 1), attention_mask.flatten(0, 1))  # (B*N, T, H)
            return self.heads[task](hidden, num_choices=n)  # (B, N)
        hidden = self.encoder(input_ids, attention_mask)  # (B, T, H)
        if select is not None:
            hidden = hidden[select]  # (N, H)
        return self.heads[task](hidden)


# --- distributed -----------------------------------------------------------------------------------------
def setup_distributed(cfg: Config) -> tuple[int, int, int, torch.device]:
    """(rank, local_rank, world_size, device) from torchrun's RANK/LOCAL_RANK/WORLD_SIZE; NCCL on GPU, gloo on CPU."""
    rank, local_rank = int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    use_cuda = cfg.train.device == "cuda" or (cfg.train.device == "auto" and torch.cuda.is_available())
    if cfg.train.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("config: train.device=cuda but no GPU is visible")
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world_size > 1:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", device_id=device if use_cuda else None)
    return rank, local_rank, world_size, device


def broadcast_floats(values: list[float], world_size: int, device: torch.device) -> list[float]:
    """Rank 0's values on every rank (model-selection decisions are made once, on rank 0)."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if world_size > 1:
        dist.broadcast(t, src=0)
    return t.tolist()


# --- the selected model -------------------------------------------------------------------------------
def save_selected(dst: Path, model: MultiTaskModel, tokenizer, task_meta: dict) -> None:
    """The selected model: encoder (save_pretrained) and heads (save_head), written beside `dst` then swapped in.

    One task: its head sits in `dst` itself (a fine-tuned checkpoint directory); several: `dst/heads/<task>/`.
    """

    tmp, old = dst.with_name(dst.name + ".tmp"), dst.with_name(dst.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    save_pretrained(model.encoder, tokenizer, tmp)
    tasks = [t for t in model.heads if t != "mlm"]
    for t in tasks:
        save_head(tmp if len(tasks) == 1 else tmp / HEADS_DIR / t, model.heads[t], task_meta[t])
    shutil.rmtree(old, ignore_errors=True)
    if dst.exists():
        os.replace(dst, old)
    os.replace(tmp, dst)
    shutil.rmtree(old, ignore_errors=True)


def unsharded_copy(ph: Phase, state: dict) -> MultiTaskModel:
    """A plain CPU model holding `state` (full_state_dict of the phase's sharded model) without the MLM head:
    what save_selected writes, built on the meta device so no weights are initialised only to be replaced."""
    enc_cfg = ph.model.encoder.cfg
    with torch.device("meta"):
        encoder = XLMREncoder(enc_cfg)
        heads = {t: make_head(m["kind"], enc_cfg.hidden_size, m["num_labels"]) for t, m in ph.task_meta.items()}
    model = MultiTaskModel(encoder, heads, {t: m["kind"] for t, m in ph.task_meta.items()})
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith("heads.mlm.")}, strict=True,
                          assign=True)
    return model


def remove_old_shards(phase_dir: Path, keep: str) -> None:
    """The FSDP shard folders of earlier checkpoints (checkpoint.pt now points to `keep`)."""
    for old in phase_dir.glob(f"{RESUME_SHARDS}.*"):
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


# --- model and data --------------------------------------------------------------------------------------
def build_encoder(cfg: Config, device: torch.device):
    """(encoder, tokenizer): the pretrained checkpoint, or a random model of `model.size` (smoke runs)."""

    if cfg.model.path:
        encoder, tokenizer = load_pretrained(cfg.model.path, device=device)
    else:
        tokenizer = XLMRTokenizer(cfg.model.spm_path)
        size = {"tiny": XLMRConfig.tiny, "base": XLMRConfig.base, "large": XLMRConfig.large, "xl": XLMRConfig.xl,
                "xxl": XLMRConfig.xxl}[cfg.model.size]
        mcfg = size(vocab_size=tokenizer.vocab_size) if cfg.model.size == "tiny" else size()
        if cfg.model.size != "tiny":
            mcfg.vocab_size = tokenizer.vocab_size
        encoder = XLMREncoder(mcfg).to(device)
    configure_encoder(encoder, cfg)
    return encoder, tokenizer


def configure_encoder(encoder: nn.Module, cfg: Config) -> None:
    """Dropout, activation checkpointing and frozen embeddings from the run config (a checkpoint's own values are
    overridden). Frozen embeddings get no gradient and, as make_optimizer skips them, no AdamW state."""
    for p in encoder.embeddings.parameters():
        p.requires_grad_(not cfg.model.freeze_embeddings)
    encoder.cfg.activation_checkpointing = cfg.model.activation_checkpointing
    encoder.cfg.dropout, encoder.cfg.attn_dropout = cfg.model.dropout, cfg.model.attn_dropout
    for name, m in encoder.named_modules():
        if isinstance(m, nn.Dropout):
            m.p = cfg.model.dropout
    for m in encoder.modules():  # attention dropout is a float the attention module reads
        if hasattr(m, "attn_dropout") and isinstance(getattr(m, "attn_dropout"), float):
            m.attn_dropout = cfg.model.attn_dropout


def set_head_dropout(head: nn.Module, p: float) -> None:
    for m in head.modules():
        if isinstance(m, nn.Dropout):
            m.p = p


@dataclass
class TaskData:
    """One training task of a phase: its registry row, featurized train set and English dev subset."""

    name: str
    kind: str
    labels: tuple | None
    train: list  # features
    n_examples: int
    dev_examples: list = field(default_factory=list)
    dev_features: list = field(default_factory=list)
    task: object = None


def task_folder(cfg: Config, name: str) -> str:
    return cfg.data.task_data_dirs.get(name, cfg.data.data_dir)


def load_task_data(cfg: Config, name: str, phase, tokenizer, seed: int) -> TaskData:
    """Read and featurize the English train set and a fixed random subset of the English dev set."""

    task = get_task(name)
    folder = task_folder(cfg, name)
    train_examples = task.read(folder, "en", "train", cfg.data.layout, ud_words=cfg.data.ud_words)
    if not train_examples:
        raise ValueError(f"{name}: the English train set in {folder} is empty")
    labels = task.get_labels(folder)  # ccg's label set lives in a data file
    if labels != task.labels:
        task = dataclasses.replace(task, labels=labels)  # so predict() maps label ids back to ccg's tags
    kw = dict(max_len=phase.max_len, labels=labels, doc_stride=phase.doc_stride)
    train = [f for f in featurize(task.kind, train_examples, tokenizer, **kw) if _has_target(task.kind, f)]
    dev = task.read(folder, "en", "dev", cfg.data.layout, ud_words=cfg.data.ud_words)
    if phase.eval_examples and len(dev) > phase.eval_examples:
        g = torch.Generator().manual_seed(seed)
        keep = sorted(torch.randperm(len(dev), generator=g)[: phase.eval_examples].tolist())
        dev = [dev[i] for i in keep]
    dev_features = featurize(task.kind, dev, tokenizer, **kw)
    return TaskData(name, task.kind, labels, train, len(train_examples), dev, dev_features, task)


def _has_target(kind: str, feature: dict) -> bool:
    """False for a training feature without a target (a tagging window with every label IGNORE, a span whose
    gold text was not found): it would train nothing, and a batch of only such features has a NaN loss."""
    if kind == "tag":
        return any(label != IGNORE for label in feature["label"])
    if kind == "span":
        return feature["start_position"] != IGNORE
    return feature["label"] != IGNORE


def load_mlm_data(cfg: Config, tokenizer, max_len: int) -> list:
    """Raw text lines -> `<s> ids </s>` features (truncated to max_len); blank lines are skipped."""

    features = []
    for path in cfg.data.mlm_files:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise DataError(path, None, "MLM text file not found (data.mlm_files)") from None
        except UnicodeDecodeError as e:
            raise DataError(path, None, f"not UTF-8 text ({e})") from None
        texts = [line.strip() for line in lines if line.strip()]
        for ids in tokenizer.encode(texts):
            features.append({"input_ids": tokenizer.build_inputs(ids, max_len=max_len)})
    if not features:
        raise ValueError(f"data.mlm_files {cfg.data.mlm_files}: no text lines")
    return features


def collate_batch(kind: str, features: list, tokenizer) -> dict:

    if kind == "mlm":
        input_ids, attention_mask = tokenizer.pad([f["input_ids"] for f in features])
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
    else:
        batch = collate(features, tokenizer.pad_id)
    return batch


def evaluate_dev(model: MultiTaskModel, td: TaskData, tokenizer, phase, cfg: Config, device) -> float:
    """The primary metric (0-100) of task `td` on its English dev subset (evaluate.py's predict)."""

    preds = predict(model.encoder, model.heads[td.name], tokenizer, td.task, td.dev_examples, phase.max_len,
                    cfg.eval.batch_size, device, features=td.dev_features, doc_stride=phase.doc_stride)
    scores = td.task.score(td.task.golds(td.dev_examples), preds, "en")
    return float(scores[td.task.primary_metric])


# --- one training phase ----------------------------------------------------------------------------------
@dataclass
class Run:
    """What every phase of this process needs to know about the run: its config and folder, this process's
    place in the job, and how it computes."""

    cfg: Config
    out_dir: Path
    rank: int
    world_size: int
    device: torch.device
    precision: str  # fp32, bf16 or fp16 (train.precision with "auto" resolved)
    t0: float = field(default_factory=time.time)

    @property
    def is_main(self) -> bool:  # only rank 0 logs and saves
        return self.rank == 0

    def autocast(self):
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        return contextlib.nullcontext() if dtype is None else torch.autocast(self.device.type, dtype=dtype)


@dataclass
class Phase:
    """One training phase, built: its settings (cfg.intermediate or cfg.target), training tasks, the model (the
    shared encoder and one head per task) and what each head's head.json says."""

    name: str  # one of runs.PHASES
    settings: object
    tasks: dict[str, TaskData]
    model: MultiTaskModel
    tokenizer: XLMRTokenizer
    task_meta: dict[str, dict]


def build_phase(run: Run, name: str) -> Phase:
    """The model and data of a phase. intermediate: the pretrained (or random) encoder, a fresh head per
    `intermediate.tasks` task, plus the MLM arm with `data.mlm_files`. target: the selected intermediate ENCODER
    (of this run or `intermediate.from_run`; the pretrained model for a baseline) and a fresh head for the target,
    trained on `target.train_task`. Seeded so that a phase is the same whatever ran before it in this process."""
    cfg, it, tg = run.cfg, run.cfg.intermediate, run.cfg.target
    seed = cfg.train.seed
    torch.manual_seed(seed)
    if name == "target" and (it.tasks or it.from_run):  # stage 2 starts from the selected intermediate encoder
        encoder, tokenizer = load_pretrained(phase_path(it.from_run or run.out_dir, "intermediate", BEST),
                                             device=run.device)
        configure_encoder(encoder, cfg)
    else:  # the pretrained model (or a random one of model.size)
        encoder, tokenizer = build_encoder(cfg, run.device)
    settings = it if name == "intermediate" else tg
    # head name -> the task whose English train set trains it (the target's head is named after the target and
    # shared by all its languages; xnli trains on mnli)
    sources = {t: t for t in it.tasks} if name == "intermediate" else {tg.task: tg.train_task}
    tasks = {}
    for head_name, source in sources.items():
        tasks[head_name] = load_task_data(cfg, source, settings, tokenizer, seed)
        tasks[head_name].name = head_name
    torch.manual_seed(seed)  # heads drawn from the seed alone, whatever came before
    heads, kinds = {}, {}
    for t, td in tasks.items():
        heads[t], kinds[t] = make_head(td.kind, encoder.cfg.hidden_size, len(td.labels or ())), td.kind
        set_head_dropout(heads[t], cfg.model.dropout)
    task_meta = {t: {"kind": td.kind, "num_labels": len(td.labels or ()), "labels": list(td.labels or ()),
                     "task": t, "model": cfg.model.name, "intermediate_task": intermediate_name(cfg),
                     "target_task": tg.task or "none", "seed": seed} for t, td in tasks.items()}
    if name == "intermediate" and cfg.data.mlm_files:
        mlm = load_mlm_data(cfg, tokenizer, it.max_len)
        tasks["mlm"] = TaskData("mlm", "mlm", None, mlm, len(mlm))
        heads["mlm"], kinds["mlm"] = make_mlm_head(cfg, encoder), "mlm"
    model = MultiTaskModel(encoder, heads, kinds).to(run.device)
    torch.manual_seed(seed + run.rank)  # dropout streams differ per rank
    return Phase(name, settings, tasks, model, tokenizer, task_meta)


def train_phase(run: Run, ph: Phase) -> dict:
    """Train `ph.model` in place on its tasks (a mix when several) and save the selected model to <phase>/best.

    Returns the phase summary (best dev score and step, steps run)."""
    cfg, phase, tasks, model, tokenizer = run.cfg, ph.settings, ph.tasks, ph.model, ph.tokenizer
    rank, world, device, is_main, phase_name = run.rank, run.world_size, run.device, run.is_main, ph.name
    pdir = phase_path(run.out_dir, phase_name)
    ckpt_path = pdir / RESUME
    seed = cfg.train.seed
    kinds = {t: td.kind for t, td in tasks.items()}
    streams = {t: BatchStream(td.train, phase.batch_size, seed, rank, world) for t, td in tasks.items()}
    sizes = {t: (cfg.intermediate.mlm_examples or td.n_examples) if t == "mlm" else td.n_examples
             for t, td in tasks.items()}
    weights = task_weights(sizes, getattr(phase, "temperature", 1.0), getattr(phase, "cap", 0))
    task_names = list(tasks)
    task_probs = torch.tensor([weights[t] for t in task_names], dtype=torch.float64)
    # Steps per epoch: one pass over the (capped) mix, each step consuming grad_accum batches on every rank.
    batches = sum(min(len(streams[t]), math.ceil(phase.cap / phase.batch_size / world)) if getattr(phase, "cap", 0)
                  else len(streams[t]) for t in task_names)
    steps_per_epoch = max(1, math.ceil(batches / phase.grad_accum))
    total_steps = phase.max_steps or max(1, math.ceil(phase.epochs * steps_per_epoch))
    effective = phase.batch_size * phase.grad_accum * world

    ddp_model = model
    if cfg.train.compile:  # in place: parameter names (and so checkpoints) are unchanged
        model.encoder.compile(dynamic=True)  # dynamic: batches are padded to their own longest sequence
    fsdp = cfg.train.fsdp and world > 1  # sharded: every rank takes part in evaluation and saving (collectives)
    if fsdp:  # bf16 compute on GPU, fp32 gradient reduction; fp32 throughout on CPU
        shard(model, model.encoder, device.type, world,
              param_dtype=torch.bfloat16 if run.precision == "bf16" and device.type == "cuda" else None)
    elif world > 1:
        ddp_model = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=len(tasks) > 1)  # multi-task: only the drawn task's head gets gradients
    optimizer = make_optimizer(model, phase.lr, cfg, device)
    if fsdp:
        init_adam_state(optimizer)  # as the first step would: sharded checkpoints then hold every parameter's state
    scaler = torch.amp.GradScaler(device.type, enabled=run.precision == "fp16")
    task_gen = torch.Generator().manual_seed(seed + 1)  # identical on every rank: all ranks draw the same task
    mask_gen = torch.Generator().manual_seed(seed + 2 + rank)
    state = {"step": 0, "best_score": -math.inf, "best_step": -1, "bad_evals": 0, "tokens": 0}

    def reset_log():  # per task: (sum of step losses, steps) since the last log line; stays on the device
        return time.perf_counter(), 0, torch.zeros(len(task_names), 2, dtype=torch.float64, device=device)

    # the metrics window (losses and tokens since the last record) is part of the resume state, so the first
    # record after a resume averages the same steps and the token count goes on as an uninterrupted run's
    t_log, tokens_log, loss_log = reset_log()
    if is_main:
        recover_best(run.out_dir, phase_name)
    if ckpt_path.exists():  # --resume (main() refuses an existing run folder without it)
        ck = load_training_state(ckpt_path, world_size=world)
        try:
            if set(ck["data"]) != set(streams):
                raise ValueError(f"holds the data position of {sorted(ck['data'])}, this phase trains "
                                 f"{sorted(streams)}")
            if ck.get("sharded"):  # FSDP: model and optimizer shards in <phase>/<RESUME_SHARDS>.<step>/
                if not str(ck["sharded"]).removeprefix(f"{RESUME_SHARDS}.").isdigit():
                    raise ValueError(f"names the shard folder {ck['sharded']!r}, not {RESUME_SHARDS}.<step>")
                load_sharded(pdir / ck["sharded"], model, optimizer)
            else:
                model.load_state_dict(ck["model"])
                optimizer.load_state_dict(ck["optimizer"])
            scaler.load_state_dict(ck["scaler"])
            for t, s in ck["data"].items():
                streams[t].load_state(s)
            task_gen.set_state(ck["task_gen"])
            mask_gen.set_state(ck["mask_gen"][rank])
            set_rng_state(ck["rng"][rank], device)
            state.update({k: ck[k] for k in state})
            if "log" in ck:  # absent in checkpoints of earlier versions: the window restarts empty
                tokens_log = int(ck["log"][rank]["tokens"])
                loss_log.copy_(ck["log"][rank]["loss"].to(device))
        except (RuntimeError, ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
            raise ValueError(f"{ckpt_path}: does not fit this run ({type(e).__name__}: "
                             f"{' '.join(str(e).split())[:200]}); remove it to restart the phase") from None
        if is_main:
            print(f"[{phase_name}] resumed at step {state['step']} from {ckpt_path}")
    # lines logged after the checkpoint by an interrupted run are dropped: their steps are about to run again
    metrics = MetricsLog(run.out_dir, phase_name, state["step"]) if is_main else None

    if is_main:
        pdir.mkdir(parents=True, exist_ok=True)
        mix = ", ".join(f"{t} {weights[t]:.3f} ({sizes[t]} ex.)" for t in task_names)
        print(f"[{phase_name}] tasks: {mix}; {total_steps} steps; effective batch {effective} = "
              f"{phase.batch_size} per device x {phase.grad_accum} accumulation x {world} processes")

    def do_eval() -> float:
        """Mean primary metric over the phase's tasks on their English dev subsets, decided on rank 0."""
        score = 0.0
        if is_main or fsdp:  # FSDP: each layer's forward gathers its shards from every rank
            if fsdp:
                model.unshard()  # the root's own parameters (embeddings, heads): evaluate_dev calls submodules
            dev_tasks = [t for t in task_names if t != "mlm"]
            score = sum(evaluate_dev(model, tasks[t], tokenizer, phase, cfg, device) for t in dev_tasks) / len(dev_tasks)
            if fsdp:
                model.reshard()
        return broadcast_floats([score], world, device)[0]

    def save_best() -> None:
        if fsdp:  # every rank hands its shards to rank 0, which writes the full model as a plain checkpoint folder
            full = full_state_dict(model)
            if is_main:
                save_selected(pdir / BEST, unsharded_copy(ph, full), tokenizer, ph.task_meta)
        elif is_main:
            save_selected(pdir / BEST, model, tokenizer, ph.task_meta)

    def checkpoint() -> None:
        """The resume state (runs.CHECKPOINT_KEYS + log): every rank's RNG, masking and metrics window, so each
        continues its own streams."""
        mine = ({k: v.cpu() for k, v in rng_state(device).items()}, mask_gen.get_state(),
                {"tokens": tokens_log, "loss": loss_log.cpu()})
        per_rank = [mine]
        if world > 1:
            per_rank = [None] * world
            dist.all_gather_object(per_rank, mine)
        weights = {"model": model.state_dict(), "optimizer": optimizer.state_dict()} if not fsdp else \
            {"model": None, "optimizer": None, "sharded": f"{RESUME_SHARDS}.{state['step']}"}
        if fsdp:  # each rank writes its shards first; checkpoint.pt, written last, points to them
            save_sharded(pdir / weights["sharded"], model, optimizer)
            dist.barrier()
        if is_main:
            save_training_state(ckpt_path, {
                **weights, "scaler": scaler.state_dict(),
                "data": {t: s.state() for t, s in streams.items()}, "task_gen": task_gen.get_state(),
                "rng": [r[0] for r in per_rank], "mask_gen": [r[1] for r in per_rank],
                "log": [r[2] for r in per_rank], "world_size": world, **state})
            if fsdp:
                remove_old_shards(pdir, keep=weights["sharded"])

    crash = os.environ.get(CRASH_ENV, "")
    model.train()
    pbar = tqdm(total=total_steps, initial=state["step"], desc=phase_name, disable=not is_main, dynamic_ncols=True)
    one = torch.ones((), dtype=torch.float64, device=device)
    eval_s = 0.0  # seconds of evaluation inside the current log window (not training throughput)
    stop = False
    while state["step"] < total_steps and not stop:
        step = state["step"]
        t = task_names[int(torch.multinomial(task_probs, 1, generator=task_gen))] if len(task_names) > 1 else task_names[0]
        kind = kinds[t]
        lr = get_lr(step, total_steps, phase.lr, cfg.train.warmup_ratio)
        for g in optimizer.param_groups:
            g["lr"] = lr
        step_loss = torch.zeros((), dtype=torch.float64, device=device)
        for micro in range(phase.grad_accum):
            batch = collate_batch(kind, streams[t].next(), tokenizer)
            if kind == "mlm":
                batch["input_ids"], batch["label"] = mask_tokens(batch["input_ids"], tokenizer,
                                                                 cfg.intermediate.mlm_prob, mask_gen)
            tokens_log += int(batch["attention_mask"].sum())  # useful (non-pad) tokens, counted on the CPU copy
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            sync = world == 1 or micro == phase.grad_accum - 1
            if fsdp:  # reduce-scatter the gradients only after the last micro-batch
                model.set_requires_gradient_sync(sync)
            with (contextlib.nullcontext() if sync or fsdp else ddp_model.no_sync()), run.autocast():
                select = batch["label"] != IGNORE if kind == "mlm" else None
                out = ddp_model(t, batch["input_ids"], batch["attention_mask"], select)
                loss = compute_loss(kind, out, batch) / phase.grad_accum
            scaler.scale(loss).backward()
            loss_log[task_names.index(t)] += torch.stack([loss.detach().double(), one / phase.grad_accum])
            step_loss += loss.detach().double()
        finite = torch.isfinite(step_loss).to(torch.float64)
        if world > 1:  # every rank stops together
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)
        if not bool(finite):
            raise NonFiniteError(
                f"[{phase_name}] step {step + 1}: the {t} loss is {float(step_loss) * phase.grad_accum:g}, not finite; "
                f"training diverged (lr {lr:g}, weight_decay {cfg.train.weight_decay:g}) or the model's weights are "
                "broken: stopped; nothing of this step was saved")
        if cfg.train.max_grad_norm > 0:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), cfg.train.max_grad_norm)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        state["step"] = step = step + 1
        pbar.update(1)

        if step % cfg.train.log_every == 0 or step == total_steps:
            elapsed = time.perf_counter() - t_log - eval_s
            eval_s = 0.0
            if world > 1:  # sums over ranks: mean loss per task, total tokens
                tok_t = torch.tensor([tokens_log], dtype=torch.float64, device=device)
                dist.all_reduce(loss_log)
                dist.all_reduce(tok_t)
                tokens_log = int(tok_t.item())
            sums = loss_log.cpu()
            per_task = {tn: float(sums[i, 0] / sums[i, 1]) for i, tn in enumerate(task_names) if sums[i, 1] > 0}
            loss_mean = float(sums[:, 0].sum() / sums[:, 1].sum())
            tok_s = tokens_log / max(elapsed, 1e-9)
            state["tokens"] += tokens_log
            if is_main:
                pbar.set_postfix(loss=f"{loss_mean:.4f}", lr=f"{lr:.2e}", tok_s=f"{tok_s:.0f}")
                record = {"step": step, "loss": loss_mean, "lr": lr, "tokens_per_s": tok_s,
                          "tokens": state["tokens"], "wall_s": time.time() - run.t0}
                if len(task_names) > 1:
                    record.update({f"loss_{tn}": v for tn, v in per_task.items()})
                metrics.write(record)
            t_log, tokens_log, loss_log = reset_log()

        evaluated = False
        if (phase.eval_every and step % phase.eval_every == 0) or step == total_steps:
            evaluated = True
            t_eval = time.perf_counter()
            score = do_eval()
            improved = score > state["best_score"]
            if improved:
                state.update(best_score=score, best_step=step, bad_evals=0)
                save_best()
            else:
                state["bad_evals"] += 1
            stop = bool(phase.patience) and state["bad_evals"] >= phase.patience
            eval_s += time.perf_counter() - t_eval
            if is_main:
                metrics.write({"step": step, "dev_score": score, "best_score": state["best_score"],
                               "improved": improved, "wall_s": time.time() - run.t0})
                pbar.write(f"[{phase_name}] step {step}: English dev {score:.2f} (best {state['best_score']:.2f} "
                           f"at step {state['best_step']})" + ("; early stop" if stop else ""))
        if (cfg.train.save_every and step % cfg.train.save_every == 0) or (not cfg.train.save_every and evaluated):
            checkpoint()
        if crash == f"{phase_name}:{step}":
            os.kill(os.getpid(), signal.SIGKILL)  # the resume test's simulated crash
    pbar.close()
    summary = {"phase": phase_name, "steps": state["step"], "best_score": state["best_score"],
               "best_step": state["best_step"], "tasks": task_names, "effective_batch": effective}
    if world > 1:
        dist.barrier()
    if is_main:
        metrics.close()
        mark_done(run.out_dir, phase_name, summary)
    return summary


# --- the run ---------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Intermediate then target fine-tuning of XLM-R (see the docstring).")
    p.add_argument("--cfg", required=True, nargs="+", help="YAML config(s), merged in order (configs/...)")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in train.out_dir")
    p.add_argument("overrides", nargs="*", default=[], help="section.field=value, e.g. target.lr=2e-5")
    args = p.parse_args(argv)
    # `--cfg a.yaml b.yaml x.y=1`: argparse gives the override to --cfg; move every key=value back
    args.overrides = [a for a in args.cfg if "=" in a] + args.overrides
    args.cfg = [a for a in args.cfg if "=" not in a]
    return args


def preflight(cfg: Config, target) -> None:
    """Before config.yaml is written (after which a plain rerun is refused): the tokenizer opens, every training
    task has its English train and dev files, the MLM files hold text, the results file can take rows."""
    if cfg.model.path:
        check_checkpoint_dir(cfg.model.path, need_head=False)
    else:
        XLMRTokenizer(cfg.model.spm_path)  # a ValueError naming the file when it is not a sentencepiece model
    train_tasks = list(cfg.intermediate.tasks)
    if target is not None and target.kind != "retrieval":
        train_tasks.append(cfg.target.train_task)
        check_results_path(cfg.eval.results)
    for name in train_tasks:
        task = get_task(name)
        for split in ("train", "dev"):
            task.locate(task_folder(cfg, name), "en", split, cfg.data.layout)
    for path in cfg.data.mlm_files:
        with open(path, "rb") as f:
            if not f.read(1 << 16).strip():
                raise DataError(path, None, "no text (data.mlm_files wants raw text, one sentence a line)")


def main(argv=None) -> None:
    """One handler around the run: a config, data, tokenizer, checkpoint, results or disk error ends as one line
    on stderr and exit status 1, never a traceback (bugs and hardware faults keep theirs)."""
    try:
        run(argv)
    except (ValueError, OSError) as e:
        sys.exit(f"train.py: error: {e}")


def run(argv=None) -> None:
    args = parse_args(argv)
    # 1. config: every check before anything is loaded
    try:
        cfg = load_config(args.cfg, args.overrides)
        check_files(cfg)
    except ValueError as e:
        sys.exit(f"config error: {e}")
    out_dir = Path(cfg.train.out_dir)
    saved = out_dir / RUN_CONFIG
    # One writer per run folder: rank 0 holds runs.LOCK from here (an existing folder) or from its creation to
    # the end; a second train.py on the folder stops here, naming the holder (LockedError, one line).
    lock = None
    writer = int(os.environ.get("RANK", 0)) == 0
    if writer and out_dir.is_dir():
        lock = hold_lock(out_dir)
    if args.resume:
        if not saved.exists():
            sys.exit(f"--resume: {saved} not found (nothing to resume in {out_dir})")
        if saved.read_text(encoding="utf-8") != dump_config(cfg):
            sys.exit(f"--resume: the config differs from the one in {saved}; resume with the same config and overrides")
    elif saved.exists():
        sys.exit(f"{out_dir} already holds a run; pass --resume to continue it or set train.out_dir elsewhere")
    if cfg.train.device == "cpu" or (cfg.train.device == "auto" and not torch.cuda.is_available()):
        if cfg.train.precision == "fp16":
            sys.exit("config error: train.precision=fp16 needs a GPU")

    target = None
    if cfg.target.task:  # gold labels of every language to score must exist before hours of training
        target = get_task(cfg.target.task)
        if target.kind != "retrieval":
            try:
                target.check_gold(task_folder(cfg, target.name), eval_langs(cfg, target), cfg.eval.split,
                                  cfg.data.layout, ud_words=cfg.data.ud_words)
            except ValueError as e:
                sys.exit(f"config error: {e}")
    preflight(cfg, target)

    # 2. distributed setup
    rank, local_rank, world, device = setup_distributed(cfg)
    precision = cfg.train.precision
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    run = Run(cfg, out_dir, rank, world, device, precision)
    # CPU kernels of this model are deterministic as they are (tests/test_train.py checks bit-identical resumes);
    # torch.use_deterministic_algorithms would import torch._inductor (seconds) for nothing here.
    if run.is_main and not args.resume:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = lock or hold_lock(out_dir)
        atomic_write_text(saved, dump_config(cfg))
    try:
        train_and_evaluate(run, target)
    except BaseException:
        if run.is_main and not args.resume and not started(out_dir):
            # failed before anything was saved (data, tokenizer, a diverged first steps): a plain rerun should
            # start afresh, not ask for --resume
            saved.unlink(missing_ok=True)
            (out_dir / RUN_METRICS).unlink(missing_ok=True)
            shutil.rmtree(out_dir / TB_DIR, ignore_errors=True)
        raise
    finally:
        if lock is not None:
            lock.release()


def train_and_evaluate(run: Run, target) -> None:
    """Steps 3-6 of the run, after the config was saved."""
    cfg, out_dir = run.cfg, run.out_dir
    if run.is_main:
        print(f"run {out_dir}: model {cfg.model.name}, {run.world_size} process(es) on {run.device}, "
              f"{run.precision}" + (", FSDP2" if cfg.train.fsdp and run.world_size > 1 else ""))
    # 3. model, 4. data, 5. optimizer and loop: once per phase (retrieval targets train no target phase)
    phases = (["intermediate"] if cfg.intermediate.tasks else []) + \
        (["target"] if target is not None and target.kind != "retrieval" else [])
    for name in phases:
        if phase_done(out_dir, name):
            if run.is_main:
                print(f"[{name}] done (done.json); skipped")
            continue
        train_phase(run, build_phase(run, name))

    # 6. zero-shot evaluation on rank 0 (other ranks are done)
    if run.world_size > 1:
        dist.barrier()
        dist.destroy_process_group()
    if not run.is_main:
        return
    tg = cfg.target
    if target is None:
        print(f"done: intermediate model in {phase_path(out_dir, 'intermediate', BEST)}")
        return
    if target.kind == "retrieval":
        print(f"done: score {tg.task} with  python retrieval.py --ckpt {phase_path(out_dir, 'intermediate', BEST)} "
              f"--task {tg.task} --all-langs --data-dir {task_folder(cfg, tg.task)}")
        return
    evaluate_target(cfg, phase_path(out_dir, "target", BEST), run.device)


def make_mlm_head(cfg: Config, encoder: nn.Module) -> nn.Module:
    """The checkpoint's MLM head (tied to the word embeddings); a fresh one for a random model."""

    if cfg.model.path:
        return load_mlm_head(cfg.model.path, encoder)
    return MLMHead(encoder.cfg.hidden_size, encoder.cfg.vocab_size, encoder.embeddings.word_embeddings,
                   encoder.cfg.layer_norm_eps)


def eval_langs(cfg: Config, target) -> list[str]:
    return list(cfg.eval.langs) or list(target.langs)


def evaluate_target(cfg: Config, model_dir: Path, device) -> None:
    """Zero-shot scores of the selected target model on every language (or eval.langs) of eval.split; rows
    appended to the run's results.csv and to eval.results."""

    task = get_task(cfg.target.task)
    encoder, tokenizer = load_pretrained(model_dir, device=device)
    head, meta = load_head(model_dir)
    head.to(device)
    layouts, items = {}, ({} if has_item_scores(task) else None)
    scores = evaluate_langs(encoder, head, tokenizer, task, task_folder(cfg, task.name), eval_langs(cfg, task),
                            cfg.eval.split, cfg.target.max_len, cfg.eval.batch_size, device,
                            doc_stride=cfg.target.doc_stride, layout=cfg.data.layout, ud_words=cfg.data.ud_words,
                            layouts=layouts, items=items)
    sources = row_sources(str(cfg.train.out_dir), task, layouts, ud_words=cfg.data.ud_words)
    rows = result_rows(scores, meta, cfg.eval.split, source=sources)
    out_dir = Path(cfg.train.out_dir)
    print(format_table(scores), flush=True)  # first: whatever happens to the results files, the scores are shown
    if items is not None:  # each item's right/wrong, for paired drops (correlate.py --item-scores; study.py collect)
        per_item = [r for lang, (ex, golds, preds) in items.items()
                    for r in item_rows(ex, golds, preds, lang, meta, cfg.eval.split, sources[lang])]
        write_item_scores(out_dir / ITEMS_DIR, per_item, task.name, cfg.eval.split, str(cfg.train.out_dir))
    errors = []
    for path in (out_dir / RUN_RESULTS, cfg.eval.results):  # both are tried; rows that cannot go in are saved beside
        try:
            append_or_save_aside(path, rows)
        except (ValueError, OSError) as e:
            errors.append(str(e))
    if errors:
        raise ValueError("; ".join(errors))
    print(f"done: {len(rows)} result rows for {task.name} in {out_dir / RUN_RESULTS} and {cfg.eval.results}")


if __name__ == "__main__":
    main()
