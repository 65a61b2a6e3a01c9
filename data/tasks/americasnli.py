"""AmericasNLI (Ebrahimi et al., ACL 2022): XNLI's Spanish dev/test translated into 10 Indigenous languages of the
Americas, none of them in XLM-R's pretraining (CC-100). Trained as XNLI is (English MNLI; model selection on XNLI's
English dev), so an XNLI model scores it directly. No English file: its scores are levels, not drops against English.

Files: abteen/americasnli `data/anli_final/{dev,test}/<code>.tsv`, header `id language premise hypothesis label`
(tab-separated, no quoting; the label as a word). The Aymara file is `aym`; its language row is `ay`.
Hub copy (`--source hub` / `data.layout=hub`): nala-cub/americas_nli, one config per language code (the files'
codes) with splits validation and test and features premise, hypothesis, label (ClassLabel entailment, neutral,
contradiction) [its dataset card]; a repo built by a loading script, so its Parquet files are the converter's, on
refs/convert/parquet as `<code>/<split>/NNNN.parquet`. It keeps no ids: rows are named shard:row.
"""
from functools import partial

from data.examples import DataError, PairExample
from data.readers import hub as H
from data.readers.common import Examples, check_label, check_unique_ids, iter_lines, row_scope, split_row
from data.task import HUB_SPLITS, NLI_LABELS, Download, Source, Task

CODES = ("aym", "bzd", "cni", "gn", "hch", "nah", "oto", "quy", "shp", "tar")  # the files' names
TAG_OF_CODE = {"aym": "ay"}  # Central Aymara's row; every other file is named by its language's tag
LANGS = tuple(TAG_OF_CODE.get(c, c) for c in CODES)
HEADER = ["id", "language", "premise", "hypothesis", "label"]
EXPECTED = "AmericasNLI TSV with header id, language, premise, hypothesis, label"
REPO = "https://raw.githubusercontent.com/abteen/americasnli/main/data/anli_final"
HUB = "nala-cub/americas_nli"
HUB_READ = partial(H.read_hub_pair, text_a="premise", text_b="hypothesis", names=H.NLI_NAMES)


def read_americasnli(paths, lang, split, labels) -> Examples:
    """One language's dev or test file; the `language` column must be the file's code."""
    (path,) = paths
    code = path.stem
    out, lines = Examples(paths=paths), []
    rows = iter_lines(path, EXPECTED)
    first = next(rows, None)
    if first is None or first[1].split("\t") != HEADER:
        raise DataError(path, 1, f"header {first[1].split(chr(9)) if first else 'missing'}; expected {EXPECTED}")
    for lineno, line in rows:
        if not line.strip():
            continue
        with row_scope():
            id_, language, premise, hypothesis, label = split_row(path, lineno, line, 5, EXPECTED)
            if language != code:
                raise DataError(path, lineno, f"language {language!r}; expected {code!r}, the file's language")
            out.append(PairExample(id_, lang, premise, hypothesis, check_label(path, lineno, label, labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    return out


TASK = Task(
    name="americasnli", kind="pair_cls", langs=LANGS, splits=("dev", "test"), labels=NLI_LABELS,
    primary_metric="accuracy", metrics=("accuracy",),
    description="AmericasNLI: XNLI translated into 10 Indigenous languages of the Americas (none seen by XLM-R); "
                "trains as XNLI",
    target=True, train_task="xnli", display_name="AmericasNLI", parallel_test=True,
    sources=tuple(Source("original", s, (f"americasnli/data/anli_final/{s}/{code}.tsv",), read_americasnli,
                         (TAG_OF_CODE.get(code, code),)) for s in ("dev", "test") for code in CODES)
    + tuple(Source("hub", s, (f"hub/{HUB}/{code}/{HUB_SPLITS[s]}/*.parquet",), HUB_READ, (TAG_OF_CODE.get(code, code),),
                   (), "refs/convert/parquet") for s in ("dev", "test") for code in CODES),
    downloads=tuple(Download(f"{REPO}/{s}/{code}.tsv", f"americasnli/data/anli_final/{s}/{code}.tsv")
                    for s in ("dev", "test") for code in CODES),
    default_source="upstream",
    default_source_why="the authors' TSVs keep the ids; the Hub's nala-cub/americas_nli (a loading script's Parquet "
                       "conversion of the same files) has none",
    train_examples=392_702, mean_tokens=45,  # trains on MNLI, as XNLI
)
