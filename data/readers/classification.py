"""Readers of sentence-pair and single-sentence classification files (XNLI, PAWS-X, GLUE, MNLI/SNLI/ANLI JSONL).

Every reader takes `(paths, lang, split, labels)` and returns `Examples` of PairExample / SingleExample.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from data.examples import DataError, PairExample, SingleExample
from data.readers.common import (Examples, MissingDataError, cached_by_file, check_label, check_unique_ids, file_line_id, get_key,
                                 iter_json_lines, iter_lines, read_text, row_scope, split_row)

# XNLI-MT and the MultiNLI TSVs spell one label "contradictory"; XTREME and MNLI write "contradiction".
_NLI_SPELLINGS = {"contradictory": "contradiction"}
# ANLI abbreviates its labels.
_ANLI_LABELS = {"e": "entailment", "n": "neutral", "c": "contradiction"}


def _header_index(path, header: list[str], names: list[str], expected: str) -> dict[str, int]:
    missing = [n for n in names if n not in header]
    if missing:
        raise DataError(path, 1, f"header lacks column(s) {', '.join(missing)}; expected {expected}")
    return {n: header.index(n) for n in names}


def read_xtreme_pair_tsv(paths, lang, split, labels) -> Examples:
    """XTREME's `{train,dev,test}-L.tsv`: `s1\\ts2\\tlabel`, written by Python's csv module (fields with a `"`
    are quoted), no header. XTREME's test files have two columns: label None."""
    (path,) = paths
    expected = "sentence1<TAB>sentence2[<TAB>label], csv-quoted, no header"
    text = read_text(path, expected)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    out, ncols = Examples(paths=paths), None
    start = 1
    try:
        for row in reader:
            lineno, start = start, reader.line_num + 1  # first physical line of this row
            if not row:
                continue
            with row_scope():
                if ncols is not None and len(row) != ncols:
                    raise DataError(path, lineno, f"{len(row)} tab-separated columns, expected {ncols} like the "
                                                  f"first row ({expected})")
                if len(row) not in (2, 3):
                    raise DataError(path, lineno, f"{len(row)} tab-separated columns, expected 2 or 3 ({expected})")
                ncols = len(row)  # XTREME's test files have 2 columns (no label); the others 3
                label = None
                if ncols == 3:
                    label = check_label(path, lineno, _NLI_SPELLINGS.get(row[2].strip(), row[2].strip()), labels)
                out.append(PairExample(file_line_id(path, lineno), lang, row[0], row[1], label))
    except csv.Error as e:
        raise DataError(path, reader.line_num, f"malformed quoting ({e}); expected {expected}") from None
    return out


@cached_by_file
def _parse_xnli_original(path) -> dict[str, list[PairExample]]:
    """XNLI-1.0 `xnli.{dev,test}.tsv`: header row, a `language` column, gold_label, sentence1, sentence2, pairID.
    The text holds unescaped quotes, so lines are split on tabs only."""
    expected = "XNLI-1.0 TSV with columns language, gold_label, sentence1, sentence2, pairID"
    rows = iter_lines(path, expected)
    _, header_line = next(rows)
    header = header_line.split("\t")
    col = _header_index(path, header, ["language", "gold_label", "sentence1", "sentence2", "pairID"], expected)
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
                      _NLI_SPELLINGS.get(cols[col["gold_label"]], cols[col["gold_label"]])) for lineno, cols in rows_]
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


def _read_headed_tsv(path, names: list[str], expected: str, bad_rows: dict[str, int] | None = None):
    """(line number, {name: value}) for each row of a TSV with a header row; tabs only, no quoting (GLUE, PAWS-X).

    bad_rows: when given, a row with the wrong column count is counted there and passed over instead of raising.
    """
    rows = iter_lines(path, expected)
    _, header_line = next(rows)
    header = header_line.split("\t")
    col = _header_index(path, header, names, expected)
    for lineno, line in rows:
        if not line.strip():
            continue
        if bad_rows is not None and len(line.split("\t")) != len(header):
            bad_rows[_BAD_ROW] += 1
            continue
        cols = None
        with row_scope():
            cols = split_row(path, lineno, line, len(header), expected)
        if cols is not None:
            yield lineno, {n: cols[i] for n, i in col.items()}


