"""`pixart-studio serve`: the engine behind an HTTP API, and its Ray Serve farm."""
