"""Train a tiny character-level GPT on the user's own text, live: corpus, trainer, per-session state, requests."""
