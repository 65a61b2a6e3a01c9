"""Shared test fixtures: a small sentencepiece model trained inside the session, and tokenizers on it."""
from __future__ import annotations

import io
import os

# One thread per process, here and in every subprocess the tests start (train.py, torchrun, study jobs): the models
# are tiny, and a 2-thread OpenMP pool on 2 busy cores (two xdist workers, a Slurm job beside the test) spins and
# runs steps up to 10x slower. Set before torch or numpy is imported anywhere in the session.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

# A few sentences per script: Latin (with diacritics), Cyrillic, Greek, Arabic, Devanagari, CJK, Thai, emoji.
MULTILINGUAL_TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on the street, and people are listening.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "El rápido zorro marrón salta sobre el perro perezoso. ¿Dónde está?",
    "Le renard brun rapide saute par-dessus le chien paresseux, n'est-ce pas ?",
    "Tiếng Việt có nhiều dấu thanh: à, á, ả, ã, ạ.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Москва — столица России, а Киев — столица Украины.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "الثعلب البني السريع يقفز فوق الكلب الكسول.",
    "ذهب الولد إلى المدرسة في الصباح.",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है।",
    "भारत एक विशाल देश है और यहाँ कई भाषाएँ बोली जाती हैं।",
    "敏捷的棕色狐狸跳过了懒狗。北京是中国的首都。",
    "東京は日本の首都です。今日はいい天気ですね。",
    "빠른 갈색 여우가 게으른 개를 뛰어넘습니다.",
    "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ",
    "Emoji test 😀 🎉 👍🏽 and numbers 12345 3.14 2020-05-26.",
]


def train_sentencepiece(path, vocab_size: int = 400, model_type: str = "unigram") -> str:
    """Train a small sentencepiece model on MULTILINGUAL_TEXT and write it to `path`."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(MULTILINGUAL_TEXT * 20), model_writer=buf, vocab_size=vocab_size,
        model_type=model_type, character_coverage=1.0, minloglevel=2, num_threads=1,
        hard_vocab_limit=False,
    )
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return str(path)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """The tests' models are tiny: threads gain nothing and make timings swing on a busy 2-core machine."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def spm_path(tmp_path_factory) -> str:
    """A unigram sentencepiece model, as XLM-R uses (its file is named .bpe.model all the same)."""
    return train_sentencepiece(tmp_path_factory.mktemp("spm") / "sentencepiece.bpe.model")


@pytest.fixture(scope="session")
def tokenizer(spm_path):
    from xlmr.tokenizer import XLMRTokenizer

    return XLMRTokenizer(spm_path)


@pytest.fixture(scope="session")
def toy_tokenizer():
    from tests.toy_tokenizer import ToyTokenizer

    return ToyTokenizer()
