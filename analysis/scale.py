"""The question across model scale: does the slope of zero-shot score on linguistic distance change with the
encoder's size (XLM-R Base -> Large -> XL -> XXL)?

    python -m analysis.scale --results runs/study/scale/results.csv --task xnli      # your runs (study.py collect)
    python -m analysis.scale --published --task xnli                                 # the shipped Base + Large rows
    python -m analysis.scale --published --task xnli --distance genetic

The model (one task, one metric; seeds averaged first; English, the training language, left out):
    score[lang, size] = a[lang] + b * log10(params[size]) + g * distance[lang] * log10(params[size]) + e
a[lang] is a fixed effect per language (it absorbs the distance main effect and everything else a language
brings: pretraining size, script), so g is read within languages: how much the distance slope changes per tenfold
parameters. g < 0 with a negative slope means the slope steepens with size; g > 0 means the distance effect
shrinks. Reported: g, its 95% t interval (OLS, HC3 errors with a t reference: statsmodels' robust covariances
default to a normal one), its t p-value, and a language-level permutation p (distances shuffled across languages,
the same shuffle for every size; exact enumeration is not attempted) because n is small (XNLI: 14 languages).
With two sizes, g is (slope_large - slope_base) / log10(params_large / params_base).

Parameter counts are the encoders' own, as xlmr.memory.param_count gives them for the presets (Base 278M, Large 560M,
XL 3.48B, XXL 10.7B; fairseq's README rounds to 270M / 550M / 3.5B / 10.7B), written here as numbers so that the
analysis imports no model code; tests/test_scale.py checks them against param_count.

Published numbers: results/published/ holds XLM-R Base and Large zero-shot per-language rows for XNLI and MLQA
(ernie_m_readme_baselines.csv, copied there from Conneau et al. 2020), so the interaction can be estimated on two
sizes only. XL and XXL per-language zero-shot numbers are not published in a usable form: the fairseq README's
XL/XXL rows (examples/xlmr/README.md) are translate-train-all for XNLI, not zero-shot, and its MLQA rows for them
are column-shifted (the values do not line up with the language header), so neither is shipped or used here.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "results" / "published"
SIZES = {"XLM-R Base": "base", "XLM-R Large": "large", "XLM-R XL": "xl", "XLM-R XXL": "xxl"}  # results' model names
PARAMS = {"base": 277_453_056, "large": 558_840_832, "xl": 3_475_929_600, "xxl": 10_695_954_432}  # param_count
SOURCE_LANG = "en"


def model_params(model: str) -> int:
    """Parameters of a results row's `model` (one of SIZES, e.g. "XLM-R XL"); ValueError naming it otherwise."""
    if model not in SIZES:
        raise ValueError(f"model {model!r}: its size is unknown; expected one of {', '.join(SIZES)}")
    return PARAMS[SIZES[model]]


def interaction(scores: pd.DataFrame, distance: dict, n_resamples: int = 9999, seed: int = 0) -> dict:
    """g of the module docstring. scores: columns model, lang, value (seeds already averaged or not: they are
    averaged here); distance: lang -> distance from English. Languages without a distance, and English, are left
    out. Needs >= 2 sizes and >= 4 languages scored at every size."""
    import statsmodels.api as sm

    df = scores[scores["lang"] != SOURCE_LANG].groupby(["model", "lang"], as_index=False)["value"].mean()
    df = df[df["lang"].map(lambda lang: lang in distance and np.isfinite(distance[lang]))]
    sizes = sorted(df["model"].unique(), key=model_params)
    langs = sorted(set.intersection(*(set(df.loc[df["model"] == m, "lang"]) for m in sizes))) if sizes else []
    if len(sizes) < 2 or len(langs) < 4:
        raise ValueError(f"the scale interaction needs >= 2 model sizes and >= 4 languages scored at each; got "
                         f"sizes {sizes} and {len(langs)} common languages")
    df = df[df["lang"].isin(langs)].sort_values(["model", "lang"]).reset_index(drop=True)
    logp = np.log10(df["model"].map(model_params).to_numpy(float))
    dist = df["lang"].map(distance).to_numpy(float)
    fixed = pd.get_dummies(df["lang"]).to_numpy(float)  # one intercept per language

    def design(d):
        return np.column_stack([fixed, logp, d * logp])

    y = df["value"].to_numpy(float)
    fit = sm.OLS(y, design(dist)).fit(cov_type="HC3", use_t=True)
    g, (low, high) = fit.params[-1], fit.conf_int()[-1]
    rng = np.random.default_rng(seed)
    index = {lang: i for i, lang in enumerate(langs)}
    lang_ix = df["lang"].map(index).to_numpy()
    lang_dist = np.array([distance[lang] for lang in langs])
    null = np.empty(n_resamples)
    for r in range(n_resamples):  # shuffle distances across languages, the same for every size
        d = rng.permutation(lang_dist)[lang_ix]
        null[r] = np.linalg.lstsq(design(d), y, rcond=None)[0][-1]
    p_perm = (1 + np.sum(np.abs(null) >= abs(g) - 1e-12)) / (n_resamples + 1)
    slopes = {m: float(np.polyfit(dist[df["model"] == m], y[df["model"] == m], 1)[0]) for m in sizes}
    return {"g_per_decade": float(g), "ci_low": float(low), "ci_high": float(high), "p_t": float(fit.pvalues[-1]),
            "p_permutation": float(p_perm), "n_langs": len(langs), "sizes": sizes, "slopes": slopes}


