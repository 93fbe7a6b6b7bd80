"""Plain data shared by every layer: requests, results, sizes, errors. Standard library only."""
