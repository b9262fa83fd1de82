"""The diffusion family: noise schedules, the forward process, DDPM and DDIM samplers, guidance."""
