"""The results schema: one CSV row per score, written by evaluate.py / retrieval.py, read by correlate.py.

Columns (REFERENCE.md, "The results schema"):
    model, intermediate_task, target_task, seed, lang, split, metric, value, source
`intermediate_task` is `none` for a baseline; `value` is on 0-100; `seed` is empty when unknown; `source` says
where the number came from (a run directory or a publication). The published files in results/published/ use the
same columns without `seed`; they are read with `seed` empty.

A row's key is every column except `value`. The same key twice with the same value is one row (re-running an
evaluation appends nothing new); the same key with a different value is an error naming both places.

Use:
    from data.results import append_results, read_results
    append_results("runs/results.csv", [{"model": "xlmr-base", "intermediate_task": "none", ...}])
    df = read_results(["runs/results.csv", "results/published/xquad_readme_mbert_xlmr_large.csv"])
`df` has the nine columns (seed and all names as str, value as float) plus `file` and `line`, the place each row
came from, so later errors can point at it.

Also here, for every command that writes or merges results: `result_rows` (scores -> schema rows),
`format_table` (the printed per-language table), `collect` (mean, std and n over seeds), `check_results_path`
(before any compute: can rows be appended there?) and `append_or_save_aside` (scores that cannot be appended are
written to a new file beside, and the error says where). A byte-order mark (Excel's "CSV UTF-8") is accepted;
numbers must be written with ASCII digits (no "8_0", no "inf"/"nan").
"""
from __future__ import annotations

import csv
import fcntl
import io
import math
import os
import re
import tempfile
import time
from pathlib import Path

import pandas as pd

from common.io import atomic_path
from data.examples import DataError

COLUMNS = ("model", "intermediate_task", "target_task", "seed", "lang", "split", "metric", "value", "source")
PUBLISHED_COLUMNS = tuple(c for c in COLUMNS if c != "seed")  # shared/published/*.csv: no seed column
REQUIRED = tuple(c for c in COLUMNS if c != "seed")  # every column but seed must be non-empty
KEY = tuple(c for c in COLUMNS if c != "value")
# Numbers as written in a CSV: ASCII digits only. Python's float() and int() also take "8_0" (80), " 80 ", "٨٠"
# (Arabic-Indic digits) and "inf"/"nan"; none of those is a score someone meant to write.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def _check_row(row: dict, path, where) -> dict:
    """Validate one row (a dict of strings or numbers); return it normalized: str fields stripped, value float."""
    out = {}
    for col in COLUMNS:
        raw = row.get(col, "")
        out[col] = "" if raw is None else str(raw).strip()
    for col in REQUIRED:
        if out[col] == "":
            raise DataError(path, where, f"empty {col!r}; every column but 'seed' must be filled")
    if out["seed"] != "" and not _INTEGER.fullmatch(out["seed"]):
        raise DataError(path, where, f"seed {out['seed']!r} is not an integer (leave it empty when unknown)")
    if _NON_FINITE.fullmatch(out["value"]):
        raise DataError(path, where, f"value {out['value']!r} is not a finite number")
    if not _NUMBER.fullmatch(out["value"]):
        raise DataError(path, where, f"value {out['value']!r} is not a number (digits 0-9, a '.', an exponent)")
    value = float(out["value"])
    if not math.isfinite(value):
        raise DataError(path, where, f"value {out['value']!r} is not a finite number")
    if not 0.0 <= value <= 100.0:
        raise DataError(path, where, f"value {value} is outside 0-100 (scores are percentages)")
    out["value"] = value
    return out


