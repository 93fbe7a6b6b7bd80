"""Which server the window renders on, and its token kept in the system keyring (never in the settings file)."""

from __future__ import annotations

from dataclasses import dataclass

import keyring
from keyring.errors import KeyringError

KEYRING_SERVICE = "PixArt Studio server"


@dataclass(frozen=True)
class ServerTarget:
    """A server's address and token; repr never shows the token."""

    url: str
    token: str

    def __repr__(self) -> str:
        return f"ServerTarget({self.url!r}, token=<hidden>)"


def load_token(url: str) -> str:
    """The token saved for a server; empty when none is saved or the keyring cannot be read."""
    try:
        return keyring.get_password(KEYRING_SERVICE, url.strip().rstrip("/")) or ""
    except KeyringError:
        return ""


def save_token(url: str, token: str) -> None:
    """Keep a server's token in the system keyring (KeyringError when there is no usable keyring)."""
    keyring.set_password(KEYRING_SERVICE, url.strip().rstrip("/"), token)
