"""The `gpu` presets make weights that fit the repository's limits: each fp16 file < 16 MiB, assets/ < 48 MiB."""
from dataclasses import replace
from pathlib import Path

from genmodels.diffusion.text_encoder import TextEncoder
from genmodels.diffusion.train import PRESETS as DIFFUSION
from genmodels.diffusion.unet import UNet
from genmodels.eval.classifier import PRESETS as CLASSIFIER
from genmodels.eval.classifier import FashionClassifier
from genmodels.gan.dcgan import Discriminator, Generator
from genmodels.gan.train import PRESETS as GAN
from genmodels.pixels.model import PixelTransformer
from genmodels.pixels.train import PRESETS as PIXELS
from genmodels.text.gpt import GPT
from genmodels.text.train import PRESETS as TEXT

MiB = 2**20


def gpu_networks() -> dict:
    """Every committed network as its gpu preset builds it, by file stem under assets/."""
    text = TEXT["gpu"]
    return {
        "text/gpt": GPT(replace(text.model, vocab_size=text.vocab_size)),
        "diffusion/unet": UNet(DIFFUSION["gpu"].unet),
        "diffusion/text_encoder": TextEncoder(replace(DIFFUSION["gpu"].text, vocab_size=text.vocab_size)),
        "pixels/pixel_transformer": PixelTransformer(PIXELS["gpu"].model),
        "gan/healthy_generator": Generator(GAN["gpu"].model),
        "gan/healthy_discriminator": Discriminator(GAN["gpu"].model),
        "gan/collapsed_generator": Generator(replace(GAN["gpu"].model, latent_map=True)),
        "gan/collapsed_discriminator": Discriminator(GAN["gpu"].model),
        "eval/classifier": FashionClassifier(CLASSIFIER["gpu"].model),
    }


def fp16_bytes(network) -> int:
    """Bytes of its safetensors file in fp16 (a tied weight is stored once)."""
    return 2 * sum(p.numel() for p in network.parameters())


def test_each_gpu_preset_weight_file_is_under_16_mib():
    for stem, network in gpu_networks().items():
        assert fp16_bytes(network) < 16 * MiB, stem


def test_assets_stay_under_48_mib_with_every_network_at_its_gpu_size():
    networks = gpu_networks()
    others = [p for p in Path("assets").rglob("*") if p.is_file() and p.suffix != ".safetensors"]
    committed = {str(p.relative_to("assets").with_suffix("")) for p in Path("assets").rglob("*.safetensors")}
    assert committed == set(networks)
    total = sum(p.stat().st_size for p in others) + sum(fp16_bytes(n) for n in networks.values())
    assert total < 46 * MiB  # 2 MiB left for the training logs and progress sprites to grow
