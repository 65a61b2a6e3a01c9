"""The results schema (data/results.py). Run: python -m pytest -q tests/test_results.py"""
import csv
from pathlib import Path

import pytest

from data.examples import DataError
from data.results import COLUMNS, append_results, read_results

PUBLISHED = Path(__file__).resolve().parents[1] / "results" / "published"


def make_row(**kw):
    row = dict(model="xlmr-tiny", intermediate_task="none", target_task="xnli", seed=1, lang="de", split="dev",
               metric="accuracy", value=71.25, source="runs/xnli-1")
    row.update(kw)
    return row


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_append_creates_file_with_header_and_round_trips(tmp_path):
    p = tmp_path / "sub" / "results.csv"
    append_results(p, [make_row(), make_row(lang="en", value=80.0)])
    append_results(p, [make_row(lang="fr", value=70.5, seed=None)])
    assert p.read_text().splitlines()[0] == ",".join(COLUMNS)
    df = read_results(p)
    assert list(df.columns) == [*COLUMNS, "file", "line"]
    assert df["lang"].tolist() == ["de", "en", "fr"]
    assert df["value"].tolist() == [71.25, 80.0, 70.5]
    assert df["seed"].tolist() == ["1", "1", ""]
    assert df["line"].tolist() == [2, 3, 4]
    assert sorted(x.name for x in p.parent.iterdir()) == [".results.csv.lock", "results.csv"]  # no temp left


def test_append_of_identical_row_is_idempotent(tmp_path):
    p = tmp_path / "r.csv"
    append_results(p, [make_row()])
    append_results(p, [make_row()])
    assert len(read_results(p)) == 1


def test_append_conflicting_value_fails_and_leaves_file_untouched(tmp_path):
    p = tmp_path / "r.csv"
    append_results(p, [make_row()])
    before = p.read_text()
    with pytest.raises(DataError, match=r"r.csv \(new row 0\).*contradicts 71.25.*line 2"):
        append_results(p, [make_row(value=60.0)])
    assert p.read_text() == before


@pytest.mark.parametrize("bad, message", [
    (dict(value="abc"), "value 'abc' is not a number"),
    (dict(value="nan"), "value 'nan' is not a finite number"),
    (dict(value=100.5), "value 100.5 is outside 0-100"),
    (dict(value=-1), "value -1.0 is outside 0-100"),
    (dict(lang=""), "empty 'lang'"),
    (dict(source=" "), "empty 'source'"),
    (dict(seed="x"), "seed 'x' is not an integer"),
])
def test_append_rejects_bad_row_naming_it(tmp_path, bad, message):
    with pytest.raises(DataError, match=r"r.csv:new row 1: " + message):
        append_results(tmp_path / "r.csv", [make_row(), make_row(**{"lang": "fr", **bad})])
    assert not (tmp_path / "r.csv").exists()


def test_append_rejects_unknown_column(tmp_path):
    with pytest.raises(ValueError, match=r"unknown columns \['score'\]"):
        append_results(tmp_path / "r.csv", [{**make_row(), "score": 1}])


def test_append_refuses_published_layout_file(tmp_path):
    p = write_csv(tmp_path / "pub.csv", [c for c in COLUMNS if c != "seed"],
                  [["m", "none", "XNLI", "de", "test", "accuracy", "80", "paper"]])
    with pytest.raises(DataError, match="cannot append"):
        append_results(p, [make_row()])


@pytest.mark.parametrize("field, raw, message", [
    ("value", "abc", "line 3: value 'abc' is not a number"),
    ("value", "NaN", "line 3: value 'NaN' is not a finite number"),
    ("value", "inf", "line 3: value 'inf' is not a finite number"),
    ("value", "8_0", "line 3: value '8_0' is not a number"),  # Python's float() would read 80
    ("value", "٨٠", "line 3: value '٨٠' is not a number"),  # Arabic-Indic digits: float() would read 80
    ("seed", "1_0", "line 3: seed '1_0' is not an integer"),  # int() would read 10
    ("value", "", "line 3: empty 'value'"),
    ("value", "101", "line 3: value 101.0 is outside 0-100"),
    ("model", "", "line 3: empty 'model'"),
    ("target_task", "  ", "line 3: empty 'target_task'"),
])
def test_read_reports_file_and_line_of_bad_value(tmp_path, field, raw, message):
    good = [make_row()[c] for c in COLUMNS]
    bad = dict(make_row(lang="fr"))
    bad[field] = raw
    p = write_csv(tmp_path / "r.csv", COLUMNS, [good, [bad[c] for c in COLUMNS]])
    with pytest.raises(DataError, match=f"r.csv:{message}"):
        read_results(p)


def test_read_rejects_wrong_header(tmp_path):
    p = write_csv(tmp_path / "r.csv", ["model", "task", "lang", "score"], [["a", "b", "c", "1"]])
    with pytest.raises(DataError, match=r"r.csv:line 1: header 'model,task,lang,score' is not the results schema"):
        read_results(p)


def test_read_rejects_short_row(tmp_path):
    p = write_csv(tmp_path / "r.csv", COLUMNS, [["a", "none", "xnli"]])
    with pytest.raises(DataError, match=r"r.csv:line 2: 3 fields, expected 9"):
        read_results(p)


def test_read_rejects_empty_and_missing_file(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match="e.csv:line 1: empty file"):
        read_results(tmp_path / "e.csv")
    with pytest.raises(DataError, match="nope.csv: results file not found"):
        read_results(tmp_path / "nope.csv")


def test_duplicate_key_with_other_value_across_files_names_both(tmp_path):
    a = write_csv(tmp_path / "a.csv", COLUMNS, [[make_row()[c] for c in COLUMNS]])
    b = write_csv(tmp_path / "b.csv", COLUMNS, [[make_row(lang="fr")[c] for c in COLUMNS],
                                                [make_row(value=50)[c] for c in COLUMNS]])
    with pytest.raises(DataError, match=r"b.csv:line 3: value 50.0 contradicts 71.25 .*a.csv:line 2"):
        read_results([a, b])


def test_same_key_same_value_is_one_row(tmp_path):
    a = write_csv(tmp_path / "a.csv", COLUMNS, [[make_row()[c] for c in COLUMNS]] * 2)
    assert len(read_results([a, a])) == 1


def test_published_layout_without_seed_reads_with_empty_seed(tmp_path):
    p = write_csv(tmp_path / "pub.csv", ["model", "intermediate_task", "target_task", "lang", "split", "metric",
                                         "value", "source"],
                  [["XLM-R Large", "none", "XNLI", "de", "test", "accuracy", "82.5", "paper, table 1"]])
    df = read_results(p)
    assert df.loc[0, "seed"] == "" and df.loc[0, "value"] == 82.5 and df.loc[0, "source"] == "paper, table 1"


def test_every_shipped_published_file_validates():
    files = sorted(PUBLISHED.glob("*.csv"))
    assert len(files) == 9  # 8 copied from shared/published + SIB-200 (make_sib200.py)
    df = read_results(files)
    assert len(df) == sum(len(f.read_text().splitlines()) - 1 for f in files)
    assert (df["intermediate_task"] == "none").all()
