"""CCG supertagging on CCGbank 1.1 (LDC2005T13, licensed), in jiant's preprocessed form; token accuracy.

The supertag set is read from tags_to_id.json under DATA_DIR (`label_file`). No Hub copy exists.
"""
from pathlib import Path

from data.examples import DataError, TagExample
from data.readers.common import (Examples, check_label,
                                 iter_lines, load_json,
                                 row_scope, split_row)
from data.task import EN, Download, Task, sources


def read_ccg_labels(path) -> tuple[str, ...]:
    """`tags_to_id.json`: {tag: id} with ids 0..n-1 → the tags in id order."""
    expected = "a JSON object mapping each CCG supertag to its id 0..n-1"
    mapping = load_json(path, expected)
    if not isinstance(mapping, dict) or not all(isinstance(v, int) for v in mapping.values()):
        raise DataError(path, None, f"not a tag→int mapping; expected {expected}")
    ids = sorted(mapping.values())
    if ids != list(range(len(ids))):
        raise DataError(path, None, f"ids are not 0..{len(ids) - 1} without gaps; expected {expected}")
    return tuple(sorted(mapping, key=mapping.get))


def read_ccg(paths, lang, split, labels=None) -> Examples:
    """CCG TSV (one sentence per line: space-tokenized text, a tab, space-separated supertags) and the
    tags_to_id.json that gives the label set."""
    path, tags_path = paths
    labels = frozenset(read_ccg_labels(tags_path))  # ~1,300 supertags: a set for the membership test
    expected = "space-tokenized sentence<TAB>space-separated supertags, one sentence per line"
    out = Examples(paths=paths)
    for lineno, line in iter_lines(path, expected):
        if not line.strip():
            continue
        with row_scope():
            text, tag_text = split_row(path, lineno, line, 2, expected)
            words, tags = text.split(" "), tag_text.split(" ")
            if len(words) != len(tags):
                raise DataError(path, lineno, f"{len(words)} words but {len(tags)} supertags; expected one tag per "
                                              "word")
            for tag in tags:
                check_label(path, lineno, tag, labels)
            out.append(TagExample(f"{Path(path).name}:{lineno}", lang, tuple(words), tuple(tags)))
    return out


SPLITS = ("train", "dev", "test")
MANUAL = (
    "CCG supertagging uses CCGbank 1.1 (LDC2005T13), licensed by the Linguistic Data Consortium\n"
    "  (https://catalog.ldc.upenn.edu/LDC2005T13), in jiant's preprocessed form: ccg.train.tsv, ccg.dev.tsv,\n"
    "  ccg.test.tsv (sentence<TAB>supertags, one sentence a line) and tags_to_id.json. Once you have made them\n"
    "  from your copy of CCGbank, pack them (tar czf ccg.tgz ccg.*.tsv tags_to_id.json) and run\n"
    "  python -m data.download --tasks ccg --out {data_dir} --from-file ccg=PATH/TO/ccg.tgz\n"
    "  (or save the archive as {data_dir}/downloads/ccg.tgz and rerun); the four files go to {data_dir}/ccg/.")

TASK = Task(
    name="ccg", kind="tag", langs=EN, splits=SPLITS, labels=None, primary_metric="accuracy",
    metrics=("tag_accuracy",), eval_split="dev", label_file="ccg/tags_to_id.json", read_label_file=read_ccg_labels,
    description="CCGbank supertagging (token accuracy)",
    sources=tuple(sources("original", SPLITS, lambda s: [f"ccg/ccg.{s}.tsv", "ccg/tags_to_id.json"], read_ccg)),
    # any folder depth in the archive (flatten=True)
    downloads=(Download("", "ccg", archive=True, file_name="ccg.tgz", manual=MANUAL, flatten=True,
                        include=("*ccg.train.tsv", "*ccg.dev.tsv", "*ccg.test.tsv", "*tags_to_id.json")),),
    default_source="upstream", default_source_why="CCGbank is licensed (LDC): there is no Hub copy",
    train_examples=39_604, mean_tokens=30,  # CCGbank sections 02-21
)
