"""data/languages.py: the language rows, and the facts the analysis takes from them (issue 19's silent cases).

    python -m pytest -q tests/test_languages.py
"""
from __future__ import annotations

import math

import pytest

from data import languages as L
from data.languages import COLUMNS, read_table


def _table(tmp_path, *rows: str):
    path = tmp_path / "languages.tsv"
    path.write_text("# a comment\n" + "\t".join(COLUMNS) + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _row(tag="xx", script="Latn", cc100="1.5", spaces="yes"):
    values = dict.fromkeys(COLUMNS, "")
    values.update(tag=tag, name="X", script=script, cc100_gib=cc100, spaces=spaces)
    return "\t".join(values[c] for c in COLUMNS)


def test_a_language_without_a_row_or_a_fact_is_refused_by_name():
    with pytest.raises(ValueError, match=r"language 'qqq' has no row in languages.tsv"):
        L.get_language("qqq")
    assert L.need("de", "script") == "Latn"
    with pytest.raises(ValueError, match=r"language 'de': no tydiqa_name in data/languages.tsv"):
        L.need("de", "tydiqa_name")


def test_a_language_with_no_script_is_refused_not_called_non_latin(monkeypatch, tmp_path):
    from analysis import covariates

    table = read_table(_table(tmp_path, _row("en", "Latn", "300.8"), _row("ht", "", "none")))
    monkeypatch.setattr(L, "languages", lambda: table)
    with pytest.raises(ValueError, match=r"language 'ht': no script"):
        covariates.size_table(["ht"])


def test_not_in_cc100_and_size_unknown_are_different_values(monkeypatch, tmp_path):
    from analysis import covariates

    table = read_table(_table(tmp_path, _row("en", "Latn", "300.8"), _row("yo", "Latn", "none"),
                              _row("zz", "Latn", "unknown")))
    monkeypatch.setattr(L, "languages", lambda: table)
    sizes = covariates.size_table(["yo", "zz"]).set_index("lang")
    assert sizes.loc["yo", "cc100_status"] == "unseen" and sizes.loc["yo", "cc100_gib"] == 0.0
    assert sizes.loc["zz", "cc100_status"] == "unknown" and math.isnan(sizes.loc["zz", "cc100_gib"])


def test_yoruba_is_not_in_cc100_and_the_xtreme_sizes_are_the_papers():
    assert L.cc100_status("yo") == "unseen" and L.cc100_gib("yo") == 0.0
    assert L.cc100_gib("en") == 300.8 and L.cc100_gib("sw") == 1.6  # XLM-R paper, Table 6


@pytest.mark.parametrize("bad,message", [
    (_row("xx", cc100="-1"), r"line 3 \(xx\): cc100_gib '-1'; expected a positive number"),
    (_row("xx", spaces="maybe"), r"line 3 \(xx\): spaces 'maybe'; expected yes or no"),
    ("xx\tonly two", rf"line 3: 2 fields; expected {len(L.COLUMNS)} \(tag, name, "),
])
def test_a_malformed_row_names_the_file_and_line(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        read_table(_table(tmp_path, bad))


def test_a_tag_written_twice_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"line 4: tag 'xx' appears twice"):
        read_table(_table(tmp_path, _row("xx"), _row("xx")))
