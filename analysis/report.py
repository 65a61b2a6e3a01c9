"""report.md: the first screen answers the question; everything else is in the appendix.

Order: (1) what the inputs can answer, in the first sentence; (2) the pre-specified primary test in one paragraph
(after-intermediate when intermediate-task runs are present, else the baseline drop), the summary figure, one table
of about 8 rows; (3) the appendix: the baseline answer when it is not the first screen, small-n limits, every
exploratory test (one table per model, intermediate task and dependent variable; rel_drop is not repeated), pooled
models, sensitivity runs, distances and covariates, data notes, languages left out. Every fact about the data (which
tasks, languages, n) is computed from the inputs, so the same code describes a user's own results.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.covariates import SIZE_MEASURES, pretraining_corpus
from analysis.design import (MANY_LANGUAGES, MANY_LANGUAGES_CHOSEN, PREDICTORS, PRIMARY, PRIMARY_CHOSEN,
                             primary_tasks)
from analysis.scores import CELL, DV_DESCRIPTIONS, SOURCE_PREFERENCE, display
from analysis.stats import MIN_N, MIN_N_CI, MIN_N_OLS
from common.io import atomic_write_text
from data.tasks import TASKS


def _f(v, spec=".2f") -> str:
    if v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)):
        return ""
    return format(v, spec)


def _p(v) -> str:
    if v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)):
        return ""
    return f"{v:.4f}" if v >= 0.0001 else f"{v:.1e}"


def _ci(v, lo, hi, spec=".2f", n=None) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        if n is not None and n >= MIN_N_CI:  # e.g. |rho| = 1: the Fisher-z interval is degenerate, none given
            return f"{v:{spec}} [no interval]"
        return f"{v:{spec}} [n too small]"
    return f"{v:{spec}} [{lo:{spec}}, {hi:{spec}}]"


def _table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _names(tasks) -> str:
    return ", ".join(display(t) for t in tasks)


def _pool_names(tasks: str) -> str:
    """'mlqa/test xnli/test' -> 'MLQA, XNLI' (test sets as the publications name them)."""
    return ", ".join(display(t.split("/")[0]) for t in str(tasks).split())


def _test_set(task: str) -> str:
    t = TASKS[task]
    if t.kind == "retrieval":
        return "retrieval: encoder alignment, reported separately"
    return "parallel" if t.parallel_test else "non-parallel: difficulty differs by language"


def primary_provenance(ctx) -> str:
    """How the primary test was chosen, as the first screen says it."""
    if ctx.get("model_chosen_on_command_line"):
        return "model chosen on the command line"
    published = all(str(p).startswith("results/published/") for p in ctx.get("inputs", []))
    return PRIMARY_CHOSEN if published else PRIMARY_CHOSEN.replace("these numbers", "the published baselines")


def scale_sentence(ctx) -> str:
    """What +0.1 distance is, from the pooled languages' distances."""
    d = ctx.get("diagnostics", {})
    if not np.isfinite(d.get("sd", np.nan)):
        return ""
    return (f"+0.1 {PRIMARY['distance']} distance is {0.1 / d['sd']:.1f} SD of the {d['n_langs']} pooled languages' "
            f"distances (SD {d['sd']:.2f}; from {d['min']:.2f} {d['min_lang']} to {d['max']:.2f} {d['max_lang']}).")


def size_adjusted_sentence(ctx) -> str:
    a = ctx.get("size_adjusted", {})
    if not np.isfinite(a.get("coef_per_0.1", np.nan)):
        return f"Size-adjusted slope: not estimable ({a.get('note', 'no pretraining sizes')})." if a else ""
    text = (f"Controlling for log pretraining size the pooled slope is {a['coef_per_0.1']:+.1f} points per +0.1 "
            f"(95% CI {a['ci_low_per_0.1']:+.1f} to {a['ci_high_per_0.1']:+.1f}, t({a['df']}); language-level "
            f"Freedman-Lane p = {_p(a['p_fl'])}; {a['n_langs']} languages"
            + (f", without {', '.join(a['unsized'])} (no size)" if a["unsized"] else "") + "): distance and log size "
            f"are confounded (Spearman rho = {a['rho_distance_size']:+.2f} over these languages), so part of the "
            "unadjusted slope may be pretraining size.")
    if (a["ci_low_per_0.1"] > 0 or a["ci_high_per_0.1"] < 0) != (a["p_fl"] < 0.05):
        text += (" The interval (a Wald t interval of the mixed model) and the Freedman-Lane p disagree on "
                 "significance at 0.05; the Freedman-Lane p is the test.")
    return text


