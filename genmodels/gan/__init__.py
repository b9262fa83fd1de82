"""The GAN family: a DCGAN for Fashion-MNIST, its latent space, its training and evaluation."""
