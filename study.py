"""The whole study in one command: plan, launch (Slurm through submitit, or this machine), resume and collect the grid.

    python study.py plan configs/study/phang2020.yaml                       # the job graph and its GPU-hours
    python study.py run configs/study/phang2020.yaml --launcher slurm --partition gpu --account A --time 1440
    python study.py status configs/study/phang2020.yaml                     # done / running / failed / pending
    python study.py collect configs/study/phang2020.yaml                    # one results CSV, then correlate.py
    python study.py run configs/study/smoke.yaml --launcher local           # the tiny study on CPU, ~1 minute

A study config (configs/study/*.yaml) names recipes, it does not copy them: the model block
(configs/model/xlmr_large.yaml), the intermediate recipes configs/xstilts/<arm>.yaml (plus variants: a recipe with
overrides, e.g. the MLM arm), the target recipes configs/target/<target>.yaml, the seeds, and whether to run the
baselines. Every job is one command of the project's entry points:
    intermediate  train.py --cfg MODEL xstilts/ARM.yaml                      -> OUT/ARM/none/sS (trained once per
                  (arm, seed), reused by every target and by retrieval)
    target        train.py --cfg MODEL target/T.yaml intermediate.from_run=OUT/ARM/none/sS   -> OUT/ARM/T/sS
    baseline      train.py --cfg MODEL target/T.yaml                         -> OUT/none/T/sS (no intermediate)
    retrieval     retrieval.py --ckpt OUT/ARM/none/sS/intermediate/best --task T   -> OUT/ARM/T/sS
                  (baseline: the pretrained checkpoint itself -> OUT/none/T/pretrained; nothing to train)
Targets and intermediate retrieval depend on their intermediate job; the rest depend on nothing.

Idempotent and resumable: every job has a deterministic run folder, and completion is read from it (train.py's
<phase>/done.json and results.csv; retrieval.py's results.csv), never from the scheduler's accounting, so clusters
without sacct work. Running the same command again skips finished jobs, resumes interrupted ones (train.py --resume:
bit-identical on CPU), and never retrains a finished intermediate model. Slurm jobs are submitit Checkpointables: a
preempted or timed-out job is requeued and resumes from its last checkpoint. A job that is still queued or running
from an earlier driver (squeue) is waited for, not submitted twice. Each run folder gets study.log (the job's
output, appended per attempt) and study_attempts.jsonl (one line per start and end).

One writer at a time: `run` holds the study folder's lock (runs.STUDY_LOCK, an flock that dies with the driver), and
a second driver on the same study stops with a line naming the holder (pid and host); each train.py holds its run
folder's lock the same way, and `status` reports a run folder whose lock is held as running. A job's child process
(train.py, torchrun, retrieval.py) is started with PR_SET_PDEATHSIG=SIGTERM (Linux; see `_die_with_parent`): when the
launcher dies, even by SIGKILL, the kernel sends the child SIGTERM, so no orphan keeps training in the folder
(torchrun passes SIGTERM on to its workers).

GPU-hours per job = training examples x epochs x mean tokens / throughput (retrieval: sentences x tokens /
(3 x throughput), forward only); sizes are data/tasks.py's registry figures. The throughput is the measured one of
bench/gpu_throughput.json (python bench/bench_gpu.py on a GPU) when present, else ASSUMED_TOKENS_PER_S, labelled as
an assumption in the plan.

Several model sizes in one study (configs/study/scale.yaml): `model` may list model blocks; each gets the whole
grid under OUT/<block name>/ (e.g. OUT/xlmr_xl/mnli/xnli/s1), its jobs named the same way.

GPU memory per training job (xlmr/memory.py has the formula and its sources): states 16 B x parameters (fp32
weights, gradients and both AdamW moments; divided by the job's GPUs when the recipe sets train.fsdp, whole on
every GPU under DDP) + under FSDP two bf16 layers gathered + activations L x batch x max_len x hidden x (34 B, or
4 B per layer + one layer's 34 B with model.activation_checkpointing), x 1.15 + 2 GiB. The architecture is the
checkpoint's own config when the folder exists, else the model block's `model.size` preset. `plan` and `run`
refuse a study with a job that does not fit --gpu-memory (default 80 GB) on --gpus-per-job GPUs, before anything
is submitted, and say the numbers.

Study folder (`out_dir`): plan.json, submitted.json (Slurm job ids), slurm/ (submitit's logs), results.csv
(collect: the project's schema, data/results.py) and report/ (correlate.py's output with the published baselines).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.io import atomic_write_text
from runs import (BEST, ITEMS_DIR, RUN_CONFIG, RUN_RESULTS, STUDY_LOCK, held_by, hold_lock, phase_done,
                  phase_path)

ROOT = Path(__file__).resolve().parent
RECIPES = ROOT / "configs"  # configs/xstilts/<arm>.yaml, configs/target/<target>.yaml
THROUGHPUT_FILE = ROOT / "bench" / "gpu_throughput.json"  # written by bench/bench_gpu.py
ASSUMED_TOKENS_PER_S = 20_000  # [R] XLM-R Large bf16 training on one A100-class GPU at ~20% MFU; an assumption
STUDY_KEYS = ("model", "out_dir", "intermediate", "variants", "targets", "seeds", "baselines", "overrides",
              "target_overrides", "retrieval", "slurm")
SLURM_KEYS = ("partition", "account", "time", "gpus_per_job", "cpus_per_job", "mem", "qos", "constraint")
RETRIEVAL_KEYS = ("langs", "batch_size", "max_len")
KINDS = ("intermediate", "target", "baseline", "retrieval")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # an arm or recipe name: one plain path component


@dataclass
class Study:
    path: str  # the study config file
    model: str  # the model block (a YAML of configs/model/)
    out_dir: str  # the study folder; run folders lie under it
    arms: dict  # intermediate arm name -> (recipe name, [overrides])
    targets: list  # target recipe names
    seeds: list
    baselines: bool = True
    overrides: list = field(default_factory=list)  # appended to every train.py job
    target_overrides: dict = field(default_factory=dict)  # target -> overrides of its jobs
    retrieval: dict = field(default_factory=dict)  # langs, batch_size, max_len for retrieval.py
    slurm: dict = field(default_factory=dict)  # default Slurm settings (command-line flags win)
    models: list = field(default_factory=list)  # every model block when the config lists several (scale studies)

    def __post_init__(self):  # `model` as the config gives it: one block, or a list of them
        if isinstance(self.model, list):
            self.models, self.model = list(self.model), self.model[0]
        elif not self.models:
            self.models = [self.model]


@dataclass
class Job:
    name: str  # the run folder relative to out_dir: ARM/TARGET/sSEED (unique, deterministic)
    kind: str  # intermediate | target | baseline | retrieval
    run_dir: str
    argv: list  # the entry point and its arguments, run with the study's python from the repository root
    deps: list = field(default_factory=list)  # names of jobs that must be done first
    distributed: bool = False  # a train.py job: torchrun with --gpus-per-job > 1
    examples: int = 0  # GPU-hour estimate inputs
    epochs: float = 0.0
    mean_tokens: int = 0
    forward_only: bool = False
    task_kind: str = ""  # the kind of its (largest) training task: picks a measured per-kind throughput
    gpu_hours: float = 0.0
    memory: dict = field(default_factory=dict)  # train jobs: training_memory's inputs (job_memory computes GB/GPU)


# --- the study config ----------------------------------------------------------------------------------
def _recipe(kind: str, name: str) -> Path:
    return RECIPES / ("xstilts" if kind == "intermediate" else "target") / f"{name}.yaml"


def _known(kind: str) -> str:
    return " ".join(sorted(p.stem for p in (RECIPES / ("xstilts" if kind == "intermediate" else "target")).glob("*.yaml")))


def _read_study_yaml(path: str):
    """The parsed study file; one-line ValueErrors for a missing file, a folder, bad bytes, bad YAML and a key given
    twice (config.load_yaml: the train configs' duplicate-key check)."""
    from config import read_yaml_file

    return read_yaml_file(path, "study config", "study config")


def _check_name(path: str, what: str, name) -> str:
    """An arm, variant or recipe name becomes a folder of every run path: one plain component, never '', '..',
    'a/b' or './none' (which would land on another job's folder or outside the study folder)."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ValueError(f"{path}: {what} {name!r} is not a plain name (letters, digits, '_' and '-', starting with "
                         "a letter or digit)")
    return name


def _positive_int(path: str, key: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{path}: {key} must be a whole number >= 1, got {value!r}")
    return value


def slurm_minutes(text) -> int:
    """Slurm's --time in whole minutes. Slurm's grammar (man sbatch, --time): "minutes", "minutes:seconds",
    "hours:minutes:seconds", "days-hours", "days-hours:minutes" and "days-hours:minutes:seconds"; seconds are
    rounded up to the next minute. So "30:00" is 30 minutes and "1-0" one day. A limit of 0 (Slurm: none) and
    anything else are refused with a ValueError."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ValueError(f"--time {text!r}: expected a Slurm time such as 1440, 30:00, 12:00:00 or 1-12")
    t = str(text).strip()
    m = re.fullmatch(r"(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?", t)
    if m:
        d, h, mi, sec = (int(x or 0) for x in m.groups())
    elif re.fullmatch(r"\d+(?::\d+){0,2}", t):
        parts = [int(x) for x in t.split(":")]
        d, h, mi, sec = (0, *parts) if len(parts) == 3 else (0, 0, *parts, *[0] * (2 - len(parts)))
    else:
        raise ValueError(f"--time {text!r} is not a Slurm time: give minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or "
                         "D-HH:MM:SS (man sbatch)")
    minutes = (d * 24 + h) * 60 + mi + math.ceil(sec / 60)
    if minutes <= 0:
        raise ValueError(f"--time {text!r}: a study job needs a time limit > 0 (Slurm reads 0 as no limit)")
    return minutes


def load_study(path) -> Study:
    """Read and check a study config; every error is one ValueError naming the file and the entry."""
    from data.tasks import TASKS

    path = str(path)
    raw = _read_study_yaml(path)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping with keys {', '.join(STUDY_KEYS)}")
    unknown = sorted(set(raw) - set(STUDY_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(STUDY_KEYS)})")
    for key in ("model", "out_dir", "targets", "seeds"):
        if not raw.get(key):
            raise ValueError(f"{path}: {key!r} is missing or empty")

    def strs(key, value) -> list:
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{path}: {key} must be a list of strings, got {value!r}")
        return [str(v) for v in value]

    if not isinstance(raw["out_dir"], str):
        raise ValueError(f"{path}: out_dir must be a path (a string), got {raw['out_dir']!r}")
    models = raw["model"] if isinstance(raw["model"], list) else [raw["model"]]
    for block in models:
        if not isinstance(block, str):
            raise ValueError(f"{path}: model must be a path (a string) or a list of them, got {block!r}")
        if not os.path.isfile(ROOT / block):
            raise ValueError(f"{path}: model {block!r} not found (expected a YAML such as "
                             "configs/model/xlmr_large.yaml, or a list of them)")
    if len({Path(b).stem for b in models}) != len(models):
        raise ValueError(f"{path}: model blocks {models} must have distinct file names (each names its folder)")
    arms = {}
    for name in strs("intermediate", raw.get("intermediate") or []):
        _check_name(path, "intermediate task", name)
        if name in arms:
            raise ValueError(f"{path}: intermediate task {name!r} is listed twice")
        if not _recipe("intermediate", name).is_file():
            hint = f"; the task {name} has no recipe" if name in TASKS else ""
            raise ValueError(f"{path}: intermediate task {name!r} unknown: no configs/xstilts/{name}.yaml{hint} "
                             f"(known: {_known('intermediate')})")
        arms[name] = (name, [])
    variants = raw.get("variants") or {}
    if not isinstance(variants, dict):
        raise ValueError(f"{path}: variants must be a mapping name -> {{recipe: ..., overrides: [...]}}")
    for name, v in variants.items():
        _check_name(path, "variant name", name)
        if not isinstance(v, dict) or not v.get("recipe") or set(v) - {"recipe", "overrides"}:
            raise ValueError(f"{path}: variant {name!r} must be {{recipe: NAME, overrides: [...]}}, got {v!r}")
        _check_name(path, f"variant {name!r}: recipe", v["recipe"])
        if not _recipe("intermediate", v["recipe"]).is_file():
            raise ValueError(f"{path}: variant {name!r}: intermediate recipe {v['recipe']!r} unknown: no "
                             f"configs/xstilts/{v['recipe']}.yaml (known: {_known('intermediate')})")
        if name in arms or name == "none":
            raise ValueError(f"{path}: variant name {name!r} is taken")
        arms[str(name)] = (v["recipe"], strs(f"variant {name} overrides", v.get("overrides") or []))
    targets = strs("targets", raw["targets"])
    for t in targets:
        if t not in TASKS:
            raise ValueError(f"{path}: target {t!r} unknown: not a task of data/tasks.py (targets: "
                             f"{' '.join(n for n, task in TASKS.items() if task.target)})")
        if not _recipe("target", t).is_file():
            raise ValueError(f"{path}: target {t!r} has no recipe configs/target/{t}.yaml (known: {_known('target')})")
    seeds = raw["seeds"]
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"{path}: seeds must be a list of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds) or len(set(targets)) != len(targets):
        raise ValueError(f"{path}: seeds and targets must not repeat")
    if not isinstance(raw.get("baselines", True), bool):
        raise ValueError(f"{path}: baselines must be true or false")
    tov = raw.get("target_overrides") or {}
    if not isinstance(tov, dict) or set(tov) - set(targets):
        raise ValueError(f"{path}: target_overrides must map study targets to override lists, got {tov!r}")
    for section, keys in (("retrieval", RETRIEVAL_KEYS), ("slurm", SLURM_KEYS)):
        sec = raw.get(section) or {}
        if not isinstance(sec, dict) or set(sec) - set(keys):
            raise ValueError(f"{path}: {section} must be a mapping with keys among {', '.join(keys)}, got {sec!r}")
    retrieval = dict(raw.get("retrieval") or {})
    for key in ("batch_size", "max_len"):
        if key in retrieval:
            _positive_int(path, f"retrieval.{key}", retrieval[key])
    if "langs" in retrieval:
        retrieval["langs"] = strs("retrieval.langs", retrieval["langs"])
    slurm = dict(raw.get("slurm") or {})
    for key in ("gpus_per_job", "cpus_per_job"):
        if key in slurm and (isinstance(slurm[key], bool) or not isinstance(slurm[key], int) or slurm[key] < 0):
            raise ValueError(f"{path}: slurm.{key} must be a whole number >= 0, got {slurm[key]!r}")
    for key in ("partition", "account", "mem", "qos", "constraint"):
        if key in slurm and (isinstance(slurm[key], bool) or not isinstance(slurm[key], (str, int))):
            raise ValueError(f"{path}: slurm.{key} must be a string, got {slurm[key]!r}")
    if "time" in slurm:
        try:
            slurm_minutes(slurm["time"])
        except ValueError as e:
            raise ValueError(f"{path}: slurm.time: {e}") from None
    return Study(path=path, model=raw["model"], out_dir=str(raw["out_dir"]), arms=arms, targets=targets,
                 seeds=list(seeds), baselines=raw.get("baselines", True),
                 overrides=strs("overrides", raw.get("overrides") or []),
                 target_overrides={t: strs(f"target_overrides.{t}", v) for t, v in tov.items()},
                 retrieval=retrieval, slurm=slurm)


# --- the job graph -------------------------------------------------------------------------------------
def _load(study: Study, files: list, overrides: list, what: str):
    """The resolved train.py config of a job; a bad recipe or override is an error naming the job."""
    from config import load_config

    try:
        return load_config([str(ROOT / f) for f in files], overrides)
    except ValueError as e:
        raise ValueError(f"{study.path}: job {what}: {e}") from None


def build_model_jobs(study: Study, out_dir: str | None = None) -> list[Job]:
    """Every job of the study for its (first) model block, intermediate jobs first; each train.py config is loaded
    and checked here. build_jobs runs it once per model block."""
    from data.tasks import get_task

    out = Path(out_dir or study.out_dir)
    jobs: list[Job] = []
    loaded = {}  # job name -> its resolved config (retrieval reads the model name and data folders from one)
    py = ["train.py", "--cfg"]

    def train_job(name, kind, files, overrides, seed, deps=(), example_cfg=None):
        run = out / name
        args = [*overrides, f"train.seed={seed}", f"train.out_dir={run}", f"eval.results={run / RUN_RESULTS}"]
        job = Job(name, kind, str(run), [*py, *files, *args], list(deps), distributed=True)
        cfg = loaded[name] = example_cfg or _load(study, files, args, name)
        estimate_train(job, cfg)
        return job

    def retrieval_job(name, task, ckpt, base, deps=(), extra=()):
        run = out / name
        r = study.retrieval
        langs = ["--langs", ",".join(r["langs"])] if r.get("langs") else ["--all-langs"]
        argv = ["retrieval.py", "--ckpt", str(ckpt), "--task", task, *langs, "--data-dir",
                base.data.task_data_dirs.get(task, base.data.data_dir), "--results", str(run / RUN_RESULTS),
                "--model", base.model.name, *extra]
        for key in ("batch_size", "max_len"):
            if key in r:
                argv += [f"--{key.replace('_', '-')}", str(r[key])]
        t = get_task(task)
        return Job(name, "retrieval", str(run), argv, list(deps), examples=t.train_examples, epochs=1,
                   mean_tokens=t.mean_tokens, forward_only=True)

    model = [study.model]
    for seed in study.seeds:
        for arm, (recipe, arm_over) in study.arms.items():
            files = model + [f"configs/xstilts/{recipe}.yaml"]
            inter = train_job(f"{arm}/none/s{seed}", "intermediate", files,
                              [*study.overrides, *arm_over, "target.task=", "eval.langs=[]"], seed)
            jobs.append(inter)
            for t in study.targets:
                task = get_task(t)
                if task.kind == "retrieval":
                    jobs.append(retrieval_job(f"{arm}/{t}/s{seed}", t,
                                              phase_path(inter.run_dir, "intermediate", BEST),
                                              loaded[inter.name], [inter.name]))
                    continue
                over = [*study.overrides, *study.target_overrides.get(t, []), "intermediate.tasks=[]",
                        "data.mlm_files=[]"]
                # checked as a baseline: from_run needs the finished intermediate folder, which comes later
                check = _load(study, model + [f"configs/target/{t}.yaml"],
                              [*over, f"train.seed={seed}"], f"{arm}/{t}/s{seed}")
                jobs.append(train_job(f"{arm}/{t}/s{seed}", "target", model + [f"configs/target/{t}.yaml"],
                                      [*over, f"intermediate.from_run={inter.run_dir}"], seed, [inter.name], check))
        if study.baselines:
            for t in study.targets:
                if get_task(t).kind == "retrieval":
                    continue
                over = [*study.overrides, *study.target_overrides.get(t, []), "intermediate.tasks=[]",
                        "data.mlm_files=[]"]
                jobs.append(train_job(f"none/{t}/s{seed}", "baseline", model + [f"configs/target/{t}.yaml"], over,
                                      seed))
    retrieval_targets = [t for t in study.targets if get_task(t).kind == "retrieval"]
    if study.baselines and retrieval_targets:  # the pretrained model scored as it is: once, no seed
        base = next(iter(loaded.values()), None) or _load(
            study, [study.model, f"configs/target/{retrieval_targets[0]}.yaml"],
            [*study.overrides, "intermediate.tasks=[mnli]"], "model block")  # only its model and data folders
        for t in retrieval_targets if base.model.path else ():  # a random-init model has no checkpoint
            jobs.append(retrieval_job(f"none/{t}/pretrained", t, base.model.path, base,
                                      extra=["--intermediate-task", "none"]))
    jobs.sort(key=lambda j: KINDS.index(j.kind) if j.kind != "retrieval" or j.deps else 0)
    return jobs


def estimate_train(job: Job, cfg) -> None:
    """Examples, epochs and mean tokens of a train.py job from its resolved config and the registry sizes."""
    from data.tasks import get_task

    if job.kind == "intermediate":
        it = cfg.intermediate
        sizes = {t: (get_task(t).train_examples, get_task(t).mean_tokens) for t in it.tasks}
        if cfg.data.mlm_files:  # the MLM arm: lines of raw text of up to max_len tokens
            sizes["mlm"] = (it.mlm_examples or it.cap or 100_000, it.max_len)
        capped = {t: min(n, it.cap) if it.cap else n for t, (n, _) in sizes.items()}
        job.examples = sum(capped.values())
        job.task_kind = get_task(max(it.tasks, key=lambda t: capped[t])).kind
        job.mean_tokens = round(sum(capped[t] * sizes[t][1] for t in sizes) / max(1, job.examples))
        phase = it
    else:
        task = get_task(cfg.target.train_task)
        job.examples, job.mean_tokens, phase = task.train_examples, task.mean_tokens, cfg.target
        job.task_kind = task.kind
    effective = phase.batch_size * phase.grad_accum
    job.epochs = (phase.max_steps * effective / max(1, job.examples)) if phase.max_steps else phase.epochs
    note_memory(job, cfg, phase)


# --- GPU memory per job --------------------------------------------------------------------------------
DEFAULT_GPU_MEMORY_GB = 80.0  # --gpu-memory: an A100/H100 80 GB


def note_memory(job: Job, cfg, phase) -> None:
    """The inputs of a train job's memory estimate: its architecture (xlmr.memory.planned_config), micro-batch,
    length, activation checkpointing and FSDP (train.fsdp, where the recipe has it). Multiple choice counts one
    sequence per question (the registry does not say how many choices): an underestimate for those tasks."""
    from xlmr.memory import param_count, planned_config

    path = cfg.model.path
    arch = planned_config(str(ROOT / path) if path and not os.path.isabs(path) else path, cfg.model.size)
    if arch is None:
        return
    job.memory = {"params": param_count(arch), "num_layers": arch.num_layers, "hidden_size": arch.hidden_size,
                  "ffn_size": arch.ffn_size, "num_heads": arch.num_heads, "vocab_size": arch.vocab_size,
                  "batch_size": phase.batch_size, "max_len": phase.max_len,
                  "checkpointing": bool(cfg.model.activation_checkpointing),
                  "fsdp": bool(getattr(cfg.train, "fsdp", False))}


def job_memory(job: Job, gpus: int):
    """xlmr.memory.TrainingMemory of a train job on `gpus` GPUs (None: retrieval, or no architecture known)."""
    from xlmr.memory import training_memory
    from xlmr.model import XLMRConfig

    m = job.memory
    if not m or job.forward_only:
        return None
    arch = XLMRConfig(vocab_size=m["vocab_size"], hidden_size=m["hidden_size"], num_layers=m["num_layers"],
                      num_heads=m["num_heads"], ffn_size=m["ffn_size"])
    return training_memory(arch, m["batch_size"], m["max_len"], gpus=max(1, gpus), fsdp=m["fsdp"],
                           checkpointing=m["checkpointing"])


def check_memory(jobs: list[Job], gpus: int, gpu_memory_gb: float) -> None:
    """Refuse (ValueError with the numbers) a study with a training job that does not fit `gpus` GPUs of
    `gpu_memory_gb` each; gpus 0 (CPU) checks nothing."""
    if gpus < 1:
        return
    too_big = []
    for j in jobs:
        mem = job_memory(j, gpus)
        if mem is not None and mem.total_gb > gpu_memory_gb:
            too_big.append((j, mem))
    if not too_big:
        return
    j, mem = max(too_big, key=lambda x: x[1].total)
    m = j.memory
    sharding = f"FSDP over {gpus} GPUs" if m["fsdp"] else ("DDP: every GPU holds all of it" if gpus > 1 else "1 GPU")
    advice = ("more GPUs per job (--gpus-per-job)" if m["fsdp"] else
              "train.fsdp=true with enough GPUs (--gpus-per-job 8)")
    if not m["checkpointing"]:
        advice += ", model.activation_checkpointing=true"
    raise ValueError(
        f"{len(too_big)} job(s) do not fit {gpus} GPU(s) of {gpu_memory_gb:g} GB, e.g. {j.name}: "
        f"{mem.total_gb:.1f} GB per GPU = (weights+grads+AdamW {mem.states / 1e9:.1f} GB "
        f"[16 B x {m['params'] / 1e9:.2f}B parameters, {sharding}]"
        + (f" + gathered layers {mem.gathered / 1e9:.1f} GB" if m["fsdp"] else "") +
        f" + activations {mem.activations / 1e9:.1f} GB [batch {m['batch_size']} x {m['max_len']} tokens, "
        f"checkpointing {'on' if m['checkpointing'] else 'off'}]) x 1.15 + 2 GiB; use {advice} "
        f"(formula: xlmr/memory.py)")


def build_jobs(study: Study, out_dir: str | Path | None = None) -> list[Job]:
    """Every job of the study: build_model_jobs for one model block as it is; for several (a list under `model`)
    each under OUT/<block name>/, their job names prefixed the same way."""
    from dataclasses import replace

    def share_architecture(block_jobs):  # retrieval jobs run the same model: its size sets their GPU-hours
        arch = next((j.memory for j in block_jobs if j.memory), {})
        for j in block_jobs:
            if j.forward_only and arch:
                j.memory = dict(arch)
        return block_jobs

    out_dir = out_dir or study.out_dir
    if len(study.models) <= 1:
        return share_architecture(build_model_jobs(study, str(out_dir)))
    jobs = []
    for block in study.models:
        stem = Path(block).stem
        for j in share_architecture(build_model_jobs(replace(study, model=block, models=[block]),
                                                     str(Path(out_dir) / stem))):
            j.name, j.deps = f"{stem}/{j.name}", [f"{stem}/{d}" for d in j.deps]
            jobs.append(j)
    jobs.sort(key=lambda j: KINDS.index(j.kind) if j.kind != "retrieval" or j.deps else 0)
    return jobs


def read_throughput(given: float | None = None) -> tuple[float, dict, str]:
    """(tokens/s per GPU, {task kind: tokens/s} where measured, where the figures came from): --throughput, else
    bench/gpu_throughput.json (bench/bench_gpu.py), else the labelled assumption."""
    if given:
        return float(given), {}, f"{given:,.0f} tokens/s per GPU (given with --throughput)"
    if THROUGHPUT_FILE.is_file():
        try:
            m = json.loads(THROUGHPUT_FILE.read_text(encoding="utf-8"))
            per_kind = {str(k): float(v) for k, v in (m.get("per_kind") or {}).items()}
            speeds = [float(m["train_tokens_per_s"]), *per_kind.values()]
            m["device"], m["date"]  # noqa: B018 (named in the plan)
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as e:
            raise ValueError(f"{THROUGHPUT_FILE}: not a throughput record of bench/bench_gpu.py "
                             f"({type(e).__name__}: {e}); rerun it or delete the file") from None
        if not all(math.isfinite(v) and v > 0 for v in speeds):
            raise ValueError(f"{THROUGHPUT_FILE}: every tokens/s figure must be finite and > 0, got {speeds}")
        return (float(m["train_tokens_per_s"]), per_kind,
                f"{m['train_tokens_per_s']:,.0f} tokens/s per GPU, measured by bench/bench_gpu.py on {m['device']} "
                f"({m['date']}, {THROUGHPUT_FILE})" + (f"; per task kind: " + ", ".join(
                    f"{k} {v:,.0f}" for k, v in per_kind.items()) if per_kind else ""))
    return (float(ASSUMED_TOKENS_PER_S), {},
            f"{ASSUMED_TOKENS_PER_S:,} tokens/s per GPU: ASSUMPTION, not measured (XLM-R Large bf16 on an A100-class "
            f"GPU at ~20% MFU); measure it with python bench/bench_gpu.py")


def compute_ratio(job: Job) -> float:
    """FLOPs per token of the job's model over XLM-R Large's (what the throughput figures are of, measured or
    assumed), same utilisation assumed; activation checkpointing's extra forward included. 1 when no architecture
    is known."""
    from xlmr.memory import flops_per_token
    from xlmr.model import XLMRConfig

    m = job.memory
    if not m:
        return 1.0
    arch = XLMRConfig(vocab_size=m["vocab_size"], hidden_size=m["hidden_size"], num_layers=m["num_layers"],
                      num_heads=m["num_heads"], ffn_size=m["ffn_size"])
    ckpt = m.get("checkpointing", False) and not job.forward_only
    return (flops_per_token(arch, job.mean_tokens, checkpointing=ckpt)
            / flops_per_token(XLMRConfig.large(), job.mean_tokens))


def add_estimates(jobs: list[Job], tokens_per_s: float, per_kind: dict | None = None) -> float:
    for j in jobs:
        speed = (per_kind or {}).get(j.task_kind, tokens_per_s) * (3 if j.forward_only else 1)  # forward only: ~1/3 of a training step's FLOPs
        speed /= compute_ratio(j)  # the figures are XLM-R Large's: XL costs ~9x its FLOPs per token
        j.gpu_hours = j.examples * j.epochs * j.mean_tokens / speed / 3600
    return sum(j.gpu_hours for j in jobs)


# --- run folders: completion, attempts ----------------------------------------------------------------
def job_done(job: Job | dict) -> bool:
    """Completion read from the run folder (never from the scheduler)."""
    kind, run = (job.kind, Path(job.run_dir)) if isinstance(job, Job) else (job["kind"], Path(job["run_dir"]))
    if kind == "intermediate":
        return phase_done(run, "intermediate")
    if kind in ("target", "baseline"):  # trained, then evaluated in every language
        return phase_done(run, "target") and (run / RUN_RESULTS).is_file()
    return (run / RUN_RESULTS).is_file()


def _note(run: Path, record: dict) -> None:
    run.mkdir(parents=True, exist_ok=True)
    with open(run / "study_attempts.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def read_attempts(run_dir) -> list[dict]:
    """The run folder's study_attempts.jsonl. A last line cut short (the writer was killed mid-write) is left out;
    any other line that is not a JSON record is a ValueError naming the file and line."""
    p = Path(run_dir) / "study_attempts.jsonl"
    if not p.is_file():
        return []
    text = p.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    records = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or "event" not in record:
                raise ValueError("no event")
        except ValueError:
            if i == len(lines):  # no newline after it: cut short
                continue
            raise ValueError(f"{p}: line {i}: not a study attempt record (JSON with an event): {line[:80]!r}") \
                from None
        records.append(record)
    return records


def read_submitted(out: Path) -> dict[str, str]:
    """submitted.json of the study folder: job name -> Slurm job id ({} when absent); ValueError when unreadable."""
    p = out / "submitted.json"
    if not p.is_file():
        return {}
    try:
        record = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{p}: not a record of submitted jobs ({e}); delete it if no job of this study is queued")\
            from None
    if not isinstance(record, dict) or not all(isinstance(v, str) for v in record.values()):
        raise ValueError(f"{p}: expected a mapping job name -> Slurm job id; delete it if no job of this study is "
                         "queued")
    return record


def last_error_line(run_dir) -> str:
    """The last line of study.log that reads like an error (else its last non-empty line)."""
    p = Path(run_dir) / "study.log"
    if not p.is_file():
        return ""
    lines = [line.strip() for line in p.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "exception" in line.lower()]
    return (errors or lines or [""])[-1][:300]


def run_job(job: dict) -> str:
    """Run one job to completion in its run folder (the body of every local and Slurm job).

    Finished: nothing to do. A train.py job with a config.yaml already in its run folder resumes (--resume).
    Raises RuntimeError with the last error line when the command fails."""
    run = Path(job["run_dir"])
    if job_done(job):
        return f"{job['name']}: already done"
    argv = list(job["argv"])
    resumed = argv[0] == "train.py" and (run / RUN_CONFIG).is_file()
    if resumed:
        argv.append("--resume")
    gpus = int(job.get("gpus", 0))
    cmd = [sys.executable, *argv]
    if job.get("distributed") and gpus > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}", *argv]
    where = os.environ.get("SLURM_JOB_ID", "local")
    if os.environ.get("SLURM_ARRAY_JOB_ID"):
        where = f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ.get('SLURM_ARRAY_TASK_ID', '')}"
    _note(run, {"event": "start", "time": time.time(), "job": where, "resume": resumed, "cmd": shlex.join(cmd)})
    with open(run / "study.log", "a", encoding="utf-8") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {where}: {shlex.join(cmd)}\n")
        log.flush()
        rc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=job_env(job),
                            preexec_fn=_die_with_parent()).returncode
    _note(run, {"event": "end", "time": time.time(), "job": where, "rc": rc})
    if rc != 0 or not job_done(job):
        raise RuntimeError(f"{job['name']}: exit code {rc}: {last_error_line(run)}")
    return f"{job['name']}: done"


