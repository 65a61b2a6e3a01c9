"""Linguistic distances from English to each XTREME language, computed with urielplus (URIEL+), cached on disk.

Run:
    python -m analysis.distances                       # English-to-L table for every language below (angular)
    python -m analysis.distances --metric cosine de ja
    python -m analysis.distances --matrix results/distances   # language x language matrices (genetic is slow)
    python -m analysis.distances --codes standard      # the standard-variety codes for macrolanguages (sensitivity)
    python -m analysis.distances --imputed de kk       # on urielplus's imputed features (sensitivity; seconds)

What is computed (urielplus 1.3.2, `URIELPlus().new_distance(distance, ["eng", code])`):
- distances: syntactic (`S_` features), phonological (`P_`), inventory (`INV_`), featural (all typological
  features), genetic (Glottolog family membership vector), geographic (GEOCOORDS vector). URIEL+'s `script`
  distance is not offered: its features describe script *type* by union over a language's whole history (Bulgarian
  comes out identical to German; Afrikaans and Indonesian farther from English than Russian), so it does not say
  whether a language is written in English's script today; analysis/covariates.py gives that as a shared-script
  flag. Morphological needs URIEL+'s integrated databases (no `M_` features in the base data), so it is not
  offered. All distances are in [0, 1]; angular by default (`2 * arccos(cos) / pi`), cosine (`1 - cos`) selectable.
- data and aggregation: the URIEL data shipped with urielplus (WALS, SSWL, Ethnologue, PHOIBLE, ...), no
  database integration and no imputation. Per feature, the sources are combined by union (urielplus's default
  aggregation 'U': the largest known value across sources); a distance uses only the features known for both
  languages (urielplus's rule). Where no feature is shared, the distance is missing (NaN), never guessed.
- coverage: per language, how many of the 289 typological features are known and how many are shared with English
  for each typological distance. A language with fewer than 100 known typological features (Kazakh: 14, Estonian:
  80), or a distance computed from fewer than 10 shared features (Kazakh phonological: 2, Hebrew phonological: 3),
  is flagged thin; the distance is kept (and flagged), not dropped.

Codes: language tags are mapped to URIEL's ISO 639-3 codes by their rows' `uriel` field (data/languages.tsv). For
macrolanguages the macrolanguage code is used, because in URIEL's base data it pools its members' entries and has
far more known features than the standard variety (ar -> ara not arb, zh -> zho not cmn, ms -> msa not zsm,
et -> est not ekk, sw -> swa not swh, fa -> fas not pes).

Cache: distances are computed once per (metric, language) and kept in
`$XSTILTS_CACHE_DIR` (default `~/.cache/xstilts`, or `$XDG_CACHE_HOME/xstilts`) under `uriel/`; `--cache-dir`
overrides. urielplus copies its data files next to its own code on first use; here that copy goes into the cache
dir instead, so a read-only install works and the install is never written to. urielplus's logging is silenced.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import sys
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from common.io import atomic_path
from common.paths import default_cache_dir
from data.languages import languages

DISTANCES = ("syntactic", "phonological", "inventory", "featural", "genetic", "geographic")
TYPOLOGICAL_PREFIXES = {"syntactic": "S_", "phonological": "P_", "inventory": "INV_", "featural": ""}
METRICS = ("angular", "cosine")
THIN_KNOWN = 100  # fewer known typological features (of 289) than this: thin coverage
THIN_SHARED = 10  # fewer features shared with English for a typological distance than this: thin

# Language tag -> (URIEL ISO 639-3 code, note), and the standard-variety codes of the sensitivity: read from the
# language rows (data/languages.tsv, the only home of these facts); a language without a URIEL code has no distance.
URIEL_CODES = {tag: (row.uriel, row.uriel_note) for tag, row in languages().items() if row.uriel}
STANDARD_VARIETY_CODES = {tag: row.uriel_standard for tag, row in languages().items() if row.uriel_standard}
CODE_SETS = ("macrolanguage", "standard")
# Sensitivity: urielplus's own imputation of missing typological features (impute_urielplus; `imputed=True`).
IMPUTATION = {"strategy": "knn", "k": 10}
_URIEL_FILES = ("family_features.npz", "features.npz", "geocoord_features.npz", "script_features.npz")


def uriel_code(lang: str, codes: str = "macrolanguage") -> str:
    """URIEL's code for an XTREME ISO 639-1 code; ValueError listing the known codes otherwise.

    codes="standard" takes the standard variety for the six macrolanguages (STANDARD_VARIETY_CODES).
    """
    if codes not in CODE_SETS:
        raise ValueError(f"unknown code set {codes!r}: expected one of {CODE_SETS}")
    try:
        code = URIEL_CODES[lang][0]
        return STANDARD_VARIETY_CODES.get(lang, code) if codes == "standard" else code
    except KeyError:
        raise ValueError(f"unknown language code {lang!r}: expected one of {', '.join(sorted(URIEL_CODES))}") from None


@contextlib.contextmanager
def _quiet():
    """Silence urielplus: it logs every step at INFO through the root logger and configures it on import."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)
        for h in list(root.handlers):  # drop what urielplus's logging.basicConfig added
            if h not in handlers:
                root.removeHandler(h)
        root.setLevel(level)


