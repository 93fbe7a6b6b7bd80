"""The torch-free token counter agrees with transformers' T5 tokenizer and with PixArt's prompt preprocessing."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import transformers

from app.engine.controller import EngineController
from app.engine.token_counter import TokenCount, TokenCounter
from app.model import catalog
from tests.spiece import train_spiece_model

_WORD_TEXT = (
    "a photo of the cat dog red blue green sky mountain poster city night neon light portrait woman man with hat "
    "sunset ocean beach forest tree flower detailed high quality painting watercolor oil canvas"
)
WORDS = _WORD_TEXT.split()
# Pieces for random prompts: cased words, accents, ligatures, emoji and CJK (outside the vocabulary),
# odd whitespace, zero-width characters, and T5's special tokens typed as text.
FRAGMENTS = [
    *WORDS,
    *(w.upper() for w in WORDS[:8]),
    "Café",
    "ﬁne",
    "½",
    "ＡＢＣ",
    "🐱",
    "🐶🐶",
    "日本語",
    "Σ",
    "İstanbul",
    "</s>",
    "<pad>",
    "<unk>",
    "<extra_id_3>",
    " ",
    "  ",
    "\t",
    "\n",
    "\u00a0",
    "\u3000",
    "\u200b",
    "!",
    "4k,",
    "x",
]


@pytest.fixture(scope="module")
def tokenizer_dirs(tmp_path_factory) -> dict[str, Path]:
    """A tiny byte-fallback unigram model laid out three ways: spiece.model alone, with a config, and tokenizer.json."""
    rng = random.Random(0)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))) for _ in range(1500)]
    lines += ["Café naïve résumé — “quotes” ½ ﬁ ＡＢＣ", "Numbers 1234 5678, punctuation!?;:"]
    spiece = train_spiece_model(lines)
    root = tmp_path_factory.mktemp("tokenizers")
    spiece_only = root / "spiece-only"
    spiece_only.mkdir()
    (spiece_only / "spiece.model").write_bytes(spiece)
    no_sentinels = root / "no-sentinels"  # as the demo model saves it: extra_ids=0
    no_sentinels.mkdir()
    shutil.copy(spiece_only / "spiece.model", no_sentinels)
    (no_sentinels / "tokenizer_config.json").write_text(json.dumps({"extra_ids": 0}), encoding="utf-8")
    saved = root / "tokenizer-json"
    transformers.T5Tokenizer.from_pretrained(spiece_only).save_pretrained(saved)
    assert (saved / "tokenizer.json").is_file()
    return {"spiece-only": spiece_only, "no-sentinels": no_sentinels, "tokenizer-json": saved}


def random_texts(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(FRAGMENTS) + rng.choice(["", " "]) for _ in range(rng.randint(0, 30))) for _ in range(count)
    ]


@pytest.mark.parametrize("layout", ["spiece-only", "no-sentinels", "tokenizer-json"])
def test_counts_equal_transformers_t5_tokenizer(tokenizer_dirs, layout):
    """Every count equals len(input_ids) of transformers' T5Tokenizer and T5TokenizerFast on the same folder."""
    folder = tokenizer_dirs[layout]
    counter = TokenCounter.from_model_dir(folder)
    references = [
        transformers.T5Tokenizer.from_pretrained(folder),
        transformers.T5TokenizerFast.from_pretrained(folder),
    ]
    for text in random_texts(400):
        expected = {len(reference(text).input_ids) for reference in references}
        assert {counter.count(text, preprocess=False).tokens} == expected, repr(text)


def test_the_end_of_sequence_token_is_counted(tokenizer_dirs):
    """An empty prompt still costs one token (</s>), and five words cost six."""
    counter = TokenCounter.from_model_dir(tokenizer_dirs["spiece-only"])
    assert counter.count("") == TokenCount(tokens=1, limit=300)
    assert counter.count("a photo of the cat").tokens == 6


