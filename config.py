"""The run configuration of train.py: typed dataclasses, YAML loading, `key=value` overrides, checks.

    cfg = load_config(["configs/model/xlmr_large.yaml", "configs/xstilts/mnli.yaml", "configs/target/xnli.yaml"],
                      ["target.lr=2e-5"])
    python config.py configs/model/xlmr_large.yaml configs/xstilts/mnli.yaml configs/target/xnli.yaml target.lr=2e-5

A YAML file has one mapping per section (`model`, `data`, `train`, `intermediate`, `target`, `eval`),
each filled into the dataclass of the same name below; a missing key keeps its default. An override is
`section.field=value`, the value parsed as YAML (`intermediate.tasks=[mnli,squad_v2]`). An unknown key, a
value of the wrong type or settings that cannot work together raise one ValueError naming the key —
before any model or data is loaded. Several files merge in order (an intermediate-task config, then a target
recipe). `resolve_config` fills the derived values (the training task of the target, the model's name, the
`{model} {intermediate} {target} {seed}` placeholders of train.out_dir) so that the saved `config.yaml` says
exactly what ran. `check_files` (called by train.py) then checks that the paths exist.

Numbers: PyYAML reads `1e-5` (no dot) as a string; a float field accepts such a numeric string, an int
field accepts only integers, a bool field only true/false. Every float must be finite (`.inf`, `.nan` are
refused), train.seed lies in [0, MAX_SEED], and train.out_dir may use only the four placeholders, bare.
A key written twice in one YAML mapping is an error (PyYAML would silently keep the later value).
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import string
import sys
import typing
from dataclasses import dataclass, field

import yaml

from common.paths import default_data_dir
from data.tasks import TASKS, get_task
from runs import RUN_CONFIG, phase_done

# Sequence length by task kind, specials included (REFERENCE.md's stage-2 recipe: 384 for QA, 512 for retrieval,
# 256 otherwise): the default of evaluate.py --max-len and retrieval.py --max-len.
MAX_LEN_BY_KIND = {"span": 384, "retrieval": 512}
MAX_LEN_DEFAULT = 256
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MODEL_SIZES = ("tiny", "base", "large", "xl", "xxl")
OUT_DIR_PLACEHOLDERS = ("model", "intermediate", "target", "seed")  # train.out_dir's {names}, nothing else
MAX_SEED = 2**31 - 1  # train.seed + 2 + rank must stay a valid seed of torch, numpy and Python's random
DATA_LAYOUTS = ("auto", "upstream", "hub", "xtreme")  # data/tasks.py LAYOUT_GROUPS, tried in this order by auto
FROM_RUN_CLASH = ("config: intermediate.from_run reuses a finished intermediate model; it cannot be combined with "
                  "intermediate.tasks or data.mlm_files (train a new one, or reuse one)")


@dataclass
class ModelConfig:
    path: str = ""  # pretrained XLM-R folder (Hugging Face or fairseq layout); "" = random init of `size`
    size: str = "tiny"  # architecture: of a random init (path ""), and study.py plan's until path is downloaded: tiny | base | large | xl | xxl
    spm_path: str = ""  # random init only: the sentencepiece model of the tokenizer
    name: str = ""  # the results' `model` column; "" = the folder name of path, or "random-<size>"
    dropout: float = 0.1  # hidden dropout of the encoder and the heads
    attn_dropout: float = 0.1  # dropout on attention probabilities
    activation_checkpointing: bool = False  # recompute layer activations in backward (less memory, ~30% slower)
    freeze_embeddings: bool = False  # train all but the embeddings (word, position, type, their LayerNorm): no grads or Adam state for XXL's 1B embedding parameters


@dataclass
class DataConfig:
    data_dir: str = field(default_factory=default_data_dir)  # task files (python -m data.download --out datasets); env XSTILTS_DATA_DIR
    task_data_dirs: dict = field(default_factory=dict)  # task -> folder overriding data_dir (machine-translated data)
    mlm_files: list = field(default_factory=list)  # raw text files (one sentence a line) for the auxiliary MLM arm
    layout: str = "auto"  # data layout read: auto (first found of upstream, hub, xtreme) | upstream | hub | xtreme
    ud_words: str = "fused"  # UD-POS .conllu words: fused (XTREME's: a multiword token is one word) | syntactic


@dataclass
class TrainConfig:
    out_dir: str = "runs/{model}/{intermediate}/{target}/s{seed}"  # run folder; {model} {intermediate} {target} {seed} are filled in
    seed: int = 0  # seeds init, dropout, data order, task sampling and masking
    device: str = "auto"  # auto (cuda when available, else cpu) | cpu | cuda
    precision: str = "auto"  # auto (bf16 on GPU, fp32 on CPU) | fp32 | bf16 | fp16 (GradScaler)
    weight_decay: float = 0.01  # AdamW decay; never on biases and LayerNorm weights
    adam_betas: list = field(default_factory=lambda: [0.9, 0.999])  # AdamW betas
    adam_eps: float = 1e-8  # AdamW epsilon
    max_grad_norm: float = 1.0  # gradient clipping (0 = off)
    warmup_ratio: float = 0.1  # linear warmup over this share of the steps, then linear decay to 0
    log_every: int = 10  # steps between metrics.jsonl lines
    save_every: int = 0  # steps between resumable checkpoints (0 = at every evaluation)
    compile: bool = False  # torch.compile the encoder (GPU runs)
    fsdp: bool = False  # several processes: shard with FSDP2 (xlmr/fsdp.py) instead of DDP replicas (XL, XXL)


@dataclass
class PhaseConfig:
    """Settings both training phases share. The defaults are Phang et al. (2020)'s recipe as REFERENCE.md gives it
    (jiant's XTREME scripts): a recipe in configs/ states only where it departs from them."""

    lr: float = 1e-5  # peak learning rate
    epochs: float = 2.0  # passes over the (capped) training data; ignored when max_steps > 0
    max_steps: int = 0  # optimizer steps (0 = from epochs)
    batch_size: int = 4  # sequences per device per micro-batch
    grad_accum: int = 8  # micro-batches per optimizer step; effective batch = batch_size x grad_accum x world size
    max_len: int = 0  # tokens per sequence, specials included (0 = by the task kind: default_max_len)
    doc_stride: int = 128  # span tasks: overlap between windows of a long context
    eval_every: int = 1000  # steps between English dev evaluations (0 = only at the end)
    eval_examples: int = 500  # English dev examples per evaluation (0 = all)
    patience: int = 30  # stop after this many evaluations without improvement (0 = never stop early)


@dataclass
class IntermediateConfig(PhaseConfig):
    tasks: list = field(default_factory=list)  # English intermediate task(s); [] = skip (baseline); >1 = multi-task
    from_run: str = ""  # reuse the selected intermediate model of this finished run folder instead of training one
    temperature: float = 1.0  # multi-task: sample task i with p ~ n_i^(1/temperature) (1 = by size, large = uniform)
    cap: int = 0  # multi-task: n_i is capped at this many examples when sampling (0 = no cap)
    mlm_prob: float = 0.15  # MLM arm: share of tokens masked (80% <mask>, 10% random, 10% kept)
    mlm_examples: int = 0  # MLM arm: n used for its sampling weight (0 = number of lines in mlm_files)


@dataclass
class TargetConfig(PhaseConfig):
    task: str = ""  # XTREME target task; retrieval targets (bucc2018, tatoeba) skip this phase
    train_task: str = ""  # task whose English train/dev sets train the target ("" = the registry row's train_task)


@dataclass
class EvalConfig:
    split: str = "test"  # zero-shot split scored in every language
    langs: list = field(default_factory=list)  # languages to score ([] = every language of the target)
    results: str = "results/results.csv"  # results file (the common schema) the rows are appended to
    batch_size: int = 64  # sequences per evaluation batch (also evaluate.py's and retrieval.py's default)


@dataclass
class RetrievalConfig:
    """retrieval.py's settings (its command-line defaults)."""

    k: int = 4  # neighbours for BUCC's ratio margin (Artetxe & Schwenk 2019)
    pool: str = "mean"  # sentence vector: mean over every token (<s> and </s> included) or "cls" (the <s> state)
    layer_of_24: int = 14  # XTREME / jiant: hidden_states[14] of XLM-R Large; scaled to other depths


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    intermediate: IntermediateConfig = field(default_factory=IntermediateConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


def default_max_len(kind: str) -> int:
    """The sequence length for a task kind (MAX_LEN_BY_KIND, else MAX_LEN_DEFAULT)."""
    return MAX_LEN_BY_KIND.get(kind, MAX_LEN_DEFAULT)


def _kind_max_len(tasks) -> int:
    """A phase's max_len when its config leaves it at 0: the longest of its tasks' kinds (unknown names count as
    the default; validate_config names them)."""
    return max([default_max_len(TASKS[t].kind) for t in tasks if t in TASKS] or [MAX_LEN_DEFAULT])


# --- loading -------------------------------------------------------------------------------------------
def _coerce(value, typ, key: str):
    """`value` checked (and, for YAML's numeric strings, converted) against the field type `typ`."""
    def bad(expected):
        return ValueError(f"config key {key}: expected {expected}, got {value!r} ({type(value).__name__})")

    if typ is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if typ is float:
        if isinstance(value, bool):
            raise bad("a number")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise bad("a number")
    if typ is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if typ is list:
        if not isinstance(value, list):
            raise bad("a list")
        return list(value)
    if typ is dict:
        if not isinstance(value, dict):
            raise bad("a mapping")
        return dict(value)
    raise AssertionError(f"unsupported field type {typ} for {key}")


def _set(section, name: str, value, key: str) -> None:
    hints = typing.get_type_hints(type(section))
    if name not in hints:
        known = ", ".join(f.name for f in dataclasses.fields(section))
        raise ValueError(f"unknown config key {key} (known in this section: {known})")
    setattr(section, name, _coerce(value, hints[name], key))


def _sections(cfg: Config) -> dict:
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}


def _apply_mapping(cfg: Config, raw, source: str) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    sections = _sections(cfg)
    for sec_name, values in raw.items():
        if sec_name not in sections:
            raise ValueError(f"{source}: unknown config section {sec_name!r} (known: {', '.join(sections)})")
        if values is None:
            continue
        if not isinstance(values, dict):
            raise ValueError(f"{source}: section {sec_name} must be a mapping, got {values!r}")
        for name, value in values.items():
            _set(sections[sec_name], str(name), value, f"{sec_name}.{name} ({source})")


def apply_overrides(cfg: Config, overrides: list[str]) -> None:
    """Apply `section.field=value` strings in order; values are parsed as YAML."""
    sections = _sections(cfg)
    for item in overrides:
        key, eq, text = item.partition("=")
        if not eq or "." not in key:
            raise ValueError(f"override {item!r}: expected section.field=value (e.g. target.lr=2e-5)")
        sec_name, _, name = key.strip().partition(".")
        if sec_name not in sections:
            raise ValueError(f"override {item!r}: unknown config section {sec_name!r} (known: {', '.join(sections)})")
        value = load_yaml(text, f"override {item!r}: the value") if text.strip() else ""
        if value is None:
            value = ""
        _set(sections[sec_name], name, value, f"{key} (override)")


class UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping (PyYAML silently keeps the later value)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found the key {key!r} twice (first on line {seen[key] + 1}); a config sets each key once",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str):
    """Parse YAML text with UniqueKeyLoader; ValueError naming `source` on a syntax error or a repeated key."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as e:
        raise ValueError(f"{source}: not valid YAML ({' '.join(str(e).split())})") from None


def _read_config_file(path) -> dict | None:
    """One --cfg file's mapping; one-line ValueErrors for a missing file, a folder, bad bytes, bad YAML."""
    if not os.path.exists(path) and re.fullmatch(r"[a-z_]+\.[a-z_]+", str(path)) \
            and str(path).split(".")[0] in _sections(Config()):
        raise ValueError(f"{path}: an override without a value (write {path}=VALUE), or a config file that "
                         "does not exist")
    return read_yaml_file(path, "config file", "config")


def read_yaml_file(path, what: str, short: str):
    """A YAML file's content (train configs, study configs): one-line ValueErrors naming the file for a missing file,
    a folder, unreadable or non-UTF-8 bytes (with the line), bad YAML or a key written twice (load_yaml)."""
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        raise ValueError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder; expected a YAML {what}") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot read the {what} ({e.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ValueError(f"{path}: line {line}: byte 0x{data[e.start]:02x} is not UTF-8; save the {short} as UTF-8") \
            from None
    return load_yaml(text, str(path))


def load_config(paths, overrides: list[str] = ()) -> Config:
    """Defaults <- each YAML file in order (a path or a list of paths) <- the overrides, then `resolve_config`
    and `validate_config`. A later file overrides what an earlier one set (an intermediate-task config, then a
    target recipe: `configs/xstilts/mnli.yaml configs/target/xnli.yaml`)."""
    cfg = Config()
    paths = [] if paths is None else [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    for path in paths:
        _apply_mapping(cfg, _read_config_file(path), str(path))
    apply_overrides(cfg, list(overrides))
    resolve_config(cfg)
    validate_config(cfg)
    return cfg


def intermediate_name(cfg: Config) -> str:
    """The results' `intermediate_task`: the task names joined by "+" ("+mlm" for the MLM arm), "none" without."""
    if cfg.intermediate.from_run:
        return read_run_config(cfg.intermediate.from_run).get("intermediate_name", "none")
    return "+".join(cfg.intermediate.tasks + (["mlm"] if cfg.data.mlm_files else [])) or "none"


def read_run_config(run_dir: str) -> dict:
    """What a finished run folder says about its intermediate phase (for intermediate.from_run)."""
    path = os.path.join(run_dir, RUN_CONFIG)
    if not os.path.isfile(path) or not phase_done(run_dir, "intermediate"):
        raise ValueError(f"config key intermediate.from_run: {run_dir} is not a run folder with a finished "
                         f"intermediate phase (needs config.yaml and intermediate/done.json)")
    raw = _read_config_file(path) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of sections, got {type(raw).__name__}")
    it, data = raw.get("intermediate", {}) or {}, raw.get("data", {}) or {}
    tasks = list(it.get("tasks") or [])
    name = "+".join(tasks + (["mlm"] if data.get("mlm_files") else [])) or "none"
    return {"intermediate_name": name, "model": (raw.get("model") or {}).get("name", "")}


def resolve_config(cfg: Config) -> None:
    """Fill the derived values in place, so the saved config says what ran."""
    t = cfg.target
    if t.task and not t.train_task:  # an unknown target keeps its own name here; validate_config names it
        t.train_task = (TASKS[t.task].train_task or "") if t.task in TASKS else t.task
    if cfg.intermediate.max_len == 0:
        cfg.intermediate.max_len = _kind_max_len(cfg.intermediate.tasks)
    if t.max_len == 0:
        t.max_len = _kind_max_len([t.train_task])  # a retrieval target trains nothing: the default
    if not cfg.model.name:
        cfg.model.name = (os.path.basename(os.path.normpath(cfg.model.path)) if cfg.model.path
                          else f"random-{cfg.model.size}")
    if cfg.intermediate.from_run and (cfg.intermediate.tasks or cfg.data.mlm_files):
        raise ValueError(FROM_RUN_CLASH)
    inter = intermediate_name(cfg)
    try:
        for _, name, spec, conversion in string.Formatter().parse(cfg.train.out_dir):
            if name is not None and (name not in OUT_DIR_PLACEHOLDERS or spec or conversion):
                raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}")
        cfg.train.out_dir = cfg.train.out_dir.format(model=cfg.model.name, intermediate=inter,
                                                     target=t.task or "none", seed=cfg.train.seed)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"config key train.out_dir: {cfg.train.out_dir!r} has an unknown placeholder ({e}); "
                         "known: {model} {intermediate} {target} {seed}") from None


