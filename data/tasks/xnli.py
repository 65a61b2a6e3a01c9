"""XNLI (Conneau et al. 2018): natural language inference in 15 languages; the English train set is MNLI's.

Dev and test with gold labels for every language come in XNLI-1.0.zip (one file, a `language` column); XTREME's
copies are per language (its test files have no label column).
"""

from data.examples import PairExample
from data.readers.classification import NLI_SPELLINGS, header_index, read_headed_tsv
from data.readers.common import (Examples, MissingDataError, cached_by_file, check_label,
                                 check_unique_ids, file_line_id, iter_lines, row_scope, split_row)
from data import readers as R
from data.readers import hub as H
from data.task import EN, NLI_LABELS, Download, Source, Task, hub_sources, p, sources
from data.tasks import mnli


@cached_by_file
def _parse_xnli_original(path) -> dict[str, list[PairExample]]:
    """XNLI-1.0 `xnli.{dev,test}.tsv`: header row, a `language` column, gold_label, sentence1, sentence2, pairID.
    The text holds unescaped quotes, so lines are split on tabs only."""
    expected = "XNLI-1.0 TSV with columns language, gold_label, sentence1, sentence2, pairID"
    rows = iter_lines(path, expected)
    _, header_line = next(rows)
    header = header_line.split("\t")
    col = header_index(path, header, ["language", "gold_label", "sentence1", "sentence2", "pairID"], expected)
    by_lang: dict[str, list[tuple[int, list[str]]]] = {}
    for lineno, line in rows:
        if not line.strip():
            continue
        with row_scope():
            cols = split_row(path, lineno, line, len(header), expected)
            by_lang.setdefault(cols[col["language"]], []).append((lineno, cols))
    out = {}
    for lang, rows_ in by_lang.items():
        out[lang] = [(lineno, cols[col["pairID"]], cols[col["sentence1"]], cols[col["sentence2"]],
                      NLI_SPELLINGS.get(cols[col["gold_label"]], cols[col["gold_label"]])) for lineno, cols in rows_]
    return out


def read_xnli_original(paths, lang, split, labels) -> Examples:
    (path,) = paths
    by_lang = _parse_xnli_original(path)
    if lang not in by_lang:
        raise MissingDataError(path, None, f"no rows with language {lang!r}; expected one of "
                                           f"{', '.join(sorted(by_lang))}")
    out, lines = Examples(paths=paths), []
    for lineno, pair_id, s1, s2, label in by_lang[lang]:
        with row_scope():
            out.append(PairExample(pair_id, lang, s1, s2, check_label(path, lineno, label, labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    return out


def read_xnli_mt_train(paths, lang, split, labels) -> Examples:
    """XNLI-MT-1.0 `multinli/multinli.train.en.tsv`: header `premise hypo label`, no ids."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, row in read_headed_tsv(path, ["premise", "hypo", "label"],
                                        "XNLI-MT TSV with header premise, hypo, label"):
        label = NLI_SPELLINGS.get(row["label"], row["label"])
        with row_scope():
            out.append(PairExample(file_line_id(path, lineno), lang, row["premise"], row["hypo"],
                                   check_label(path, lineno, label, labels)))
    return out


LANGS = tuple("ar bg de el en es fr hi ru sw th tr ur vi zh".split())
HUB_READ = p(H.read_hub_pair, text_a="premise", text_b="hypothesis", names=H.NLI_NAMES)

TASK = Task(
    name="xnli", kind="pair_cls", langs=LANGS, splits=("train", "dev", "test"), labels=NLI_LABELS,
    primary_metric="accuracy", metrics=("accuracy",),
    description="XNLI: natural language inference, 15 languages; English train = MNLI",
    target=True, train_task="xnli", display_name="XNLI", parallel_test=True,
    sources=(
        *[s for split in ("dev", "test") for s in
          sources("original", (split,), lambda s: [f"xnli/XNLI-1.0/xnli.{s}.tsv"], read_xnli_original)
          + hub_sources((split,), lambda s: f"facebook/xnli/{{lang}}/{s}-*.parquet", HUB_READ)],
        *sources("xtreme", ("dev", "test"), lambda s: [f"xnli/{s}-{{lang}}.tsv"], R.read_xtreme_pair_tsv),
        Source("xtreme", "train", ("xnli/train-en.tsv",), R.read_xtreme_pair_tsv, EN),
        Source("original", "train", ("xnli/XNLI-MT-1.0/multinli/multinli.train.en.tsv",), read_xnli_mt_train, EN),
        *[Source(s.layout, "train", s.files, s.read, EN) for s in mnli.TRAIN_SOURCES],
        Source("hub", "train", ("hub/facebook/xnli/en/train-*.parquet",), HUB_READ, EN),
    ),
    # XNLI 1.0 dev/test with gold labels for 15 languages [HF xnli checksums]; URL: XTREME scripts/download_data.sh.
    # XNLI trains on MNLI: GLUE's MNLI is fetched rather than XNLI-MT-1.0.zip (466 MB; the same English data).
    downloads=(Download("https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip", "xnli", archive=True,
                        sha256="4ba1d5e1afdb7161f0f23c66dc787802ccfa8a25a3ddd3b165a35e50df346ab1",
                        include=("XNLI-1.0/xnli.*.tsv",)),
               mnli.DOWNLOAD),
    default_source="upstream",
    default_source_why="XNLI-1.0.zip keeps the pairIDs; facebook/xnli has none (ids become shard:row)",
    train_examples=392_702, mean_tokens=45,  # MNLI train
)