def _read_one(path) -> list[dict]:
    """Rows of one results file, validated one by one, each with its `file` and `line`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "", "results file not found") from None
    except IsADirectoryError:
        raise DataError(path, "", "is a folder; expected a results CSV file") from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Excel's "CSV UTF-8") is dropped
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise DataError(path, f"line {line}", f"byte 0x{data[e.start]:02x} at column {column} is not UTF-8; "
                                              "save the file as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise DataError(path, "line 1", f"empty file; expected the header {','.join(COLUMNS)}")
    header = [h.strip() for h in header]
    if sorted(header) not in (sorted(COLUMNS), sorted(PUBLISHED_COLUMNS)) or len(set(header)) != len(header):
        raise DataError(path, "line 1", f"header {','.join(header)!r} is not the results schema: expected "
                        f"{','.join(COLUMNS)} (or the same without seed, as in the published files)")
    rows = []
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # e.g. a field over csv.field_size_limit() (131,072 characters)
            raise DataError(path, f"line {reader.line_num}", f"not a readable CSV row ({e})") from None
        where = f"line {reader.line_num}"
        if not fields or all(f.strip() == "" for f in fields):
            continue  # a blank line carries nothing
        if len(fields) != len(header):
            raise DataError(path, where, f"{len(fields)} fields, expected {len(header)} ({','.join(header)})")
        row = _check_row(dict(zip(header, fields)), path, where)
        row["file"], row["line"] = str(path), reader.line_num
        rows.append(row)
    return rows


def _merge(rows: list[dict]) -> list[dict]:
    """Drop exact repeats of a key; a key with two different values is an error naming both places."""
    seen: dict[tuple, dict] = {}
    out = []
    for row in rows:
        key = tuple(row[c] for c in KEY)
        first = seen.get(key)
        if first is None:
            seen[key] = row
            out.append(row)
        elif first["value"] != row["value"]:
            raise DataError(row["file"], f"line {row['line']}",
                            f"value {row['value']} contradicts {first['value']} for the same "
                            f"{dict(zip(KEY, key))} at {first['file']}:line {first['line']}")
    return out


def read_results(paths) -> pd.DataFrame:
    """Read and validate results CSVs (one path or a list); return one DataFrame: COLUMNS + file, line."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    rows = []
    for p in paths:
        rows.extend(_read_one(p))
    rows = _merge(rows)
    df = pd.DataFrame(rows, columns=[*COLUMNS, "file", "line"])
    df["value"] = df["value"].astype(float)
    df["line"] = df["line"].astype(int)
    return df


def append_results(path, rows: list[dict]) -> None:
    """Append validated rows to a results CSV, creating it with the header; atomic (temp file + rename).

    Every row must have the COLUMNS keys (seed may be missing or None: unknown). The whole file is re-validated
    with the new rows, so nothing is written if any row is bad. A file lock serializes concurrent appenders.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = []
    for i, row in enumerate(rows):
        extra = set(row) - set(COLUMNS)
        if extra:
            raise ValueError(f"{path}: new row {i}: unknown columns {sorted(extra)}; expected {COLUMNS}")
        new.append(_check_row(row, path, f"new row {i}"))
        new[-1]["file"], new[-1]["line"] = f"{path} (new row {i})", 0
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent evaluations append one after the other
        old = []
        if path.exists():
            old = _read_one(path)
            with open(path, encoding="utf-8-sig", newline="") as f:
                header = next(csv.reader(f), [])
            if [h.strip() for h in header] != list(COLUMNS):
                raise DataError(path, "line 1", f"cannot append: header is not exactly {','.join(COLUMNS)}")
        merged = _merge(old + new)
        with atomic_path(path) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(COLUMNS)
                for row in merged:
                    w.writerow([repr(row[c]) if c == "value" else row[c] for c in COLUMNS])


def check_results_path(path) -> Path:
    """Before any compute: rows can be appended to `path` (a results CSV, or a new file in a folder that can be
    created and written). ValueError naming the problem: a folder, a malformed or non-UTF-8 file, a header that
    is not exactly COLUMNS, a parent that is a file, a folder without write permission."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; expected a results CSV file (e.g. {path / 'results.csv'})")
    if path.exists():
        _read_one(path)
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
        if [h.strip() for h in header] != list(COLUMNS):
            raise DataError(path, "line 1", f"cannot append: header is not exactly {','.join(COLUMNS)}")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ValueError(f"{path}: cannot create it: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{path}: cannot write in {folder} (permission denied)")
    return path


