"""Helpers every reader shares: decoding lines with their numbers, label and id checks, the result list.

Readers take `(paths, lang, split)` and return an `Examples` list. Line numbers in errors are 1-based and
count physical lines of the file, so `path:line` can be opened in an editor.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from data.examples import DataError

log = logging.getLogger(__name__)


class MissingDataError(DataError):
    """A task's file for a language and split is not under DATA_DIR (the message lists every path tried)."""


# While data.check collects errors, row-level errors (a bad line, an unknown label, a duplicate id) are recorded
# here and the reader goes on with the next row; otherwise the first one is raised.
_COLLECTED: contextvars.ContextVar[list | None] = contextvars.ContextVar("collected_data_errors", default=None)
MAX_ERRORS_PER_READ = 50


class TooManyErrors(DataError):
    """Raised in collecting mode after MAX_ERRORS_PER_READ errors in one read, to bound the report."""


@contextlib.contextmanager
def collect_errors():
    """Within this block readers record row-level DataErrors in the yielded list instead of raising them."""
    errors: list[DataError] = []
    token = _COLLECTED.set(errors)
    try:
        yield errors
    finally:
        _COLLECTED.reset(token)


@contextlib.contextmanager
def row_scope():
    """Wrap the handling of one row: its DataError is raised, or recorded when collecting (the row is dropped)."""
    try:
        yield
    except TooManyErrors:
        raise
    except DataError as e:
        errors = _COLLECTED.get()
        if errors is None:
            raise
        errors.append(e)
        if len(errors) >= MAX_ERRORS_PER_READ:
            raise TooManyErrors(e.path, None, f"{len(errors)} errors; stopped reading this file") from None


class Examples(list):
    """A list of examples that also says where they came from and what was skipped (never silently).

    paths: the files read; layout: "original", "xtreme", "glue", ...; skipped: reason -> count
    (e.g. {"gold_label '-'": 185} for MNLI dev), also logged at WARNING level by the reader; tokenization: how
    the words were read where a format allows several ("ud_words=fused"), else "".
    """

    def __init__(self, items: Iterable = (), paths: Sequence = (), layout: str = "", skipped=None):
        super().__init__(items)
        self.paths = tuple(str(p) for p in paths)
        self.layout = layout
        self.skipped: dict[str, int] = dict(skipped or {})
        self.tokenization = ""

    def add_skips(self, skipped: dict[str, int], path=None) -> None:
        """Count skipped rows by reason; with `path`, also log them against that file (never a silent skip)."""
        for reason, n in skipped.items():
            if n:
                self.skipped[reason] = self.skipped.get(reason, 0) + n
                if path is not None:
                    log.warning("%s: skipped %d examples (%s)", path, n, reason)


def _file_key(path: Path) -> tuple[str, int, int]:
    st = os.stat(path)
    return str(path), st.st_mtime_ns, st.st_size


def cached_by_file(fn):
    """Cache a per-file parse (e.g. XNLI's one file of 15 languages) until the file changes.

    The parse runs collecting its row errors; a later call re-raises the first (or, while collecting,
    records them all again), so the cache never hides a bad row.
    """
    def parse(key, *args):
        with collect_errors() as errors:
            result = fn(Path(key[0]), *args)
        return result, tuple(errors)

    cached = functools.lru_cache(maxsize=8)(parse)

    @functools.wraps(fn)
    def wrapper(path, *args):
        result, errors = cached(_file_key(Path(path)), *args)
        if errors:
            collecting = _COLLECTED.get()
            if collecting is None:
                raise errors[0]
            collecting.extend(errors)
        return result

    wrapper.cache_clear = cached.cache_clear
    return wrapper