# --- checks --------------------------------------------------------------------------------------------
def _get_task(name: str, key: str):
    try:
        return get_task(name)
    except ValueError as e:
        raise ValueError(f"config key {key}: {e}") from None


def _check_phase(p: PhaseConfig, sec: str) -> None:
    def need(cond: bool, key: str, what: str):
        if not cond:
            raise ValueError(f"config key {sec}.{key}: {what}, got {getattr(p, key)!r}")

    need(p.lr > 0, "lr", "must be > 0")
    need(p.epochs > 0 or p.max_steps > 0, "epochs", "must be > 0 (or set max_steps)")
    need(p.max_steps >= 0, "max_steps", "must be >= 0")
    need(p.batch_size >= 1, "batch_size", "must be >= 1")
    need(p.grad_accum >= 1, "grad_accum", "must be >= 1")
    need(8 <= p.max_len <= 512, "max_len", "must be in [8, 512] (XLM-R has 514 positions, 2 reserved)")
    need(p.doc_stride > 0, "doc_stride", "must be > 0")
    need(p.eval_every >= 0, "eval_every", "must be >= 0")
    need(p.eval_examples >= 0, "eval_examples", "must be >= 0")
    need(p.patience >= 0, "patience", "must be >= 0")


def _check_finite(cfg: Config) -> None:
    """Every float field (and every number in a list field) is finite: `.inf` and `.nan` pass the range checks
    below (nan compares False with everything) and then crash or silently train nothing."""
    for sec_name, section in _sections(cfg).items():
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, float) and not math.isfinite(v):
                    raise ValueError(f"config key {sec_name}.{f.name}: must be a finite number, got {value!r}")


