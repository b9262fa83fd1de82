"""The live 2-D lab: a diffusion model, an autoregressive model and a GAN trained side by side on toy points."""