def selection_sentence(ctx) -> str:
    s = ctx.get("selection", {})
    if not np.isfinite(s.get("p_selection", np.nan)):
        return ""
    return (f"Selection-adjusted p = {_p(s['p_selection'])} (the distance was chosen among predictors: max |z| over a "
            f"joint language permutation of the {len(s['candidates'])} predictors defined for all {s['n_langs']} "
            f"pooled languages, {', '.join(s['candidates'])}"
            + (f"; not defined for all: {', '.join(s['not_candidates'])}" if s["not_candidates"] else "") + ").")


def hc3_fl_sentence(ctx) -> str:
    pairs = ctx.get("hc3_fl", [])
    text = ("Per-task size-adjusted slopes have two p-values, Freedman-Lane (permutation) and HC3 (a t reference that "
            "is not reliable at these n); where they disagree the Freedman-Lane p governs")
    if pairs:
        text += " (here: " + "; ".join(f"{display(r['task'])}: HC3 {_p(r['p_hc3'])}, Freedman-Lane {_p(r['p_fl'])}"
                                        for r in pairs) + ")"
    return text + "."


def baseline_paragraph(ctx) -> list[str]:
    r, model = ctx["primary"], ctx["primary_model"]
    tasks = _pool_names(r.get("tasks", ""))
    head = (f"**Primary test ({primary_provenance(ctx)}): {model}, {PRIMARY['distance']} distance, zero-shot drop "
            f"(score(en) - score(L), points), pooled over the parallel test sets "
            f"({_names(primary_tasks())}).** ")
    if not np.isfinite(r.get("coef_per_0.1", np.nan)):
        return [head + f"Not estimable on these inputs: {r.get('note', '')} (tasks present: {tasks or 'none'})."
                + (" " + ctx["model_note"] if ctx["model_note"] else "")]
    grows = r["ci_low_per_0.1"] > 0 and r["p_perm"] < 0.05
    verdict = ("the drop grows with distance" if grows else
               "no reliable change of the drop with distance is detected")
    text = (head + f"Over {r['n_langs']} languages ({r['n_obs']} task-language pairs from {tasks}), {verdict}: "
            f"{r['coef_per_0.1']:+.1f} points per +0.1 syntactic distance (95% CI {r['ci_low_per_0.1']:+.1f} to "
            f"{r['ci_high_per_0.1']:+.1f}; language-level permutation p = {_p(r['p_perm'])}, "
            f"{'all' if r['p_exact'] else r['n_perm']} permutations; mixed model with a fixed effect per task and a "
            f"random intercept per language).")
    for extra in (selection_sentence(ctx), scale_sentence(ctx), size_adjusted_sentence(ctx)):
        if extra:
            text += " " + extra
    if not r.get("converged", True) or isinstance(r.get("note"), str):
        text += f" Fit flag: {r.get('note')}."
    if ctx["model_note"]:
        text += " " + ctx["model_note"]
    return [text]


def baseline_table(ctx) -> pd.DataFrame:
    corr, r, model = ctx["corr"], ctx["primary"], ctx["primary_model"]
    g = corr[(corr["model"] == model) & (corr["intermediate_task"] == "none") & (corr["predictor"] ==
             PRIMARY["distance"]) & corr["dv"].isin([PRIMARY["dv"], "score"])]
    order = {t: i for i, t in enumerate(sorted(g["target_task"].unique(), key=lambda t: (
        TASKS[t].kind == "retrieval", not TASKS[t].parallel_test)))}
    g = g.sort_values("target_task", key=lambda s: s.map(order), kind="stable")
    rows = []
    for _, x in g.iterrows():
        unit = "score" if x["dv"] == "score" else "drop"
        slope = _ci(x["theil_sen_per_0.1"], x["theil_sen_low_per_0.1"], x["theil_sen_high_per_0.1"], "+.1f")
        rows.append({"task": f"{display(x['target_task'])} ({x['split']})", "test set": _test_set(x["target_task"]),
                     "n": int(x["n"]), "rho [95% CI]": _ci(x["spearman_rho"], x["spearman_ci_low"],
                                                            x["spearman_ci_high"], n=x["n"]),
                     "p (perm.)": _p(x["p_spearman"]), "p BH": _p(x["p_spearman_bh"]),
                     "partial rho (size)": _f(x["partial_spearman"]),
                     "points per +0.1 [95% CI]": f"{unit} {slope}" if np.isfinite(x["spearman_rho"]) else "-"})
    if np.isfinite(r.get("coef_per_0.1", np.nan)):
        rows.append({"task": "**pooled (primary)**", "test set": "parallel: " + _pool_names(r["tasks"]),
                     "n": f"{r['n_langs']} languages", "rho [95% CI]": "", "p (perm.)": _p(r["p_perm"]),
                     "p BH": "selection-adj. " + _p(ctx.get("selection", {}).get("p_selection", np.nan)),
                     "partial rho (size)": "",
                     "points per +0.1 [95% CI]": "drop " + _ci(r["coef_per_0.1"], r["ci_low_per_0.1"],
                                                               r["ci_high_per_0.1"], "+.1f")})
    a = ctx.get("size_adjusted", {})
    if np.isfinite(a.get("coef_per_0.1", np.nan)):
        rows.append({"task": "pooled, size-adjusted", "test set": "parallel, + log pretraining size",
                     "n": f"{a['n_langs']} languages", "rho [95% CI]": "", "p (perm.)": f"{_p(a['p_fl'])} (FL)",
                     "p BH": "", "partial rho (size)": "",
                     "points per +0.1 [95% CI]": "drop " + _ci(a["coef_per_0.1"], a["ci_low_per_0.1"],
                                                               a["ci_high_per_0.1"], "+.1f")})
    return pd.DataFrame(rows)


