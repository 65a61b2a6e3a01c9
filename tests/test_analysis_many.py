"""analysis/many.py (the many-language baseline, SIB-200) and results/published/make_sib200.py: each statistic
against an independent computation (statsmodels fitted directly, hand-worked numbers).

Run: python -m pytest -q tests/test_analysis_many.py
"""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from analysis import many as MN
from analysis.design import MANY_LANGUAGES, many_language_tasks
from data.examples import DataError

ROOT = Path(__file__).resolve().parents[1]


def synthetic(n=60, families=8, seed=0, slope=20.0):
    rng = np.random.default_rng(seed)
    fam = rng.integers(0, families, n)
    x = rng.uniform(0.3, 0.8, n)
    y = 5 + slope * x + rng.normal(0, 2.0, families)[fam] + rng.normal(0, 1.5, n)
    return pd.DataFrame({"y": y, "x": x, "family": [f"f{k}" for k in fam]})


def test_item_noise_is_the_binomial_variance_on_the_test_items():
    assert math.sqrt(MN.item_variance(70.0, 204)) == pytest.approx(3.2084, abs=1e-4)  # issue 20: about 3.2 points
    assert math.sqrt(MN.item_variance(70.0, 900)) == pytest.approx(1.5275, abs=1e-4)  # Belebele: about 1.5
    assert MN.item_variance(100.0, 204) == 0


def test_reml_fit_without_item_noise_equals_statsmodels_mixedlm():
    df = synthetic()
    fit = MN.reml_fit(df["y"], np.column_stack([np.ones(len(df)), df["x"]]), np.zeros(len(df)), df["family"])
    ref = smf.mixedlm("y ~ x", df, groups=df["family"]).fit(reml=True)
    assert fit["b"][1] == pytest.approx(ref.fe_params["x"], rel=1e-3)
    assert fit["family_var"] == pytest.approx(float(ref.cov_re.iloc[0, 0]), rel=1e-2)
    assert fit["lang_var"] == pytest.approx(ref.scale, rel=1e-2)
    assert math.sqrt(fit["cov_b"][1, 1]) == pytest.approx(ref.bse_fe["x"], rel=1e-2)


def test_item_noise_enters_as_known_variance_and_the_slope_is_its_gls_estimate():
    df = synthetic(seed=1)
    s2 = MN.item_variance(np.random.default_rng(2).uniform(40, 95, len(df)), 204)
    X = np.column_stack([np.ones(len(df)), df["x"]])
    fit = MN.reml_fit(df["y"], X, s2, df["family"])
    same = (df["family"].to_numpy()[:, None] == df["family"].to_numpy()[None, :]).astype(float)
    V = np.diag(fit["lang_var"] + s2) + fit["family_var"] * same
    gls = sm.GLS(df["y"].to_numpy(), X, sigma=V).fit()
    assert fit["b"] == pytest.approx(gls.params, rel=1e-6)
    assert fit["cov_b"] == pytest.approx(gls.cov_params() / gls.scale, rel=1e-6)  # V known: no scale refit


def test_group_effect_finds_a_planted_slope_and_not_a_null_one():
    g = synthetic(n=80, slope=30.0).rename(columns={"y": "drop", "x": "distance"}).assign(
        lang=[f"l{i}" for i in range(80)], s2=4.0)
    res = MN.group_effect(g, 199, 0)
    assert res["ci_low_per_0.1"] < 3.0 < res["ci_high_per_0.1"] and res["p_perm"] < 0.01
    null = g.assign(distance=np.random.default_rng(9).permutation(g["distance"].to_numpy()))
    null = null.assign(drop=g["drop"] - 30 * g["distance"])
    assert MN.group_effect(null, 199, 0)["p_perm"] > 0.05
    assert 0 <= res["family_share"] <= 1


def write_rows(path, rows):
    pd.DataFrame(rows, columns=["model", "intermediate_task", "target_task", "lang", "split", "metric", "value",
                                "source"]).to_csv(path, index=False)
    return path


def sib_row(lang, value):
    return ["XLM-R Large", "none", "sib200", lang, "test", "accuracy", value, "paper"]