def read_text(path, expected: str) -> str:
    """The whole file as text (UTF-8, BOM dropped); DataError on bad bytes or an empty file."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataError(path, line, f"not valid UTF-8 (byte {e.start}); expected {expected}") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DataError(path, 1, f"empty file; expected {expected}")
    return text


def iter_lines(path, expected: str) -> Iterator[tuple[int, str]]:
    """(line number, line without its newline) for every physical line.

    Splits on "\\n" only: str.splitlines would also break on U+2028 and U+0085, which occur inside
    sentences of multilingual corpora.
    """
    text = read_text(path, expected)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines, start=1):
        yield i, line.removesuffix("\r")


def split_row(path, lineno: int, line: str, ncols: int | Sequence[int], expected: str) -> list[str]:
    """Tab-split one line and check its column count."""
    cols = line.split("\t")
    allowed = (ncols,) if isinstance(ncols, int) else tuple(ncols)
    if len(cols) not in allowed:
        want = " or ".join(str(n) for n in allowed)
        raise DataError(path, lineno, f"{len(cols)} tab-separated columns, expected {want} ({expected})")
    return cols


def check_label(path, where, label, labels: Sequence[str] | frozenset[str] | None):
    """`label` when it is in `labels` (None: any label); DataError naming the expected set otherwise."""
    if labels is not None and label not in labels:
        shown = sorted(labels)
        listing = ", ".join(shown) if len(shown) <= 20 else ", ".join(shown[:20]) + f", ... ({len(shown)} in all)"
        raise DataError(path, where, f"unknown label {label!r}; expected one of {listing}")
    return label


def check_unique_ids(path, ids: Iterable[str], lines: Sequence[int] | None = None) -> None:
    """Every id once. lines: each id's line number, when the file has lines: the error then names the line of
    the repeat and of the first (else the id stands where the line would, as in `file.json:s1`)."""
    first: dict[str, int | None] = {}
    for i, id_ in enumerate(ids):
        line = None if lines is None else lines[i]
        if id_ in first:
            with row_scope():
                if line is None:
                    raise DataError(path, id_, "duplicate id; expected every id once")
                raise DataError(path, line, f"duplicate id {id_!r} (first on line {first[id_]}); expected every "
                                            "id once")
        first[id_] = line


def parse_json_line(path, lineno: int, line: str):
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(path, lineno, f"broken JSON ({e.msg} at column {e.colno}); expected one JSON object per line") from None
    except RecursionError:  # json's decoder recurses once per level of [ or {
        raise DataError(path, lineno, "JSON nested too deeply to read; expected one JSON object per line") from None
    if not isinstance(obj, dict):
        raise DataError(path, lineno, f"a JSON {type(obj).__name__}; expected one JSON object per line")
    return obj


def iter_json_lines(path, expected: str) -> Iterator[tuple[int, dict]]:
    """(line number, object) per non-blank line; a broken line is raised (or recorded and passed over)."""
    for lineno, line in iter_lines(path, expected):
        if line.strip():
            obj = None
            with row_scope():
                obj = parse_json_line(path, lineno, line)
            if obj is not None:
                yield lineno, obj


def get_key(path, where, obj: dict, key: str, types=str):
    """obj[key] with a DataError naming the key when it is absent or of the wrong type."""
    if key not in obj:
        raise DataError(path, where, f"missing key {key!r}; expected an object with {key!r} (has {', '.join(sorted(obj))})")
    value = obj[key]
    if types is not None and not isinstance(value, types):
        names = types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
        raise DataError(path, where, f"{key!r} is {type(value).__name__}; expected {names}")
    return value


def load_json(path, expected: str):
    text = read_text(path, expected)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(path, e.lineno, f"broken JSON ({e.msg} at column {e.colno}); expected {expected}") from None
    except RecursionError:  # json's decoder recurses once per level of [ or {
        raise DataError(path, None, f"JSON nested too deeply to read; expected {expected}") from None


def file_line_id(path, lineno: int) -> str:
    """The id of an example whose file has none: `file name:line`."""
    return f"{Path(path).name}:{lineno}"


def check_choice_label(path, where, label, n: int) -> int:
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < n:
        raise DataError(path, where, f"label {label!r}; expected an integer 0..{n - 1}")
    return label