def read_pawsx_original(paths, lang, split, labels) -> Examples:
    """PAWS-X `x-final/L/{train,dev_2k,test_2k}.tsv`: header `id sentence1 sentence2 label`."""
    (path,) = paths
    out, lines = Examples(paths=paths), []
    for lineno, row in _read_headed_tsv(path, ["id", "sentence1", "sentence2", "label"],
                                        "PAWS-X TSV with header id, sentence1, sentence2, label"):
        with row_scope():
            out.append(PairExample(row["id"], lang, row["sentence1"], row["sentence2"],
                                   check_label(path, lineno, row["label"], labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    return out


def read_xnli_mt_train(paths, lang, split, labels) -> Examples:
    """XNLI-MT-1.0 `multinli/multinli.train.en.tsv`: header `premise hypo label`, no ids."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, row in _read_headed_tsv(path, ["premise", "hypo", "label"],
                                        "XNLI-MT TSV with header premise, hypo, label"):
        label = _NLI_SPELLINGS.get(row["label"], row["label"])
        with row_scope():
            out.append(PairExample(file_line_id(path, lineno), lang, row["premise"], row["hypo"],
                                   check_label(path, lineno, label, labels)))
    return out


def read_glue_mnli(paths, lang, split, labels) -> Examples:
    """GLUE `MNLI/{train,dev_matched,dev_mismatched}.tsv`: header with pairID, sentence1, sentence2, gold_label."""
    (path,) = paths
    out, skipped, lines = Examples(paths=paths), {"gold_label '-'": 0}, []
    for lineno, row in _read_headed_tsv(path, ["pairID", "sentence1", "sentence2", "gold_label"],
                                        "GLUE MNLI TSV with columns pairID, sentence1, sentence2, gold_label"):
        if row["gold_label"] == "-":  # annotators did not agree
            skipped["gold_label '-'"] += 1
            continue
        with row_scope():
            out.append(PairExample(row["pairID"], lang, row["sentence1"], row["sentence2"],
                                   check_label(path, lineno, row["gold_label"], labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    out.add_skips(skipped, path)
    return out


_BAD_ROW = "row with the wrong number of columns"


def read_glue_qqp(paths, lang, split, labels) -> Examples:
    """GLUE `QQP/{train,dev}.tsv`: header `id qid1 qid2 question1 question2 is_duplicate`.

    GLUE's QQP train file is known to hold rows with a stray tab or a missing field (nyu-mll/GLUE-baselines
    issue #5; transformers' reader drops them too): those rows are skipped and counted, not fatal.
    """
    (path,) = paths
    out, skipped, lines = Examples(paths=paths), {_BAD_ROW: 0}, []
    for lineno, row in _read_headed_tsv(path, ["id", "question1", "question2", "is_duplicate"],
                                        "GLUE QQP TSV with columns id, question1, question2, is_duplicate",
                                        bad_rows=skipped):
        with row_scope():
            out.append(PairExample(row["id"], lang, row["question1"], row["question2"],
                                   check_label(path, lineno, row["is_duplicate"], labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    out.add_skips(skipped, path)
    return out


def read_glue_sst2(paths, lang, split, labels) -> Examples:
    """GLUE `SST-2/{train,dev}.tsv`: header `sentence label`, no ids."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, row in _read_headed_tsv(path, ["sentence", "label"], "GLUE SST-2 TSV with header sentence, label"):
        with row_scope():
            out.append(SingleExample(file_line_id(path, lineno), lang, row["sentence"],
                                     check_label(path, lineno, row["label"], labels)))
    return out


def read_nli_jsonl(paths, lang, split, labels) -> Examples:
    """MultiNLI 1.0 / SNLI 1.0 JSONL: keys pairID, sentence1, sentence2, gold_label ("-": no consensus, skipped
    and counted)."""
    (path,) = paths
    out, skipped = Examples(paths=paths), {"gold_label '-'": 0}
    for lineno, obj in iter_json_lines(path, "MultiNLI/SNLI JSONL with pairID, sentence1, sentence2, gold_label"):
        with row_scope():
            label = get_key(path, lineno, obj, "gold_label")
            if label == "-":  # annotators did not agree
                skipped["gold_label '-'"] += 1
                continue
            out.append(PairExample(get_key(path, lineno, obj, "pairID"), lang, get_key(path, lineno, obj, "sentence1"),
                                   get_key(path, lineno, obj, "sentence2"), check_label(path, lineno, label, labels)))
    check_unique_ids(path, (e.id for e in out))
    out.add_skips(skipped, path)
    return out


def read_anli_jsonl(paths, lang, split, labels) -> Examples:
    """ANLI v1.0 `R{1,2,3}/{train,dev,test}.jsonl`: keys uid, context, hypothesis, label (e/n/c)."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, obj in iter_json_lines(path, "ANLI JSONL with uid, context, hypothesis, label"):
        with row_scope():
            short = get_key(path, lineno, obj, "label")
            if short not in _ANLI_LABELS:
                raise DataError(path, lineno, f"unknown label {short!r}; expected one of e, n, c")
            out.append(PairExample(get_key(path, lineno, obj, "uid"), lang, get_key(path, lineno, obj, "context"),
                                   get_key(path, lineno, obj, "hypothesis"),
                                   check_label(path, lineno, _ANLI_LABELS[short], labels)))
    check_unique_ids(path, (e.id for e in out))
    return out


def read_anli_plus(paths, lang, split, labels) -> Examples:
    """ANLI+: each file by its own format (ANLI rounds, SNLI/MultiNLI JSONL, GLUE MNLI TSV), concatenated
    in the order given; ids prefixed with their source so that they stay unique."""
    out = Examples(paths=paths)
    for path in paths:
        path = Path(path)
        if path.suffix == ".tsv":
            part, source = read_glue_mnli([path], lang, split, labels), "mnli"
        elif path.parent.name in ("R1", "R2", "R3"):
            part, source = read_anli_jsonl([path], lang, split, labels), f"anli_{path.parent.name.lower()}"
        else:
            part = read_nli_jsonl([path], lang, split, labels)
            source = "snli" if path.name.startswith("snli") else "mnli"
        out.extend(PairExample(f"{source}:{e.id}", e.lang, e.text_a, e.text_b, e.label) for e in part)
        out.add_skips({f"{source}: {k}": v for k, v in part.skipped.items()})
    return out
