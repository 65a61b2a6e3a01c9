"""Per-language zero-shot drop against linguistic distance from English, before and after intermediate training.

Run:
    python correlate.py                                  # the published baselines in results/published/
    python correlate.py runs/results.csv --with-published --out results/correlation/mine
    python correlate.py --power                          # size the after-intermediate study before renting GPUs
    python correlate.py --spm xlmr/sentencepiece.bpe.model --data-dir datasets   # + tokenizer covariates

Input: results CSVs in the schema of data/results.py (evaluate.py / retrieval.py rows, or the published files).
Output (--out, default results/correlation/): report.md -- its first screen answers the question (what the inputs
can answer; the pre-specified primary test; one summary figure; one table), everything else in its appendix --
plus correlations.csv, mixed_models.csv, drops.csv, distances.csv, small_n.csv (effects.csv and
after_intermediate.csv with intermediate-task runs) and PNG figures. Every file is written atomically.

The analysis lives in analysis/: scores.py (reading, reconciliation, dependent variables), distances.py (URIEL+),
covariates.py (pretraining size, script), tokenization.py (fertility, overlap with English), stats.py (per-test
statistics), models.py (pooled mixed models and the language-level permutation test), after.py (the
after-intermediate tests, the diverged-run check, baseline pairing), simulate.py (the power table), scenarios.py
(the after-intermediate test on studies simulated as real runs misbehave: `--power --misspecification`), run.py (the
pre-specified primary test and the pipeline), report.py, plots.py.

Own intermediate-task runs pair only with own baselines: with `--with-published`, a cell whose only baseline is a
published one is refused unless `--pair-published-baseline` (the report then names the source). Runs whose English
dev score collapsed are left out (analysis/after.py DIVERGED; `--keep-diverged` keeps them).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from analysis.distances import METRICS, distance_matrices
from analysis.design import PRIMARY
from analysis.run import run
from common.io import atomic_path

ROOT = Path(__file__).resolve().parent
PUBLISHED_DIR = ROOT / "results" / "published"
DEFAULT_OUT = ROOT / "results" / "correlation"


def _int_at_least(low: int):
    """argparse type: an integer >= low (argparse names the option in its error)."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"{v} is below {low}")
        return v
    return parse


def _positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (nan, inf, 0 and negatives are refused)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number > 0")
    return v


def check_out_dir(out) -> None:
    """Before any work: `out` is a folder that exists or can be created, and can be written (ValueError if not)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: is a file; expected an output folder")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--out {out}: {parent} is a file, so the folder cannot be created")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: no write permission in {parent}")


def _display(path) -> str:
    """A path relative to the project when it is inside it (reports stay the same on every machine)."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(path)


