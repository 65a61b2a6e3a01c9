"""SIB-200 (Adelani et al., EACL 2024): topic classification of one FLORES-200 sentence into 7 topics, 205 language
variants; trained on SIB's English train set (701 sentences; dev 99, test 204 a language).

Parallel: the same `index_id` is the same FLORES sentence in every variant (tests/test_sib200.py checks the ids and
labels agree across all 205). Files: dadelani/sib-200 `data/annotated/<FLORES code>/{train,dev,test}.tsv`, a
header `index_id, category, text`, tab-separated with CSV quoting (pandas' `to_csv(sep="\t")`: a field holding a
quote is quoted, inner quotes doubled), and `labels.txt`, one topic a line. A variant is named by its language tag;
the folder by the tag's `flores` field in data/languages.tsv. Licence: CC-BY-SA 4.0.

The Hub copy `Davlan/sib200` (`--source hub`) holds the same TSVs as `data/<FLORES code>/{train,dev,test}.tsv` on its
main branch (no Parquet): its loaders fetch them from there, e.g. SEACrowd/seacrowd-datahub
seacrowd/sea_datasets/sib_200/sib_200.py (`.../Davlan/sib200/raw/main/data/{lang}/{split}.tsv`, columns index_id,
text, category read by name). They are read by the same reader, so a header in another order is refused by name.
"""
import csv

from data import languages
from data.examples import DataError, SingleExample
from data.readers.common import Examples, check_label, check_unique_ids, read_text, row_scope
from data.task import EN, Download, Source, Task

FLORES = tuple((  # the 205 variants: the folder names of data/annotated/
    "ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn als_Latn amh_Ethi apc_Arab arb_Arab "
    "arb_Latn ars_Arab ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn bak_Cyrl bam_Latn "
    "ban_Latn bel_Cyrl bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn bod_Tibt bos_Latn bug_Latn bul_Cyrl cat_Latn "
    "ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn cym_Latn dan_Latn deu_Latn dik_Latn dyu_Latn dzo_Tibt ell_Grek "
    "eng_Latn epo_Latn est_Latn eus_Latn ewe_Latn fao_Latn fij_Latn fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn "
    "gaz_Latn gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr hin_Deva hne_Deva hrv_Latn "
    "hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan kab_Latn kac_Latn kam_Latn "
    "kan_Knda kas_Arab kas_Deva kat_Geor kaz_Cyrl kbp_Latn kea_Latn khk_Cyrl khm_Khmr kik_Latn kin_Latn kir_Cyrl "
    "kmb_Latn kmr_Latn knc_Arab knc_Latn kon_Latn kor_Hang lao_Laoo lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn "
    "ltg_Latn ltz_Latn lua_Latn lug_Latn luo_Latn lus_Latn lvs_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Arab "
    "min_Latn mkd_Cyrl mlt_Latn mni_Beng mos_Latn mri_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva nqo_Nkoo "
    "nso_Latn nus_Latn nya_Latn oci_Latn ory_Orya pag_Latn pan_Guru pap_Latn pbt_Arab pes_Arab plt_Latn pol_Latn "
    "por_Latn prs_Arab quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Olck scn_Latn shn_Mymr sin_Sinh "
    "slk_Latn slv_Latn smo_Latn sna_Latn snd_Arab som_Latn sot_Latn spa_Latn srd_Latn srp_Cyrl ssw_Latn sun_Latn "
    "swe_Latn swh_Latn szl_Latn tam_Taml taq_Latn taq_Tfng tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi "
    "tpi_Latn tsn_Latn tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab "
    "uzn_Latn vec_Latn vie_Latn war_Latn wol_Latn xho_Latn ydd_Hebr yor_Latn yue_Hant zho_Hans zho_Hant zsm_Latn "
    "zul_Latn "
).split())
LANGS = tuple(languages.by_field("flores", code) for code in FLORES)
LABELS = ("science/technology", "travel", "politics", "sports", "health", "entertainment", "geography")  # labels.txt
HEADER = ["index_id", "category", "text"]
EXPECTED = "SIB-200 TSV with header index_id, category, text"
REPO = "https://raw.githubusercontent.com/dadelani/sib-200/main/data/annotated"


def read_sib_tsv(paths, lang, split, labels) -> Examples:
    """One SIB-200 split of one variant: ids are the FLORES sentence's index_id (the same in every language)."""
    (path,) = paths
    out = Examples(paths=paths)
    rows = list(csv.reader(read_text(path, EXPECTED).splitlines(), delimiter="\t"))
    if not rows or rows[0] != HEADER:
        raise DataError(path, 1, f"header {rows[0] if rows else 'missing'}; expected {EXPECTED}")
    lines = []
    for lineno, row in enumerate(rows[1:], 2):
        with row_scope():
            if len(row) != 3:
                raise DataError(path, lineno, f"{len(row)} fields; expected {EXPECTED}")
            index_id, category, text = row
            if not index_id.isascii() or not index_id.isdigit():
                raise DataError(path, lineno, f"index_id {index_id!r}; expected a whole number")
            if not text.strip():
                raise DataError(path, lineno, "empty text")
            out.append(SingleExample(index_id, lang, text, check_label(path, lineno, category, labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    return out


TASK = Task(
    name="sib200", kind="single_cls", langs=LANGS, splits=("train", "dev", "test"), labels=LABELS,
    primary_metric="accuracy", metrics=("accuracy",),
    description="SIB-200: topic classification of FLORES-200 sentences, 205 variants; English train set",
    target=True, train_task="sib200", display_name="SIB-200", parallel_test=True,
    sources=tuple(Source(layout, s, (pattern.format(s=s),), read_sib_tsv,
                         EN if s == "train" else None)  # English trains
                  for s in ("train", "dev", "test")
                  for layout, pattern in (("original", "sib200/data/annotated/{{flores}}/{s}.tsv"),
                                          ("hub", "hub/Davlan/sib200/data/{{flores}}/{s}.tsv"))),
    downloads=tuple(Download(f"{REPO}/{code}/{name}", f"sib200/data/annotated/{code}/{name}")
                    for code in FLORES for name in (("train.tsv", "dev.tsv", "test.tsv", "labels.txt")
                                                     if code == "eng_Latn" else ("dev.tsv", "test.tsv"))),
    default_source="upstream",
    default_source_why="the authors' repository holds every variant's files with their index_id (the parallel key)",
    train_examples=701, mean_tokens=35,  # SIB's English train set; FLORES sentences are ~21 words
)
