"""Generative Models Explorer: models, math, training and evaluation (no UI imports)."""