def load_urielplus(cache_dir: str | os.PathLike | None = None):
    """A URIELPlus object on the data shipped with urielplus, without ever writing into the install.

    URIELPlus() copies database/original_uriel/*.npz to database/ beside its module on first use (failing on a
    read-only install) and then reads them from there, so a copy a user modified with cache=True would be read
    too. Here the module's location is pointed, for the duration of the constructor, at a folder in the cache
    dir whose database/original_uriel links to the shipped files: the copy lands in the cache and the data read
    is always the shipped data.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    with _quiet():
        import urielplus.urielplus as upm

        shipped = Path(upm.__file__).resolve().parent / "database" / "original_uriel"
        shadow = cache_dir / "uriel" / f"urielplus-{metadata.version('urielplus')}"
        (shadow / "database").mkdir(parents=True, exist_ok=True)
        link = shadow / "database" / "original_uriel"
        if not link.exists():
            with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                link.symlink_to(shipped, target_is_directory=True)
        module_file = upm.__file__
        upm.__file__ = str(shadow / "urielplus.py")  # URIELPlus.__init__ resolves its data dir from __file__
        try:
            u = upm.URIELPlus()
        finally:
            upm.__file__ = module_file
    return u


_SHARED: dict | None = None  # cache dir -> URIELPlus, while a shared_urielplus() block is open


@contextlib.contextmanager
def shared_urielplus():
    """Within the block, english_distances and distance_matrices load urielplus at most once per cache dir (1.3 s a
    load; a correlate.py run asks up to three times: its languages, the standard-variety codes, the many-language
    table). Outside any block every call loads its own (nothing stays in memory: a load holds about 0.4 GB)."""
    global _SHARED
    outer = _SHARED is not None
    if not outer:
        _SHARED = {}
    try:
        yield
    finally:
        if not outer:
            _SHARED = None


def _loaded(cache_dir: Path):
    """load_urielplus(cache_dir), shared within a shared_urielplus() block (the distances restore the metric they
    set, so a shared load is left as it was loaded)."""
    if _SHARED is None:
        return load_urielplus(cache_dir)
    key = Path(cache_dir).resolve()
    if key not in _SHARED:
        _SHARED[key] = load_urielplus(cache_dir)
    return _SHARED[key]


def _cache_file(cache_dir: Path, metric: str, codes: str = "macrolanguage", imputed: bool = False,
                distances=DISTANCES) -> Path:
    key = json.dumps([metadata.version("urielplus"), metric, list(distances), URIEL_CODES, THIN_KNOWN, THIN_SHARED]
                     + ([STANDARD_VARIETY_CODES] if codes == "standard" else [])
                     + ([IMPUTATION] if imputed else []), sort_keys=True)
    stem = "english_distances_imputed" if imputed else "english_distances"
    return cache_dir / "uriel" / f"{stem}_{metric}_{hashlib.sha1(key.encode()).hexdigest()[:10]}.csv"


def _dialects(u) -> dict:
    """urielplus's `get_dialects()` (index of a base language in u.langs[1] -> its dialects' codes) in one pass over
    the same CSV, the first matching row per language as its loop takes it. urielplus filters the whole table once
    per language (7,970 pandas filters: about 30 s on 2 cores); tests/test_distances.py checks the two agree."""
    if u.codes not in ("Glotto", "Iso"):
        return type(u).get_dialects(u)  # its own error
    code = "Glot" if u.codes == "Glotto" else "Iso"
    table = pd.read_csv(Path(u.cur_dir) / "database" / "urielplus_csvs" / "dialects.csv")
    first = table.drop_duplicates(f"Language {code}", keep="first").set_index(f"Language {code}")[f"Dialect(s) {code}"]
    first = first[first.notna()].to_dict()
    return {i: first[lang].split(", ") for i, lang in enumerate(u.langs[1]) if lang in first}


def impute_urielplus(u, work_dir, only=None) -> None:
    """Fill the missing typological features of a loaded URIELPlus in place with urielplus's own imputation: its
    aggregation (union over sources, then its genetic fill from parent languages), its k-nearest-neighbour imputer
    (scikit-learn KNNImputer with keep_empty_features, as its `_standard_impute` builds it) with
    k = IMPUTATION["k"], its rounding for union data, -1 for what stays unknown -- the steps of
    `imputation_interface(strategy="knn")`.

    only: the URIEL codes whose rows to impute (None: every language, through urielplus's `_standard_impute`). The
    neighbours always come from the whole database, and a row's imputed values depend only on that row and the
    database (KNNImputer imputes each row from its k nearest rows that have the feature), so a row imputed alone
    equals the same row of the full imputation (tests/test_distances.py checks it); the other rows keep the
    aggregated values. The full imputation takes about 2.5 minutes on 2 cores, a few rows under a second.

    The public `knn_imputation()` / `imputation_interface(..., hyperparameter_range=...)` first chooses k by
    cross-validation, which fails in urielplus 1.3.2 (its joblib workers do not see the scikit-learn names it loads
    lazily: "'NoneType' object is not callable"; in threads, a KeyError on its per-fold quantile keys), and its
    softimpute needs fancyimpute, not installed; so k is fixed and the quality evaluation is not run. The genetic
    fill reads urielplus's dialect table through _dialects (the same dict as its get_dialects, in one pass). Nothing
    is written into the install (work_dir receives any file urielplus writes). `english_distances(...,
    imputed=True)` imputes the rows it needs and caches the distances.
    """
    from urielplus import urielplus_imputation as ui

    Path(work_dir).mkdir(parents=True, exist_ok=True)
    with _quiet():
        ui._load_imputation_dependencies(IMPUTATION["strategy"])
        u.get_dialects = lambda: _dialects(u)  # what aggregate's genetic fill calls
        try:
            frame = u._make_csv(str(work_dir), file="features.npz")  # aggregates data[1] (union + genetic fill)
        finally:
            del u.get_dialects
        langs, feats = frame["language"].to_numpy().astype(str), frame.columns[1:]
        X, feature_types = u._preprocess_data(frame.drop(columns="language"))
        if only is None:
            rows = np.arange(len(langs))
            imputed = u._standard_impute(X=X, imputer_class=ui.KNNImputer, strategy="knn",
                                         hyperparameter=IMPUTATION["k"], feature_types=feature_types,
                                         file_path_to_save_npz=str(work_dir))
        else:
            index = {code: i for i, code in enumerate(langs)}
            unknown = sorted(set(only) - set(index))
            if unknown:
                raise ValueError(f"impute_urielplus: no URIEL language {', '.join(unknown)}")
            rows = np.array(sorted({index[c] for c in only}), dtype=int)
            imputed = ui.KNNImputer(n_neighbors=IMPUTATION["k"], keep_empty_features=True).fit(X).transform(X[rows])
        u._apply_ewave_restriction_if_enabled(imputed, langs[rows], feats, idx=1)
        if u.get_aggregation() == "U":
            imputed = np.round(imputed)
    imputed = np.where(np.isnan(imputed), -1.0, imputed)
    data = np.array(u.data[1], dtype=float)  # the aggregated (L, F, 1) data; imputed rows replaced
    data[rows, :, 0] = imputed
    u.data[1] = data


def _genetic_distance(u, code: str) -> float:
    """urielplus's `new_distance("genetic", ["eng", code])` without its Python loop over the 3,718 family features
    (0.25-0.4 s a language): _pairwise on the two languages, in urielplus's current metric. ValueError where none
    is shared, as urielplus raises. tests/test_distances.py checks it against new_distance."""
    d = _pairwise(u, ["eng", code], "genetic", u.get_distance_metric())[0, 1]
    if np.isnan(d):
        raise ValueError(f"No shared genetic features between eng and {code}")
    return float(d)


def _compute(u, langs: list[str], codes: str = "macrolanguage", distances=DISTANCES) -> pd.DataFrame:
    """Distance and coverage rows for `langs` (ISO 639-1) from an already loaded URIELPlus."""
    feats = np.array([str(f) for f in u.feats[1]])
    index = {str(code): i for i, code in enumerate(u.langs[1])}
    known_en = (u.data[1][index["eng"]] > -1).any(-1)  # (289,) features with a value in any source
    rows = []
    for lang in langs:
        code = uriel_code(lang, codes)
        row = {"lang": lang, "uriel_code": code}
        with _quiet():
            for d in distances:
                try:
                    row[d] = (_genetic_distance(u, code) if d == "genetic"
                              else float(u.new_distance(d, ["eng", code])))
                except ValueError:  # no shared feature: the distance is not defined
                    row[d] = float("nan")
        known = (u.data[1][index[code]] > -1).any(-1)
        row["known_typological"] = int(known.sum())
        thin = ([f"{row['known_typological']} known typological features"]
                if row["known_typological"] < THIN_KNOWN else [])
        for d, prefix in TYPOLOGICAL_PREFIXES.items():
            if d not in distances:
                continue
            mask = np.char.startswith(feats, prefix)
            row[f"shared_{d}"] = shared = int((known & known_en & mask).sum())
            if 0 < shared < THIN_SHARED:  # 0 shared: the distance is NaN (undefined), not thin
                thin.append(f"{d} from {shared} shared features")
        row["thin_coverage"] = "; ".join(thin)
        rows.append(row)
    return pd.DataFrame(rows)


def english_distances(langs, metric: str = "angular", cache_dir: str | os.PathLike | None = None,
                      uriel=None, codes: str = "macrolanguage", imputed: bool = False,
                      distances=DISTANCES) -> pd.DataFrame:
    """English-to-L distances and coverage, one row per language (in the given order).

    Columns: lang, uriel_code, the DISTANCES (NaN where undefined), known_typological, shared_<distance> for the
    typological distances, thin_coverage (empty, or why the coverage is thin). Languages not yet in the cache are
    computed (with `uriel`, a URIELPlus from load_urielplus, when given) and added to it. imputed=True: on the
    features completed by urielplus's imputation (impute_urielplus on the rows of English and the languages to
    compute, run on a fresh load unless `uriel` is given, which must then already be imputed in those rows); its own
    cache file. The coverage columns then count imputed features.
    `distances`: a subset of DISTANCES to compute (its own cache file): the many-language analysis needs only the
    syntactic one, and the genetic distance costs about 0.4 s a language.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown distance metric {metric!r}: expected one of {METRICS}")
    langs = list(dict.fromkeys(langs))
    for lang in langs:
        uriel_code(lang, codes)  # unknown codes fail before any work
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    unknown = set(distances) - set(DISTANCES)
    if unknown:
        raise ValueError(f"unknown distances {sorted(unknown)}: expected some of {DISTANCES}")
    path = _cache_file(cache_dir, metric, codes, imputed, tuple(distances))
    cached = pd.read_csv(path, keep_default_na=True) if path.exists() else pd.DataFrame(columns=["lang"])
    missing = [lang for lang in langs if lang not in set(cached["lang"])]
    if missing:
        u = uriel
        if u is None and imputed:  # a fresh load: the imputation changes its data
            u = load_urielplus(cache_dir)  # English's row and the missing languages' rows (each imputed on its own)
            impute_urielplus(u, cache_dir / "uriel" / "imputation",
                             only=["eng", *(uriel_code(lang, codes) for lang in missing)])
        elif u is None:
            u = _loaded(cache_dir)
        previous = u.get_distance_metric()
        u.set_distance_metric(metric)
        try:
            new = _compute(u, missing, codes, tuple(distances))
        finally:
            u.set_distance_metric(previous)
        cached = pd.concat([cached, new], ignore_index=True) if len(cached) else new
        with atomic_path(path) as tmp:
            cached.to_csv(tmp, index=False)
    out = cached.set_index("lang").loc[langs].reset_index()
    out["thin_coverage"] = out["thin_coverage"].astype(object).fillna("").astype(str)
    return out


