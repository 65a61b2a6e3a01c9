"""Damaged and odd inputs give one clear error naming the file and the line (or a counted, reported skip),
never a silent fallback or a raw traceback: readers, data.check, Source.paths.

Run: python -m pytest -q tests/test_robustness.py
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from data import check as check_module
from data.examples import DataError
from data.readers.span import MISPLACED
from data.tasks import get_task

FIX = Path(__file__).parent / "fixtures" / "data"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_check(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        check_module.main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


# --- data.check --json on a deeply nested JSON (group 9) ------------------------------------------------------


def test_deeply_nested_json_is_a_data_error_not_a_recursion_error(tmp_path, capsys):
    path = write(tmp_path, "xquad/xquad.de.json", "[" * 100_000)
    code, out, _ = run_check([str(tmp_path), "--tasks", "xquad", "--langs", "de", "--json"], capsys)
    report = json.loads(out)
    assert code == 1 and report["errors"] == [f"xquad de test: {path}: JSON nested too deeply to read; expected "
                                              'SQuAD-format JSON {"data": [{"paragraphs": [{"context", "qas": '
                                              '[{"id", "question", "answers"}]}]}]}']
    write(tmp_path, "hellaswag/hellaswag_val.jsonl", "\n" + "[" * 100_000 + "\n")
    with pytest.raises(DataError, match=r"hellaswag_val\.jsonl:2: JSON nested too deeply"):
        get_task("hellaswag").read(tmp_path, "en", "dev")


# --- SQuAD-format answers (group 11) ----------------------------------------------------------------------------


def _squad(answers, context="Paris is in France.") -> str:
    qa = {"id": "q1", "question": "Where?", "answers": answers}
    return json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context,
                                                                                  "qas": [qa]}]}]})


def test_answer_start_past_the_end_of_the_context_is_an_error(tmp_path):
    path = write(tmp_path, "xquad/xquad.de.json", _squad([{"text": "France", "answer_start": 400}]))
    with pytest.raises(DataError) as err:
        get_task("xquad").read(tmp_path, "de", "test")
    assert str(err.value) == f"{path}:q1: answers[0].answer_start 400 is outside the context (19 characters); " \
                             "expected a character offset into it"
    write(tmp_path, "xquad/xquad.de.json", _squad([{"text": "France", "answer_start": -3}]))
    with pytest.raises(DataError, match="answer_start -3 is outside the context"):
        get_task("xquad").read(tmp_path, "de", "test")


def test_empty_answers_list_is_an_error_not_an_unlabelled_question(tmp_path):
    path = write(tmp_path, "xquad/xquad.de.json", _squad([]))
    with pytest.raises(DataError) as err:
        get_task("xquad").read(tmp_path, "de", "test")
    assert str(err.value).startswith(f"{path}:q1: 'answers' is empty; expected at least one answer (this format "
                                     "has no unanswerable questions")
    # XTREME's blanked test answer ("" at 0) still reads as unlabelled
    write(tmp_path, "xquad/xquad.de.json", _squad([{"text": "", "answer_start": 0}]))
    assert get_task("xquad").read(tmp_path, "de", "test")[0].answers is None


def test_answer_text_not_at_its_start_is_counted_and_reported(tmp_path, capsys):
    write(tmp_path, "xquad/xquad.de.json", _squad([{"text": "France", "answer_start": 3}]))
    examples = get_task("xquad").read(tmp_path, "de", "test")
    assert [a.text for a in examples[0].answers] == ["France"]  # scored by its text, as the official script does
    assert examples.skipped == {MISPLACED: 1}
    code, out, _ = run_check([str(tmp_path), "--tasks", "xquad", "--langs", "de"], capsys)
    assert f"skipped 1: {MISPLACED}" in out


# --- tagging files (group 11) -------------------------------------------------------------------------------------


def _conllu(lines: list[str]) -> str:
    return "# sent_id = s1\n" + "".join("\t".join(cols) + "\n" for cols in lines) + "\n"


def _word(i: int, form: str) -> list[str]:
    return [str(i), form, form.lower(), "NOUN", "_", "_", "0", "root", "_", "_"]


UD = "udpos/ud-treebanks-v2.5/UD_German-T/de_t-ud-test.conllu"


def test_multiword_range_past_the_sentence_is_an_error(tmp_path):
    words = [_word(i, f"w{i}") for i in range(1, 7)]
    path = write(tmp_path, UD, _conllu(words[:2] + [["3-9", "zum", *"_" * 8]] + words[2:]))
    with pytest.raises(DataError) as err:
        get_task("udpos").read(tmp_path, "de", "test")
    assert str(err.value) == f"{path}:4: multiword token range ends at word 9 in a sentence of 6 words; expected " \
                             "a range over its words"
    write(tmp_path, UD, _conllu(words[:2] + [["5-6", "zum", *"_" * 8]] + words[2:]))
    with pytest.raises(DataError, match=r"conllu:4: multiword token range '5-6'; expected 3-N with N > 3"):
        get_task("udpos").read(tmp_path, "de", "test")
    write(tmp_path, UD, _conllu(words[:2] + [["3-4", "zum", *"_" * 8]] + words[2:]))  # a good range reads
    assert get_task("udpos").read(tmp_path, "de", "test")[0].words == tuple(f"w{i}" for i in range(1, 7))


def test_empty_form_is_an_error(tmp_path):
    path = write(tmp_path, UD, _conllu([_word(1, "Hallo"), _word(2, "")]))
    with pytest.raises(DataError) as err:
        get_task("udpos").read(tmp_path, "de", "test")
    assert str(err.value) == f"{path}:3: empty FORM for word 2; expected the word ('_' when the text is withheld)"


def test_empty_word_in_an_xtreme_tsv_is_an_error(tmp_path):
    path = write(tmp_path, "udpos/test-de.tsv", "Hallo\tINTJ\n\tNOUN\n\n")
    with pytest.raises(DataError, match=rf"^{path}:2: empty word; expected token<TAB>tag"):
        get_task("udpos").read(tmp_path, "de", "test")


# --- a file that is not a file: no silent fallback to XTREME's unlabelled copy (group 11) -------------------------


@pytest.mark.parametrize("how", ["dangling symlink", "folder"])
def test_original_pawsx_test_file_that_is_not_a_file_is_an_error(tmp_path, capsys, how):
    root = tmp_path / "data"
    shutil.copytree(FIX / "pawsx", root / "pawsx")
    original = root / "pawsx" / "x-final" / "de" / "test_2k.tsv"
    original.unlink()
    if how == "folder":
        original.mkdir()
    else:
        original.symlink_to(tmp_path / "moved_away.tsv")
    what = "not a file" if how == "folder" else "a dangling symbolic link"
    with pytest.raises(DataError) as err:
        get_task("pawsx").read(root, "de", "test")
    assert str(err.value) == f"{original}: {what}; expected the original test file here (or nothing, to use " \
                             "another layout)"
    code, out, _ = run_check([str(root), "--tasks", "pawsx", "--langs", "de,en"], capsys)
    assert code == 1 and f"ERROR {original}: {what}" in out
    original.rmdir() if how == "folder" else original.unlink()  # gone for real: XTREME's copy, unlabelled
    assert get_task("pawsx").read(root, "de", "test").layout == "xtreme"


# --- a duplicate id is reported at its line (group 13) -------------------------------------------------------------


def test_duplicate_pawsx_id_is_reported_at_its_line_not_as_the_id(tmp_path):
    rows = "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t0\n2\tc\td\t1\n\n1\te\tf\t0\n"
    path = write(tmp_path, "pawsx/x-final/de/test_2k.tsv", rows)
    with pytest.raises(DataError) as err:
        get_task("pawsx").read(tmp_path, "de", "test")
    assert str(err.value) == f"{path}:5: duplicate id '1' (first on line 2); expected every id once"


def test_non_ascii_digits_are_a_data_error_not_a_crash(tmp_path):
    # "²".isdigit() is True but int("²") raises: a word id or a label of such digits must be a clear error
    path = write(tmp_path, UD, _conllu([_word(1, "Hallo"), ["²", *_word(2, "Welt")[1:]]]))
    with pytest.raises(DataError, match=rf"^{path}:3: word id '²'; expected 2"):
        get_task("udpos").read(tmp_path, "de", "test")
    header = "id,context,question,answer0,answer1,answer2,answer3,label\n"
    path = write(tmp_path, "cosmosqa/valid.csv", header + "c1,ctx,q?,a,b,c,d,²\n")
    with pytest.raises(DataError, match=r"valid\.csv"):
        get_task("cosmosqa").read(tmp_path, "en", "dev")
