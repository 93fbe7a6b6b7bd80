"""The demo model: a synthetic shapes world, weak-to-strong training, and DemoBench."""