def validate_config(cfg: Config) -> None:
    """Raise one ValueError for the first setting that cannot work; touches no model or data file."""
    m, d, tr, it, tg, ev = cfg.model, cfg.data, cfg.train, cfg.intermediate, cfg.target, cfg.eval
    _check_finite(cfg)
    if not 0 <= tr.seed <= MAX_SEED:
        raise ValueError(f"config key train.seed: must be in [0, {MAX_SEED}] (every RNG takes it), got {tr.seed!r}")
    if os.path.exists(tr.out_dir) and not os.path.isdir(tr.out_dir):
        raise ValueError(f"config key train.out_dir: {tr.out_dir} exists and is not a folder")
    if m.size not in MODEL_SIZES:
        raise ValueError(f"config key model.size: expected one of {MODEL_SIZES}, got {m.size!r}")
    if not m.path and not m.spm_path:
        raise ValueError("config: a random model (model.path empty) needs model.spm_path for its tokenizer")
    if m.path and m.spm_path:
        raise ValueError("config: model.spm_path is for a random model only; a pretrained model.path brings "
                         "its own tokenizer (set one of them)")
    for key in ("dropout", "attn_dropout"):
        if not 0.0 <= getattr(m, key) < 1.0:
            raise ValueError(f"config key model.{key}: must be in [0, 1), got {getattr(m, key)!r}")
    if d.ud_words not in ("fused", "syntactic"):
        raise ValueError(f"config key data.ud_words: expected fused or syntactic, got {d.ud_words!r}")
    if tr.precision not in PRECISIONS:
        raise ValueError(f"config key train.precision: expected one of {PRECISIONS}, got {tr.precision!r}")
    if tr.device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"config key train.device: expected auto, cpu or cuda, got {tr.device!r}")
    if tr.device == "cpu" and tr.precision == "fp16":
        raise ValueError("config: train.precision=fp16 needs a GPU (train.device=cpu); use fp32 or bf16 on CPU")
    if not (isinstance(tr.adam_betas, list) and len(tr.adam_betas) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in tr.adam_betas)):
        raise ValueError(f"config key train.adam_betas: expected two numbers in [0, 1), got {tr.adam_betas!r}")
    if not 0.0 <= tr.warmup_ratio < 1.0:
        raise ValueError(f"config key train.warmup_ratio: must be in [0, 1), got {tr.warmup_ratio!r}")
    for key in ("weight_decay", "max_grad_norm", "adam_eps"):
        if getattr(tr, key) < 0:
            raise ValueError(f"config key train.{key}: must be >= 0, got {getattr(tr, key)!r}")
    for key in ("log_every", "save_every"):
        if getattr(tr, key) < 0:
            raise ValueError(f"config key train.{key}: must be >= 0, got {getattr(tr, key)!r}")
    if tr.log_every == 0:
        raise ValueError("config key train.log_every: must be >= 1")
    if tr.fsdp:
        if tr.precision == "fp16":
            raise ValueError("config: train.fsdp with train.precision=fp16 is not supported (its GradScaler is not "
                             "sharded); use bf16")
        import torch.distributed  # only for an FSDP config: the check needs torch

        if not torch.distributed.is_available():
            raise ValueError("config key train.fsdp: this torch build has no torch.distributed")
    if not tr.out_dir:
        raise ValueError("config key train.out_dir: must not be empty")

    # intermediate phase
    if not all(isinstance(t, str) for t in it.tasks):
        raise ValueError(f"config key intermediate.tasks: expected a list of task names, got {it.tasks!r}")
    if len(set(it.tasks)) != len(it.tasks):
        raise ValueError(f"config key intermediate.tasks: a task is listed twice in {it.tasks!r}")
    for name in it.tasks:
        task = _get_task(name, "intermediate.tasks")
        if task.kind == "retrieval":
            raise ValueError(f"config key intermediate.tasks: {name} is a retrieval task; it has no training set")
        if task.kind == "span" and it.doc_stride >= it.max_len:
            raise ValueError(f"config: intermediate.doc_stride {it.doc_stride} must be < intermediate.max_len "
                             f"{it.max_len} for the span task {name}")
    if it.from_run and (it.tasks or d.mlm_files):
        raise ValueError(FROM_RUN_CLASH)
    if it.from_run and not tg.task:
        raise ValueError("config: intermediate.from_run needs a target.task to train")
    if d.mlm_files and not it.tasks:
        raise ValueError("config: data.mlm_files (the auxiliary MLM arm) needs at least one intermediate.tasks entry")
    if not all(isinstance(p, str) and p for p in d.mlm_files):
        raise ValueError(f"config key data.mlm_files: expected a list of file paths, got {d.mlm_files!r}")
    if d.layout not in DATA_LAYOUTS:
        raise ValueError(f"config key data.layout: expected one of {DATA_LAYOUTS}, got {d.layout!r}")
    for name, folder in d.task_data_dirs.items():
        _get_task(str(name), "data.task_data_dirs")
        if not isinstance(folder, str) or not folder:
            raise ValueError(f"config key data.task_data_dirs.{name}: expected a folder path, got {folder!r}")
    if it.tasks:
        _check_phase(it, "intermediate")
        if it.temperature <= 0:
            raise ValueError(f"config key intermediate.temperature: must be > 0, got {it.temperature!r}")
        if it.cap < 0:
            raise ValueError(f"config key intermediate.cap: must be >= 0, got {it.cap!r}")
        if not 0.0 < it.mlm_prob < 1.0:
            raise ValueError(f"config key intermediate.mlm_prob: must be in (0, 1), got {it.mlm_prob!r}")
        if it.mlm_examples < 0:
            raise ValueError(f"config key intermediate.mlm_examples: must be >= 0, got {it.mlm_examples!r}")

    # target phase and evaluation
    if not tg.task:
        if not it.tasks and not it.from_run:
            raise ValueError("config: nothing to do — set target.task and/or intermediate.tasks")
        if ev.langs:
            raise ValueError("config: eval.langs is set but there is no target.task to evaluate")
        return
    target = _get_task(tg.task, "target.task")
    if target.kind == "retrieval":
        if not it.tasks:
            raise ValueError(f"config: target {tg.task} is scored by retrieval.py with no training; without "
                             "intermediate.tasks train.py has nothing to train (run retrieval.py on the pretrained model)")
    else:
        _check_phase(tg, "target")
        train_task = _get_task(tg.train_task, "target.train_task")
        if target.kind == "span" and tg.doc_stride >= tg.max_len:
            raise ValueError(f"config: target.doc_stride {tg.doc_stride} must be < target.max_len {tg.max_len}")
        if train_task.kind != target.kind:
            raise ValueError(f"config: target.train_task {tg.train_task} is a {train_task.kind} task but target "
                             f"{tg.task} is {target.kind}")
        if (train_task.labels or ()) != (target.labels or ()):
            raise ValueError(f"config: target.train_task {tg.train_task} has labels {train_task.labels} but target "
                             f"{tg.task} has {target.labels}; one head cannot serve both")
    unknown = [lang for lang in ev.langs if lang not in target.langs]
    if unknown:
        raise ValueError(f"config key eval.langs: {unknown} not languages of {tg.task} ({' '.join(target.langs)})")
    if target.kind != "retrieval" and ev.split not in target.splits:
        raise ValueError(f"config key eval.split: {tg.task} has splits {target.splits}, got {ev.split!r}")
    if ev.batch_size < 1:
        raise ValueError(f"config key eval.batch_size: must be >= 1, got {ev.batch_size!r}")


