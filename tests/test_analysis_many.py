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
                                             sib_row("ace-Arab", 34.0)])
    from data.results import read_results

    table, facts = MN.many_language_table(read_results([path]), cache_dir=tmp_path / "cache")
    t = table.set_index("lang")
    assert facts["en"] == 92.2 and t.loc["de", "drop"] == pytest.approx(4.2)
    assert t.loc["ast", "dropped"] == "no URIEL+ code" and t.loc["de", "dropped"] == ""
    assert bool(t.loc["de", "seen"]) and not bool(t.loc["ace-Arab", "seen"])  # SIB's "in XLM-R?" column
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
