"""Sampling pipeline, device and memory policy, previews, and the QThread worker with its controller."""
