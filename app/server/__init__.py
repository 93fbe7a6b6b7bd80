"""`pixart-studio serve`: the engine behind an HTTP API."""