def _die_with_parent():
    """A preexec_fn that makes the child get SIGTERM when the thread that started it dies (prctl(2)
    PR_SET_PDEATHSIG; the thread of run_job waits for its child, so that is the launcher's lifetime). Linux only:
    None elsewhere. libc and the function are looked up here, in the parent, so the child runs one plain call
    between fork and exec. The os.getppid check closes the race of a parent that died before the prctl."""
    import ctypes
    import ctypes.util
    import signal

    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the launcher is already gone
            os.kill(os.getpid(), signal.SIGTERM)
    return set_death_signal


def job_env(job: dict) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    if job.get("cuda_visible_devices") is not None:
        env["CUDA_VISIBLE_DEVICES"] = job["cuda_visible_devices"]
    return env


try:
    from submitit.helpers import Checkpointable as _Checkpointable
except ImportError:  # submitit is only needed for --launcher slurm
    _Checkpointable = object


class SlurmJob(_Checkpointable):
    """What submitit runs on the cluster: run_job(job). Checkpointable: on preemption or timeout submitit requeues
    the same call, and run_job resumes from the run folder's last checkpoint."""

    def __call__(self, job: dict) -> str:
        return run_job(job)


# --- launchers -----------------------------------------------------------------------------------------
def job_dict(job: Job, gpus: int) -> dict:
    return {"name": job.name, "kind": job.kind, "run_dir": job.run_dir, "argv": job.argv, "gpus": gpus,
            "distributed": job.distributed}


