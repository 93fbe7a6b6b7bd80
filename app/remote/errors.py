"""What can go wrong talking to a server, each with a message a user can act on."""

from __future__ import annotations

from app.core.errors import StudioError


class RemoteError(StudioError):
    """The server could not be reached, refused a call, or failed the job."""


class TokenRefusedError(RemoteError):
    """The server answered 401: the token is missing or wrong."""


class ServerRefusedError(RemoteError):
    """The server refused a request (bad field 422, too large 413, too many jobs 429, unknown job 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ConnectionLostError(RemoteError):
    """The server stopped answering: it is down, unreachable, or the network failed."""
