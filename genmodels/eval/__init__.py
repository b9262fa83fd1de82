"""Judging generated images: a Fashion-MNIST classifier and the metrics built on it."""