def test_prompts_are_counted_as_pixart_preprocesses_them(tokenizer_dirs):
    """With preprocessing, the count is that of the cleaned, lower-cased text diffusers' PixArt pipeline encodes."""
    from diffusers import PixArtSigmaPipeline

    from app.core.request import GenerationRequest

    folder = tokenizer_dirs["tokenizer-json"]
    counter = TokenCounter.from_model_dir(folder)
    reference = transformers.T5Tokenizer.from_pretrained(folder)
    for text in random_texts(200, seed=2):
        prompt = GenerationRequest(prompt=text).prompt  # the cleaning every request gets
        (seen,) = PixArtSigmaPipeline._text_preprocessing(None, prompt, clean_caption=False)
        assert counter.count(text).tokens == len(reference(seen).input_ids), repr(text)


def test_the_truncated_tail_is_what_the_pipeline_drops(tokenizer_dirs):
    """Beyond the limit, the tail is the text of exactly the tokens that truncation to the limit removes."""
    folder = tokenizer_dirs["spiece-only"]
    counter = TokenCounter.from_model_dir(folder, limit=8)
    reference = transformers.T5Tokenizer.from_pretrained(folder)
    text = "a photo of the cat with hat at sunset on the beach near the ocean"
    ids = reference(text).input_ids
    kept = reference(text, max_length=8, truncation=True).input_ids
    count = counter.count(text, preprocess=False)
    assert count.tokens == len(ids) and count.truncated
    assert kept == [*ids[:7], ids[-1]]
    assert count.truncated_tail == reference.decode(ids[7:-1])
    assert text.endswith(count.truncated_tail) and count.truncated_tail.startswith("at")


def test_the_tail_is_cut_from_the_text_as_typed(tokenizer_dirs):
    """With preprocessing, the tail keeps the user's capitals and line breaks, as a suffix of what they typed."""
    counter = TokenCounter.from_model_dir(tokenizer_dirs["tokenizer-json"], limit=5)
    typed = "  A Photo\x00 OF the\nCAT WITH Hat\tat Sunset  "
    count = counter.count(typed)
    assert count.truncated_tail == "CAT WITH Hat\tat Sunset  "
    assert counter.count("a photo of").truncated_tail == "" and not counter.count("a photo of").truncated


def test_from_model_dir_finds_the_tokenizer_of_a_pipeline_folder(tokenizer_dirs, tmp_path):
    """A diffusers pipeline folder is read through its tokenizer/ subfolder; no or a damaged tokenizer gives None."""
    pipeline_folder = tmp_path / "model"
    shutil.copytree(tokenizer_dirs["spiece-only"], pipeline_folder / "tokenizer")
    assert TokenCounter.from_model_dir(pipeline_folder).count("a cat").tokens == 3
    assert TokenCounter.from_model_dir(tmp_path / "missing") is None
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "tokenizer.json").write_text("{not json", encoding="utf-8")
    assert TokenCounter.from_model_dir(damaged) is None
    with pytest.raises(ValueError, match="limit"):
        TokenCounter.from_model_dir(pipeline_folder, limit=1)


def test_the_controller_gives_the_counter_of_its_current_model(qapp, tokenizer_dirs, tmp_path, monkeypatch):
    """The controller counts with the selected model's tokenizer, the demo's included, and None when there is none."""
    demo = tmp_path / "demo-model"
    shutil.copytree(tokenizer_dirs["spiece-only"], demo / "tokenizer")
    monkeypatch.setattr(catalog, "demo_model_dir", lambda: demo)
    engine = EngineController(model="demo")
    assert engine.token_counter().count("a cat").tokens == 3
    engine.set_model(str(tmp_path / "nowhere"))
    assert engine.token_counter() is None
    engine.set_model(str(tokenizer_dirs["tokenizer-json"]))
    assert engine.token_counter().count("a photo of the cat").tokens == 6
    monkeypatch.setattr(catalog, "demo_model_dir", lambda: tmp_path / "not-built-yet")
    assert EngineController(model="demo").token_counter() is None
