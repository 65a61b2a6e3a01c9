"""Belebele (Bandarkar et al., ACL 2024): 4-way multiple-choice reading comprehension on FLORES-200 passages, 900
questions in each of 122 language variants (FLORES codes plus five romanized ones), the same questions in every variant
(parallel). Test only: an English 4-way multiple-choice set trains it. The recipe (configs/target/belebele.yaml) names
which: RACE (data/tasks/race.py, the default) or the authors' assembled set (data/tasks/belebele_assembled.py).

Files: the Hub's facebook/belebele `data/<FLORES code>.jsonl` (config <code>, split test), laid out under
DATA_DIR/hub/facebook/belebele/ with the repo's paths (`python -m data.download --tasks belebele`). Fields:
link, question_number, flores_passage, question, mc_answer1..4, correct_answer_num ("1".."4"), dialect, ds (the
dataset card's schema). Input: data/readers/reading.py. A variant is named by its language tag; the file by the tag's
`flores` field in data/languages.tsv. Licence: CC-BY-SA 4.0.
"""
from data import languages
from data.readers.reading import read_belebele
from data.task import Source, Task

FLORES = tuple((  # the 122 variants of the Hub's configs
    "acm_Arab afr_Latn als_Latn amh_Ethi apc_Arab arb_Arab arb_Latn ars_Arab ary_Arab arz_Arab asm_Beng azj_Latn "
    "bam_Latn ben_Beng ben_Latn bod_Tibt bul_Cyrl cat_Latn ceb_Latn ces_Latn ckb_Arab dan_Latn deu_Latn ell_Grek "
    "eng_Latn est_Latn eus_Latn fin_Latn fra_Latn fuv_Latn gaz_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr "
    "hin_Deva hin_Latn hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan "
    "kac_Latn kan_Knda kat_Geor kaz_Cyrl kea_Latn khk_Cyrl khm_Khmr kin_Latn kir_Cyrl kor_Hang lao_Laoo lin_Latn "
    "lit_Latn lug_Latn luo_Latn lvs_Latn mal_Mlym mar_Deva mkd_Cyrl mlt_Latn mri_Latn mya_Mymr nld_Latn nob_Latn "
    "npi_Deva npi_Latn nso_Latn nya_Latn ory_Orya pan_Guru pbt_Arab pes_Arab plt_Latn pol_Latn por_Latn ron_Latn "
    "rus_Cyrl shn_Mymr sin_Latn sin_Sinh slk_Latn slv_Latn sna_Latn snd_Arab som_Latn sot_Latn spa_Latn srp_Cyrl "
    "ssw_Latn sun_Latn swe_Latn swh_Latn tam_Taml tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi tsn_Latn tso_Latn "
    "tur_Latn ukr_Cyrl urd_Arab urd_Latn uzn_Latn vie_Latn war_Latn wol_Latn xho_Latn yor_Latn zho_Hans zho_Hant "
    "zsm_Latn zul_Latn "
).split())
LANGS = tuple(languages.by_field("flores", code) for code in FLORES)

TASK = Task(
    name="belebele", kind="multiple_choice", langs=LANGS, splits=("test",), labels=None, primary_metric="accuracy",
    metrics=("accuracy",),
    description="Belebele: reading comprehension on FLORES passages, 122 variants; trained on an English MC set",
    target=True, train_task="race", display_name="Belebele", parallel_test=True,
    sources=(Source("hub", "test", ("hub/facebook/belebele/data/{flores}.jsonl",), read_belebele),),
    default_source="hub", default_source_why="the authors publish Belebele on the Hub (one JSONL file a variant)",
    train_examples=87_866, mean_tokens=1_600,  # RACE train questions; 4 x (passage + question + answer) per question
)
