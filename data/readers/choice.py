"""Readers of multiple-choice files: HellaSwag JSONL, Cosmos QA CSV/JSONL, CommonsenseQA JSONL (both layouts).

Every reader takes `(paths, lang, split, labels)` and returns `Examples` of ChoiceExample: the first segment
(context and/or question) and the choices, each choice read as the second segment of its input.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from data.examples import ChoiceExample, DataError
from data.readers.common import Examples, check_unique_ids, get_key, iter_json_lines, read_text, row_scope


def check_choice_label(path, where, label, n: int) -> int:
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < n:
        raise DataError(path, where, f"label {label!r}; expected an integer 0..{n - 1}")
    return label


def read_hellaswag(paths, lang, split, labels=None) -> Examples:
    """HellaSwag `hellaswag_{train,val}.jsonl`: ind, ctx_a, ctx_b, endings (4), label. First segment ctx_a; each
    choice is ctx_b followed by the ending (as SWAG models read it)."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, obj in iter_json_lines(path, "HellaSwag JSONL with ind, ctx_a, ctx_b, endings, label"):
        with row_scope():
            endings = get_key(path, lineno, obj, "endings", list)
            if len(endings) != 4 or not all(isinstance(e, str) for e in endings):
                raise DataError(path, lineno, f"{len(endings)} endings; expected 4 strings")
            ctx_b = get_key(path, lineno, obj, "ctx_b")
            choices = tuple(f"{ctx_b} {e}".strip() for e in endings)
            label = obj.get("label")
            label = None if label is None else check_choice_label(path, lineno, label, 4)
            out.append(ChoiceExample(str(get_key(path, lineno, obj, "ind", int)), lang,
                                     get_key(path, lineno, obj, "ctx_a"), choices, label))
    check_unique_ids(path, (e.id for e in out))
    return out


_COSMOS_KEYS = ["id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label"]


def _cosmos_example(path, where, row: dict, lang, from_csv: bool) -> ChoiceExample:
    for key in _COSMOS_KEYS[:-1]:
        get_key(path, where, row, key)
    label = row.get("label")
    if from_csv and label is not None:
        label = int(label) if label.strip().isascii() and label.strip().isdigit() else label  # "²".isdigit()
    label = None if label is None else check_choice_label(path, where, label, 4)
    return ChoiceExample(row["id"], lang, f"{row['context']} {row['question']}",
                         tuple(row[f"answer{i}"] for i in range(4)), label)


def read_cosmosqa(paths, lang, split, labels=None) -> Examples:
    """Cosmos QA `{train,valid}.csv` (header id, context, question, answer0..3, label) or the same as JSONL.
    First segment: context then question; the four answers are the choices."""
    (path,) = paths
    out = Examples(paths=paths)
    if Path(path).suffix == ".csv":
        expected = "Cosmos QA CSV with header id, context, question, answer0..answer3, label"
        reader = csv.DictReader(io.StringIO(read_text(path, expected), newline=""))
        missing = [k for k in _COSMOS_KEYS if k not in (reader.fieldnames or [])]
        if missing:
            raise DataError(path, 1, f"header lacks column(s) {', '.join(missing)}; expected {expected}")
        start = 2
        try:
            for row in reader:
                lineno, start = start, reader.line_num + 1
                with row_scope():
                    if None in row or None in row.values():  # DictReader's marks of extra / missing fields
                        n = len(row) - (None in row) + len(row.get(None) or []) - list(row.values()).count(None)
                        raise DataError(path, lineno, f"{n} columns; expected {len(reader.fieldnames)} ({expected})")
                    out.append(_cosmos_example(path, lineno, row, lang, from_csv=True))
        except csv.Error as e:
            raise DataError(path, reader.line_num, f"malformed CSV ({e}); expected {expected}") from None
    else:
        for lineno, obj in iter_json_lines(path, "Cosmos QA JSONL with id, context, question, answer0..3, label"):
            with row_scope():
                out.append(_cosmos_example(path, lineno, obj, lang, from_csv=False))
    check_unique_ids(path, (e.id for e in out))
    return out


def _commonsenseqa_choices(path, lineno, obj) -> tuple[str, list[str], tuple[str, ...]]:
    """(question text, choice labels, choice texts) from either layout of a CommonsenseQA line."""
    question = get_key(path, lineno, obj, "question", (dict, str))
    if isinstance(question, dict):  # the original release: question {stem, choices [{label, text}]}
        choices = get_key(path, lineno, question, "choices", list)
        keys = [get_key(path, lineno, c, "label") for c in choices]
        return get_key(path, lineno, question, "stem"), keys, tuple(get_key(path, lineno, c, "text") for c in choices)
    # the Hugging Face `datasets` export: question a string, choices {label: [...], text: [...]}
    choices = get_key(path, lineno, obj, "choices", dict)
    keys = get_key(path, lineno, choices, "label", list)
    texts = get_key(path, lineno, choices, "text", list)
    if len(keys) != len(texts) or not all(isinstance(x, str) for x in [*keys, *texts]):
        raise DataError(path, lineno, f"choices has {len(keys)} labels and {len(texts)} texts; expected two lists of "
                                      "strings of equal length")
    return question, keys, tuple(texts)


def read_commonsenseqa(paths, lang, split, labels=None) -> Examples:
    """CommonsenseQA `{train,dev}_rand_split.jsonl` in either layout: the original release (id, question {stem,
    choices [{label A-E, text}]}, answerKey) or the Hugging Face `datasets` export (id, question as a string,
    choices {label: [A-E], text: [...]}, answerKey; "" on the unlabelled test split). Choices in the file's order;
    the label is the index of answerKey among the choice labels."""
    (path,) = paths
    out = Examples(paths=paths)
    expected = ("CommonsenseQA JSONL with id, question {stem, choices}, answerKey (or the Hugging Face export: "
                "question a string, choices {label, text})")
    for lineno, obj in iter_json_lines(path, expected):
        with row_scope():
            stem, keys, texts = _commonsenseqa_choices(path, lineno, obj)
            answer = obj.get("answerKey") or None  # the Hugging Face test split has answerKey ""
            if answer is not None and answer not in keys:
                raise DataError(path, lineno, f"answerKey {answer!r}; expected one of the choice labels {', '.join(keys)}")
            out.append(ChoiceExample(get_key(path, lineno, obj, "id"), lang, stem, texts,
                                     None if answer is None else keys.index(answer)))
    check_unique_ids(path, (e.id for e in out))
    return out