def run_local(jobs: list[Job], workers: int, gpus_per_job: int) -> list[str]:
    """Run the graph on this machine, `workers` jobs at a time (one per visible GPU group); returns failed names."""
    todo = {j.name: j for j in jobs if not job_done(j)}
    done = {j.name for j in jobs} - set(todo)
    failed: list[str] = []
    slots = list(range(workers))
    running: dict = {}
    print(f"local: {len(done)} of {len(jobs)} jobs done already, {len(todo)} to run, {workers} at a time")
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        while todo or running:
            blocked = [n for n, j in todo.items() if any(d in failed for d in j.deps)]
            for n in blocked:
                print(f"  skipped {n}: its intermediate job failed")
                failed.append(n)
                del todo[n]
            for name in [n for n, j in todo.items() if all(d in done for d in j.deps)]:
                if not slots:
                    break
                slot = slots.pop()
                d = job_dict(todo.pop(name), gpus_per_job)
                if gpus_per_job:
                    d["cuda_visible_devices"] = ",".join(str(slot * gpus_per_job + i) for i in range(gpus_per_job))
                print(f"  start {name}")
                running[pool.submit(run_job, d)] = (name, slot)
            if not running:
                break
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                name, slot = running.pop(fut)
                slots.append(slot)
                try:
                    print(f"  {fut.result()}")
                    done.add(name)
                except RuntimeError as e:
                    print(f"  FAILED {e}")
                    failed.append(name)
    return failed


