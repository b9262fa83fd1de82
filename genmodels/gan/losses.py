"""The GAN objective (Goodfellow et al. 2014) on discriminator logits, with D(x) = sigmoid(logit)."""
import torch
import torch.nn.functional as F

GENERATOR_LOSSES = ("non-saturating", "minimax")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-[log D(x) + log(1 - D(G(z)))], batch means: D maximizes the value function by minimizing this."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def generator_loss(fake_logits: torch.Tensor, kind: str = "non-saturating") -> torch.Tensor:
    """Non-saturating -log D(G(z)) (Goodfellow et al. 2014, sec. 3), or minimax log(1 - D(G(z))), the batch mean.

    Both push D(G(z)) up; the minimax gradient vanishes where D confidently rejects the fakes (D(G(z)) -> 0)."""
    if kind == "non-saturating":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))  # softplus(-l)
    if kind == "minimax":
        return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # -softplus(l)
    raise ValueError(f"kind must be one of {GENERATOR_LOSSES}, not {kind!r}")
