"""Tokenizer covariates (analysis/tokenization.py) and their association with the drop (analysis/run.py):
fertility and vocabulary overlap with English from a sentencepiece model trained here on tiny text (hand-checked
numbers), the real XQuAD files of ../shared/realdata, and the error paths.

Run: python -m pytest -q tests/test_analysis_tokenization.py
"""
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import correlate
from analysis import run as R
from analysis import tokenization as T

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    for cand in (os.environ.get("XSTILTS_SHARED"), ROOT.parent / "shared", Path("/work/shared")):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def train_spm(path: Path, texts, **kw) -> Path:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_writer=model, minloglevel=2, **kw)
    path.write_bytes(model.getvalue())
    return path


def write_xquad(folder: Path, lang: str, paragraphs) -> None:
    """paragraphs: [(context, [question, ...])]; each answer is the context's first character."""
    data = [{"title": f"t{i}", "paragraphs": [{"context": c, "qas": [
        {"id": f"{lang}{i}{j}", "question": q, "answers": [{"text": c[0], "answer_start": 0}]}
        for j, q in enumerate(qs)]}]} for i, (c, qs) in enumerate(paragraphs)]
    (folder / "xquad").mkdir(parents=True, exist_ok=True)
    (folder / "xquad" / f"xquad.{lang}.json").write_text(json.dumps({"version": "1.1", "data": data}),
                                                          encoding="utf-8")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A character sentencepiece model (every character a piece, '▁' before each word) and a tiny XQuAD folder."""
    tmp = tmp_path_factory.mktemp("tok")
    model = train_spm(tmp / "char.model", ["ab cd", "ef ef", "中文 a"], model_type="char", vocab_size=12,
                      hard_vocab_limit=False, character_coverage=1.0)
    data = tmp / "data"
    write_xquad(data, "en", [("ab cd", ["ab"])])
    write_xquad(data, "de", [("ab ef", ["ef ef"]), ("ab ef", ["ab ef"])])  # the context repeats: counted once
    write_xquad(data, "zh", [("中a", ["中文"])])
    return model, data


def test_the_char_model_splits_as_the_hand_counts_assume(tiny):
    sp = T.load_spm(tiny[0])
    assert sp.encode("ab cd", out_type=str) == ["▁", "a", "b", "▁", "c", "d"]
    assert sp.encode("中文", out_type=str) == ["▁", "中", "文"]


def test_fertility_and_overlap_equal_hand_counts(tiny):
    table, notes = T.tokenizer_covariates(tiny[0], tiny[1], ["xquad"])
    t = table.set_index("lang")
    assert sorted(t.index) == ["de", "en", "zh"] and set(t["split"]) == {"test"}
    # en: "ab" (3 pieces), "ab cd" (6): 9 pieces / 3 words
    assert (t.loc["en", "pieces"], t.loc["en", "units"], t.loc["en", "fertility"]) == (9, 3, 3.0)
    assert t.loc["en", "overlap_types"] == 1.0 and t.loc["en", "unit"] == "word"
    # de: "ef ef" (6), "ab ef" (6) once: 12 pieces / 4 words; types {▁ e f a b}, 3 in English; tokens ▁4 a1 b1 of 12
    assert (t.loc["de", "texts"], t.loc["de", "pieces"], t.loc["de", "units"]) == (2, 12, 4)
    assert t.loc["de", "fertility"] == 3.0
    assert t.loc["de", "overlap_types"] == pytest.approx(3 / 5) and t.loc["de", "overlap_tokens"] == pytest.approx(0.5)
    # zh: characters, not words: "中文" (3 pieces), "中a" (3): 6 pieces / 4 characters;
    # types {▁ 中 文 a}, 2 of them in English
    assert t.loc["zh", "unit"] == "character" and t.loc["zh", "fertility"] == pytest.approx(6 / 4)
    assert t.loc["zh", "overlap_types"] == pytest.approx(2 / 4)
    assert t.loc["zh", "overlap_tokens"] == pytest.approx(3 / 6)
    assert any("no text for" in n and "ar" in n for n in notes)  # the other XQuAD languages: said, not guessed


def test_no_english_text_gives_fertility_but_no_overlap(tiny, tmp_path):
    write_xquad(tmp_path, "de", [("ab ef", ["ef ef"])])
    table, notes = T.tokenizer_covariates(tiny[0], tmp_path, ["xquad"])
    assert table["fertility"].iloc[0] == 3.0 and np.isnan(table["overlap_types"].iloc[0])
    assert any("no English text" in n for n in notes)


def test_associations_with_the_drop_equal_independent_computations():
    langs = ["de", "es", "ru", "hi", "ar", "zh", "th", "tr"]
    rng = np.random.default_rng(0)
    dist = pd.DataFrame({"lang": langs, "syntactic": rng.uniform(0.3, 0.7, len(langs))})
    drops = pd.DataFrame({"model": "XLM-R Large", "intermediate_task": "none", "target_task": "xquad",
                          "split": "test", "lang": langs, "abs_drop": rng.normal(10, 3, len(langs))})
    tok = pd.DataFrame({"task": "xquad", "lang": langs, "fertility": rng.uniform(1, 2, len(langs)),
                        "overlap_types": rng.uniform(0, 1, len(langs))})
    a = R.tokenizer_associations(drops, dist, tok, "XLM-R Large", 199, 0).set_index("covariate")
    fert = [x for x in langs if x not in ("zh", "th")]  # per-character fertility: left out
    assert a.loc["fertility", "n"] == 6 and a.loc["fertility", "left_out"] == "th zh"
    assert a.loc["overlap_types", "n"] == 8
    for cov, ls in (("fertility", fert), ("overlap_types", langs)):
        x = dist.set_index("lang").loc[ls, "syntactic"].to_numpy()
        y = drops.set_index("lang").loc[ls, "abs_drop"].to_numpy()
        c = tok.set_index("lang").loc[ls, cov].to_numpy()
        assert a.loc[cov, "rho_with_drop"] == pytest.approx(stats.spearmanr(c, y).statistic)
        r = stats.spearmanr(np.column_stack([x, y, c])).statistic
        want = (r[0, 1] - r[0, 2] * r[1, 2]) / np.sqrt((1 - r[0, 2] ** 2) * (1 - r[1, 2] ** 2))
        assert a.loc[cov, "partial_rho_distance"] == pytest.approx(want)
        assert 0 < a.loc[cov, "p_rho"] <= 1 and 0 < a.loc[cov, "p_partial"] <= 1


def test_bad_spm_and_missing_data_dir_fail_before_any_work(tmp_path, tiny):
    with pytest.raises(ValueError, match=r"nope.model: no such sentencepiece model file"):
        T.load_spm(tmp_path / "nope.model")
    bad = tmp_path / "bad.model"
    bad.write_text("not a model")
    with pytest.raises(ValueError, match=r"bad.model: not a sentencepiece model"):
        T.load_spm(bad)
    with pytest.raises(SystemExit, match=r"need both a sentencepiece model \(--spm\) and a data folder"):
        correlate.main(["--spm", str(tiny[0]), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit, match=r"missing: no such data folder \(--data-dir\)"):
        correlate.main(["--spm", str(tiny[0]), "--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_real_xquad_files_give_counts_equal_to_a_direct_count(tmp_path, tmp_path_factory):
    shared = shared_dir()
    if shared is None or not (shared / "realdata" / "DATA" / "xquad").is_dir():
        pytest.skip("../shared/realdata is absent (set XSTILTS_SHARED)")
    data = shared / "realdata" / "DATA"
    raw = json.loads((data / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))
    texts = list(dict.fromkeys(t for art in raw["data"] for par in art["paragraphs"] for qa in par["qas"]
                               for t in (qa["question"], par["context"])))
    model = train_spm(tmp_path / "x.model", texts, vocab_size=800, model_type="unigram")
    table, _ = T.tokenizer_covariates(model, data, ["xquad"])
    t = table.set_index("lang")
    assert set(t.index) == {"ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"}  # no Romanian file
    assert t.loc["en", "texts"] == len(texts) and t.loc["en", "units"] == sum(len(x.split()) for x in texts)
    sp = T.load_spm(model)
    assert t.loc["en", "pieces"] == sum(len(p) for p in sp.encode(texts, out_type=str))
    assert set(t.loc[["zh", "th"], "unit"]) == {"character"} and t.loc["en", "overlap_types"] == 1.0
    assert t.loc["de", "overlap_types"] > t.loc["hi", "overlap_types"]  # Latin script shares English pieces
    # end to end: the report's appendix gets them, computed on the primary model's XQuAD drops (the published file
    # with XLM-R Large's XQuAD scores; the session's distance cache)
    out = tmp_path / "out"
    ctx = R.run([correlate.PUBLISHED_DIR / "xquad_readme_mbert_xlmr_large.csv"], out, n_resamples=99,
                cache_dir=tmp_path_factory.getbasetemp() / "uriel_cache", plots=False, spm=model, data_dir=data)
    a = ctx["tokenizer_associations"].set_index(["target_task", "covariate"])
    assert a.loc[("xquad", "overlap_types"), "n"] == 10 and a.loc[("xquad", "fertility"), "n"] == 8
    assert (out / "tokenizer.csv").exists() and "Association with XLM-R Large's abs_drop" in (
        out / "report.md").read_text()
