"""data.check: the report and exit status on the fixture DATA_DIR and on broken copies of it.

    python -m pytest -q tests/test_check.py
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from data import check as check_module
from data.check import check

FIX = Path(__file__).parent / "fixtures" / "data"


def run_cli(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        check_module.main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def entry(report, task, lang, split):
    (t,) = [t for t in report["tasks"] if t["task"] == task]
    (e,) = [e for e in t["entries"] if e["lang"] == lang and e["split"] == split]
    return e


@pytest.fixture()
def broken_copy(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(FIX, root)
    return root


def test_fixture_dir_passes_for_its_languages(capsys):
    code, out, _ = run_cli([str(FIX), "--langs", "en,de"], capsys)
    assert code == 0 and out.rstrip().endswith("OK")
    assert "xnli: ok" in out and "ccg: ok" in out


def test_report_gives_counts_labels_layout_and_skips():
    report = check(FIX, langs=["en", "de"])
    assert report["ok"] and report["errors"] == []
    e = entry(report, "xnli", "de", "dev")
    assert (e["status"], e["layout"], e["n_examples"], e["labelled"], e["labels"]) == (
        "ok", "original", 2, True, {"neutral": 1, "entailment": 1})
    assert e["required"] is False and entry(report, "xnli", "de", "test")["required"] is True
    xquad_de = entry(report, "xquad", "de", "test")
    assert (xquad_de["labelled"], xquad_de["labels"]) == (False, {"(none)": 1})
    assert entry(report, "anli_plus", "en", "train")["skipped"] == {"snli: gold_label '-'": 1}
    assert entry(report, "bucc2018", "de", "dev")["labels"] == {"src_sentences": 3, "tgt_sentences": 3,
                                                                "gold_pairs": 2}
    assert entry(report, "udpos", "de", "train")["status"] == "missing"  # optional: not an error


def test_all_languages_required_for_a_task_named(capsys):
    report = check(FIX, tasks=["pawsx"])
    assert not report["ok"]
    missing = {e["lang"] for e in report["tasks"][0]["entries"] if e["status"] == "missing" and e["required"]}
    assert missing == {"es", "fr", "ja", "ko", "zh"}
    assert any("pawsx fr test: " in msg and "pawsx/x-final/fr/test_2k.tsv" in msg for msg in report["errors"])
    code, out, _ = run_cli([str(FIX), "--tasks", "pawsx"], capsys)
    assert code == 1 and "FAILED: 5 error(s)" in out


def test_absent_task_is_not_downloaded_unless_named(tmp_path, capsys):
    shutil.copytree(FIX / "pawsx", tmp_path / "pawsx")
    report = check(tmp_path, langs=["en", "de"])
    statuses = {t["task"]: t["status"] for t in report["tasks"]}
    assert statuses["pawsx"] == "ok" and statuses["xnli"] == "not downloaded" and report["ok"]
    code, out, _ = run_cli([str(tmp_path), "--tasks", "pawsx,xnli", "--langs", "en,de"], capsys)
    assert code == 1 and "xnli: errors" in out


def test_broken_copy_reports_every_format_error_and_fails(broken_copy, capsys):
    # two bad rows in one file (a label and a column count), and a broken JSON line in another
    (broken_copy / "pawsx/x-final/de/test_2k.tsv").write_text(
        "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t7\n2\tc\td\n3\te\tf\t1\n", encoding="utf-8")
    (broken_copy / "hellaswag/hellaswag_val.jsonl").write_text("{oops\n", encoding="utf-8")
    report = check(broken_copy, langs=["en", "de"])
    assert not report["ok"]
    pawsx_de = entry(report, "pawsx", "de", "test")
    assert pawsx_de["status"] == "malformed" and pawsx_de["n_examples"] == 1  # the one good row
    assert [m.split(": ", 1)[1] for m in pawsx_de["errors"]] == [
        "unknown label '7'; expected one of 0, 1",
        "3 tab-separated columns, expected 4 (PAWS-X TSV with header id, sentence1, sentence2, label)"]
    assert pawsx_de["errors"][0].startswith(str(broken_copy / "pawsx/x-final/de/test_2k.tsv") + ":2:")
    assert pawsx_de["errors"][1].startswith(str(broken_copy / "pawsx/x-final/de/test_2k.tsv") + ":3:")
    hs = entry(report, "hellaswag", "en", "dev")
    assert hs["status"] == "malformed" and "hellaswag_val.jsonl:1: broken JSON" in hs["errors"][0]
    assert len(report["errors"]) == 4  # the two pawsx rows, the JSON line, and hellaswag dev now has no example
    code, out, _ = run_cli([str(broken_copy), "--langs", "en,de", "--json"], capsys)
    assert code == 1 and json.loads(out)["errors"] == report["errors"]


def test_missing_required_language_file_fails(broken_copy):
    (broken_copy / "panx/panx_dataset/de/test").unlink()
    (broken_copy / "panx/test-de.tsv").unlink()
    report = check(broken_copy, tasks=["panx"], langs=["en", "de"])
    assert not report["ok"]
    assert len(report["errors"]) == 1 and report["errors"][0].startswith("panx de test: ")
    assert ("panx/panx_dataset/de/test; hub/google/xtreme/PAN-X.de/test-*.parquet; panx/test-de.tsv"
            in report["errors"][0])


def test_unlabelled_eval_split_is_reported_not_failed(tmp_path):
    for name in ["train-en.tsv", "dev-en.tsv", "test-en.tsv", "test-de.tsv"]:
        (tmp_path / "xnli").mkdir(exist_ok=True)
        shutil.copy(FIX / "xnli" / name, tmp_path / "xnli" / name)
    report = check(tmp_path, tasks=["xnli"], langs=["en", "de"])
    assert report["ok"]
    assert entry(report, "xnli", "de", "test")["labelled"] is False
    assert entry(report, "xnli", "de", "test")["layout"] == "xtreme"


def test_collected_errors_do_not_leak_into_a_later_plain_read(broken_copy):
    # data.check parses XNLI-1.0's combined file once per language through a cache; a plain read afterwards must
    # still raise on the bad row instead of returning the rows that parsed
    path = broken_copy / "xnli/XNLI-1.0/xnli.dev.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:2] + ["de\tneutral\ttoo few columns"] + lines[2:]) + "\n", encoding="utf-8")
    report = check(broken_copy, tasks=["xnli"], langs=["en", "de"])
    assert any("xnli.dev.tsv:3: 3 tab-separated columns, expected 19" in m for m in report["errors"])
    from data.examples import DataError
    from data.tasks import get_task
    with pytest.raises(DataError, match=r"xnli.dev.tsv:3: 3 tab-separated columns"):
        get_task("xnli").read(broken_copy, "en", "dev")


def test_bad_data_dir_and_task_names_are_usage_errors(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"is not a directory"):
        check(tmp_path / "nope")
    code, _, err = run_cli([str(FIX), "--tasks", "xnl"], capsys)
    assert code == 2 and "unknown task 'xnl'" in err