def many_language_lines(ctx) -> list[str]:
    """The first screen's many-language answer (analysis/many.py), when the inputs hold the design's task."""
    m = ctx.get("many")
    if m is None:
        return []
    d = MANY_LANGUAGES
    g = m["groups"]
    n_dist = sum(x["n"] for x in g.values())
    L = [f"**Many languages: {d['display']} ({MANY_LANGUAGES_CHOSEN}).** {d['model']} trained on English "
         f"({d['metric']} {m['en']:.1f}), zero-shot on {m['n_langs']} languages, {n_dist} with a "
         f"{d['distance']} distance; drop = {d['metric']}(en) - {d['metric']}(L), points. Primary: the seen languages "
         "(in CC-100, XLM-R's pretraining data, per language and script); unseen ones separately. Model per group: "
         "drop ~ distance + (1 | family), item-noise weights ("
         + (f"paired: per-item scores of {m['paired']['runs']} run(s), English and L on the same items, for "
            f"{m['paired']['languages']} languages; binomial on {d['test_items']} items for the rest"
            if m.get("paired", {}).get("languages") else f"binomial variance on {d['test_items']} items")
         + "), language-level permutation p.", ""]
    rows = []
    for name, x in g.items():
        est = (_ci(x["coef_per_0.1"], x["ci_low_per_0.1"], x["ci_high_per_0.1"], "+.1f")
               if np.isfinite(x.get("coef_per_0.1", np.nan)) else x.get("note", "-"))
        rows.append({"languages": name + (" (primary)" if name == d["primary"] else ""), "n": x["n"],
                     "families": x["families"], "mean drop": _f(x.get("mean_drop", np.nan), "+.1f"),
                     "points per +0.1 [95% CI]": est, "p (perm.)": _p(x.get("p_perm", np.nan)),
                     "p (within families)": _p(x.get("p_perm_family", np.nan)),
                     "SD of distance": _f(x.get("sd_distance", np.nan)),
                     "family share of variance": _f(x.get("family_share", np.nan)),
                     "item SE (median)": _f(x.get("item_sd_median", np.nan), ".1f")})
    L += [_table(pd.DataFrame(rows)), ""]
    thin = m["table"][(m["table"]["thin_coverage"] != "") & (m["table"]["dropped"] == "")]
    if len(thin):
        few = thin[thin["thin_coverage"].str.contains(f"{MANY_LANGUAGES['distance']} from")]
        L += [f"Thin URIEL+ coverage (kept; many_languages.csv says why): {len(thin)} languages"
              + (f", {len(few)} with its {MANY_LANGUAGES['distance']} distance from fewer than 10 features shared "
                 "with English: " + ", ".join(few["lang"]) if len(few) else "") + ".", ""]
    pooled = m.get("pooled") or {}
    if "terms" in pooled:
        t = pooled["terms"]["unseen x distance"]
        L += [f"Pooled model (secondary; all {pooled['n']} languages, seen and unseen, with CC-100 size and the genetic "
              "distance to the nearest seen relative; Appendix A3c): the drop grows "
              f"{_ci(t['coef'], t['ci_low'], t['ci_high'], '+.1f')} points per +0.1 more steeply for unseen than for "
              f"seen languages (Wald p = {_p(t['p'])}).", ""]
    if m.get("seen_vs_sib"):
        L += ["Seen = in CC-100's list (data/languages.tsv); SIB-200's \"in XLM-R?\" column says otherwise for "
              + ", ".join(m["seen_vs_sib"]) + " (tests/test_languages_table.py says why for each).", ""]
    if m["dropped"]:
        L += ["Dropped (no distance): " + ", ".join(f"{r['name']} ({r['dropped']})" for r in m["dropped"]) + ".", ""]
    return L


