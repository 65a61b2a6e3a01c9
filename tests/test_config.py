"""config.py: every shipped config loads and validates; every bad config is one clear ValueError.

Run: python -m pytest -q tests/test_config.py
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import config
from config import Config, apply_overrides, check_files, dump_config, load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SMOKE = CONFIGS / "smoke.yaml"
XSTILTS = sorted((CONFIGS / "xstilts").glob("*.yaml"))
TARGETS = sorted((CONFIGS / "target").glob("*.yaml"))
MODELS = sorted((CONFIGS / "model").glob("*.yaml"))
LARGE = CONFIGS / "model" / "xlmr_large.yaml"
# the targets a baseline trains (BUCC and Tatoeba baselines are retrieval.py on the pretrained model)
TRAINED_TARGETS = [p for p in TARGETS if config.TASKS[p.stem].train_task is not None]


def test_config_folders_hold_the_nine_intermediate_tasks_the_mix_and_the_nine_targets():
    assert [p.stem for p in XSTILTS] == ["anli_plus", "ccg", "commonsenseqa", "cosmosqa", "hellaswag", "mnli",
                                         "multitask", "qqp", "squad", "sst2"]
    assert [p.stem for p in TARGETS] == sorted(t for t, task in config.TASKS.items() if task.target)
    assert [p.stem for p in MODELS] == ["xlmr_base", "xlmr_large", "xlmr_xl", "xlmr_xxl"]
    assert not (CONFIGS / "baseline").exists()  # a baseline is model + target: no copies


@pytest.mark.parametrize("path", [SMOKE, *MODELS, *XSTILTS, *TRAINED_TARGETS], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_config_loads_validates_and_opens_with_its_launch_command(path):
    # a model file says no task: it is loaded with a target recipe; the others after the large model's block
    cfg = load_config(path if path == SMOKE else [path, TARGETS[-1]] if path in MODELS else [LARGE, path])
    text = path.read_text()
    assert text.startswith("# ") and "python train.py --cfg configs/" in text.split("\n\n")[0]
    if path in (LARGE, *XSTILTS):
        assert "torchrun --nproc_per_node=8" in text and "GPU memory" in text
    # the resolved config round-trips through its saved YAML
    assert load_config_text(dump_config(cfg)) == cfg


@pytest.mark.parametrize("target", TARGETS, ids=lambda p: p.stem)
@pytest.mark.parametrize("inter", XSTILTS, ids=lambda p: p.stem)
def test_every_intermediate_config_combines_with_every_target_recipe(inter, target):
    cfg = load_config([LARGE, inter, target])
    assert cfg.intermediate.tasks and cfg.target.task == target.stem
    assert cfg.train.out_dir == f"runs/xlmr-large/{config.intermediate_name(cfg)}/{target.stem}/s1"
    assert cfg.intermediate.batch_size * cfg.intermediate.grad_accum == 32


@pytest.mark.parametrize("target", TRAINED_TARGETS, ids=lambda p: p.stem)
def test_a_baseline_is_the_model_file_plus_the_target_recipe(target):
    cfg = load_config([LARGE, target])
    assert cfg.intermediate.tasks == [] and config.intermediate_name(cfg) == "none"
    assert cfg.model.path == "checkpoints/xlmr.large" and cfg.model.name == "XLM-R Large"
    assert cfg.train.out_dir == f"runs/xlmr-large/none/{target.stem}/s1"
    qa = cfg.target.task in ("xquad", "mlqa", "tydiqa")
    assert cfg.target.batch_size * cfg.target.grad_accum == (16 if qa else 32)  # REFERENCE.md stage-2 recipe
    stated = (yaml.safe_load(target.read_text(encoding="utf-8"))["target"]).get("max_len")
    kind = config.TASKS[cfg.target.train_task].kind  # else the kind's length: 384 for QA, 256 otherwise
    assert cfg.target.max_len == (stated or config.default_max_len(kind)) and cfg.target.lr == 1e-5


def load_config_text(text: str) -> Config:
    cfg = Config()
    config._apply_mapping(cfg, yaml.safe_load(text), "<saved>")
    config.resolve_config(cfg)
    config.validate_config(cfg)
    return cfg


def test_defaults_yaml_and_overrides_apply_in_order_with_yaml_numbers(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("model: {spm_path: x.model}\nintermediate: {tasks: [mnli], lr: 1e-5}\ntarget: {task: xquad}\n")
    cfg = load_config(p, ["intermediate.tasks=[mnli, sst2]", "target.epochs=3", "train.out_dir=runs/{target}"])
    assert cfg.intermediate.lr == 1e-5 and isinstance(cfg.intermediate.lr, float)  # PyYAML reads 1e-5 as a str
    assert cfg.intermediate.tasks == ["mnli", "sst2"] and cfg.target.epochs == 3.0
    assert cfg.target.train_task == "squad_v1"  # XQuAD trains on SQuAD v1.1
    assert cfg.target.batch_size == 4 and cfg.train.out_dir == "runs/xquad"
    assert cfg.model.name == "random-tiny"


BAD = [  # (yaml text, overrides, expected fragment of the one error message)
    ("modle: {path: x}", [], "unknown config section 'modle'"),
    ("model: {pth: x}", [], "unknown config key model.pth"),
    ("", ["target.lrr=1e-5"], "unknown config key target.lrr"),
    ("", ["target.lr=fast"], "config key target.lr (override): expected a number, got 'fast'"),
    ("", ["target.batch_size=4.5"], "config key target.batch_size (override): expected an integer"),
    ("", ["target.batch_size=true"], "expected an integer"),
    ("", ["train.compile=1"], "expected true or false"),
    ("", ["intermediate.tasks=mnli"], "config key intermediate.tasks (override): expected a list"),
    ("", ["train.seed"], "expected section.field=value"),
    ("", ["lr=1e-5"], "expected section.field=value"),
    ("", ["target.task=[unclosed"], "not valid YAML"),
    ("model: [1, 2]", [], "section model must be a mapping"),
    ("", ["target.task=xnlii"], "config key target.task: unknown task 'xnlii'"),
    ("", ["target.task=", "intermediate.tasks=[]"], "nothing to do"),
    ("", ["intermediate.tasks=[tatoeba]"], "tatoeba is a retrieval task"),
    ("", ["intermediate.tasks=[mnli, mnli]"], "listed twice"),
    ("", ["target.task=bucc2018", "intermediate.tasks=[]"], "nothing to train"),
    ("", ["intermediate.tasks=[]", "data.mlm_files=[a.txt]"], "data.mlm_files (the auxiliary MLM arm) needs"),
    ("", ["intermediate.from_run=runs/x"], "cannot be combined with intermediate.tasks"),
    ("", ["train.device=cpu", "train.precision=fp16"], "fp16 needs a GPU"),
    ("", ["train.precision=fp8"], "train.precision: expected one of"),
    ("", ["eval.langs=[de, xx]"], "eval.langs: ['xx'] not languages of xnli"),
    ("", ["target.task=xquad", "eval.split=dev"], "xquad has splits ('test',)"),
    ("", ["target.task=udpos", "target.train_task=mnli"], "is a pair_cls task but target udpos is tag"),
    ("", ["target.train_task=qqp"], "one head cannot serve both"),
    ("", ["target.task=xquad", "target.doc_stride=384"], "target.doc_stride 384 must be < target.max_len"),
    ("", ["target.max_len=600"], "target.max_len: must be in [8, 512]"),
    ("", ["target.grad_accum=0"], "target.grad_accum: must be >= 1"),
    ("", ["train.warmup_ratio=1.0"], "train.warmup_ratio: must be in [0, 1)"),
    ("", ["intermediate.temperature=0"], "intermediate.temperature: must be > 0"),
    ("", ["intermediate.mlm_prob=1.5"], "intermediate.mlm_prob: must be in (0, 1)"),
    ("", ["train.adam_betas=[0.9]"], "train.adam_betas: expected two numbers"),
    ("", ["model.size=huge"], "model.size: expected one of"),
    ("", ["data.ud_words=surface"], "data.ud_words: expected fused or syntactic"),
    ("", ["model.path=ckpt"], "model.spm_path is for a random model only"),
    ("", ["model.spm_path="], "needs model.spm_path"),
    ("", ["train.out_dir=runs/{task}"], "unknown placeholder"),
]


@pytest.mark.parametrize("text,overrides,message", BAD, ids=[m for _, _, m in BAD])
def test_each_bad_config_is_one_clear_value_error(tmp_path, text, overrides, message):
    base = "model: {spm_path: x.model}\nintermediate: {tasks: [mnli]}\ntarget: {task: xnli}\n"
    p = tmp_path / "c.yaml"
    p.write_text(text or base)  # a case with its own text replaces the (valid) base file
    with pytest.raises(ValueError) as e:
        load_config(p, overrides)
    assert message in str(e.value), str(e.value)


def test_missing_config_file_and_broken_yaml_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    p = tmp_path / "b.yaml"
    p.write_text("model: {path: [}\n")
    with pytest.raises(ValueError, match=r"b.yaml: not valid YAML"):
        load_config(p)


def test_check_files_names_the_missing_path(tmp_path):
    cfg = load_config(SMOKE)
    check_files(cfg)  # the smoke config's files ship with the repository (run from the root by the tests)
    apply_overrides(cfg, [f"data.mlm_files=[{tmp_path / 'none.txt'}]"])
    with pytest.raises(ValueError, match="data.mlm_files: .*none.txt not found"):
        check_files(cfg)


def test_from_run_needs_a_finished_intermediate_run_and_names_it(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(ValueError, match="not a run folder with a finished intermediate phase"):
        load_config(SMOKE, ["intermediate.tasks=[]", "data.mlm_files=[]", f"intermediate.from_run={run}"])
    (run / "intermediate").mkdir(parents=True)
    (run / "intermediate" / "done.json").write_text("{}")
    (run / "config.yaml").write_text(dump_config(load_config(SMOKE)))
    cfg = load_config(SMOKE, ["intermediate.tasks=[]", "data.mlm_files=[]", f"intermediate.from_run={run}",
                              "train.out_dir=runs/{intermediate}"])
    assert config.intermediate_name(cfg) == "mnli+sst2+mlm" and cfg.train.out_dir == "runs/mnli+sst2+mlm"


@pytest.mark.parametrize("field,new", [("patience", 7), ("lr", 3e-5), ("eval_examples", 123)])
def test_a_changed_phase_default_reaches_every_recipe_that_does_not_deviate(monkeypatch, field, new):
    """Recipes state only their deviations (issue 19): a new PhaseConfig default is what every recipe that does not
    set the field resolves to, and a recipe that sets it keeps its own value."""
    import dataclasses
    import glob

    import yaml

    model = ROOT / "configs" / "model" / "xlmr_large.yaml"
    recipes = sorted(glob.glob(str(ROOT / "configs" / "xstilts" / "*.yaml"))) + sorted(
        glob.glob(str(ROOT / "configs" / "target" / "*.yaml")))
    fields = {f.name: f for f in dataclasses.fields(config.PhaseConfig)}
    monkeypatch.setattr(fields[field], "default", new)
    for cls in (config.PhaseConfig, config.IntermediateConfig, config.TargetConfig):
        monkeypatch.setattr(cls, "__init__", _reinit(cls, field, new))
    checked = 0
    for recipe in recipes:
        raw = yaml.safe_load(Path(recipe).read_text(encoding="utf-8"))
        section = "intermediate" if "intermediate" in raw else "target"
        if section == "target" and config.TASKS[raw["target"]["task"]].train_task is None:
            continue  # retrieval: no training phase
        stage1 = [ROOT / "configs" / "xstilts" / "mnli.yaml"] if section == "target" else []
        cfg = config.load_config([model, *stage1, recipe])
        stated = raw[section].get(field)
        assert getattr(getattr(cfg, section), field) == (new if stated is None else stated), recipe
        checked += stated is None
    assert checked >= 10  # most recipes take the default


def _reinit(cls, field, new):
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(field, new)
        original(self, *args, **kwargs)
    return __init__


def test_no_recipe_restates_a_phase_default():
    """A recipe that restates a default would keep the old value when the default changes: only deviations."""
    import glob

    defaults = config.PhaseConfig()
    restated = []
    for recipe in sorted(glob.glob(str(ROOT / "configs" / "xstilts" / "*.yaml")) +
                         glob.glob(str(ROOT / "configs" / "target" / "*.yaml"))):
        raw = yaml.safe_load(Path(recipe).read_text(encoding="utf-8"))
        for section in ("intermediate", "target"):
            for key, value in (raw.get(section) or {}).items():
                if hasattr(defaults, key) and key != "max_len" and value == getattr(defaults, key):
                    restated.append(f"{Path(recipe).name}: {section}.{key}")
    assert not restated, f"recipes restate defaults: {restated}"