def distance_matrices(langs, metric: str = "angular", cache_dir=None, distances=DISTANCES,
                      uriel=None) -> dict[str, pd.DataFrame]:
    """Full language x language matrices from urielplus (one new_distance call per distance); NaN = undefined.

    Each matrix is cached like the English distances (the genetic one takes about a minute for 40 languages).
    """
    if metric not in METRICS:
        raise ValueError(f"unknown distance metric {metric!r}: expected one of {METRICS}")
    langs = list(dict.fromkeys(langs))
    codes = [uriel_code(lang) for lang in langs]
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    tag = _cache_file(cache_dir, metric).stem.rsplit("_", 1)[1]  # urielplus version, table, ... as for english_
    lang_key = hashlib.sha1(",".join(langs).encode()).hexdigest()[:10]
    out = {}
    for d in distances:
        path = cache_dir / "uriel" / f"matrix_{d}_{metric}_{tag}_{lang_key}.csv"
        if path.exists():
            out[d] = pd.read_csv(path, index_col=0)
            continue
        if uriel is None:
            uriel = _loaded(cache_dir)
        previous = uriel.get_distance_metric()
        uriel.set_distance_metric(metric)
        try:
            with _quiet():
                if len(codes) == 2:  # urielplus returns a number for two languages (and raises if undefined)
                    try:
                        v = float(uriel.new_distance(d, codes))
                    except ValueError:
                        v = -1.0
                    m = np.array([[0.0, v], [v, 0.0]])
                else:
                    m = np.asarray(uriel.new_distance(d, codes), dtype=float)  # (L, L); undefined marked -1
        finally:
            uriel.set_distance_metric(previous)
        m[m < 0] = np.nan
        out[d] = pd.DataFrame(m, index=langs, columns=langs)
        with atomic_path(path) as tmp:
            out[d].to_csv(tmp)
    return out