def pooled_lines(p) -> list[str]:
    """The pooled seen x distance model's terms (analysis/many.py pooled_effect), secondary to the primary test."""
    if not p:
        return []
    if "terms" not in p:
        return [f"Pooled model: {p['note']}.", ""]
    units = {"distance": "per +0.1", "distance, unseen": "per +0.1", "unseen x distance": "per +0.1",
             "unseen x nearest seen": "per +0.1", "seen x log size": "per doubling", "unseen": "at the means"}
    what = {"distance": "slope, seen languages (at their mean size)", "distance, unseen": "slope, unseen languages",
            "unseen x distance": "unseen minus seen slope", "unseen": "unseen minus seen level",
            "seen x log size": "CC-100 size, seen languages", "unseen x nearest seen": "genetic distance to the nearest "
            "seen relative, unseen languages"}
    rows = [{"term": name, "what": what[name], "points [95% CI]": _ci(t["coef"], t["ci_low"], t["ci_high"], "+.1f"),
             "unit": units[name], "p (Wald t)": _p(t["p"])}
            for name in ("distance", "distance, unseen", "unseen x distance", "unseen", "seen x log size",
                         "unseen x nearest seen") for t in [p["terms"][name]]]
    return [f"Pooled model (secondary; {p['n']} languages, {p['n_seen']} seen, {p['n_unseen']} unseen, "
            f"{p['families']} families): drop ~ unseen * distance + seen:log size + unseen:nearest seen + (1 | family),"
            " item-noise weights." + (f" Left out (a covariate missing): {', '.join(p['left_out'])}."
                                      if p["left_out"] else ""), "", _table(pd.DataFrame(rows)), ""]


def retrieval_lines(ctx) -> list[str]:
    out = []
    for r in ctx["retrieval"]:
        dists = {p: r[p] for p in PREDICTORS if p in r and np.isfinite(r[p])}
        if not dists:
            continue
        best = max(dists, key=lambda p: abs(dists[p]))
        than = ("better than any distance" if abs(r["rho_size"]) > abs(dists[best])
                else f"less well than {best} distance")
        out.append(f"- {display(r['task'])} measures how well the pretrained encoder aligns translations, not task "
                   f"transfer; it is reported separately. Pretraining size predicts it {than} "
                   f"(rho = {r['rho_size']:.2f} with log size, n = {r['n']}, vs {dists[best]:.2f} with {best} "
                   f"distance, the strongest).")
    return out


def after_first_screen(ctx) -> list[str]:
    effects = ctx["effects"]
    inters = sorted(effects["intermediate_task"].unique())
    L = [f"**What these inputs can answer.** They include intermediate-task runs ({', '.join(inters)}; models "
         f"{', '.join(dict.fromkeys(effects['model']))}) with "
         + ("baselines, some of them published (named below)" if len(ctx.get("published_pairings", ())) else
            "their own baselines")
         + ", so this first screen answers the after-intermediate question: does intermediate-task training change "
         "the zero-shot loss differently for languages far from English? The baseline answer (drop against "
         "distance) is in Appendix A0.", ""]
    # --- after-intermediate hook: the primary test per intermediate task (analysis/after.py)
    from analysis.after import first_screen_lines

    L += first_screen_lines(ctx, PRIMARY["distance"], _names(primary_tasks()))
    # --- end of hook
    L += ["", "![summary](summary.png)" if "summary.png" in ctx["plots"] else "", ""]
    rows = []
    for (model, inter, task, split), g in effects.groupby(["model", "intermediate_task", "target_task", "split"]):
        rows.append({"model": model, "intermediate": inter, "target": f"{display(task)} ({split})",
                     "languages": g["lang"].nunique(), "seeds": int(g.groupby("lang").size().max()),
                     "mean effect (points)": f"{g['effect'].mean():+.2f}",
                     "in the pooled test": "yes" if task in primary_tasks() else "no (not a parallel task)"})
    L += [_table(pd.DataFrame(rows)), ""]
    return L


