"""Train a T5-style sentencepiece model offline (no torch): the tests' tiny tokenizers and the demo model's."""

from __future__ import annotations

import io
from collections.abc import Iterable

import sentencepiece


def train_spiece_model(sentences: Iterable[str], vocab_size: int = 400) -> bytes:
    """A byte-fallback unigram model with T5's special ids (pad 0, eos 1, unk 2, no bos), as bytes."""
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        vocab_size=vocab_size,  # at least the 256 byte pieces plus the characters
        model_type="unigram",
        byte_fallback=True,  # any user prompt tokenizes, whatever its script
        character_coverage=1.0,
        pad_id=0,  # T5's layout: <pad>=0, </s>=1, <unk>=2
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
        num_threads=1,
    )
    return model.getvalue()
