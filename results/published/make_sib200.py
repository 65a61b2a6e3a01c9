"""Write results/published/sib200_adelani2024_table7.csv from the parsed SIB-200 Table 7 (a one-off converter).

Run (from the project root):
    python results/published/make_sib200.py ../shared/published/sib200_adelani2024_table7.csv

Input: the project's parse of Table 7 of Adelani et al., "SIB-200", EACL 2024 (arXiv 2309.07445), read from
`dadelani/sib-200@5aadf8f131e44196fa7a22b3b59649833f207295:SIB-200_paper.pdf` (SOURCES.md here says how it was parsed
and checked). Output: one results row per language (results schema without `seed`, like the other published files):
XLM-R Large, no intermediate task, target task `sib200`, split test, metric accuracy, the column
`xlmr_transfer_from_eng` (cross-lingual transfer from English; English's own row, 92.2, is XLM-R Large trained and
tested on English). `lang` is the language tag of data/languages.tsv, found by the table's FLORES-200 code (every
code of the table has exactly one row there; a code without one is an error naming it). The table's other columns
(in_xlmr, family) are not results: the analysis reads them from data/languages.tsv (`in_sib_xlmr` is this table's
column; `family` is Glottolog's via URIEL+).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from common.io import atomic_write_text  # noqa: E402
from data.languages import languages  # noqa: E402

OUT = Path(__file__).resolve().with_name("sib200_adelani2024_table7.csv")
SOURCE = ("dadelani/sib-200@5aadf8f131e44196fa7a22b3b59649833f207295:SIB-200_paper.pdf (Table 7, "
          "xlmr_transfer_from_eng; Adelani et al. 2024; parsed with pdftotext -layout)")
HEADER = ["model", "intermediate_task", "target_task", "lang", "split", "metric", "value", "source"]


def convert(table: Path) -> str:
    by_flores = {}
    for tag, row in languages().items():
        for code in row.flores.split():
            by_flores.setdefault(code, []).append(tag)
    lines = [",".join(HEADER)]
    with open(table, encoding="utf-8", newline="") as f:
        for i, rec in enumerate(csv.DictReader(f), start=2):
            tags = by_flores.get(rec["code"], [])
            if len(tags) != 1:
                raise ValueError(f"{table}:line {i}: FLORES code {rec['code']!r} has {len(tags)} rows in "
                                 "data/languages.tsv; expected exactly one")
            value = float(rec["xlmr_transfer_from_eng"])
            lines.append(",".join(["XLM-R Large", "none", "sib200", tags[0], "test", "accuracy", f"{value:g}",
                                   f'"{SOURCE}"']))
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit(__doc__.split("\n\n")[1])
    atomic_write_text(OUT, convert(Path(args[0])))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
