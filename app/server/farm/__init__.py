"""The render farm: the server's jobs split per image across Ray Serve renderer replicas (the `farm` extra)."""
