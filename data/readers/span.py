"""Reader of SQuAD-format JSON: SQuAD v1.1/v2.0, XQuAD, MLQA, TyDiQA-GoldP (both XTREME's and the original files).

`{"data": [{"paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text", "answer_start"}],
"is_impossible"?}]}]}]}`. XTREME blanks the answers of its test files (each question keeps one answer with
text "" at 0): such questions are read with answers None (unlabelled). In a SQuAD v2.0 file a question with
`is_impossible` true has answers () (a gold null answer).
"""
from __future__ import annotations

from data.languages import languages
from data.examples import Answer, DataError, SpanExample
from data.readers.common import Examples, MissingDataError, check_unique_ids, get_key, load_json, row_scope

EXPECTED = 'SQuAD-format JSON {"data": [{"paragraphs": [{"context", "qas": [{"id", "question", "answers"}]}]}]}'

# TyDiQA-GoldP ids start with the language's English name: "arabic-1234-0"; name -> tag from the language rows'
# `tydiqa_name` (data/languages.tsv).
TYDIQA_NAMES = {row.tydiqa_name: tag for tag, row in languages().items() if row.tydiqa_name}


MISPLACED = "answer text not at its answer_start (kept: scored by its text; no training target)"


def _read_answers(path, qid, qa: dict, context: str, version2: bool, skipped: dict[str, int]):
    """(answers, is_impossible) of one question; answers None when the file carries no gold for it.

    An answer_start outside the context is an error. An answer whose text is not at its answer_start is kept and
    counted under MISPLACED: the official scripts score answers by text only, and SQuAD's own files hold
    answers whose start is a character or two off; featurize_span leaves such a question without a training
    target (and logs it).
    """
    if version2 and qa.get("is_impossible", False) is True:
        return (), True
    raw = get_key(path, qid, qa, "answers", list)
    if not raw:
        raise DataError(path, qid, "'answers' is empty; expected at least one answer" +
                        (" or is_impossible: true (SQuAD v2.0)" if version2 else
                         " (this format has no unanswerable questions; XTREME's blanked test files keep one answer "
                         "with text '')"))
    answers = []
    for i, a in enumerate(raw):
        if not isinstance(a, dict):
            raise DataError(path, qid, f"answers[{i}] is {type(a).__name__}; expected an object with text, answer_start")
        text = get_key(path, qid, a, "text")
        start = get_key(path, qid, a, "answer_start", int)
        if text and not 0 <= start <= len(context):
            raise DataError(path, qid, f"answers[{i}].answer_start {start} is outside the context "
                                       f"({len(context)} characters); expected a character offset into it")
        if text and context[start:start + len(text)] != text:
            skipped[MISPLACED] += 1
        answers.append(Answer(text, start))
    if all(a.text == "" for a in answers):
        if version2:
            raise DataError(path, qid, "no answer text and is_impossible is not true; expected answers or "
                                       "is_impossible: true (SQuAD v2.0)")
        return None, False  # blanked by XTREME (or never labelled)
    return tuple(answers), False


def read_squad_json(paths, lang, split, labels=None, *, version2: bool = False, id_prefix_langs: bool = False) -> Examples:
    """All questions of one file, in file order.

    id_prefix_langs: the file mixes languages and the id prefix names each question's (TyDiQA-GoldP's
    combined files); only `lang`'s questions are kept.
    """
    (path,) = paths
    doc = load_json(path, EXPECTED)
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise DataError(path, None, f"no top-level 'data' list; expected {EXPECTED}")
    out, skipped = Examples(paths=paths), {MISPLACED: 0}
    for a_i, article in enumerate(doc["data"]):
        where = f"data[{a_i}]"
        if not isinstance(article, dict):
            raise DataError(path, where, f"a {type(article).__name__}; expected an object with 'paragraphs'")
        for p_i, par in enumerate(get_key(path, where, article, "paragraphs", list)):
            p_where = f"{where}.paragraphs[{p_i}]"
            if not isinstance(par, dict):
                raise DataError(path, p_where, f"a {type(par).__name__}; expected an object with context, qas")
            context = get_key(path, p_where, par, "context")
            for q_i, qa in enumerate(get_key(path, p_where, par, "qas", list)):
                with row_scope():
                    if not isinstance(qa, dict):
                        raise DataError(path, f"{p_where}.qas[{q_i}]", "not an object; expected id, question, answers")
                    qid = get_key(path, f"{p_where}.qas[{q_i}]", qa, "id")
                    if id_prefix_langs:
                        name = qid.split("-", 1)[0]
                        if name not in TYDIQA_NAMES:
                            raise DataError(path, qid, f"id prefix {name!r}; expected a language name, one of "
                                                       f"{', '.join(TYDIQA_NAMES)}")
                        if TYDIQA_NAMES[name] != lang:
                            continue
                    answers, impossible = _read_answers(path, qid, qa, context, version2, skipped)
                    out.append(SpanExample(qid, lang, get_key(path, qid, qa, "question"), context, answers,
                                           impossible))
    check_unique_ids(path, (e.id for e in out))
    out.add_skips(skipped, path)
    if id_prefix_langs and not out:
        raise MissingDataError(path, None, f"no question of language {lang!r}; expected ids starting with "
                                    f"{[k for k, v in TYDIQA_NAMES.items() if v == lang]}")
    return out
