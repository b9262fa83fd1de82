"""Pixel-level autoregressive model: Fashion-MNIST drawn one quantized gray level at a time."""
