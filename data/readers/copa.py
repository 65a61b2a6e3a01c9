"""Reader of COPA-format JSONL (Roemmele et al. 2011, as SuperGLUE ships it) and its translations, XCOPA (Ponti et
al. 2020): one object a line with premise, choice1, choice2, question ("cause" or "effect"), label (0 or 1), idx.

The input follows jiant's COPA task (jiant/tasks/lib/copa.py): the first segment is the premise followed by the
question as an English sentence ("What was the cause of this?" / "What happened as a result?"), the choices are the
second segments. XCOPA keeps these English question sentences in every language: they are the task's template, as
the premise and choices are its content.
"""
from __future__ import annotations

from data.examples import ChoiceExample, DataError
from data.readers.common import Examples, check_choice_label, check_unique_ids, get_key, iter_json_lines, row_scope

QUESTIONS = {"cause": "What was the cause of this?", "effect": "What happened as a result?"}
EXPECTED = "COPA JSONL with premise, choice1, choice2, question (cause/effect), label (0/1), idx"


def read_copa_jsonl(paths, lang, split, labels=None) -> Examples:
    (path,) = paths
    out, lines = Examples(paths=paths), []
    for lineno, obj in iter_json_lines(path, EXPECTED):
        with row_scope():
            question = get_key(path, lineno, obj, "question")
            if question not in QUESTIONS:
                raise DataError(path, lineno, f"question {question!r}; expected cause or effect")
            label = obj.get("label")  # SuperGLUE's test file has none
            label = None if label is None else check_choice_label(path, lineno, label, 2)
            prompt = f"{get_key(path, lineno, obj, 'premise')} {QUESTIONS[question]}"
            choices = (get_key(path, lineno, obj, "choice1"), get_key(path, lineno, obj, "choice2"))
            out.append(ChoiceExample(str(get_key(path, lineno, obj, "idx", int)), lang, prompt, choices, label))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    return out
