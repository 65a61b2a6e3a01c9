"""The scale question: analysis/scale.py's interaction of distance and model size, and study.py plan's memory
check on configs/study/scale.yaml (Base, Large, XL, XXL).

Run: python -m pytest -q tests/test_scale.py        (the plan of the whole scale grid is marked slow)
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import study
from analysis import scale
from analysis.scale import SIZES, interaction, model_params, published_scores, scale_table
from config import TrainConfig

LANGS = ["ar", "bg", "de", "el", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"]


def planted(g: float, seed: int = 0, noise: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """Scores with a known interaction: slope -20 per unit distance at log10(params) = 8.5, changing by g per
    decade; a per-language offset; two seeds per cell; English included (it must be left out)."""
    rng = np.random.default_rng(seed)
    dist = {lang: d for lang, d in zip(LANGS, np.linspace(0.2, 0.8, len(LANGS)))}
    offset = {lang: rng.normal(0, 3) for lang in LANGS}
    rows = []
    for model in SIZES:
        lp = np.log10(model_params(model))
        for lang in LANGS + ["en"]:
            d = dist.get(lang, 0.0)
            for _ in range(2):
                value = 80 + 4 * lp + offset.get(lang, 0) + (-20 + g * (lp - 8.5)) * d + rng.normal(0, noise)
                rows.append({"model": model, "lang": lang, "value": value})
    return pd.DataFrame(rows), dist


def test_a_planted_interaction_is_recovered_with_its_interval():
    scores, dist = planted(g=6.0)
    r = interaction(scores, dist, n_resamples=499)
    assert r["ci_low"] < 6.0 < r["ci_high"] and abs(r["g_per_decade"] - 6.0) < 1.0
    assert r["p_permutation"] < 0.01 and r["n_langs"] == 14 and len(r["sizes"]) == 4
    table, sentence = scale_table(scores, dist, "xnli", "syntactic", "accuracy", n_resamples=499)
    assert list(table["model"][:4]) == list(SIZES) and table["estimate"].iloc[0] < table["estimate"].iloc[3] < 0
    assert "the distance effect shrinks as the encoder grows" in sentence and "14 languages x 4 sizes" in sentence


def test_no_interaction_gives_an_interval_over_zero_and_says_so():
    scores, dist = planted(g=0.0, seed=1)
    r = interaction(scores, dist, n_resamples=499)
    assert r["ci_low"] < 0 < r["ci_high"] and r["p_permutation"] > 0.05
    assert "no detectable change" in scale_table(scores, dist, "xnli", "syntactic", "accuracy",
                                                 n_resamples=99)[1]


def test_one_size_or_unknown_model_is_refused():
    scores, dist = planted(g=0.0)
    with pytest.raises(ValueError, match=">= 2 model sizes"):
        interaction(scores[scores["model"] == "XLM-R Base"], dist)
    with pytest.raises(ValueError, match="size is unknown"):
        interaction(scores.assign(model="mBERT"), dist)


def test_published_xnli_has_base_and_large_only():
    scores = published_scores("XNLI")
    assert sorted(scores["model"].unique()) == ["XLM-R Base", "XLM-R Large"]
    assert scores.groupby("model").size().to_dict() == {"XLM-R Base": 15, "XLM-R Large": 15}
    assert published_scores("XNLI").query("model == 'XLM-R Base' and lang == 'en'")["value"].item() == 85.8


# --- study.py plan: memory per job -------------------------------------------------------------------------------

def tiny_scale_study(tmp_path, models) -> str:
    path = tmp_path / "scale.yaml"
    path.write_text("model: [" + ", ".join(f"configs/model/{m}.yaml" for m in models) + "]\n"
                    f"out_dir: {tmp_path / 'out'}\nintermediate: [mnli]\ntargets: [xnli]\nseeds: [1]\n"
                    "baselines: false\n")
    return str(path)


def test_plan_lists_each_size_with_memory_per_gpu_and_scaled_gpu_hours(tmp_path, capsys):
    study.main(["plan", tiny_scale_study(tmp_path, ["xlmr_large", "xlmr_xl"]), "--gpus-per-job", "1",
                "--out-dir", str(tmp_path / "p"), "--throughput", "20000"])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("xlmr_")}
    assert set(rows) == {"xlmr_large/mnli/none/s1", "xlmr_large/mnli/xnli/s1", "xlmr_xl/mnli/none/s1",
                         "xlmr_xl/mnli/xnli/s1"}
    large, xl = float(rows["xlmr_large/mnli/none/s1"][-2]), float(rows["xlmr_xl/mnli/none/s1"][-2])
    assert 10 < large < 20 and 60 < xl < 80  # GB per GPU: XL fits one 80 GB GPU with activation checkpointing
    hours = float(rows["xlmr_xl/mnli/none/s1"][-1]) / float(rows["xlmr_large/mnli/none/s1"][-1])
    assert 9 < hours < 14  # ~9x the FLOPs per token, x 4/3 for checkpointing's extra forward


def test_xxl_on_one_80gb_gpu_is_refused_with_the_numbers(tmp_path):
    with pytest.raises(SystemExit) as e:
        study.main(["plan", tiny_scale_study(tmp_path, ["xlmr_large", "xlmr_xxl"]), "--gpus-per-job", "1",
                    "--out-dir", str(tmp_path / "p")])
    msg = str(e.value)
    assert "2 job(s) do not fit 1 GPU(s) of 80 GB, e.g. xlmr_xxl/mnli/" in msg
    assert "weights+grads+AdamW 171.1 GB [16 B x 10.70B parameters, 1 GPU] + activations 0.9 GB" in msg
    assert not (tmp_path / "p" / "plan.json").exists()  # refused before anything is written


def test_ddp_does_not_shard_so_eight_gpus_do_not_help_without_fsdp(tmp_path):
    with pytest.raises(SystemExit, match="DDP: every GPU holds all of it.*train.fsdp=true"):
        study.main(["plan", tiny_scale_study(tmp_path, ["xlmr_xxl"]), "--gpus-per-job", "8",
                    "--out-dir", str(tmp_path / "p")])


FSDP = "fsdp" in {f.name for f in dataclasses.fields(TrainConfig)}  # train.fsdp: FSDP2 (branch runs)


def scale_yaml(tmp_path) -> str:
    """configs/study/scale.yaml, with its `train.fsdp=true` override switched on once train.fsdp exists (until
    then the file ships it commented out: an unknown key is refused)."""
    from pathlib import Path
    text = (Path(study.ROOT) / "configs/study/scale.yaml").read_text()
    if FSDP and "\n# overrides: [train.fsdp=true]" in text:
        text = text.replace("overrides: []\n# overrides: [train.fsdp=true]", "overrides: [train.fsdp=true]\n#")
    path = tmp_path / "scale.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.slow
def test_plan_of_the_scale_study_refuses_xxl_on_one_gpu_and_lists_every_size_on_eight(tmp_path, capsys):
    path = scale_yaml(tmp_path)
    with pytest.raises(SystemExit, match=r"do not fit 1 GPU\(s\) of 80 GB, e.g. xlmr_xxl/"):
        study.main(["plan", path, "--gpus-per-job", "1", "--out-dir", str(tmp_path / "one")])
    if not FSDP:
        return  # 8 GPUs need FSDP for XXL (the test above); listed once train.fsdp exists
    study.main(["plan", path, "--gpus-per-job", "8", "--out-dir", str(tmp_path / "eight")])
    out = capsys.readouterr().out
    for size in ("xlmr_base", "xlmr_large", "xlmr_xl", "xlmr_xxl"):
        assert any(line.startswith(f"{size}/mnli/xnli/s1 ") for line in out.splitlines())
    assert "GPU-hours" in out and "GB/GPU" in out


@pytest.mark.slow
def test_bench_gpu_xl_check_runs_both_checkpointing_settings_on_cpu():
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "bench/bench_gpu.py", "--model", "xl", "--check"], cwd=study.ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    for kind in ("pair_cls  ckpt off", "pair_cls  ckpt on", "span      ckpt off", "span      ckpt on"):
        assert kind in p.stdout
    assert "estimate" in p.stdout and "faiss" not in p.stdout


def test_the_analysis_parameter_counts_are_the_encoders_own():
    from xlmr.memory import PRESETS, param_count

    assert scale.PARAMS == {size: param_count(PRESETS[size]()) for size in scale.PARAMS}
