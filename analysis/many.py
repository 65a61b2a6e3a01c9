"""The many-language baseline (issue 20): zero-shot drop against distance over ~200 languages of one parallel task.

Use: `many_language_answer(paths, metric, cache_dir, n_resamples, seed)` -> dict (what correlate.py's first screen
prints; None when the inputs have no rows of the task). The test is pre-registered in analysis/design.py
(MANY_LANGUAGES): SIB-200, XLM-R Large, syntactic distance, drop = accuracy(en) - accuracy(L) in points.

Per group of languages (seen by XLM-R -- the primary test -- and unseen, separately), one model:

    drop_L = a + b * distance_L + u_family(L) + e_L + eps_L
    u ~ N(0, family_var) (one intercept per Glottolog family), e ~ N(0, lang_var), eps_L ~ N(0, s_L^2) known

s_L^2 is the item noise of language L's accuracy: the binomial variance of a proportion on the task's test items,
10^4 p (1 - p) / items in points^2 (204 SIB-200 items: 3.2 points at p = 0.7). English's own item noise is shared by
every drop (it moves the intercept only) and is left out. With per-item scores of one's own runs
(`correlate.py --item-scores`, written by `evaluate.py --item-scores`), the drops are paired instead: English and L
are scored on the same items, so the known noise is the covariance of the per-item differences (paired_noise), a
full matrix in place of diag(s_L^2); the published table has no item scores and keeps the binomial variances. family_var and lang_var are fitted by REML (scipy
minimize on their logs); b by GLS with its standard error from (X' V^-1 X)^-1 and a t(n - 2) interval. p: a
language-level permutation test (the distances permuted among the group's languages; statistic the GLS |z| with V
from the fit without distance, as analysis/models.py does); as a sensitivity, p_perm_family permutes only within
families (family-respecting). family_share = family_var / (family_var + lang_var): how
much of the languages' own variation (item noise aside) sits at family level.

Seen = the language, in this script, is one of CC-100's 100 entries (data/languages.tsv cc100_gib; XLM-R's
pretraining data). SIB-200's own "in XLM-R?" column disagrees for 5 variants (listed on the screen;
tests/test_languages_table.py says why each).

The pooled model (pooled_effect): every language with a distance, seen and unseen together, with the same family
random intercept and item-noise weights:

    drop_L = a + c * unseen_L + b * distance_L + d * unseen_L * distance_L
             + s * seen_L * (log size_L - mean) + r * unseen_L * (nearest seen_L - mean)

where unseen = 1 - seen, log size is the log of CC-100's approximate Gi characters (analysis/covariates.py; the
term is an explicit zero for unseen languages, whose `c` absorbs their level) and "nearest seen" is the genetic
distance (URIEL+'s Glottolog lineage features) from L to its nearest relative XLM-R saw (transfer may come through
Arabic for its dialects rather than through English; zero, and no term, for a seen language). b is the seen languages' slope at their mean size; d is how much
steeper (or flatter) the drop grows with distance for the languages XLM-R never saw, net of their nearest seen
relative. Intervals and p: Wald, t with n - 6 degrees of freedom (analysis/simulate.py's validate_pooled measures
their coverage and false-positive rate on studies simulated over the real table).

Languages without a URIEL+ code, or with no syntactic feature shared with English, are dropped and listed by name;
thin coverage (fewer than 10 syntactic features shared with English: distances of 0 or 1 occur) is kept and flagged,
as in the XTREME tables.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.covariates import log_pretraining_size
from analysis.design import MANY_LANGUAGES
from analysis.distances import URIEL_CODES, english_distances, feature_matrix
from analysis.models import gls_z, language_permutations
from analysis.stats import LEVEL, MIN_N, PER
from data.examples import DataError
from data.languages import cc100_status, languages, need
from data.results import read_results


def item_variance(accuracy, items: int) -> np.ndarray:
    """Binomial variance (points^2) of an accuracy in points measured on `items` items."""
    p = np.clip(np.asarray(accuracy, float) / 100, 0, 1)
    return 1e4 * p * (1 - p) / items


def _covariance(theta, s2, same_family):
    """V = S + lang_var I + family_var (same family); S = diag(s2), or s2 itself when it is a full matrix."""
    lang_var, family_var = np.exp(theta)
    S = np.diag(s2) if s2.ndim == 1 else s2
    return S + lang_var * np.eye(len(S)) + family_var * same_family


def reml_fit(y, X, s2, family) -> dict:
    """REML fit of y = X b + u_family + e + eps with known eps variances s2 (or, 2-D, their known covariance
    matrix: paired item noise); returns b, its covariance, V and the variance components (lang_var, family_var)."""
    y, X, s2 = np.asarray(y, float), np.asarray(X, float), np.asarray(s2, float)
    fam = np.asarray(family)
    same_family = (fam[:, None] == fam[None, :]).astype(float)
    scale = max(float(np.var(y)), 1e-6)

    codes = np.unique(fam, return_inverse=True)[1]
    n_fam = codes.max() + 1
    Xy = np.column_stack([X, y])

    def dense_negative_reml(theta):
        V = _covariance(theta, s2, same_family)
        try:
            L = np.linalg.cholesky(V)
        except np.linalg.LinAlgError:
            return 1e12
        ViXy = np.linalg.solve(L.T, np.linalg.solve(L, Xy))
        M = Xy.T @ ViXy
        XtViX, XtViy, ytViy = M[:-1, :-1], M[:-1, -1], M[-1, -1]
        b = np.linalg.solve(XtViX, XtViy)
        return 0.5 * (2 * np.log(np.diag(L)).sum() + np.linalg.slogdet(XtViX)[1] + ytViy - XtViy @ b)

    def negative_reml(theta):
        # V = D + f Z Z' (D diagonal, Z the family indicator): V^-1 and log|V| in closed form (Woodbury; Z' D^-1 Z
        # is diagonal since each language is in one family): O(n) per evaluation instead of a dense factorisation
        lang_var, family_var = np.exp(theta)
        d = lang_var + s2
        w = np.bincount(codes, 1 / d, minlength=n_fam)  # per family: sum of 1/d
        k = family_var / (1 + family_var * w)
        A = Xy / d[:, None]  # D^-1 [X y]
        S = np.zeros((n_fam, A.shape[1]))
        np.add.at(S, codes, A)  # Z' D^-1 [X y]
        ViXy = A - k[codes][:, None] * S[codes] / d[:, None]
        M = Xy.T @ ViXy  # [X y]' V^-1 [X y]
        XtViX, XtViy, ytViy = M[:-1, :-1], M[:-1, -1], M[-1, -1]
        b = np.linalg.solve(XtViX, XtViy)
        logdet = np.log(d).sum() + np.log1p(family_var * w).sum()
        return 0.5 * (logdet + np.linalg.slogdet(XtViX)[1] + ytViy - XtViy @ b)

    bounds = [(math.log(scale * 1e-8), math.log(scale * 10))] * 2
    best = None
    for start in ((math.log(scale / 2), math.log(scale / 4)), (math.log(scale / 10), math.log(scale * 1e-6))):
        res = optimize.minimize(negative_reml if s2.ndim == 1 else dense_negative_reml, np.array(start),
                                method="L-BFGS-B", bounds=bounds)
        if best is None or res.fun < best.fun:
            best = res
    V = _covariance(best.x, s2, same_family)
    Vi = np.linalg.inv(V)
    cov_b = np.linalg.inv(X.T @ Vi @ X)
    b = cov_b @ X.T @ Vi @ y
    lang_var, family_var = (float(v) for v in np.exp(best.x))
    floor = scale * 1e-6  # at the lower bound: a variance component of 0 (boundary)
    return {"b": b, "cov_b": cov_b, "V": V, "lang_var": lang_var if lang_var > floor else 0.0,
            "family_var": family_var if family_var > floor else 0.0, "converged": bool(best.success),
            "reml": -float(best.fun)}


def family_permutations(family, n_resamples: int, rng) -> np.ndarray:
    """(n_resamples, n) index arrays that permute languages only within their family (a family-respecting
    permutation: under a family random effect, languages of one family are exchangeable, families are not)."""
    fam = np.asarray(family)
    perms = np.tile(np.arange(len(fam)), (n_resamples, 1))
    for f in np.unique(fam):
        idx = np.flatnonzero(fam == f)
        if len(idx) > 1:
            perms[:, idx] = idx[rng.permuted(np.tile(np.arange(len(idx)), (n_resamples, 1)), axis=1)]
    return perms


def _noise(g: pd.DataFrame, cov: pd.DataFrame | None) -> np.ndarray:
    """The known item-noise (co)variance of g's drops: the paired matrix's block where given, else diag s2."""
    return g["s2"].to_numpy(float) if cov is None else cov.loc[list(g["lang"]), list(g["lang"])].to_numpy(float)


def group_effect(g: pd.DataFrame, n_resamples: int, seed, cov: pd.DataFrame | None = None) -> dict:
    """The distance slope of one group of languages (columns lang, family, distance, drop, s2); cov: the item-noise
    covariance of the drops (paired_noise, every language of g), instead of the diagonal s2."""
    n = len(g)
    out = {"n": n, "families": int(g["family"].nunique())}
    if n < MIN_N or g["distance"].nunique() < 2:
        return {**out, "note": f"{n} languages with a distance: no slope"}
    y, x = g["drop"].to_numpy(float), g["distance"].to_numpy(float)
    X = np.column_stack([np.ones(n), x])
    noise = _noise(g, cov)
    fit = reml_fit(y, X, noise, g["family"])
    b, se = float(fit["b"][1]), math.sqrt(float(fit["cov_b"][1, 1]))
    q = stats.t.ppf(0.5 + LEVEL / 2, n - 2)
    total = fit["family_var"] + fit["lang_var"]
    null = reml_fit(y, X[:, :1], noise, g["family"])
    perms, exact = language_permutations(n, n_resamples, np.random.default_rng(seed))
    z_obs = gls_z(y, X[:, :1], x[None, :], null["V"])[0]
    z = gls_z(y, X[:, :1], x[perms], null["V"])
    hits = int((np.abs(z) >= abs(z_obs) * (1 - 1e-9)).sum())
    within = family_permutations(g["family"], n_resamples, np.random.default_rng([*np.atleast_1d(seed), 1]))
    hits_family = int((np.abs(gls_z(y, X[:, :1], x[within], null["V"])) >= abs(z_obs) * (1 - 1e-9)).sum())
    out.update({"p_perm_family": (hits_family + 1) / (n_resamples + 1),
                "sd_distance": float(np.std(x, ddof=1)), "min_distance": float(x.min()),
                "max_distance": float(x.max())})
    out.update({"coef_per_0.1": PER * b, "ci_low_per_0.1": PER * (b - q * se), "ci_high_per_0.1": PER * (b + q * se),
                "se_per_0.1": PER * se, "p_perm": hits / len(perms) if exact else (hits + 1) / (len(perms) + 1),
                "n_perm": len(perms), "family_var": fit["family_var"], "lang_var": fit["lang_var"],
                "family_share": fit["family_var"] / total if total > 0 else math.nan,
                "item_sd_median": float(np.sqrt(np.median(g["s2"]))), "mean_drop": float(y.mean()),
                "converged": fit["converged"]})
    return out


def many_language_table(rows: pd.DataFrame, metric: str = "angular", cache_dir=None) -> tuple[pd.DataFrame, dict]:
    """(per-language table, facts): one row per non-English language of the design's task and model, with its
    accuracy, drop, item variance, seen flag, family and distance (NaN when undefined, with the reason)."""
    d = MANY_LANGUAGES
    rows = rows[(rows["target_task"] == d["task"]) & (rows["model"] == d["model"])
                & (rows["intermediate_task"] == "none") & (rows["metric"] == d["metric"])]
    known = languages()
    for _, r in rows.iterrows():
        if r["lang"] not in known:
            raise DataError(r["file"], f"line {r['line']}", f"language {r['lang']!r} has no row in data/languages.tsv")
    cells = rows.groupby("lang", sort=False)["value"].mean()  # one value per language (seeds averaged)
    if "en" not in cells:
        first = rows.iloc[0]
        raise DataError(first["file"], f"line {first['line']}", f"no English score for {d['task']} ({d['model']}): "
                        "the drop needs accuracy(en)")
    en = float(cells["en"])
    table = pd.DataFrame({"lang": [lang for lang in cells.index if lang != "en"]})
    table["accuracy"] = cells.reindex(table["lang"]).to_numpy(float)
    table["drop"] = en - table["accuracy"]
    table["s2"] = item_variance(table["accuracy"], d["test_items"])
    status = [cc100_status(lang) for lang in table["lang"]]
    table["seen"] = [x == "seen" for x in status]
    table["log_size"] = [log_pretraining_size(d["model"], lang) if x == "seen" else 0.0
                         for lang, x in zip(table["lang"], status)]
    table["family"] = [need(lang, d["family"]) for lang in table["lang"]]
    table["name"] = [known[lang].name for lang in table["lang"]]
    with_code = [lang for lang in table["lang"] if lang in URIEL_CODES]
    dist = (english_distances(with_code, metric, cache_dir, distances=(d["distance"],)).set_index("lang")
            if with_code else pd.DataFrame(columns=[d["distance"], "thin_coverage"], dtype=object))
    table["distance"] = dist[d["distance"]].reindex(table["lang"]).to_numpy(float)
    table["thin_coverage"] = dist["thin_coverage"].reindex(table["lang"]).fillna("").to_numpy(str)
    table["dropped"] = ["CC-100 status unknown" if x == "unknown" else "" if np.isfinite(v) else
                        ("no URIEL+ code" if lang not in URIEL_CODES else f"no {d['distance']} feature shared with "
                                                                          "English")
                        for lang, v, x in zip(table["lang"], table["distance"], status)]
    near = nearest_seen(with_code, "genetic", metric, cache_dir)
    table["nearest_seen"] = near["nearest_seen"].reindex(table["lang"]).fillna("").to_numpy(str)
    table["nearest_seen_distance"] = near["nearest_seen_distance"].reindex(table["lang"]).to_numpy(float)
    return table, {"en": en, "n_langs": len(table)}


def nearest_seen(langs, distance: str = "genetic", metric: str = "angular", cache_dir=None) -> pd.DataFrame:
    """Per language (index): its nearest relative XLM-R saw (CC-100, per language and script, among every
    data/languages.tsv row with a URIEL+ code) by `distance`, and that distance; a seen language is its own (0).
    Genetic by default: a relative is a language of the same lineage (URIEL+'s Glottolog features), Arabic for the
    Arabic dialects. (A typological distance is a poor choice here: the minimum over ~100 candidates picks a
    distance of 0 from a handful of shared features -- Mesopotamian Arabic's nearest would be Croatian.) NaN where
    no seen language shares a feature."""
    langs = list(langs)
    if not langs:
        return pd.DataFrame({"nearest_seen": [], "nearest_seen_distance": []}, dtype=object)
    seen = [tag for tag in URIEL_CODES if cc100_status(tag) == "seen"]
    m = feature_matrix(list(dict.fromkeys([*langs, *seen])), distance, metric, cache_dir)
    sub = m.loc[langs, seen]
    for lang in langs:
        if lang in seen:
            sub.loc[lang] = np.where(sub.columns == lang, 0.0, np.inf)  # itself
    has = sub.notna().any(axis=1)
    nearest = sub.fillna(np.inf).idxmin(axis=1).where(has, "")
    return pd.DataFrame({"nearest_seen": nearest, "nearest_seen_distance": sub.min(axis=1).where(has)}, index=langs)


POOLED_TERMS = ("intercept", "unseen", "distance", "unseen x distance", "seen x log size", "unseen x nearest seen")


def pooled_design(g: pd.DataFrame) -> np.ndarray:
    """The pooled model's X (columns POOLED_TERMS): continuous covariates centred within the languages they apply
    to, so `distance` is the seen slope and `intercept` the seen languages' drop at their mean size and distance."""
    seen = g["seen"].to_numpy(bool).astype(float)
    unseen = 1 - seen
    dist = g["distance"].to_numpy(float) - g["distance"].mean()
    size = np.where(seen == 1, g["log_size"].to_numpy(float) - g.loc[g["seen"], "log_size"].mean(), 0.0)
    near = g["nearest_seen_distance"].to_numpy(float)
    near = np.where(unseen == 1, near - np.nanmean(np.where(unseen == 1, near, np.nan)), 0.0)
    return np.column_stack([np.ones(len(g)), unseen, dist, unseen * dist, size, unseen * near])


def pooled_effect(g: pd.DataFrame, cov: pd.DataFrame | None = None) -> dict:
    """The pooled seen x distance model (module docstring) on the languages with a distance (columns lang, family,
    drop, s2, seen, distance, log_size, nearest_seen_distance). Per term: the estimate, its 95% interval and Wald
    p (t, n - 6); distances per +0.1, size per doubling of CC-100. Languages missing a covariate are left out by
    name."""
    need_cols = np.isfinite(g["distance"]) & (g["seen"] | np.isfinite(g["nearest_seen_distance"])) & (
        ~g["seen"] | np.isfinite(g["log_size"]))
    left_out = sorted(g.loc[~need_cols, "lang"])
    g = g[need_cols].reset_index(drop=True)
    n, k = len(g), len(POOLED_TERMS)
    out = {"n": n, "n_seen": int(g["seen"].sum()), "n_unseen": int((~g["seen"]).sum()),
           "families": int(g["family"].nunique()), "left_out": left_out}
    if out["n_seen"] < MIN_N or out["n_unseen"] < MIN_N:
        return {**out, "note": f"{out['n_seen']} seen and {out['n_unseen']} unseen languages: no pooled model"}
    X = pooled_design(g)
    fit = reml_fit(g["drop"], X, _noise(g, cov), g["family"])
    q = stats.t.ppf(0.5 + LEVEL / 2, n - k)
    scale = {"distance": PER, "unseen x distance": PER, "unseen x nearest seen": PER, "seen x log size": math.log(2)}
    terms = {}
    for j, name in enumerate(POOLED_TERMS):
        b, se = float(fit["b"][j]), math.sqrt(float(fit["cov_b"][j, j]))
        f = scale.get(name, 1.0)
        terms[name] = {"coef": f * b, "ci_low": f * (b - q * se), "ci_high": f * (b + q * se), "se": f * se,
                       "p": float(2 * stats.t.sf(abs(b / se), n - k))}
    slope_unseen = fit["b"][2] + fit["b"][3]
    c = np.zeros(k)
    c[[2, 3]] = 1
    se_unseen = math.sqrt(float(c @ fit["cov_b"] @ c))
    terms["distance, unseen"] = {"coef": PER * slope_unseen, "ci_low": PER * (slope_unseen - q * se_unseen),
                                 "ci_high": PER * (slope_unseen + q * se_unseen), "se": PER * se_unseen,
                                 "p": float(2 * stats.t.sf(abs(slope_unseen / se_unseen), n - k))}
    total = fit["family_var"] + fit["lang_var"]
    return {**out, "terms": terms, "family_var": fit["family_var"], "lang_var": fit["lang_var"],
            "family_share": fit["family_var"] / total if total > 0 else math.nan, "converged": fit["converged"]}


def distance_sensitivity(ok: pd.DataFrame, metric: str, cache_dir, n_resamples: int, seed,
                         imputed: bool = False, cov: pd.DataFrame | None = None,
                         integrated: bool = False) -> list[dict]:
    """The per-group test (seen, unseen) re-run on other distances of the same languages: the standard-variety
    URIEL+ codes (ar -> arb, ...), with `imputed` urielplus's own imputation of missing features (about 30 s the
    first time for ~180 languages), with `integrated` urielplus's integrated databases (Glottocodes, 828 features;
    about 3 minutes once): labelled sensitivities, never the reported distances; cached."""
    from analysis.distances import IMPUTATION, INTEGRATED, integrated_english_distances

    d = MANY_LANGUAGES["distance"]
    variants = [("standard-variety codes", {"codes": "standard"})]
    if imputed:
        variants.append((f"urielplus imputation ({IMPUTATION['strategy']}, k = {IMPUTATION['k']})",
                         {"imputed": True}))
    if integrated:
        variants.append((INTEGRATED, {"integrated": True}))
    rows = []
    for name, kw in variants:
        other = (integrated_english_distances(list(ok["lang"]), d, metric, cache_dir) if kw.get("integrated") else
                 english_distances(list(ok["lang"]), metric, cache_dir, distances=(d,), **kw)).set_index("lang")[d]
        g_all = ok.assign(distance=other.reindex(ok["lang"]).to_numpy(float))
        g_all = g_all[np.isfinite(g_all["distance"])]
        for k, (group, g) in enumerate((("seen", g_all[g_all["seen"]]), ("unseen", g_all[~g_all["seen"]]))):
            r = group_effect(g.reset_index(drop=True), n_resamples, [*np.atleast_1d(seed), 30, k], cov)
            rows.append({"variant": name, "group": group, **{c: r.get(c, math.nan) for c in (
                "n", "coef_per_0.1", "ci_low_per_0.1", "ci_high_per_0.1", "p_perm")}})
    return rows


def paired_noise(items: pd.DataFrame, langs, task: str, model: str) -> pd.DataFrame:
    """The item-noise covariance (points^2) of the drops of `langs` from per-item scores (data/items.py rows of the
    baseline runs of `model` on `task`): per item i of English's test set and language L, d_L,i = the mean over runs
    of score_en,i - score_L,i, both from the same run (a checkpoint: the source up to its first ';'); then
    S[L, M] = cov_i(d_L,i, d_M,i) / n (ddof 1). The diagonal is the paired variance of L's drop -- English's and
    L's item noise together, less what the shared items make them agree -- and the off-diagonal what the shared
    English items add to two languages' drops alike. Items pair by id where English's and L's ids are the same
    set (SIB-200's index_id), else by position where the counts agree (XNLI's ids name the file); else DataError.
    Languages with no item scores are left out of S (the caller keeps their binomial variance); none at all:
    an empty S. ValueError where languages have item scores but English has none."""
    it = items[(items["target_task"] == task) & (items["model"] == model) & (items["intermediate_task"] == "none")]
    it = it.assign(run=it["source"].str.split(";").str[0])
    en = {run: g.sort_values("position") for run, g in it[it["lang"] == "en"].groupby("run", sort=True)}
    if not (it["lang"].isin(list(langs))).any():
        return pd.DataFrame()  # no item scores of these languages (other tasks' or models' files): binomial noise
    if not en:
        raise ValueError(f"--item-scores: no English item scores of {model} on {task} (intermediate_task none): the "
                         "paired drop needs English's items")
    cols = {}
    for lang in langs:
        diffs = []
        for run, g in it[it["lang"] == lang].groupby("run", sort=True):
            if run not in en:
                continue
            e = en[run]
            if set(g["item"]) == set(e["item"]):
                x = g.set_index("item")["score"].reindex(e["item"]).to_numpy(float)
            elif len(g) == len(e):
                x = g.sort_values("position")["score"].to_numpy(float)
            else:
                first = g.iloc[0]
                raise DataError(first["file"], f"line {first['line']}", f"{lang} has {len(g)} items and other ids "
                                f"than English's {len(e)} in run {run}: cannot pair them")
            diffs.append(e["score"].to_numpy(float) - x)
        if diffs:
            cols[lang] = np.mean(diffs, axis=0)
    if not cols:
        return pd.DataFrame()
    D = np.column_stack(list(cols.values()))
    S = np.atleast_2d(np.cov(D, rowvar=False, ddof=1)) / D.shape[0]
    return pd.DataFrame(S, index=list(cols), columns=list(cols))


def noise_matrix(table: pd.DataFrame, paired: pd.DataFrame) -> pd.DataFrame:
    """The known noise covariance over the table's languages: the paired block where item scores exist, the
    binomial variance (diagonal) for the rest."""
    langs = list(table["lang"])
    cov = pd.DataFrame(np.diag(table["s2"].to_numpy(float)), index=langs, columns=langs)
    if len(paired):
        both = [lang for lang in paired.index if lang in cov.index]
        cov.loc[both, both] = paired.loc[both, both].to_numpy()
    return cov


def many_language_answer(paths, metric: str = "angular", cache_dir=None, n_resamples: int = 9999,
                         seed=0, imputed: bool = False, items: pd.DataFrame | None = None,
                         integrated: bool = False) -> dict | None:
    """The first screen's many-language answer, or None when the inputs have no rows of the design's task.
    imputed: also the per-group tests on urielplus-imputed distances (distance_sensitivity). items: per-item scores
    (data/items.py read_item_scores): the drops' item noise is then paired (paired_noise) where they cover a
    language."""
    rows = read_results(paths)
    if not (rows["target_task"] == MANY_LANGUAGES["task"]).any():
        return None
    table, facts = many_language_table(rows, metric, cache_dir)
    cov, runs = None, 0
    table["noise"] = "binomial"
    if items is not None:
        d = MANY_LANGUAGES
        paired = paired_noise(items, table["lang"], d["task"], d["model"])
        if len(paired):
            table.loc[table["lang"].isin(paired.index), "noise"] = "paired"
            table["s2"] = np.where(table["noise"] == "paired",
                                   [paired.loc[lang, lang] if lang in paired.index else np.nan
                                    for lang in table["lang"]], table["s2"])
            cov = noise_matrix(table, paired)
            sel = items[(items["target_task"] == d["task"]) & (items["model"] == d["model"])
                        & (items["intermediate_task"] == "none")]
            runs = sel["source"].str.split(";").str[0].nunique()
    ok = table[table["dropped"] == ""]
    groups = {}
    for k, (name, g) in enumerate((("seen", ok[ok["seen"]]), ("unseen", ok[~ok["seen"]]))):
        groups[name] = group_effect(g.reset_index(drop=True), n_resamples, [*np.atleast_1d(seed), 20, k], cov)
    known = languages()
    disagree = [lang for lang, seen in zip(table["lang"], table["seen"])
                if known[lang].in_sib_xlmr and (known[lang].in_sib_xlmr == "1") != bool(seen)]
    sens = distance_sensitivity(ok, metric, cache_dir, min(n_resamples, 999), seed, imputed, cov, integrated)
    return {**facts, "table": table, "groups": groups, "pooled": pooled_effect(ok, cov), "seen_vs_sib": disagree,
            "sensitivity": sens, "paired": {"languages": int((table["noise"] == "paired").sum()), "runs": runs},
            "dropped": table.loc[table["dropped"] != "", ["lang", "name", "dropped"]].to_dict("records")}
