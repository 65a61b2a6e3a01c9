"""Readers of sentence-pair and single-sentence classification files (XNLI, PAWS-X, GLUE, MNLI/SNLI/ANLI JSONL).

Every reader takes `(paths, lang, split, labels)` and returns `Examples` of PairExample / SingleExample.
"""
from __future__ import annotations

import csv
import io

from data.examples import DataError, PairExample
from data.readers.common import (Examples, check_label, file_line_id, iter_lines, read_text, row_scope, split_row)

# XNLI-MT and the MultiNLI TSVs spell one label "contradictory"; XTREME and MNLI write "contradiction".
NLI_SPELLINGS = {"contradictory": "contradiction"}  # XNLI's files spell one label two ways


def header_index(path, header: list[str], names: list[str], expected: str) -> dict[str, int]:
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
                    label = check_label(path, lineno, NLI_SPELLINGS.get(row[2].strip(), row[2].strip()), labels)
                out.append(PairExample(file_line_id(path, lineno), lang, row[0], row[1], label))
    except csv.Error as e:
        raise DataError(path, reader.line_num, f"malformed quoting ({e}); expected {expected}") from None
    return out


def read_headed_tsv(path, names: list[str], expected: str, bad_rows: dict[str, int] | None = None):
    """(line number, {name: value}) for each row of a TSV with a header row; tabs only, no quoting (GLUE, PAWS-X).

    bad_rows: when given, a row with the wrong column count is counted there and passed over instead of raising.
    """
    rows = iter_lines(path, expected)
    _, header_line = next(rows)
    header = header_line.split("\t")
    col = header_index(path, header, names, expected)
    for lineno, line in rows:
        if not line.strip():
            continue
        if bad_rows is not None and len(line.split("\t")) != len(header):
            bad_rows[BAD_ROW] += 1
            continue
        cols = None
        with row_scope():
            cols = split_row(path, lineno, line, len(header), expected)
        if cols is not None:
            yield lineno, {n: cols[i] for n, i in col.items()}


BAD_ROW = "row with the wrong number of columns"
