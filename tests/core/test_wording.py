"""Counted nouns read as sentences."""

from app.core.wording import counted


def test_counted_nouns_agree_with_their_number():
    """1 image, 2 images, 0 checks: never "image(s)"."""
    assert [counted(1, "image"), counted(2, "image"), counted(0, "check")] == ["1 image", "2 images", "0 checks"]