@pytest.mark.slow  # loads URIEL+ (a few seconds)
def test_languages_without_a_distance_are_dropped_by_name_and_unknown_tags_refused(tmp_path):
    path = write_rows(tmp_path / "sib.csv", [sib_row("en", 92.2), sib_row("de", 88.0), sib_row("ast", 80.0),
                                             sib_row("ace-Arab", 34.0), sib_row("acm", 60.0), sib_row("tl", 85.0),
                                             sib_row("nn", 88.0)])
    from analysis.covariates import log_pretraining_size
    from data.results import read_results

    table, facts = MN.many_language_table(read_results([path]), cache_dir=tmp_path / "cache")
    t = table.set_index("lang")
    assert facts["en"] == 92.2 and t.loc["de", "drop"] == pytest.approx(4.2)
    assert t.loc["ast", "dropped"] == "no URIEL+ code" and t.loc["de", "dropped"] == ""
    # seen = in CC-100 per language and script: Tagalog is (3.1 GiB; SIB's column says no), Nynorsk is not (SIB: yes)
    assert list(t["seen"]) == [True, False, False, False, True, False]
    assert t.loc["de", "log_size"] == log_pretraining_size("XLM-R Large", "de") and t.loc["acm", "log_size"] == 0
    # the nearest seen relative (genetic): a seen language is its own; Mesopotamian Arabic's is Arabic
    assert (t.loc["de", "nearest_seen"], t.loc["de", "nearest_seen_distance"]) == ("de", 0.0)
    assert t.loc["acm", "nearest_seen"] == "ar" and 0 < t.loc["acm", "nearest_seen_distance"] < 0.5
    # Nynorsk (URIEL+ nor) -> Icelandic: Glottolog's West Scandinavian (Bokmal's own code, nob, has almost no lineage
    # features in URIEL+: 0.97 from every language)
    assert t.loc["nn", "nearest_seen"] == "is" and t.loc["ast", "nearest_seen"] == ""
    bad = write_rows(tmp_path / "bad.csv", [sib_row("en", 92.2), sib_row("xx-Fake", 50.0)])
    with pytest.raises(DataError, match=r"bad.csv.*line 3.*'xx-Fake' has no row in data/languages.tsv"):
        MN.many_language_table(read_results([bad]), cache_dir=tmp_path / "cache")


def test_many_language_rows_stay_out_of_the_xtreme_tables(tmp_path):
    from analysis.scores import read_target_rows

    xnli = [["m", "none", "xnli", "en", "test", "accuracy", 85, "runs/a"],
            ["m", "none", "xnli", "de", "test", "accuracy", 80, "runs/a"]]
    path = write_rows(tmp_path / "r.csv", xnli + [sib_row("en", 92.2), sib_row("ace-Arab", 34.0)])
    df, notes = read_target_rows([path])
    assert set(df["target_task"]) == {"xnli"} and many_language_tasks() == [MANY_LANGUAGES["task"]]
    assert "Analysed in the many-language section, not in these tables: sib200 (2 rows)." in notes