def scale_table(scores: pd.DataFrame, distance: dict, task: str, distance_name: str, metric: str,
                **kw) -> tuple[pd.DataFrame, str]:
    """(a small table: one row per size with its distance slope, then the interaction row; one sentence saying what
    it shows). The sentence is computed from the numbers, so it describes whatever results it is given."""
    r = interaction(scores, distance, **kw)
    rows = [{"model": m, "params": model_params(m), "statistic": f"slope of {metric} on {distance_name} distance",
             "estimate": r["slopes"][m], "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n": r["n_langs"]}
            for m in r["sizes"]]
    rows.append({"model": " x ".join(r["sizes"]), "params": np.nan,
                 "statistic": "change of the slope per tenfold parameters (g)", "estimate": r["g_per_decade"],
                 "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p_value": r["p_permutation"], "n": r["n_langs"]})
    table = pd.DataFrame(rows)
    g, low, high = r["g_per_decade"], r["ci_low"], r["ci_high"]
    base_slope = r["slopes"][r["sizes"][0]]
    if low <= 0 <= high:
        verdict = "no detectable change of the distance effect with size"
    elif (g > 0) == (base_slope < 0):
        verdict = "the distance effect shrinks as the encoder grows"
    else:
        verdict = "the distance effect grows with the encoder"
    sentence = (f"On {task} ({r['n_langs']} languages x {len(r['sizes'])} sizes: {', '.join(r['sizes'])}), the slope "
                f"of {metric} on {distance_name} distance changes by {g:+.2f} points per tenfold parameters (95% CI "
                f"[{low:+.2f}, {high:+.2f}], permutation p = {r['p_permutation']:.3f}): {verdict}.")
    return table, sentence


def published_scores(task: str, metric: str | None = None) -> pd.DataFrame:
    """The shipped per-language rows of `task` (its display name, e.g. XNLI) for the XLM-R sizes of SIZES that
    results/published/ has, from one source file per model (the first that has the model). Columns model, lang,
    value, metric."""
    frames = []
    for path in sorted(PUBLISHED.glob("*.csv")):
        df = pd.read_csv(path)
        df = df[(df["target_task"].str.lower() == task.lower()) & df["model"].isin(list(SIZES))
                & (df["intermediate_task"] == "none")]
        if metric:
            df = df[df["metric"].str.lower() == metric.lower()]
        frames.append(df.assign(file=path.name))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if rows.empty:
        return pd.DataFrame(columns=["model", "lang", "value", "metric"])
    if rows["metric"].nunique() > 1:
        raise ValueError(f"{task}: several metrics published ({sorted(rows['metric'].unique())}); choose --metric")
    first = rows.groupby("model")["file"].first()
    rows = rows[rows["file"] == rows["model"].map(first)]
    return rows[["model", "lang", "value", "metric"]].reset_index(drop=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", nargs="*", default=[], help="results CSVs of your runs (study.py collect)")
    p.add_argument("--published", action="store_true", help="the shipped Base + Large rows instead")
    p.add_argument("--task", required=True, help="target task, e.g. xnli (published: its display name also works)")
    p.add_argument("--metric", default=None, help="metric (default: the only one present)")
    p.add_argument("--intermediate-task", default="none", help="your runs: which intermediate task (default none)")
    p.add_argument("--distance", default="syntactic", help="URIEL+ distance (analysis/distances.py)")
    p.add_argument("--n-resamples", type=int, default=9999)
    args = p.parse_args(argv)
    try:
        if args.published:
            scores = published_scores(args.task, args.metric)
        else:
            from data.results import read_results

            df = read_results(args.results)
            df = df[(df["target_task"] == args.task) & (df["intermediate_task"] == args.intermediate_task)]
            if args.metric:
                df = df[df["metric"] == args.metric]
            if df["metric"].nunique() > 1:
                raise ValueError(f"several metrics for {args.task}: {sorted(df['metric'].unique())}; give --metric")
            scores = df[["model", "lang", "value", "metric"]]
        from analysis.distances import english_distances

        langs = sorted(set(scores["lang"]) - {SOURCE_LANG})
        dist = english_distances(langs).set_index("lang")[args.distance].to_dict()
        metric = args.metric or (scores["metric"].iloc[0] if len(scores) else "score")
        table, sentence = scale_table(scores, dist, args.task, args.distance, metric, n_resamples=args.n_resamples)
    except ValueError as e:
        sys.exit(f"analysis/scale.py: error: {e}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(sentence)


if __name__ == "__main__":
    main()