def slurm_flags(args) -> list[str]:
    """sbatch flags of the chosen settings (for the --test-only check before anything is submitted)."""
    flags = [f"--partition={args.partition}"] if args.partition else []
    flags += [f"--account={args.account}"] if args.account else []
    flags += [f"--qos={args.qos}"] if args.qos else []
    flags += [f"--constraint={args.constraint}"] if args.constraint else []
    flags += [f"--time={args.time}", f"--cpus-per-task={args.cpus_per_job}"]
    flags += [f"--gpus-per-node={args.gpus_per_job}"] if args.gpus_per_job else []
    flags += [f"--mem={args.mem}"] if args.mem else []
    return flags


def check_slurm(args) -> None:
    """sbatch --test-only with the job settings: Slurm's own refusal (unknown partition, account, too many GPUs)
    becomes one line, before anything is submitted."""
    import shutil

    if not shutil.which("sbatch"):
        raise ValueError("--launcher slurm: sbatch not found on PATH (is this a Slurm login node?)")
    p = subprocess.run(["sbatch", "--test-only", *slurm_flags(args), "--wrap", "true"], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        lines = [line.strip() for line in (p.stderr + p.stdout).splitlines() if line.strip()]
        raise ValueError(f"Slurm refused the job settings ({' '.join(slurm_flags(args))}): "
                         f"{lines[0] if lines else f'sbatch exit code {p.returncode}'}")


def squeue_states(reasons: bool = False) -> dict[str, str]:
    """Job id (arrays: ID_INDEX) -> Slurm state (with reasons: "STATE REASON"), for every job squeue still shows."""
    p = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T %r" if reasons else "%i %T"], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"squeue failed: {p.stderr.strip()}")
    return dict(line.split(None, 1) for line in p.stdout.splitlines() if line.strip())


def run_slurm(jobs: list[Job], args, out: Path) -> dict[str, str]:
    """Submit every unfinished job not already queued; intermediate jobs as one array, each intermediate's targets
    and retrieval as an array depending on it (afterok). Returns job name -> Slurm job id of every live job."""
    import submitit

    record_path = out / "submitted.json"
    submitted = read_submitted(out)
    states = squeue_states(reasons=True)
    live = {n: i for n, i in submitted.items() if i in states}
    for name, jid in list(live.items()):  # queued by an earlier driver behind a job that failed or was cancelled
        if "DependencyNeverSatisfied" in states[jid]:
            subprocess.run(["scancel", jid], capture_output=True)
            del live[name]
    todo = [j for j in jobs if not job_done(j) and j.name not in live]
    ex = submitit.SlurmExecutor(folder=out / "slurm" / "%j", python=sys.executable)
    base = dict(partition=args.partition, account=args.account, qos=args.qos, constraint=args.constraint,
                time=slurm_minutes(args.time), cpus_per_task=args.cpus_per_job, gpus_per_node=args.gpus_per_job or None,
                mem=args.mem, job_name=f"study-{Path(out).name}", signal_delay_s=120,
                setup=[f"export PYTHONPATH={shlex.quote(str(ROOT))}:${{PYTHONPATH:-}}", f"cd {shlex.quote(str(ROOT))}"],
                additional_parameters={"kill-on-invalid-dep": "yes"})
    base = {k: v for k, v in base.items() if v is not None}
    try:
        names = {j.name for j in todo}
        # level 0: jobs with no dependency submitted now (intermediate jobs, baselines); level 1: their dependents
        for level in ([j for j in todo if not names & set(j.deps)], [j for j in todo if names & set(j.deps)]):
            batches: dict[tuple, list[Job]] = {}
            for j in level:
                batches.setdefault(tuple(sorted(live[d] for d in j.deps if d in live)), []).append(j)
            for dep_ids, batch in batches.items():  # one job array per set of dependencies
                ex.update_parameters(**base, dependency=("afterok:" + ":".join(dep_ids)) if dep_ids else None)
                with ex.batch():
                    handles = [ex.submit(SlurmJob(), job_dict(j, args.gpus_per_job)) for j in batch]
                for j, h in zip(batch, handles):
                    live[j.name] = h.job_id
                    print(f"  submitted {j.name}: Slurm job {h.job_id}" + (f" (after {', '.join(dep_ids)})" if dep_ids else ""))
    except Exception as e:  # sbatch refused a submission (limits, QOS): keep what was submitted, one line
        raise RuntimeError(f"sbatch failed after {len(live)} live job(s): {' '.join(str(e).split())[:500]}") from None
    finally:
        submitted.update(live)
        atomic_write_text(record_path, json.dumps(submitted, indent=1, sort_keys=True) + "\n")
    return live


def wait_slurm(jobs: list[Job], live: dict[str, str], poll: float) -> list[str]:
    """Poll run folders and squeue until every job is done or no unfinished job is left in the queue."""
    last = None
    while True:
        states = squeue_states()
        pending = [j for j in jobs if not job_done(j)]
        alive = [j for j in pending if live.get(j.name) in states]
        line = f"  {len(jobs) - len(pending)} of {len(jobs)} done, {len(alive)} queued or running"
        if line != last:
            print(line, flush=True)
            last = line
        if not alive:
            return [j.name for j in pending]
        time.sleep(poll)


# --- status and collect --------------------------------------------------------------------------------
def job_status(job: Job, live: dict[str, str], states: dict[str, str]) -> tuple[str, str]:
    """(done | running | queued | failed | interrupted | pending, detail)."""
    if job_done(job):
        return "done", ""
    jid = live.get(job.name)
    if jid in states:
        return ("running" if states[jid] in ("RUNNING", "COMPLETING") else "queued"), f"Slurm {jid} {states[jid]}"
    holder = held_by(job.run_dir)
    if holder:  # a train.py still writes the folder (this driver's, another's, or one started by hand)
        return "running", holder
    attempts = read_attempts(job.run_dir)
    if attempts and attempts[-1]["event"] == "end" and attempts[-1]["rc"] != 0:
        return "failed", last_error_line(job.run_dir)
    if attempts:
        return "interrupted", "rerun `study.py run` to resume it"
    return "pending", ""


def report_dir(out: Path, correlate_args: list[str]) -> Path:
    """Where correlate.py writes: the study's report/ unless --correlate-args gives its own --out (the last one wins,
    as in correlate.py's argparse; relative to the repository root, where correlate.py runs)."""
    report = out / "report"
    for i, arg in enumerate(correlate_args):
        if arg == "--out":
            if i + 1 == len(correlate_args):
                raise ValueError("--correlate-args: --out needs a folder")
            report = ROOT / correlate_args[i + 1]
        elif arg.startswith("--out="):
            report = ROOT / arg[len("--out="):]
    return report


def collect(study: Study, jobs: list[Job], out: Path, correlate_args: list[str]) -> int:
    """One results CSV from every finished job's results.csv, then correlate.py on it with the published ones."""
    import pandas as pd

    from data.results import COLUMNS, append_results, read_results

    files = [Path(j.run_dir) / RUN_RESULTS for j in jobs if j.kind != "intermediate" and job_done(j)]
    missing = [j.name for j in jobs if j.kind != "intermediate" and not job_done(j)]
    if not files:
        print(f"collect: no finished job has results yet ({len(missing)} to run)", file=sys.stderr)
        return 1
    try:
        df = read_results(files)
    except (ValueError, OSError) as e:  # DataError is a ValueError naming the file and line
        print(f"collect: error: {e}", file=sys.stderr)
        return 1
    rows = [{c: (r[c] if pd.notna(r[c]) else "") for c in COLUMNS} for r in df.to_dict("records")]
    csv_path = out / "results.csv"
    tmp = out / ".results.new.csv"
    tmp.unlink(missing_ok=True)
    append_results(tmp, rows)
    os.replace(tmp, csv_path)
    print(f"collect: {len(rows)} rows from {len(files)} runs -> {csv_path}")
    if missing:
        print(f"collect: {len(missing)} job(s) not done, left out: {', '.join(missing)}")
    report = report_dir(out, correlate_args)
    items = [str(d) for j in jobs if j.kind != "intermediate" and job_done(j)
             for d in [Path(j.run_dir) / ITEMS_DIR] if any(d.glob("items.*.csv"))]
    cmd = [sys.executable, "correlate.py", str(csv_path), "--with-published", "--out", str(out / "report"),
           *(["--item-scores", *items] if items else []), *correlate_args]
    print("collect: " + shlex.join(cmd), flush=True)
    rc = subprocess.run(cmd, cwd=ROOT).returncode
    if rc != 0:
        print(f"collect: error: correlate.py failed (exit code {rc}); {csv_path} is written", file=sys.stderr)
        return rc
    print(f"collect: report in {report}")
    return 1 if missing else 0


# --- command line --------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Plan, run, watch and collect a study (see the docstring).")
    p.add_argument("command", choices=("plan", "run", "status", "collect"))
    p.add_argument("config", help="study config, e.g. configs/study/phang2020.yaml")
    p.add_argument("--out-dir", default=None, help="study folder (default: the config's out_dir)")
    p.add_argument("--throughput", type=float, default=None,
                   help="plan: training tokens/s per GPU to assume (finite, > 0)")
    p.add_argument("--launcher", choices=("slurm", "local"), default="slurm")
    p.add_argument("--partition", default=None)
    p.add_argument("--account", default=None)
    p.add_argument("--qos", default=None)
    p.add_argument("--constraint", default=None)
    p.add_argument("--time", default=None, help="Slurm time limit per job in Slurm's grammar: minutes, MM:SS, "
                   "HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (default 1440 = one day)")
    p.add_argument("--gpus-per-job", type=int, default=None, help="GPUs per job (default 1; >1 runs torchrun)")
    p.add_argument("--cpus-per-job", type=int, default=None, help="CPUs per job (default 8)")
    p.add_argument("--mem", default=None, help="Slurm memory per job, e.g. 64G")
    p.add_argument("--gpu-memory", type=float, default=DEFAULT_GPU_MEMORY_GB,
                   help=f"GB per GPU that plan and run check each job against (default {DEFAULT_GPU_MEMORY_GB:g})")
    p.add_argument("--jobs", type=int, default=None,
                   help="local: jobs at a time (default: visible GPUs / gpus-per-job, 1 on CPU)")
    p.add_argument("--no-wait", action="store_true", help="slurm: return once submitted")
    p.add_argument("--poll", type=float, default=30.0, help="slurm: seconds between checks while waiting")
    p.add_argument("--correlate-args", default="", help="collect: extra correlate.py arguments, e.g. '--no-plots'")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        study = load_study(args.config)
        # the config's out_dir is relative to the repository (as the recipes' paths are), --out-dir to the shell
        out = Path(args.out_dir).resolve() if args.out_dir else ROOT / study.out_dir
        for key, default in (("partition", None), ("account", None), ("qos", None), ("constraint", None),
                             ("time", 1440), ("gpus_per_job", 1), ("cpus_per_job", 8), ("mem", None)):
            if getattr(args, key) is None:
                setattr(args, key, study.slurm.get(key, default))
        if args.gpus_per_job < 0 or args.cpus_per_job < 1:
            raise ValueError(f"--gpus-per-job {args.gpus_per_job} must be >= 0 and --cpus-per-job {args.cpus_per_job} >= 1")
        slurm_minutes(args.time)
        if args.jobs is not None and args.jobs < 1:
            raise ValueError(f"--jobs {args.jobs}: give at least 1 job at a time")
        if args.throughput is not None and not (math.isfinite(args.throughput) and args.throughput > 0):
            raise ValueError(f"--throughput {args.throughput}: tokens/s per GPU must be finite and > 0")
        if not (math.isfinite(args.poll) and args.poll > 0):
            raise ValueError(f"--poll {args.poll}: seconds between checks must be finite and > 0")
        try:
            correlate_args = shlex.split(args.correlate_args)
        except ValueError as e:
            raise ValueError(f"--correlate-args {args.correlate_args!r}: {e}") from None
        report_dir(out, correlate_args)
        jobs = build_jobs(study, str(out))
        if args.command in ("plan", "run"):  # a job that does not fit its GPUs: refused before any submission
            check_memory(jobs, args.gpus_per_job, args.gpu_memory)
        if args.command == "run" and args.launcher == "slurm":
            check_slurm(args)
        live_record = read_submitted(out) if args.command == "status" else {}
        speed_record = read_throughput(args.throughput) if args.command == "plan" else None
        if args.command != "status":
            try:
                out.mkdir(parents=True, exist_ok=True)
                probe = out / f".study-write-check-{os.getpid()}"
                probe.touch()
                probe.unlink()
            except OSError as e:
                raise ValueError(f"study folder {out}: cannot write there ({e.strerror or e})") from None
    except ValueError as e:
        sys.exit(f"study.py: error: {e}")

    if args.command == "plan":
        speed, per_kind, source = speed_record
        total = add_estimates(jobs, speed, per_kind)
        rows = [("job", "kind", "after", "examples", "epochs", "mean tok", "GB/GPU", "GPU-h")]
        mems = {j.name: job_memory(j, args.gpus_per_job) for j in jobs}
        rows += [(j.name, j.kind, ",".join(j.deps) or "-", f"{j.examples:,}", f"{j.epochs:g}", str(j.mean_tokens),
                  f"{mems[j.name].total_gb:.1f}" if mems[j.name] else "-", f"{j.gpu_hours:.2f}") for j in jobs]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        counts = {k: sum(j.kind == k for j in jobs) for k in KINDS}
        print(f"total: {len(jobs)} jobs ({', '.join(f'{n} {k}' for k, n in counts.items())}), "
              f"{total:,.1f} GPU-hours")
        print(f"throughput: {source}")
        print(f"memory: estimated per GPU on {args.gpus_per_job} GPU(s) per job (xlmr/memory.py), checked against "
              f"{args.gpu_memory:g} GB; '-' = retrieval (forward only) or no architecture known")
        print("not counted: dev evaluations during training, zero-shot evaluation, queueing, model loading")
        out.mkdir(parents=True, exist_ok=True)
        plan = {"study": study.path, "out_dir": str(out), "throughput_tokens_per_s": speed,
                "throughput_source": source, "total_gpu_hours": total, "jobs": [asdict(j) for j in jobs]}
        atomic_write_text(out / "plan.json", json.dumps(plan, indent=1) + "\n")
        print(f"plan: {out / 'plan.json'}")
    elif args.command == "run":
        try:  # one driver per study; held until this process ends (the kernel drops it, however it ends)
            lock = hold_lock(out, STUDY_LOCK, what="study.py run")  # referenced until main returns
        except (ValueError, OSError) as e:
            sys.exit(f"study.py: error: {e}")
        if args.launcher == "local":
            n_gpus = _visible_gpus()
            gpus = args.gpus_per_job if n_gpus else 0
            workers = args.jobs or (max(1, n_gpus // gpus) if gpus else 1)
            failed = run_local(jobs, workers, gpus)
        else:
            try:
                live = run_slurm(jobs, args, out)
            except (RuntimeError, ValueError) as e:
                sys.exit(f"study.py: error: {e}")
            if args.no_wait:
                print(f"submitted; watch with  python study.py status {args.config}")
                return
            failed = wait_slurm(jobs, live, args.poll)
        if failed:
            sys.exit(f"study.py: {len(failed)} job(s) not done: {', '.join(failed)} "
                     f"(python study.py status {args.config}; rerun to resume)")
        print(f"study done: {len(jobs)} jobs; next: python study.py collect {args.config}")
    elif args.command == "status":
        live = live_record
        try:
            states = squeue_states() if live else {}
        except (OSError, RuntimeError):
            states = {}
        counts: dict[str, int] = {}
        for j in jobs:
            try:
                state, detail = job_status(j, live, states)
            except ValueError as e:  # a garbled study_attempts.jsonl
                state, detail = "unreadable", str(e)
            counts[state] = counts.get(state, 0) + 1
            print(f"{state:12} {j.name}" + (f"  {detail}" if detail else ""))
        print("total: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    else:
        sys.exit(collect(study, jobs, out, correlate_args))


def _visible_gpus() -> int:
    import torch

    return torch.cuda.device_count()


if __name__ == "__main__":
    main()