def power(args) -> None:
    from analysis.distances import english_distances
    from analysis.scenarios import pool_languages
    from analysis.simulate import format_power, power_table, xtreme_design

    if args.power_design == "many":  # the many-language task (SIB-200): up to ~180 languages, item noise
        from analysis.design import MANY_LANGUAGES
        from analysis.distances import URIEL_CODES
        from analysis.simulate import many_language_design
        from data.tasks import TASKS

        task = MANY_LANGUAGES["task"]
        langs = [lang for lang in TASKS[task].langs if lang != "en" and lang in URIEL_CODES]
        dist = english_distances(langs, args.metric, args.cache_dir, distances=(MANY_LANGUAGES["distance"],))
        design = many_language_design(dist, MANY_LANGUAGES["distance"], task, seed_sd=args.seed_sd,
                                      lang_sd=args.lang_sd)
        grid = {"n_langs": tuple(k for k in (10, 25, 50, 100) if k < len(design.distances)) + (len(design.distances),)}
    else:
        dist = english_distances(pool_languages(), args.metric, args.cache_dir)
        design = xtreme_design(dist, seed_sd=args.seed_sd, lang_sd=args.lang_sd)
        grid = {}
    t0 = time.perf_counter()
    reps = args.power_reps if args.power_reps is not None else (
        (400 if args.power_design == "xtreme" else 200) if args.power_method == "means" else 40)
    table = power_table(design, reps=reps, seed=args.seed, method=args.power_method, **grid)
    print(format_power(table, design, reps, args.power_method))
    print(f"correlate.py --power: {len(table)} cells x {reps} studies ({args.power_method}) "
          f"in {time.perf_counter() - t0:.0f} s")
    if args.misspecification:  # analysis/scenarios.py: the primary test under realistic misspecification
        from analysis.scenarios import format_panel, panel, real_world

        world = real_world(dist, seed_sd=args.seed_sd, lang_sd=args.lang_sd)
        t0 = time.perf_counter()
        print("\n" + format_panel(panel(world, args.panel_reps, seed=args.seed), world))
        print(f"correlate.py --misspecification: {args.panel_reps} studies per cell in "
              f"{time.perf_counter() - t0:.0f} s")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Zero-shot drop per language against linguistic distance from English.")
    p.add_argument("results", nargs="*", help="results CSVs (default: results/published/*.csv)")
    p.add_argument("--with-published", action="store_true", help="also read results/published/*.csv")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: results/correlation/)")
    p.add_argument("--metric", choices=METRICS, default="angular", help="URIEL distance: angular or cosine")
    p.add_argument("--n-resamples", type=_int_at_least(1), default=9999, help="permutations per test")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed of the permutations (>= 0)")
    p.add_argument("--primary-model", default=PRIMARY["model"], help="the pre-specified primary model")
    p.add_argument("--cache-dir", default=None, help="distance cache (default: ~/.cache/xstilts)")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--matrix", action="store_true",
                   help="also write distance_matrix_<distance>.csv (language x language, the languages analysed); "
                        "the genetic matrix takes about a minute the first time, then comes from the cache")
    p.add_argument("--spm", default=None, help="sentencepiece model: with --data-dir, adds tokenizer fertility "
                   "and vocabulary overlap with English per language (appendix, tokenizer*.csv)")
    p.add_argument("--data-dir", default=None, help="the tasks' data folder (data/tasks.py layout), for --spm")
    p.add_argument("--sensitivity-imputed", action="store_true",
                   help="also run the primary test on distances from urielplus's own imputation of missing features "
                        "(appendix A4; about 10 s the first time, then cached)")
    p.add_argument("--sensitivity-integrated", action="store_true",
                   help="also run the primary and the many-language tests on distances from urielplus's integrated "
                        "databases (Glottocodes, 828 features; appendix A4; about 3 minutes once, then cached)")
    p.add_argument("--power", action="store_true", help="print the power table of the after-intermediate design")
    p.add_argument("--power-reps", type=_int_at_least(1), default=None,
                   help="simulated studies per power-table cell (default 400, 200 with --power-design many: about 3 "
                        "minutes; 40 with --power-method mixed)")
    p.add_argument("--power-method", choices=("means", "mixed"), default="means",
                   help="--power: the language-effects permutation test (default, under a minute) or the full mixed "
                        "model the report runs (about 8 minutes with 40 studies per cell)")
    p.add_argument("--power-design", choices=("xtreme", "many"), default="xtreme",
                   help="--power: the XTREME pool (default; up to 16 languages) or the many-language task of "
                        "analysis/design.py, SIB-200 (up to ~180 languages, binomial item noise on its 204 test "
                        "sentences per run)")
    p.add_argument("--seed-sd", type=_positive_float, default=0.8, help="--power: seed sd of a score, points (> 0)")
    p.add_argument("--lang-sd", type=_positive_float, default=0.5,
                   help="--power: sd of a language's own deviation in the intermediate-task effect, points (> 0; it "
                        "dominates power: set it from your pilot runs)")
    p.add_argument("--misspecification", action="store_true",
                   help="--power: also print the misspecification panel (analysis/scenarios.py: FPR, coverage and "
                        "power of the after-intermediate primary test when runs misbehave)")
    p.add_argument("--panel-reps", type=_int_at_least(1), default=100,
                   help="--misspecification: simulated studies per cell (default 100; bench/bench_scenarios.py 400)")
    p.add_argument("--item-scores", nargs="+", metavar="PATH", default=None,
                   help="per-item scores of your own baseline runs (evaluate.py --item-scores: files or folders): the "
                        "many-language drops are then paired, English and L on the same items (analysis/many.py)")
    p.add_argument("--keep-diverged", action="store_true",
                   help="keep runs the diverged-run check flags (analysis/after.py DIVERGED; default: left out)")
    p.add_argument("--pair-published-baseline", action="store_true",
                   help="pair your own intermediate-task runs with a PUBLISHED baseline where you have none (refused "
                        "by default: the effect would mix in every pipeline difference; the report names the source)")
    args = p.parse_args(argv)
    if args.power:
        return power(args)
    published = sorted(PUBLISHED_DIR.glob("*.csv"))
    paths = list(args.results) + (published if args.with_published or not args.results else [])
    if not paths:
        sys.exit(f"correlate.py: no results files (and none in {PUBLISHED_DIR})")
    t0 = time.perf_counter()
    try:
        check_out_dir(args.out)
        items = None
        if args.item_scores:  # their format and pairing, before the analysis (read once)
            from analysis.design import MANY_LANGUAGES
            from analysis.many import paired_noise
            from data.items import read_item_scores

            items = read_item_scores(args.item_scores)
            paired_noise(items, sorted(set(items["lang"]) - {"en"}), MANY_LANGUAGES["task"], MANY_LANGUAGES["model"])
        ctx = run(paths, Path(args.out), args.metric, args.n_resamples, args.seed, args.cache_dir,
                  not args.no_plots, args.primary_model, display_paths=[_display(q) for q in paths],
                  spm=args.spm, data_dir=args.data_dir, sensitivity_imputed=args.sensitivity_imputed,
                  keep_diverged=args.keep_diverged, pair_published=args.pair_published_baseline,
                  item_scores=items, sensitivity_integrated=args.sensitivity_integrated)
        if args.matrix:
            for d, m in distance_matrices(list(ctx["dist"]["lang"]), args.metric, args.cache_dir).items():
                with atomic_path(Path(args.out) / f"distance_matrix_{d}.csv") as tmp:
                    m.to_csv(tmp)
    except ValueError as e:  # DataError included: the message names the file and line
        sys.exit(f"correlate.py: {e}")
    except OSError as e:  # the output folder became unwritable (or filled up) during the run
        sys.exit(f"correlate.py: cannot write the outputs under --out {args.out}: {e}")
    n = int(ctx["corr"]["spearman_rho"].notna().sum())
    print(f"correlate.py: {len(ctx['corr'])} tests ({n} with a coefficient) in {time.perf_counter() - t0:.1f} s; "
          f"wrote {args.out}/report.md")


if __name__ == "__main__":
    main()