def save_aside(path, rows: list[dict]) -> Path:
    """Write `rows` to a new results CSV beside `path` (else in the current folder, else the temp folder):
    `<stem>.unsaved-<UTC time>-<pid>.csv`; return where. For scores that could not be appended."""
    path = Path(path)
    name = f"{path.stem or 'results'}.unsaved-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}.csv"
    error = None
    for folder in (path.parent, Path.cwd(), Path(tempfile.gettempdir())):
        try:
            with atomic_path(folder / name) as tmp:
                with open(tmp, "w", encoding="utf-8", newline="") as f:
                    w = csv.writer(f, lineterminator="\n")
                    w.writerow(COLUMNS)
                    for row in rows:
                        w.writerow(["" if row.get(c) is None else row.get(c, "") for c in COLUMNS])
            return folder / name
        except OSError as e:
            error = e
    raise OSError(f"cannot write the rows anywhere (last: {error})")


def append_or_save_aside(path, rows: list[dict]) -> None:
    """append_results; when that fails, the rows are written beside (save_aside) and the ValueError says where.
    Computed scores are never lost to a bad or unwritable results file."""
    try:
        append_results(path, rows)
    except (ValueError, OSError) as e:
        where = save_aside(path, rows)
        raise ValueError(f"could not append {len(rows)} rows to {path} ({e}); they were written to {where} "
                         "instead (the results schema: evaluate.py --collect reads it; append them once the "
                         "file is fixed)") from None


# --- scores -> rows, and the printed table -------------------------------------------------------------------

def result_rows(scores: dict, meta: dict, split: str, source: str | dict) -> list[dict]:
    """Results-schema rows, one per (lang, metric): scores {lang: {metric: value 0-100}}. source: one string for
    every row, or {lang: source} (evaluate.row_sources: the layout read can differ by language).

    meta needs model, intermediate_task, target_task; seed may be missing or None (unknown).
    """
    missing = [k for k in ("model", "intermediate_task", "target_task") if meta.get(k) in (None, "")]
    if missing:
        raise ValueError(f"result_rows: meta lacks {missing}")
    seed = meta.get("seed")
    rows = []
    for lang, metrics in scores.items():
        for metric, value in metrics.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 100):
                raise ValueError(f"result_rows: {lang} {metric} = {value!r} is not a score on 0-100")
            rows.append({"model": meta["model"], "intermediate_task": meta["intermediate_task"] or "none",
                         "target_task": meta["target_task"], "seed": "" if seed is None else seed, "lang": lang,
                         "split": split, "metric": metric, "value": float(value),
                         "source": source[lang] if isinstance(source, dict) else source})
    return rows


def format_table(scores: dict) -> str:
    """A per-language table (languages as rows, metrics as columns) with the mean over languages last."""
    metrics = list(dict.fromkeys(m for per_lang in scores.values() for m in per_lang))
    width = max([len(m) for m in metrics] + [8])
    lines = ["lang  " + "".join(f"{m:>{width + 2}}" for m in metrics)]
    for lang, per_lang in scores.items():
        lines.append(f"{lang:<6}" + "".join(
            f"{per_lang[m]:>{width + 2}.2f}" if m in per_lang else " " * (width + 2) for m in metrics))
    if len(scores) > 1:
        means = [[v[m] for v in scores.values() if m in v] for m in metrics]
        lines.append("mean  " + "".join(f"{sum(v) / len(v):>{width + 2}.2f}" for v in means))
    return "\n".join(lines)


# --- merging runs ---------------------------------------------------------------------------------------------

GROUP = ["model", "intermediate_task", "target_task", "split", "metric", "lang"]


def results_files(paths) -> list[Path]:
    """CSV files named directly, or every *.csv below a named directory; ValueError when there are none."""
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob("*.csv"))
            if not found:
                raise ValueError(f"{p}: no results CSV below this directory")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise ValueError(f"{p}: no such file or directory")
    return list(dict.fromkeys(files))


def collect(paths) -> pd.DataFrame:
    """One table over runs: mean, std (over seeds, ddof 1; empty for one seed) and n per cell.

    A cell is (model, intermediate_task, target_task, split, metric, lang); rows of every source and seed
    in it are pooled. Returns a DataFrame with GROUP + mean, std, n.
    """
    df = read_results(results_files(paths))
    if df.empty:
        raise ValueError(f"no results rows in {', '.join(map(str, paths))}")
    return df.groupby(GROUP, sort=True)["value"].agg(mean="mean", std="std", n="count").reset_index()