def test_the_converter_maps_flores_codes_to_language_tags(tmp_path):
    spec = importlib.util.spec_from_file_location("make_sib200", ROOT / "results" / "published" / "make_sib200.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    table = tmp_path / "t7.csv"
    table.write_text("language,code,in_xlmr,family,xlmr_transfer_from_eng\nEnglish,eng_Latn,1,Indo-European,92.2\n"
                     "Acehnese (Arabic),ace_Arab,0,Austronesian,34\n", encoding="utf-8")
    lines = mod.convert(table).splitlines()
    assert lines[0] == "model,intermediate_task,target_task,lang,split,metric,value,source"
    assert lines[1].startswith("XLM-R Large,none,sib200,en,test,accuracy,92.2,") and ",ace-Arab," in lines[2]
    table.write_text("language,code,in_xlmr,family,xlmr_transfer_from_eng\nX,xxx_Fake,0,F,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"t7.csv:line 2: FLORES code 'xxx_Fake' has 0 rows"):
        mod.convert(table)
    shipped = pd.read_csv(ROOT / "results" / "published" / "sib200_adelani2024_table7.csv")
    assert len(shipped) == 204 and shipped.set_index("lang").loc["en", "value"] == 92.2


def test_family_permutations_move_languages_only_within_their_family():
    fam = np.array(list("aabbbcd"))
    perms = MN.family_permutations(fam, 500, np.random.default_rng(0))
    assert (fam[perms] == fam).all()  # every language lands on a language of its family
    assert all(sorted(p) == list(range(7)) for p in perms)  # each row is a permutation
    assert len({tuple(p[2:5]) for p in perms}) == 6  # the three b's take all 3! orders
    assert (perms[:, 5:] == [5, 6]).all()  # single-language families stay put


def pooled_synthetic(n_seen=70, n_unseen=70, families=10, seed=0, b=20.0, d=25.0, s=-2.0, r=15.0):
    """Languages with the pooled model's covariates and a planted truth (b: seen slope, d: unseen minus seen slope,
    s: per log unit of size, r: per unit of nearest-seen distance), family intercepts, item noise."""
    rng = np.random.default_rng(seed)
    n = n_seen + n_unseen
    seen = np.r_[np.ones(n_seen, bool), np.zeros(n_unseen, bool)]
    g = pd.DataFrame({"lang": [f"l{i}" for i in range(n)], "seen": seen,
                      "family": [f"f{k}" for k in rng.integers(0, families, n)],
                      "distance": rng.uniform(0.3, 0.8, n),
                      "log_size": np.where(seen, rng.normal(0, 1.5, n), 0.0),
                      "nearest_seen_distance": np.where(seen, 0.0, rng.uniform(0, 1, n))})
    fam = {f: rng.normal(0, 2.0) for f in g["family"].unique()}
    y = (5 + 20 * ~seen + b * g["distance"] + d * ~seen * g["distance"] + s * g["log_size"]
         + r * ~seen * g["nearest_seen_distance"] + g["family"].map(fam) + rng.normal(0, 1.5, n))
    g["s2"] = rng.uniform(2, 12, n)
    g["drop"] = y + rng.normal(0, np.sqrt(g["s2"]))
    return g


@pytest.mark.slow
def test_pooled_design_is_the_documented_model_and_its_estimates_are_gls():
    g = pooled_synthetic()
    X = MN.pooled_design(g)
    seen = g["seen"].to_numpy()
    # hand-checked columns: unseen indicator; centred distance; interaction; size centred over seen, 0 for unseen;
    # nearest-seen distance centred over unseen, 0 for seen
    assert (X[:, 1] == ~seen).all()
    assert X[:, 2] == pytest.approx(g["distance"] - g["distance"].mean())
    assert X[:, 3] == pytest.approx(np.where(seen, 0, X[:, 2]))
    assert X[seen, 4] == pytest.approx(g.loc[seen, "log_size"] - g.loc[seen, "log_size"].mean())
    assert (X[~seen, 4] == 0).all() and (X[seen, 5] == 0).all()
    assert X[~seen, 5] == pytest.approx(g.loc[~seen, "nearest_seen_distance"] - g.loc[~seen,
                                                                                        "nearest_seen_distance"].mean())
    res = MN.pooled_effect(g)
    fit = MN.reml_fit(g["drop"], X, g["s2"], g["family"])
    same = (g["family"].to_numpy()[:, None] == g["family"].to_numpy()[None, :]).astype(float)
    V = np.diag(fit["lang_var"] + g["s2"]) + fit["family_var"] * same
    gls = sm.GLS(g["drop"].to_numpy(), X, sigma=V).fit()
    t = res["terms"]
    assert t["unseen x distance"]["coef"] == pytest.approx(0.1 * gls.params[3], rel=1e-6)
    assert t["seen x log size"]["coef"] == pytest.approx(math.log(2) * gls.params[4], rel=1e-6)
    se = np.sqrt(np.diag(gls.cov_params() / gls.scale))
    assert t["distance"]["se"] == pytest.approx(0.1 * se[2], rel=1e-6)
    # the unseen slope is the sum of two coefficients, with the covariance in its SE
    cov = gls.cov_params() / gls.scale
    assert t["distance, unseen"]["coef"] == pytest.approx(0.1 * (gls.params[2] + gls.params[3]), rel=1e-6)
    assert t["distance, unseen"]["se"] == pytest.approx(0.1 * math.sqrt(cov[2, 2] + cov[3, 3] + 2 * cov[2, 3]))
    # Wald t with n - 6 degrees of freedom
    tstat = gls.params[3] / se[3]
    assert t["unseen x distance"]["p"] == pytest.approx(2 * stats.t.sf(abs(tstat), len(g) - 6), rel=1e-9)


@pytest.mark.slow
def test_pooled_model_without_item_noise_equals_statsmodels_mixedlm_on_the_formula():
    g = pooled_synthetic(seed=3).assign(s2=0.0)
    res = MN.pooled_effect(g)
    df = g.assign(unseen=(~g["seen"]).astype(float), dc=g["distance"] - g["distance"].mean())
    df["size_c"] = np.where(df["seen"], df["log_size"] - df.loc[df["seen"], "log_size"].mean(), 0.0)
    near = df.loc[~df["seen"], "nearest_seen_distance"]
    df["near_c"] = np.where(df["seen"], 0.0, df["nearest_seen_distance"] - near.mean())
    ref = smf.mixedlm("drop ~ unseen + dc + unseen:dc + size_c + near_c", df, groups=df["family"]).fit(reml=True)
    t = res["terms"]
    assert t["unseen x distance"]["coef"] == pytest.approx(0.1 * ref.fe_params["unseen:dc"], rel=1e-3)
    assert t["unseen"]["coef"] == pytest.approx(ref.fe_params["unseen"], rel=1e-3)
    assert t["unseen x nearest seen"]["coef"] == pytest.approx(0.1 * ref.fe_params["near_c"], rel=1e-3)
    assert t["unseen x distance"]["se"] == pytest.approx(0.1 * ref.bse_fe["unseen:dc"], rel=2e-2)


@pytest.mark.slow
def test_pooled_model_recovers_planted_terms_and_leaves_out_languages_missing_a_covariate():
    g = pooled_synthetic(n_seen=150, n_unseen=150, seed=5, d=25.0)
    g.loc[3, "log_size"] = np.nan  # a seen language with no size
    g.loc[200, "nearest_seen_distance"] = np.nan  # an unseen language with no seen relative
    g.loc[201, "log_size"] = np.nan  # unseen: size is not used, kept
    res = MN.pooled_effect(g)
    assert res["left_out"] == ["l200", "l3"] and res["n"] == 298
    t = res["terms"]
    for name, planted in (("distance", 2.0), ("unseen x distance", 2.5), ("distance, unseen", 4.5),
                          ("seen x log size", -2.0 * math.log(2)), ("unseen x nearest seen", 1.5)):
        assert t[name]["ci_low"] < planted < t[name]["ci_high"], (name, t[name])
    assert t["unseen x distance"]["p"] < 0.01
    few = MN.pooled_effect(g.iloc[:150].copy())
    assert few["note"] == "149 seen and 0 unseen languages: no pooled model"


@pytest.mark.slow
def test_pooled_interval_and_p_hold_their_level_on_studies_simulated_from_a_fitted_truth():
    """analysis/simulate.py validate_pooled on a synthetic table (bench/bench_many.py runs 400 studies a side on the
    real SIB-200 table): the false-positive rate below 0.05 + 3 Monte Carlo SE, coverage within 3 SE of 0.95."""
    from analysis.simulate import validate_pooled

    g = pooled_synthetic(n_seen=50, n_unseen=50, families=12, seed=11)
    g["accuracy"] = 92.2 - g["drop"]
    n = 40
    null = validate_pooled(g, n, planted=0.0, seed=1)
    assert null["planted_per_0.1"] == 0.0 and null["studies"] == n
    assert null["rejection_rate"] <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / n)
    assert abs(null["coverage"] - 0.95) <= 3 * math.sqrt(0.05 * 0.95 / n)
    planted = validate_pooled(g, n, planted=3.0, seed=2)
    assert abs(planted["coverage"] - 0.95) <= 3 * math.sqrt(0.05 * 0.95 / n)
    assert planted["rejection_rate"] > 0.5  # 3 points per +0.1 on 100 languages: usually detected


@pytest.mark.slow
def test_distance_sensitivity_reruns_each_group_on_the_standard_variety_codes(tmp_path, monkeypatch):
    from analysis import distances as dd

    seen, unseen = ["ar", "zh", "ms", "sw", "fa", "de", "fr"], ["acm", "apc", "arz", "ary", "ace", "ak"]
    rng = np.random.default_rng(0)
    ok = pd.DataFrame({"lang": seen + unseen, "seen": [True] * 7 + [False] * 6,
                       "family": ["a", "b", "c", "d", "e", "f", "f", "a", "a", "a", "a", "c", "d"],
                       "drop": rng.uniform(2, 40, 13), "s2": 4.0})
    calls = []
    real = dd.english_distances

    def spy(langs, metric, cache_dir, **kw):
        calls.append(kw)
        return real(langs, metric, cache_dir, **kw)
    monkeypatch.setattr("analysis.many.english_distances", spy)
    rows = MN.distance_sensitivity(ok, "angular", tmp_path, 99, 0)
    assert [(r["variant"], r["group"]) for r in rows] == [("standard-variety codes", "seen"),
                                                          ("standard-variety codes", "unseen")]
    assert calls == [{"distances": ("syntactic",), "codes": "standard"}]
    std = real(seen, "angular", tmp_path, codes="standard", distances=("syntactic",)).set_index("lang")["syntactic"]
    g = ok[ok["seen"]].assign(distance=std.reindex(seen).to_numpy()).reset_index(drop=True)
    assert rows[0]["coef_per_0.1"] == pytest.approx(MN.group_effect(g, 99, [0, 30, 0])["coef_per_0.1"])
    assert rows[0]["n"] == 7 and std["ar"] != real(["ar"], "angular", tmp_path, distances=("syntactic",))[
        "syntactic"].iloc[0]  # ar -> arb changes the distance
    MN.distance_sensitivity(ok, "angular", tmp_path, 99, 0, imputed=False)
    monkeypatch.setattr("analysis.many.english_distances", lambda *a, **kw: calls.append(kw) or real(
        a[0], a[1], a[2], **{k: v for k, v in kw.items() if k != "imputed"}))
    rows = MN.distance_sensitivity(ok, "angular", tmp_path, 99, 0, imputed=True)
    assert calls[-1] == {"distances": ("syntactic",), "imputed": True} and rows[-1]["variant"].startswith(
        "urielplus imputation (knn, k = 10)")


def test_the_integrated_database_variant_reruns_each_group_on_its_distances(monkeypatch):
    import analysis.distances as dd

    rng = np.random.default_rng(4)
    langs = [f"l{i}" for i in range(14)]
    ok = pd.DataFrame({"lang": langs, "seen": [True] * 7 + [False] * 7, "family": list("aabbccdaabbccd"),
                       "drop": rng.uniform(2, 40, 14), "s2": 4.0})
    integrated = pd.DataFrame({"lang": langs, "glottocode": "x", "syntactic": rng.uniform(0.3, 0.8, 14)})
    integrated.loc[3, "syntactic"] = np.nan  # no Glottocode: left out of that variant
    monkeypatch.setattr(dd, "integrated_english_distances", lambda *a, **k: integrated)
    monkeypatch.setattr(MN, "english_distances", lambda langs, *a, **k: integrated.assign(
        syntactic=0.5 + 0.01 * np.arange(len(langs))))  # the standard-variety variant: anything
    rows = MN.distance_sensitivity(ok, "angular", None, 99, 0, integrated=True)
    got = [r for r in rows if r["variant"] == dd.INTEGRATED]
    assert [r["group"] for r in got] == ["seen", "unseen"] and got[0]["n"] == 6 and got[1]["n"] == 7
    g = ok[ok["seen"]].assign(distance=integrated["syntactic"].to_numpy()[:7]).dropna().reset_index(drop=True)
    assert got[0]["coef_per_0.1"] == pytest.approx(MN.group_effect(g, 99, [0, 30, 0])["coef_per_0.1"])
