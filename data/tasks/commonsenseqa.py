"""CommonsenseQA 1.0 (Talmor et al. 2019), random split: 5 choices."""

from data.examples import ChoiceExample, DataError
from data.readers.common import (Examples, check_unique_ids, get_key, iter_json_lines, row_scope)
from data.readers import hub as H
from data.task import EN, Download, Task, hub_sources, sources


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


TASK = Task(
    name="commonsenseqa", kind="multiple_choice", langs=EN, splits=("train", "dev"), labels=None,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev", description="CommonsenseQA (5 choices)",
    sources=tuple(s for split in ("train", "dev") for s in
                  sources("original", (split,), lambda s: [f"commonsenseqa/{s}_rand_split.jsonl"], read_commonsenseqa)
                  + hub_sources((split,), lambda s: f"tau/commonsense_qa/data/{s}-*.parquet", H.read_hub_commonsenseqa)),
    # URLs from fairseq examples/roberta/commonsense_qa/download_cqa_data.sh
    downloads=tuple(Download(f"https://s3.amazonaws.com/commensenseqa/{name}.jsonl", f"commonsenseqa/{name}.jsonl")
                    for name in ("train_rand_split", "dev_rand_split", "test_rand_split_no_answers")),
    default_source="upstream", default_source_why="the published JSONL",
    train_examples=9_741, mean_tokens=100,
)
