"""Readers of 4-way multiple-choice reading comprehension: RACE (Lai et al. 2017), Belebele (Bandarkar et al., ACL
2024) and the Belebele authors' assembled English training set (facebookresearch/belebele `assemble_training_set.py`:
SciQ, MCScript2.0, MCTest, MultiRC, RACE, ReClor in one TSV).

Every example is read the same way: the first segment is the passage, each choice is the question followed by one
answer (the passage is the context every choice shares; the question differs from task to task).
"""
from __future__ import annotations

import csv
import json

from data.examples import ChoiceExample, DataError
from data.readers.common import (check_choice_label, Examples, check_unique_ids, get_key, iter_json_lines, read_text, row_scope)

BELEBELE = "Belebele JSONL with flores_passage, question, mc_answer1..4, correct_answer_num (1-4), link, question_number"
RACE = "RACE JSON with id, article, questions, options (4 each), answers (A-D)"
ASSEMBLED = ("Belebele training-set TSV (assemble_training_set.py) with dataset, split, passage_id, question_id, "
             "passage, question, answer1..4, correct_answer_num")


def _answer_number(path, where, value) -> int:
    """A 1-based answer number, as an int or a string of one ASCII digit 1-4 -> the 0-based choice index."""
    text = str(value)
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        raise DataError(path, where, f"correct_answer_num {value!r}; expected 1, 2, 3 or 4")
    return check_choice_label(path, where, int(text) - 1, 4)


def _choices(question: str, answers) -> tuple[str, ...]:
    return tuple(f"{question} {a}".strip() for a in answers)


def read_belebele(paths, lang, split, labels=None) -> Examples:
    """One variant's `data/<FLORES code>.jsonl` (the Hub's facebook/belebele): 900 questions; the id is the FLORES
    passage's link and the question number, the same in every variant."""
    (path,) = paths
    out, lines = Examples(paths=paths), []
    for lineno, obj in iter_json_lines(path, BELEBELE):
        with row_scope():
            answers = [get_key(path, lineno, obj, f"mc_answer{i}") for i in range(1, 5)]
            question = get_key(path, lineno, obj, "question")
            label = _answer_number(path, lineno, get_key(path, lineno, obj, "correct_answer_num", (str, int)))
            id_ = f"{get_key(path, lineno, obj, 'link')}#{get_key(path, lineno, obj, 'question_number', int)}"
            out.append(ChoiceExample(id_, lang, get_key(path, lineno, obj, "flores_passage"), _choices(question, answers),
                                     label))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    return out


def read_race(paths, lang, split, labels=None) -> Examples:
    """RACE's `RACE/<split>/{high,middle}/*.txt`, one JSON passage a file with its questions; ids `<file id>-<i>`."""
    out = Examples(paths=paths)
    for path in paths:
        try:
            obj = json.loads(read_text(path, RACE))
        except json.JSONDecodeError as e:
            raise DataError(path, e.lineno, f"not JSON ({e.msg}); expected {RACE}") from None
        if not isinstance(obj, dict):
            raise DataError(path, 1, f"expected {RACE}")
        questions, options, answers = (get_key(path, 1, obj, k, list) for k in ("questions", "options", "answers"))
        if not len(questions) == len(options) == len(answers):
            raise DataError(path, 1, f"{len(questions)} questions, {len(options)} option lists, {len(answers)} answers; "
                                     "expected as many of each")
        for i, (q, opts, ans) in enumerate(zip(questions, options, answers)):
            if not isinstance(opts, list) or len(opts) != 4 or not all(isinstance(o, str) for o in opts):
                raise DataError(path, f"question {i}", "expected 4 options (strings)")
            if ans not in ("A", "B", "C", "D"):
                raise DataError(path, f"question {i}", f"answer {ans!r}; expected A, B, C or D")
            out.append(ChoiceExample(f"{get_key(path, 1, obj, 'id')}-{i}", lang, get_key(path, 1, obj, "article"),
                                     _choices(q, opts), "ABCD".index(ans)))
    check_unique_ids(paths[0], (e.id for e in out))
    return out


def read_belebele_assembled(paths, lang, split, labels=None) -> Examples:
    """The authors' assembled training set (one TSV, pandas' to_csv: an index column first, CSV quoting, newlines
    inside quoted passages); the rows of `split` (train or dev)."""
    (path,) = paths
    rows = csv.reader(read_text(path, ASSEMBLED).splitlines(keepends=True), delimiter="\t")
    header = next(rows, None)
    need = ["dataset", "split", "passage_id", "question_id", "passage", "question", "answer1", "answer2", "answer3",
            "answer4", "correct_answer_num"]
    if header is None or [h for h in need if h not in header]:
        raise DataError(path, 1, f"header {header}; expected {ASSEMBLED}")
    col = {h: header.index(h) for h in need}
    out = Examples(paths=paths)
    for n, row in enumerate(rows, 2):
        with row_scope():
            if len(row) != len(header):
                raise DataError(path, f"record {n}", f"{len(row)} fields; expected {len(header)}")
            if row[col["split"]] != split:
                continue
            label = _answer_number(path, f"record {n}", row[col["correct_answer_num"]].removesuffix(".0"))
            id_ = f"{row[col['dataset']]}-{row[col['passage_id']]}-{row[col['question_id']]}"
            out.append(ChoiceExample(id_, lang, row[col["passage"]],
                                     _choices(row[col["question"]], [row[col[f"answer{i}"]] for i in range(1, 5)]),
                                     label))
    check_unique_ids(path, (e.id for e in out))
    return out
