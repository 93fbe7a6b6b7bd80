"""The client of a PixArt Studio server's HTTP API, for the CLI and the window (no torch, no Qt)."""
