"""URIEL+ distances from English (analysis/distances.py). Run: python -m pytest -q tests/test_distances.py"""
import logging
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis import distances as dd

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One distance cache for the session (shared with test_correlate.py: computing distances costs seconds)."""
    return tmp_path_factory.getbasetemp() / "uriel_cache"


@pytest.fixture(scope="module")
def uriel(cache_dir):
    return dd.load_urielplus(cache_dir)


@pytest.mark.slow
@pytest.mark.parametrize("metric, langs", [("angular", ["de", "ja", "kk", "et"]), ("cosine", ["sw", "kk"])])
def test_distances_equal_urielplus_new_distance(uriel, cache_dir, metric, langs):
    table = dd.english_distances(langs, metric, cache_dir, uriel=uriel).set_index("lang")
    assert uriel.get_distance_metric() == "angular"  # restored
    uriel.set_distance_metric(metric)
    for lang in langs:
        for d in dd.DISTANCES:
            try:
                expected = float(uriel.new_distance(d, ["eng", dd.uriel_code(lang)]))
            except ValueError:  # urielplus: no shared feature
                expected = float("nan")
            np.testing.assert_equal(table.loc[lang, d], expected, err_msg=f"{lang} {d} {metric}")
    uriel.set_distance_metric("angular")


@pytest.mark.slow
def test_genetic_distance_is_urielplus_new_distance_and_refuses_unknown_codes(uriel):
    """analysis/distances.py computes the genetic distance itself (urielplus's loop takes 0.3 s a language); the
    test above compares it with new_distance for six languages, this one for three more and the error path."""
    with dd._quiet():
        for code in ("yor", "eus", "mya"):
            assert dd._genetic_distance(uriel, code) == float(uriel.new_distance("genetic", ["eng", code])), code
    with pytest.raises(ValueError, match="Unknown languages: xxx"):
        dd._genetic_distance(uriel, "xxx")


def test_undefined_distance_is_nan_not_a_guess(uriel, cache_dir):
    et = dd.english_distances(["et"], "angular", cache_dir, uriel=uriel).iloc[0]
    assert np.isnan(et["phonological"]) and np.isnan(et["inventory"])  # Estonian: no P_/INV_ feature in URIEL
    assert et["shared_phonological"] == 0 and 0 < et["syntactic"] < 1


def test_loaded_data_is_the_shipped_data(uriel):
    import urielplus.urielplus as upm

    shipped = Path(upm.__file__).parent / "database" / "original_uriel"
    for i, name in list(enumerate(dd._URIEL_FILES))[1::2]:  # the typological and script data
        with np.load(shipped / name, allow_pickle=True) as f:
            np.testing.assert_array_equal(uriel.data[i], f["data"])
            np.testing.assert_array_equal(uriel.langs[i], f["langs"])


def test_coverage_flags_kazakh_and_estonian_as_thin(uriel, cache_dir):
    t = dd.english_distances(["kk", "et", "de", "he"], "angular", cache_dir, uriel=uriel).set_index("lang")
    assert t.loc["kk", "known_typological"] == 14 and t.loc["et", "known_typological"] == 80  # REFERENCE.md
    assert "14 known typological features" in t.loc["kk", "thin_coverage"]
    assert "phonological from 2 shared features" in t.loc["kk", "thin_coverage"]
    assert "80 known typological features" in t.loc["et", "thin_coverage"]
    assert t.loc["he", "thin_coverage"] == "phonological from 3 shared features"
    assert t.loc["de", "thin_coverage"] == ""


def test_macrolanguages_use_the_documented_codes():
    assert {k: dd.uriel_code(k) for k in ["ar", "zh", "ms", "et", "sw", "fa"]} == {
        "ar": "ara", "zh": "zho", "ms": "msa", "et": "est", "sw": "swa", "fa": "fas"}
    xtreme = {"af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te th "
              "tl tr ur vi yo zh"}.pop().split()
    assert set(xtreme) <= set(dd.URIEL_CODES)


def test_unknown_language_code_is_a_clear_error(cache_dir):
    with pytest.raises(ValueError, match="unknown language code 'xx': expected one of .*\\bde\\b"):
        dd.english_distances(["de", "xx"], "angular", cache_dir)
    with pytest.raises(ValueError, match="unknown distance metric 'euclid'"):
        dd.english_distances(["de"], "euclid", cache_dir)


def test_cache_is_reused_and_extended(cache_dir, monkeypatch):
    first = dd.english_distances(["de", "ja"], "angular", cache_dir)

    def fail(*a, **k):
        raise AssertionError("urielplus loaded although the cache has these languages")

    monkeypatch.setattr(dd, "load_urielplus", fail)
    again = dd.english_distances(["ja", "de"], "angular", cache_dir)
    assert again["lang"].tolist() == ["ja", "de"]
    np.testing.assert_array_equal(again.set_index("lang").loc[["de", "ja"], list(dd.DISTANCES)].to_numpy(),
                                  first.set_index("lang")[list(dd.DISTANCES)].to_numpy())
    with pytest.raises(AssertionError, match="urielplus loaded"):
        dd.english_distances(["my"], "angular", cache_dir)  # a new language (in no published file) needs urielplus


def test_loading_leaves_root_logging_untouched_and_is_silent(cache_dir, capfd):
    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.root.manager.disable)
    dd.load_urielplus(cache_dir)
    assert (list(root.handlers), root.level, logging.root.manager.disable) == before
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.slow
def test_matrices_equal_urielplus_and_main_writes_them(uriel, cache_dir, tmp_path):
    langs = ["en", "de", "ja", "kk"]
    m = dd.distance_matrices(langs, "angular", cache_dir, distances=("syntactic", "inventory"), uriel=uriel)
    expected = np.asarray(uriel.new_distance("syntactic", [dd.uriel_code(x) for x in langs]), float)
    np.testing.assert_array_equal(m["syntactic"].to_numpy(), expected)
    assert np.isnan(m["inventory"].loc["en", "kk"])  # urielplus's -1 (undefined) becomes NaN
    again = dd.distance_matrices(langs, "angular", cache_dir, distances=("syntactic",), uriel=object())  # cached
    np.testing.assert_array_equal(again["syntactic"].to_numpy(), expected)
    dd.main(["--matrix", str(tmp_path / "mat"), "--cache-dir", str(cache_dir), "en", "de"])
    written = sorted(p.name for p in (tmp_path / "mat").iterdir())
    assert written == sorted(f"distance_matrix_{d}.csv" for d in dd.DISTANCES)
    text = (tmp_path / "mat" / "distance_matrix_syntactic.csv").read_text().splitlines()
    assert text[0] == ",en,de" and text[1] == f"en,0.0,{m['syntactic'].loc['en', 'de']}"


@pytest.mark.slow
def test_read_only_install_works_and_is_never_written(tmp_path):
    """A copy of urielplus without the data files it copies on first use, made read-only, still works."""
    import urielplus

    src = Path(urielplus.__file__).parent
    pkg = tmp_path / "site" / "urielplus"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for name in dd._URIEL_FILES:  # as freshly installed: only database/original_uriel/ has them
        (pkg / "database" / name).unlink(missing_ok=True)
    before = sorted(str(p.relative_to(pkg)) for p in pkg.rglob("*"))
    for p in [pkg, *pkg.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        code = ("import urielplus, sys; from analysis.distances import english_distances; "
                "t = english_distances(['de'], cache_dir=sys.argv[1]); "
                "print(urielplus.__file__); print(t['syntactic'].iloc[0])")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(ROOT)]),
               "PYTHONDONTWRITEBYTECODE": "1"}
        r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "cache")], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.split()
        assert lines[0].startswith(str(pkg)) and float(lines[1]) == 0.3582
        assert r.stderr == ""  # urielplus's INFO logging is silenced
        assert sorted(str(p.relative_to(pkg)) for p in pkg.rglob("*")) == before
    finally:
        for p in [pkg, *pkg.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


# ------------------------------------------------------------------------ sensitivity: urielplus's own imputation
@pytest.mark.slow
def test_imputed_distances_have_their_own_cache_and_impute_once(tmp_path, monkeypatch):
    """The imputation replaced by a stand-in (Kazakh's features := English's): the imputed table comes from the
    imputed features, is cached apart from the reported one, and is not recomputed."""
    calls = []

    def stand_in(u, work_dir, only=None):
        calls.append((work_dir, only))
        index = {str(code): i for i, code in enumerate(u.langs[1])}
        u.data[1][index["kaz"]] = u.data[1][index["eng"]]

    monkeypatch.setattr(dd, "impute_urielplus", stand_in)
    plain = dd.english_distances(["kk"], "angular", tmp_path).set_index("lang")
    imputed = dd.english_distances(["kk"], "angular", tmp_path, imputed=True).set_index("lang")
    assert plain.loc["kk", "known_typological"] == 14 and plain.loc["kk", "syntactic"] > 0
    assert imputed.loc["kk", "syntactic"] == 0.0 and imputed.loc["kk", "known_typological"] > 14
    assert calls == [(tmp_path / "uriel" / "imputation", ["eng", "kaz"])]  # English's row and Kazakh's only
    assert dd._cache_file(tmp_path, "angular", imputed=True) != dd._cache_file(tmp_path, "angular")
    monkeypatch.setattr(dd, "load_urielplus", lambda *a, **k: pytest.fail("urielplus loaded for cached languages"))
    again = dd.english_distances(["kk"], "angular", tmp_path, imputed=True).set_index("lang")
    assert again.loc["kk", "syntactic"] == 0.0 and len(calls) == 1


@pytest.mark.slow
def test_urielplus_knn_imputation_on_two_languages(tmp_path):
    """The real imputation (English's, German's and Kazakh's rows, from the whole database: a few seconds): every
    feature of German and Kazakh known afterwards; the distances as urielplus's new_distance gives them on the
    imputed features (values checked by hand on urielplus 1.3.2 with the full imputation, which took 2.5 minutes)."""
    table = dd.english_distances(["de", "kk"], "angular", tmp_path, imputed=True).set_index("lang")
    plain = dd.english_distances(["de", "kk"], "angular", tmp_path).set_index("lang")
    assert table.loc["kk", "known_typological"] == 289 and plain.loc["kk", "known_typological"] == 14
    assert table.loc["de", "syntactic"] == pytest.approx(0.3882, abs=1e-4)
    assert plain.loc["de", "syntactic"] == pytest.approx(0.3582, abs=1e-4)
    assert table.loc["kk", "syntactic"] == pytest.approx(0.7593, abs=1e-4)
    import urielplus

    assert not list((Path(urielplus.__file__).parent / "database").glob("*.npz"))  # nothing written into the install


@pytest.mark.slow
def test_imputing_some_rows_equals_those_rows_of_the_full_imputation(uriel, tmp_path):
    """impute_urielplus(only=...) against urielplus's own full imputation (`_standard_impute`), on a slice of the
    database (every language with dialects in urielplus's table, those dialects, English, German, Kazakh: the
    genetic fill and the kNN both at work): the same values in the imputed rows. And the genetic fill's dialect
    table (_dialects) equals urielplus's get_dialects on the slice."""
    import copy
    from types import SimpleNamespace

    langs = np.asarray(uriel.langs[1]).astype(str)
    parents = dd._dialects(uriel)
    keep = np.isin(langs, ["eng", "deu", "kaz", *(c for v in parents.values() for c in v)])
    keep[list(parents)] = True

    def sliced():  # a URIELPlus on the slice; the loaded one is left as it is
        u = copy.copy(uriel)
        u.data, u.langs = list(uriel.data), list(uriel.langs)
        u.data[1], u.langs[1] = uriel.data[1][keep], uriel.langs[1][keep]
        return u

    full, part = sliced(), sliced()
    want = type(uriel).get_dialects(SimpleNamespace(codes=uriel.codes, cur_dir=uriel.cur_dir, langs=full.langs))
    assert dd._dialects(full) == want and len(want) > 150
    dd.impute_urielplus(full, tmp_path / "full")
    dd.impute_urielplus(part, tmp_path / "part", only=["kaz", "eng", "deu"])
    rows = np.flatnonzero(np.isin(langs[keep], ["eng", "deu", "kaz"]))
    np.testing.assert_array_equal(part.data[1][rows], full.data[1][rows])
    assert part.data[1].shape == full.data[1].shape == (keep.sum(), len(uriel.feats[1]), 1)
    kaz = rows[langs[keep][rows] == "kaz"][0]
    assert (part.data[1][kaz] > -1).sum() > 100  # Kazakh: 14 typological features known before
    assert uriel.data[1].shape[0] == len(langs) and uriel.data[1].shape[2] > 1  # the loaded one: untouched
    with pytest.raises(ValueError, match="impute_urielplus: no URIEL language xxx"):
        dd.impute_urielplus(sliced(), tmp_path / "bad", only=["xxx"])


def test_a_shared_block_loads_urielplus_once_per_cache_dir(uriel, tmp_path, monkeypatch):
    """analysis/run.py runs inside shared_urielplus(): its three english_distances calls (languages, standard-variety
    codes, the many-language table) load urielplus once; outside a block each call loads its own."""
    calls = []
    monkeypatch.setattr(dd, "load_urielplus", lambda cache_dir: calls.append(cache_dir) or uriel)
    with dd.shared_urielplus():
        dd.english_distances(["de"], cache_dir=tmp_path, distances=("syntactic",))
        dd.english_distances(["ja"], cache_dir=tmp_path, distances=("syntactic",))
        with dd.shared_urielplus():  # nested: the same block
            dd.english_distances(["ar"], cache_dir=tmp_path, codes="standard", distances=("syntactic",))
        dd.english_distances(["fr"], cache_dir=tmp_path / "other", distances=("syntactic",))
    assert calls == [tmp_path, tmp_path / "other"] and dd._SHARED is None
    dd.english_distances(["sw"], cache_dir=tmp_path, distances=("syntactic",))
    dd.english_distances(["zh"], cache_dir=tmp_path, distances=("syntactic",))
    assert len(calls) == 4
    assert uriel.get_distance_metric() == "angular"


@pytest.mark.slow
@pytest.mark.parametrize("distance, metric", [("syntactic", "angular"), ("phonological", "cosine"),
                                              ("genetic", "angular")])
def test_feature_matrix_is_urielplus_new_distance_for_every_sampled_pair(uriel, distance, metric):
    """Pairs drawn over every language with a URIEL+ code (NaN pairs, Arabic dialects on the ara fallback, script
    variants sharing a code among them) against urielplus's own two-language call, exactly."""
    import random

    langs = sorted(dd.URIEL_CODES)
    m = dd.feature_matrix(langs, distance, metric, uriel=uriel)
    assert m.shape == (len(langs), len(langs)) and len(langs) > 200  # every row with a URIEL+ code (248 today)
    assert (m.to_numpy() == m.to_numpy().T)[m.notna().to_numpy()].all()
    rng = random.Random(0)
    pairs = [tuple(rng.sample(langs, 2)) for _ in range(40)] + [("ar", "acm"), ("ace", "ace-Arab"), ("en", "de")]
    if distance == "syntactic":
        pairs += [(a, b) for a in ("bo", "dz") for b in ("en", "de") if a in langs]  # few features: NaN pairs
    uriel.set_distance_metric(metric)
    try:
        for a, b in pairs:
            try:
                expected = float(uriel.new_distance(distance, [dd.uriel_code(a), dd.uriel_code(b)]))
            except ValueError:  # no shared feature
                expected = float("nan")
            got = float(m.loc[a, b])
            if dd.uriel_code(a) == dd.uriel_code(b) and not np.isnan(expected):  # one vector: 0 here; urielplus's
                assert got == 0.0 and 0 <= expected < 1e-3, (a, b, got, expected)  # arccos of a rounded cos: 0.0002
                continue
            assert got == expected or (np.isnan(got) and np.isnan(expected)), (a, b, got, expected)
    finally:
        uriel.set_distance_metric("angular")
    assert m.isna().to_numpy().any() == (distance != "genetic")  # typological: some pairs share no feature
    if distance == "syntactic":  # a pair sharing fewer than min_shared features is NaN too
        assert dd.feature_matrix(langs, distance, uriel=uriel, min_shared=10).isna().to_numpy().sum() > m.isna(
        ).to_numpy().sum()
    with pytest.raises(ValueError, match="'geographic': expected genetic or a typological distance"):
        dd.feature_matrix(["de"], "geographic", uriel=uriel)
    with pytest.raises(ValueError, match="xx-Fake"):
        dd.feature_matrix(["de", "xx-Fake"], "syntactic", uriel=uriel)


@pytest.mark.slow
def test_integrated_distances_map_each_language_to_its_glottocode(uriel, tmp_path, monkeypatch):
    """integrated_english_distances with the integration itself left out (a no-op; the real one takes about 3
    minutes): after urielplus's switch to Glottocodes the same data must give the base distances, so every
    language's code went to its own Glottocode; the result is cached and a second call reads it."""
    monkeypatch.setattr(type(uriel), "integrate_databases", lambda self: None)
    langs = ["de", "fr", "ja", "yo", "ace", "acm", "ar", "sw", "zh-Hant"]
    got = dd.integrated_english_distances(langs, "syntactic", "angular", tmp_path).set_index("lang")
    base = dd.english_distances(langs, "angular", tmp_path, uriel=uriel, distances=("syntactic",)).set_index("lang")
    std = dd.english_distances(langs, "angular", tmp_path, uriel=uriel, distances=("syntactic",),
                               codes="standard").set_index("lang")
    assert got.loc["de", "glottocode"] == "stan1295" and got.loc["ja", "glottocode"] == "nucl1643"
    for lang in langs:  # the macrolanguages (ara, swa, zho) have no Glottocode: their standard variety's
        ref = std if lang in ("ar", "sw", "zh-Hant") else base
        assert got.loc[lang, "syntactic"] == pytest.approx(ref.loc[lang, "syntactic"], abs=1e-4), lang
    monkeypatch.setattr(dd, "load_urielplus", lambda *a, **k: pytest.fail("the cache was not read"))
    again = dd.integrated_english_distances(["de", "xx-none"], "syntactic", "angular", tmp_path)
    assert again["syntactic"].iloc[0] == got.loc["de", "syntactic"] and np.isnan(again["syntactic"].iloc[1])