def check_files(cfg: Config) -> None:
    """The files and folders the run reads exist (train.py calls this before loading anything; kept apart from
    validate_config so the shipped configs validate on a machine without checkpoints or data)."""
    def need(ok: bool, key: str, path: str, what: str):
        if not ok:
            raise ValueError(f"config key {key}: {path} not found (expected {what})")

    if cfg.model.path:
        need(os.path.isdir(cfg.model.path), "model.path", cfg.model.path, "a checkpoint folder; see xlmr/download.py")
    else:
        need(os.path.isfile(cfg.model.spm_path), "model.spm_path", cfg.model.spm_path, "a sentencepiece model file")
    need(os.path.isdir(cfg.data.data_dir), "data.data_dir", cfg.data.data_dir, "the data folder; see data/download.py")
    for name, folder in cfg.data.task_data_dirs.items():
        need(os.path.isdir(folder), f"data.task_data_dirs.{name}", folder, "a data folder")
    for path in cfg.data.mlm_files:
        need(os.path.isfile(path), "data.mlm_files", path, "a raw text file, one sentence a line")


# --- saving --------------------------------------------------------------------------------------------
def config_to_dict(cfg: Config) -> dict:
    return dataclasses.asdict(cfg)


def dump_config(cfg: Config) -> str:
    """The resolved config as YAML text that load_config reads back to an equal Config."""
    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python config.py CONFIG.yaml [MORE.yaml ...] [section.field=value ...]")
    files = [a for a in sys.argv[1:] if "=" not in a]
    try:
        cfg = load_config(files, [a for a in sys.argv[1:] if "=" in a])
    except ValueError as e:
        sys.exit(f"config error: {e}")
    print(dump_config(cfg))


if __name__ == "__main__":
    main()