def tokenizer_lines(ctx) -> list[str]:
    """Appendix A5's tokenizer covariates: fertility and overlap with English per language, their association with
    the primary model's drop; or how to compute them."""
    if ctx.get("tokenizer") is None:
        return ["Tokenizer covariates (fertility, vocabulary overlap with English): not computed; run with "
                "`--spm SENTENCEPIECE_MODEL --data-dir DATA_DIR` to add them.", ""]
    tok, assoc = ctx["tokenizer"], ctx["tokenizer_associations"]
    L = [f"Tokenizer covariates from `{Path(str(ctx['spm'])).name}` on the tasks' text under the data folder "
         "(analysis/tokenization.py): fertility = sentencepiece pieces per whitespace word (per non-space character "
         "for zh, ja, th: not comparable, so left out of the fertility rows below); overlap = share of the "
         "language's piece types that occur in the English text of the same task. Per language "
         "(tokenizer.csv has the token-weighted overlap and the counts):", ""]
    if len(tok):
        t = tok[["task", "split", "lang", "unit", "fertility", "overlap_types"]].copy()
        t["fertility"] = t["fertility"].map(lambda v: _f(v, ".2f"))
        t["overlap_types"] = t["overlap_types"].map(lambda v: _f(v, ".3f"))
        L += [_table(t.rename(columns={"overlap_types": "overlap with English (types)"})), ""]
    if assoc is not None and len(assoc):
        L += [f"Association with {ctx['primary_model']}'s {PRIMARY['dv']} (exploratory): rho of the covariate with "
              f"the drop (permutation p), and the partial rho of {PRIMARY['distance']} distance and the drop "
              "controlling for the covariate (Freedman-Lane p).", ""]
        L += [_table(pd.DataFrame({
            "task/split": assoc["target_task"] + "/" + assoc["split"], "covariate": assoc["covariate"],
            "n": assoc["n"], "rho with drop (p)": [f"{_f(r)} ({_p(p)})" if np.isfinite(r) else "" for r, p in
                                                  zip(assoc["rho_with_drop"], assoc["p_rho"])],
            f"rho {PRIMARY['distance']}": assoc["rho_distance_drop"].map(_f),
            "partial rho given covariate (p FL)": [f"{_f(r)} ({_p(p)})" if np.isfinite(r) else "" for r, p in
                                                   zip(assoc["partial_rho_distance"], assoc["p_partial"])],
            "note": assoc["note"].astype(object).fillna("")})), ""]
    L += [f"- {n}" for n in ctx["tokenizer_notes"]] + ([""] if ctx["tokenizer_notes"] else [])
    return L


def diagnostics_lines(ctx) -> list[str]:
    """Appendix A3b: how the primary slope depends on single languages, per-language residuals, distance x task."""
    d = ctx.get("diagnostics", {})
    L = [f"### A3b. Primary model diagnostics ({ctx['primary_model']}, {PRIMARY['distance']}, {PRIMARY['dv']})", ""]
    if "loo" not in d and "heterogeneity" not in d:
        return L + ["Not estimable on these inputs.", ""]
    if "loo" in d:
        lo = d["loo"]
        L.append(f"- Leave one language out: the pooled slope ranges from {lo['low']:+.2f} (without {lo['low_lang']}) "
                 f"to {lo['high']:+.2f} (without {lo['high_lang']}) points per +0.1 over {lo['n']} refits.")
    if "heterogeneity" in d:
        h = d["heterogeneity"]
        L.append(f"- Distance x task heterogeneity: likelihood ratio {h['lr']:.2f} on {h['df']} df, p = {_p(h['p'])} "
                 "(ML fits of dv ~ C(task) + distance against dv ~ C(task) * distance, random intercept per language; "
                 "chi-square reference, approximate at these n): " + ("the slope differs between tasks." if h["p"] < 0.05
                                                                       else "no evidence that the slope differs "
                                                                            "between tasks."))
    res = d.get("residuals")
    if res is not None and len(res):
        top = res.reindex(res["residual"].abs().sort_values(ascending=False).index).head(3)
        L.append("- Per-language mean residuals (random intercept included): largest "
                 + ", ".join(f"{r.lang} {r.residual:+.1f}" for r in top.itertuples()) + " points"
                 + ("; figure: primary_residuals.png" if "primary_residuals.png" in ctx.get("plots", []) else "")
                 + ".")
    if "primary_residuals.png" in ctx.get("plots", []):
        L += ["", "![residuals](primary_residuals.png)"]
    return L + [""]


