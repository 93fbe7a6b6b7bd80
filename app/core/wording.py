"""Counted nouns in messages: "1 image", "3 images", never "1 image(s)"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and the noun in the matching number ("1 image", "2 images")."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
