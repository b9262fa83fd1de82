"""The autoregressive text family: tokenizer, GPT, sampling rules, training and evaluation."""