def write_report(out, ctx) -> str:
    corr, drops, dist = ctx["corr"], ctx["drops"], ctx["dist"]
    after_mode = len(ctx["effects"]) > 0
    L = ["# Linguistic distance from English and the zero-shot drop, before and after intermediate training", ""]
    if after_mode:
        L += after_first_screen(ctx)
    elif (drops["intermediate_task"] != "none").any():
        inters = sorted(set(drops["intermediate_task"]) - {"none"})
        L += [f"**What these inputs can answer.** They include intermediate-task runs ({', '.join(inters)}) but no "
              "baseline runs (intermediate_task = none) of the same model, task and split, so the effect of "
              "intermediate training cannot be computed: add your own baseline rows (a published baseline pairs "
              "only with `--with-published --pair-published-baseline`). What they can answer is how the drop tracks distance:", ""]
    else:
        models = list(dict.fromkeys(drops["model"]))
        L += [f"**What these inputs can answer.** These are baseline results only (intermediate_task = none; "
              f"{len(models)} models, {drops['target_task'].nunique()} target tasks): they say how the zero-shot "
              "drop tracks distance from English, but not whether intermediate-task training changes that -- that "
              "half needs your own runs (`python correlate.py runs/results.csv --with-published`). The baseline "
              "answer:", ""]
    unsized = [m for m in dict.fromkeys(drops["model"]) if pretraining_corpus(m) is None]
    non_parallel = [t for t in dict.fromkeys(drops["target_task"])
                    if not TASKS[t].parallel_test and TASKS[t].kind != "retrieval"]
    base = baseline_paragraph(ctx) + [""]
    table = baseline_table(ctx)
    base += ["![summary](summary.png)" if "summary.png" in ctx["plots"] and not after_mode else "", ""]
    base += [_table(table) if len(table) else "(no baseline rows for the primary model)", ""]
    base += retrieval_lines(ctx)
    base += [""] + many_language_lines(ctx)
    base += ["", "Rank statistics: Spearman rho with a two-sided permutation p (one sample permuted; exact when all "
             "n! orders fit in the resamples) and a Fisher-z / Bonett-Wright 95% interval (none below n = "
             f"{MIN_N_CI}). Partial rho: controlling for pretraining size -- for XLM-R models (CC-100) the "
             f"{SIZE_MEASURES['cc100']}, for mBERT (Wikipedia) the {SIZE_MEASURES['wikipedia']}"
             + (f" (none for {', '.join(unsized)}: pretraining corpus unknown from the model name)" if unsized else "")
             + ". p BH: Benjamini-Hochberg within (model, intermediate task, dependent variable) over every task x "
             "predictor test of Appendix A2. Points per +0.1: Theil-Sen slope per task, the mixed model's slope "
             "pooled; size-adjusted pooled row: the mixed model with log pretraining size, its p a language-level "
             "Freedman-Lane permutation (FL). " + hc3_fl_sentence(ctx) + " Only the pooled row is the primary "
             "test; the per-task rows and everything in the appendix are exploratory.", ""]
    if after_mode:
        L += ["## Appendix", "", "### A0. The baseline answer", ""] + base
    else:
        L += base + ["## Appendix", ""]
    L += ["### A1. Small-n limits of the permutation test", "",
          "The smallest p a test on n languages can reach and the |rho| needed for p < 0.05 (two-sided, untied "
          "ranks): with n = 5 only a perfect ranking is significant.", ""]
    sn = ctx["small_n"].copy()
    if len(sn):
        sn["min_p"] = sn["min_p"].map(_p)
        sn["critical_rho"] = sn["critical_rho"].map(lambda v: _f(v, ".3f"))
        L += [_table(sn.rename(columns={"min_p": "smallest p", "critical_rho": "critical |rho| (alpha 0.05)"})), ""]
    L += ["### A2. Every test (exploratory)", "",
          "Dependent variables: " + "; ".join(f"`{k}`: {v}" for k, v in DV_DESCRIPTIONS.items())
          + ". rel_drop is abs_drop times 100/score(en) within an experiment, so its rank statistics are those of "
          "abs_drop: it is only in drops.csv. Predictors: the URIEL+ distances and `different_script` (1 when the "
          "language's main script is not Latin; for it, a slope per +0.1 is a tenth of the script difference). "
          "p BH: Benjamini-Hochberg within (model, intermediate task, "
          f"dependent variable). Size-adjusted slope: OLS of the dv on distance and size, Freedman-Lane permutation "
          f"p at every n, HC3 (t reference) only from n = {MIN_N_OLS}; where the two disagree the Freedman-Lane p "
          "governs (a permutation test holds its level at these n; HC3's t reference does not)."
          + (f" Non-parallel test sets ({_names(non_parallel)}) differ in difficulty across languages: their drops "
             "mix distance with test difficulty." if non_parallel else ""), ""]
    for (model, inter, dv), g in corr.groupby(["model", "intermediate_task", "dv"], sort=False):
        L += [f"#### {model} | intermediate: {inter} | {dv}", ""]
        t = pd.DataFrame({
            "task/split": g["target_task"] + "/" + g["split"],  # the registry's names, as in correlations.csv
            "predictor": g["predictor"], "n": g["n"],
            "rho [95% CI]": [_ci(r, a, b, n=n) for r, a, b, n in zip(g["spearman_rho"], g["spearman_ci_low"],
                                                                     g["spearman_ci_high"], g["n"])],
            "p": g["p_spearman"].map(_p), "p BH": g["p_spearman_bh"].map(_p),
            "partial rho (p FL)": [f"{_f(r)} ({_p(p)})" if np.isfinite(r) else "" for r, p in
                                   zip(g["partial_spearman"], g["p_partial"])],
            "per +0.1 Theil-Sen": g["theil_sen_per_0.1"].map(lambda v: _f(v, "+.2f")),
            "per +0.1 size-adj. (p FL; HC3 p)": [
                f"{_f(s, '+.2f')} ({_p(p)}{'; ' + _p(h) if np.isfinite(h) else ''})" if np.isfinite(s) else ""
                for s, p, h in zip(g["adj_slope_per_0.1"], g["p_adj_slope_fl"], g["ols_p_hc3"])],
            "LOO max drho": [f"{_f(v, '+.2f')} ({lang})" if isinstance(lang, str) else "" for v, lang in
                             zip(g["loo_max_delta_rho"], g["loo_lang"])],
            "note": g["note"].astype(object).fillna("")})
        L += [_table(t), ""]
    L += ["### A3. Pooled mixed models (exploratory)", "",
          "dv ~ predictor + C(task) + (1 | language), REML; slope per +0.1 with a t(languages - 2) interval; "
          "p perm: language-level permutation (the reported p); p BH: Benjamini-Hochberg within each model over its "
          "predictor x pool rows; p Wald: optimistic with few languages.", ""]
    m = ctx["mixed"]
    m = m[m["coef_per_0.1"].notna() | m["note"].notna()]
    if len(m):
        L += [_table(pd.DataFrame({
            "model": m["model"], "pool": m["pool"], "predictor": m["distance"], "languages": m["n_langs"],
            "rows": m["n_obs"], "per +0.1 [95% CI]": [_ci(a, b, c, "+.2f") for a, b, c in zip(
                m["coef_per_0.1"], m["ci_low_per_0.1"], m["ci_high_per_0.1"])],
            "p perm": m["p_perm"].map(_p), "p BH": m["p_perm_bh"].map(_p), "p Wald": m["p_wald"].map(_p),
            "converged": m["converged"].map(lambda v: "" if pd.isna(v) else ("yes" if v else "**no**")),
            "note": m["note"].astype(object).fillna("")})), ""]
    if after_mode:  # --- after-intermediate hook (analysis/after.py)
        from analysis.after import appendix_lines

        L += appendix_lines(ctx)
    L += diagnostics_lines(ctx)
    if ctx.get("many") is not None and ctx["many"].get("pooled"):
        L += ["### A3c. Many languages: the pooled seen x distance model (secondary)", ""] + pooled_lines(
            ctx["many"]["pooled"])
    L += ["### A4. Sensitivity", ""]
    for s in ctx["sensitivity"]:
        est = _ci(s["coef_per_0.1"], s["ci_low_per_0.1"], s["ci_high_per_0.1"], "+.2f")
        L.append(f"- Primary test with {s['variant']}: {est} "
                 f"points per +0.1, permutation p = {_p(s['p_perm'])}, {s['n_langs']} languages.")
    L += ["- `--metric cosine` cannot change any rank-based result (rho, tau, their p-values and intervals, partial "
          "rho and its p): angular and cosine distances are both monotone in the cosine similarity, so they order languages "
          "identically. Slopes per +0.1 (Theil-Sen, OLS, mixed models) do change scale.",
          "- Pretraining size in bytes (log CC-100 GiB) instead of characters, partial rho on "
          f"{PRIMARY['distance']} distance: " + ("; ".join(
              f"{display(r['task'])} {r['bytes']:.2f} (characters: {r['characters']:.2f}, n = {r['n']})"
              for r in ctx["size_in_bytes"]) or "no task to compare") + ". Characters are reported because bytes "
          "count a Hindi or Chinese letter three times.",
          ("- urielplus's own imputation: see its row above (missing typological features filled by urielplus's "
           "k-nearest-neighbour imputation over all URIEL+ languages; the reported distances use known features only)."
           if ctx.get("sensitivity_imputed") else
           "- urielplus's own imputation of missing features is not run by default (about 10 s the first time): "
           "`--sensitivity-imputed` adds the primary test on imputed distances here; the reported distances use "
           "known features only, and thin coverage is flagged in A5."),
          ("- urielplus's integrated databases: see their rows above (Glottocodes; the typological features grow to "
           "828 from 15 sources: a different feature set, so a labelled sensitivity, never the reported distances)."
           if ctx.get("sensitivity_integrated") else
           "- urielplus's integrated databases (Glottocodes, 828 features) are not used by default: "
           "`--sensitivity-integrated` reruns the primary and the many-language tests on them here (about 3 minutes "
           "the first time).")]
    for r in (ctx.get("many") or {}).get("sensitivity", []):
        est = (_ci(r["coef_per_0.1"], r["ci_low_per_0.1"], r["ci_high_per_0.1"], "+.1f")
               if np.isfinite(r["coef_per_0.1"]) else "no slope")
        L.append(f"- Many languages ({MANY_LANGUAGES['display']}), {r['group']} languages, {r['variant']}: {est} "
                 f"points per +0.1, permutation p = {_p(r['p_perm'])}, {r['n']} languages.")
    L += [""]
    L += ["### A5. Distances and covariates", "",
          f"URIEL+ (urielplus) {ctx['metric']} distances from English; data: the URIEL data shipped with urielplus, "
          "sources combined per feature by union, no imputation. Macrolanguages use the macrolanguage code (ara, "
          "zho, msa, est, swa, fas); A4 reruns the primary test on the standard varieties. URIEL+'s `script` "
          "distance is not used (it describes script type over a language's history: Bulgarian equals German). "
          f"Size for XLM-R rows: {SIZE_MEASURES['cc100']}; Yoruba is not in CC-100. Size for mBERT rows: "
          f"{SIZE_MEASURES['wikipedia']} (wiki_tokens; analysis/wikipedia_sizes.csv says what each number counts).",
          ""]
    d = dist.copy()
    for c in (*PREDICTORS, "log_cc100_gichars", "cc100_gichars", "log_wiki_tokens"):
        if c in d:
            d[c] = d[c].map(lambda v: _f(v, ".3f"))
    keep = ["lang", "uriel_code", *PREDICTORS, "script", "cc100_gib", "cc100_gichars", "wiki_tokens",
            "thin_coverage"]
    L += [_table(d[[c for c in keep if c in d]].astype(object).fillna("")), ""]
    L += ["Collinearity (Spearman rho between predictors over the languages analysed): the distances are strongly "
          "correlated, so a correlation with one does not single it out.", "",
          _table(ctx["collinearity"].map(_f).reset_index().rename(columns={"index": "predictor"})), ""]
    L += tokenizer_lines(ctx)
    L += ["### A6. Data notes", ""]
    L += [f"- {n}" for n in ctx["notes"]]
    per_task = drops.groupby(["model", "intermediate_task", "target_task", "split"]).size()
    L += ["- Languages per experiment (non-English): " + "; ".join(
        f"{m} | {i} | {display(t)}/{s}: {n}" for (m, i, t, s), n in per_task.items()) + "."]
    small = per_task[per_task < MIN_N]
    if len(small):
        L += [f"- Fewer than {MIN_N} languages (no coefficient): " + ", ".join(
            f"{m} {display(t)}/{s} (n = {n})" for (m, _, t, s), n in small.items()) + "."]
    L += ["- Source preference order for disputed cells: your own runs, then " + ", ".join(SOURCE_PREFERENCE) + "."]
    if len(ctx["set_aside"]):
        used = ctx["scores"].set_index(CELL)
        rows = []
        for _, r in ctx["set_aside"].iterrows():
            u = used.loc[tuple(r[CELL])]
            rows.append({"cell": " ".join(str(r[c]) for c in CELL), "used": f"{u['value']:g} ({u['source'][:45]})",
                         "set aside": f"{r['value']:g} ({r['source'][:45]})"})
        L += ["", "Disputed cells (two sources, different values; the preferred source was used):", "",
              _table(pd.DataFrame(rows)), ""]
    thin = dist[(dist["thin_coverage"] != "") & (dist["lang"] != "en")]
    if len(thin):
        L += ["- Thin URIEL coverage (distances kept, flagged): " + "; ".join(
            f"{r.lang} ({r.thin_coverage})" for r in thin.itertuples()) + "."]
    L += ["", "### A7. Languages left out", ""]
    lo = pd.DataFrame(ctx["left_out"])
    if len(lo):
        L += [_table(lo[["model", "intermediate_task", "target_task", "split", "lang", "reason"]]), ""]
    missing = {d: sorted(dist.loc[dist[d].isna() & (dist["lang"] != "en"), "lang"]) for d in PREDICTORS}
    missing = {d: v for d, v in missing.items() if v}
    if missing:
        L += ["Per predictor (no URIEL feature shared with English: no distance; left out of that predictor's "
              "tests):", ""] + [f"- {d}: {', '.join(v)}" for d, v in missing.items()] + [""]
    L += ["### A8. Files", "", "correlations.csv (one row per test), mixed_models.csv (first row: the primary test), "
          "drops.csv, distances.csv, small_n.csv, diverged_runs.csv"
          + (", many_languages.csv" if ctx.get("many") is not None else "")
          + (", many_pooled.csv" if "terms" in ((ctx.get("many") or {}).get("pooled") or {}) else "")
          + (", effects.csv, after_intermediate.csv (the first screen's tests), after_pooled.csv" if after_mode else "")
          + ("; plots: " + ", ".join(ctx["plots"]) if ctx["plots"] else "") + "."]
    text = "\n".join(L) + "\n"
    atomic_write_text(out / "report.md", text)
    return text