def feature_matrix(langs, distance: str = "syntactic", metric: str = "angular", cache_dir=None,
                   uriel=None, min_shared: int = 1) -> pd.DataFrame:
    """language x language distance from one URIEL+ feature set -- genetic (Glottolog lineage features) or a
    typological one (syntactic, phonological, inventory, featural) -- NaN where two languages share no known feature:
    urielplus's own two-language `new_distance(distance, [a, b])` for every pair, computed at once. Per language,
    each feature's value is the union aggregate (the largest value known over the sources, -1 where none is); a pair
    uses the features known for both; the zero-vector rule (a vector of zeros becomes 1e-10 everywhere) and the
    4-decimal rounding are urielplus's _angular_distance. urielplus's many-language call breaks on a pair with
    nothing shared (a vector-length error), and its Python loops take minutes for 200 languages; this takes a second.
    tests/test_distances.py checks pairs against new_distance. One departure: two tags on the same URIEL+ code (a
    script variant, a dialect on its macrolanguage) are 0 apart here, where urielplus's arccos of a rounded cosine
    gives up to 0.0002. min_shared > 1: a pair sharing fewer known features is NaN too (a distance from 1 or 2
    features is often 0 or 1)."""
    if metric not in METRICS:
        raise ValueError(f"unknown distance metric {metric!r}: expected one of {METRICS}")
    if distance not in (*TYPOLOGICAL_PREFIXES, "genetic"):
        raise ValueError(f"{distance!r}: expected genetic or a typological distance {tuple(TYPOLOGICAL_PREFIXES)}")
    langs = list(dict.fromkeys(langs))
    if uriel is None:
        uriel = _loaded(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    codes = [uriel_code(lang) for lang in langs]
    return pd.DataFrame(_pairwise(uriel, codes, distance, metric, min_shared), index=langs, columns=langs)


def _pairwise(uriel, codes: list[str], distance: str, metric: str, min_shared: int = 1) -> np.ndarray:
    """feature_matrix's computation over URIEL+ codes (ISO 639-3, or Glottocodes after set_glottocodes)."""
    idx = uriel.map_new_distance_to_loaded_features(distance)
    names = {str(c): i for i, c in enumerate(uriel.langs[idx])}
    feats = np.array([str(f) for f in uriel.feats[idx]])
    unknown = sorted({c for c in codes if c not in names})
    if unknown:
        raise ValueError(f"Unknown languages: {', '.join(unknown)}.")
    prefix = TYPOLOGICAL_PREFIXES.get(distance, "")
    raw = np.asarray(uriel.data[idx])  # (all languages, features, sources): select before converting
    data = raw[[names[c] for c in codes]][:, np.char.startswith(feats, prefix)].astype(float)
    known = (data > -1).any(-1)  # (L, F)
    v = np.where(known, np.where(data > -1, data, -np.inf).max(-1), 0.0)  # union: the largest known value
    k = known.astype(float)
    dot, sq, n = v @ v.T, (v * v) @ k.T, k @ k.T  # sq[a, b]: |a|^2 over the features shared with b
    sum_v = v @ k.T  # sum of a's values over the shared features
    na, nb = np.sqrt(sq), np.sqrt(sq.T)
    # urielplus: a zero vector becomes ones * 1e-10, i.e. the direction (1, ..., 1) / sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = dot / (na * nb)
        cos = np.where(na == 0, sum_v.T / (np.sqrt(n) * nb), cos)
        cos = np.where(nb == 0, sum_v / (np.sqrt(n) * na), cos)
        cos = np.where((na == 0) & (nb == 0), 1.0, cos)
    cos = np.clip(cos, -1.0, 1.0)
    out = np.round(1 - cos if metric == "cosine" else 2 * np.arccos(cos) / np.pi, 4)
    if raw.shape[-1] == 1:  # one source: urielplus's vectors keep the data's dtype (float32: genetic), else floats;
        # a zero vector is replaced by float64 1e-10s, and so is its distance (Basque's genetic one: 0.9687 exactly)
        out = np.where((na == 0) | (nb == 0), out, out.astype(raw.dtype).astype(float))
    same = np.array(codes)[:, None] == np.array(codes)[None, :]
    out[same & (n > 0)] = 0.0  # one vector
    out[n < max(min_shared, 1)] = np.nan
    return out


INTEGRATED = "urielplus's integrated databases (Glottocodes; SAPHON, BDPROTO, Grambank, APICS, eWAVE, Glottolog)"


def integrated_english_distances(langs, distance: str = "syntactic", metric: str = "angular",
                                 cache_dir=None) -> pd.DataFrame:
    """English-to-L distances on urielplus's integrated databases (INTEGRATED: the codes switch to Glottocodes and
    the typological matrix grows to 828 features from 15 sources), a labelled sensitivity, never the reported
    distances (data/languages.tsv's rule). One integration (about 3 minutes on 2 cores, on a fresh load that is then
    dropped) gives the distance of every data/languages.tsv language with a URIEL+ code and a Glottocode, cached in
    the cache dir; NaN where a language has no Glottocode in urielplus's uriel_glottocode_map.csv or shares no
    feature with English. The map has no macrolanguage codes (ara, zho, swa, ...): those take their standard
    variety's Glottocode (STANDARD_VARIETY_CODES: arb, cmn, swh, ...). Columns: lang, glottocode, <distance>."""
    if metric not in METRICS:
        raise ValueError(f"unknown distance metric {metric!r}: expected one of {METRICS}")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache_dir / "uriel" / f"integrated_{distance}_{metric}_{metadata.version('urielplus')}_std.csv"
    if not path.exists():
        u = load_urielplus(cache_dir)
        with _quiet():
            u.set_cache(False)  # never write the integrated arrays anywhere
            glotto = pd.read_csv(Path(u.cur_dir) / "database" / "urielplus_csvs" / "uriel_glottocode_map.csv",
                                 dtype=str, keep_default_na=False)
            mapping = dict(zip(glotto["iso_code"].str.strip(), glotto["glottocode"].str.strip()))
            u.set_glottocodes()
            u.integrate_databases()
        idx = u.map_new_distance_to_loaded_features(distance)
        have = {str(c) for c in u.langs[idx]}
        tags = sorted(URIEL_CODES)
        # the macrolanguage codes (ara, zho, swa, ...) have no Glottocode there: their standard variety's
        codes = {tag: mapping.get(uriel_code(tag)) or mapping.get(uriel_code(tag, "standard"), "") for tag in tags}
        ok = [tag for tag in tags if codes[tag] in have]
        eng = mapping["eng"]
        m = _pairwise(u, [eng] + [codes[t] for t in ok], distance, metric)
        value = dict(zip(ok, m[0, 1:]))
        table = pd.DataFrame({"lang": tags, "glottocode": [codes[t] for t in tags],
                              distance: [value.get(t, np.nan) for t in tags]})
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
    table = pd.read_csv(path, keep_default_na=False, na_values=[""]).set_index("lang")
    langs = list(langs)
    return pd.DataFrame({"lang": langs, "glottocode": table["glottocode"].reindex(langs).fillna("").to_numpy(str),
                         distance: table[distance].reindex(langs).to_numpy(float)})


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("langs", nargs="*", help="ISO 639-1 codes (default: every language of URIEL_CODES)")
    p.add_argument("--metric", choices=METRICS, default="angular")
    p.add_argument("--cache-dir", default=None, help=f"default: {default_cache_dir()}")
    p.add_argument("--matrix", metavar="OUT_DIR", help="write distance_matrix_<distance>.csv files here")
    p.add_argument("--codes", choices=CODE_SETS, default="macrolanguage",
                   help="macrolanguage codes (default) or the standard varieties (ar -> arb, zh -> cmn, ...)")
    p.add_argument("--imputed", action="store_true", help="on features completed by urielplus's own imputation")
    args = p.parse_args(argv)
    langs = args.langs or sorted(URIEL_CODES)
    try:
        if args.matrix:
            for d, m in distance_matrices(langs, args.metric, args.cache_dir).items():
                with atomic_path(Path(args.matrix) / f"distance_matrix_{d}.csv") as tmp:
                    m.to_csv(tmp)
            print(f"wrote {len(DISTANCES)} matrices ({len(langs)} languages) to {args.matrix}")
        else:
            print(english_distances(langs, args.metric, args.cache_dir, codes=args.codes,
                                    imputed=args.imputed).to_string(index=False))
    except ValueError as e:
        sys.exit(f"analysis.distances: {e}")


if __name__ == "__main__":
    main()
