"""Covariates of the analysis (analysis/covariates.py): which corpus sizes a model's rows get, the Wikipedia sizes
file for mBERT against its cited source, and bad rows in that file.

Run: python -m pytest -q tests/test_analysis_covariates.py
"""
import math

import numpy as np
import pytest

from analysis import covariates as cov
from data.tasks import TASKS, target_tasks


@pytest.mark.parametrize("model, corpus", [
    ("XLM-R Large", "cc100"), ("XLM-R Base", "cc100"), ("xlm-roberta-large", "cc100"),
    ("mBERT", "wikipedia"), ("mBERT (uncased, original release)", "wikipedia"),
    ("bert-base-multilingual-cased", "wikipedia"), ("MuRIL", None), ("mT5", None)])
def test_pretraining_corpus_is_decided_by_the_model_name(model, corpus):
    assert cov.pretraining_corpus(model) == corpus


def test_mbert_rows_get_log_wikipedia_word_tokens():
    # hand-copied from mayhewsw/multilingual-data-stats@0adee01f...:wiki/wiki.csv, column Tokens
    assert cov.log_pretraining_size("mBERT", "hi") == pytest.approx(math.log(43_915_945))
    assert cov.log_pretraining_size("mBERT", "en") == pytest.approx(math.log(2_622_505_044))
    assert cov.log_pretraining_size("mBERT", "yo") == pytest.approx(math.log(1_343_939))  # Yoruba is in Wikipedia
    assert cov.log_pretraining_size("XLM-R Large", "hi") == pytest.approx(math.log(20.2 / 3))  # unchanged for XLM-R
    assert math.isnan(cov.log_pretraining_size("XLM-R Large", "yo"))  # not in CC-100
    assert math.isnan(cov.log_pretraining_size("MuRIL", "hi"))  # unknown corpus: no size, never a guess


def test_wikipedia_file_covers_every_target_language_with_the_source_values():
    tokens = cov.wikipedia_tokens()
    xtreme = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba")  # mBERT's scope
    langs = {lang for t in xtreme for lang in TASKS[t].langs} | {"ro"}
    assert langs <= set(tokens)
    assert tokens["zh"] == 269_492_468 and tokens["sw"] == 6_195_009 and tokens["ja"] == 712_594_813
    assert len(tokens) == 41  # the XTREME languages and Romanian, no more
    table = cov.size_table(["hi", "yo"]).set_index("lang")
    assert table.loc["hi", "wiki_tokens"] == 43_915_945 and table.loc["yo", "cc100_gib"] == 0.0  # explicit: not in CC-100
    assert table.loc["yo", "cc100_status"] == "unseen" and np.isnan(table.loc["yo", "log_cc100_gichars"])
    assert table.loc["yo", "log_wiki_tokens"] == pytest.approx(math.log(1_343_939))


def test_wikipedia_file_cites_its_source_commit_and_what_it_counts():
    head = cov.WIKIPEDIA_SIZES.read_text(encoding="utf-8")
    assert "mayhewsw/multilingual-data-stats@0adee01f665177f088fd2596ebc8e3ce697c4311:wiki/wiki.csv" in head
    assert "20201001" in head and "wc -w" in head


def test_a_bad_row_in_the_sizes_file_names_the_file_and_line(tmp_path):
    bad = tmp_path / "sizes.csv"
    bad.write_text("# a comment\nLanguage,Wiki,Tokens\nHindi,hi,\"43,915,945\"\nKorean,ko,many\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"sizes.csv: line 4: Tokens 'many' is not a whole number"):
        cov.wikipedia_tokens(bad)


def test_every_seen_language_has_its_script_s_utf8_width():
    """The size covariate of the ~100 languages XLM-R saw (the many-language model uses all of them): each main
    script's bytes per letter, checked by encoding a letter of that script."""
    from analysis.covariates import UTF8_BYTES
    from data.languages import cc100_status, languages

    letters = {"Latn": "a", "Cyrl": "ж", "Grek": "λ", "Arab": "ب", "Hebr": "ש", "Armn": "Ա", "Geor": "ა", "Beng": "ক",
               "Deva": "क", "Mlym": "ക", "Taml": "க", "Telu": "క", "Thai": "ก", "Mymr": "က", "Jpan": "あ", "Kore": "한",
               "Hans": "汉", "Hant": "漢", "Ethi": "ሀ", "Gujr": "ક", "Guru": "ਕ", "Khmr": "ក", "Knda": "ಕ", "Laoo": "ກ",
               "Orya": "କ", "Sinh": "ක"}
    assert set(letters) == set(UTF8_BYTES)
    assert {s: len(ch.encode("utf-8")) for s, ch in letters.items()} == UTF8_BYTES
    seen = {row.script for tag, row in languages().items() if cc100_status(tag) == "seen"}
    assert seen <= set(UTF8_BYTES), sorted(seen - set(UTF8_BYTES))
