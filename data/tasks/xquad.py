"""XQuAD (Artetxe et al. 2020): SQuAD v1.1 dev paragraphs translated into 10 languages; trains on squad_v1.

One file per language, xquad.L.json, the same name in every layout (XTREME blanks the answers in place). The Hub's
copy has one split, "validation".
"""
from data import readers as R
from data.readers import hub as H
from data.task import Download, Source, Task

LANGS = tuple("ar de el en es hi ru th tr vi zh".split())
SHA256 = {  # [TFDS tensorflow_datasets/url_checksums/xquad.txt], for the URLs below
    "ar": "abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d",
    "de": "990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9",
    "el": "821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e",
    "en": "e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29",
    "es": "dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e",
    "hi": "df2cce3532b37e9beb8979704b5c9a4bf874358f105395a298b89427b43b9d24",
    "ru": "208d5b1aa154c52b1b5c5eda16281e455e8fd198cdb9af3f469f0d6037d973bf",
    "th": "5cdda11d0e1e075f7872abf4e6ae830388ce7f617964d542308e9ae4257e0f43",
    "tr": "92179a564774b7696100d144c1e10870d0a966b6fccbdd254a65b9d2ab1971cc",
    "vi": "f619a1eb11fb42d3ab0834259e488a65f585447ef6154437bfb7199d85161a04",
    "zh": "691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835",
}

TASK = Task(
    name="xquad", kind="span", langs=LANGS, splits=("test",), labels=None, primary_metric="f1",
    metrics=("squad_em_f1",),
    description="XQuAD: SQuAD v1.1 dev translated into 10 languages; trains on squad_v1",
    target=True, train_task="squad_v1", display_name="XQuAD", parallel_test=True,
    sources=(
        Source("original", "test", ("xquad/xquad.{lang}.json",), R.read_squad_json),
        Source("hub", "test", ("hub/google/xtreme/XQuAD.{lang}/validation-*.parquet",), H.read_hub_squad),
    ),
    # xquad.L.json (SQuAD format, answers kept). URLs: XTREME download_data.sh, TFDS.
    downloads=tuple(Download(f"https://github.com/deepmind/xquad/raw/master/xquad.{lang}.json",
                             f"xquad/xquad.{lang}.json", sha256=SHA256[lang]) for lang in LANGS),
    default_source="upstream",
    default_source_why="the published JSON, checksummed; google/xtreme strips contexts (answer offsets move)",
    train_examples=87_599, mean_tokens=180,  # SQuAD v1.1 train
)
