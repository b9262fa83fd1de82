"""The About tab: the three families of generative models, their core equations, and how they compare."""
import gradio as gr

from genmodels.ui.equations import LATEX
from genmodels.ui.family import FamilyTab

OVERVIEW = r"""
## Three ways to learn a distribution and sample from it

A generative model is trained on examples (plays, photographs of clothes) and learns a probability
distribution over such data, so it can produce new examples that look like they came from the same source.
Three families dominate, and they go about it in very different ways. Each tab of this app runs a real model
of one family, trained in this repository, and shows every intermediate step.

### Autoregressive models (GPT, Claude, LLaMA)
Split the data into a sequence of tokens and predict them left to right. The joint probability becomes a chain
of conditional ones,
$$P(x_1, \dots, x_n) = \prod_{i=1}^{n} P(x_i \mid x_1, \dots, x_{i-1}),$$
so the model only ever answers one question: *given everything so far, how likely is each possible next token?*
It is trained by maximum likelihood: the loss is the cross-entropy $-\log P(x_i \mid x_{<i})$ of the true next
token, averaged over every position. To generate, draw a token, append it, ask again. **Temperature** reshapes the
distribution before the draw ($T = 0$ always takes the most likely token, $T = 1$ samples the model as learned,
$T > 1$ flattens it toward randomness); **top-k** and **top-p** cut off the unlikely tail so rare nonsense is never
drawn.

### Diffusion models (Stable Diffusion, DALL-E 3, Midjourney)
Destroy data with noise in many small steps, then learn to undo it. The forward process is fixed:
$$x_t = \sqrt{1-\beta_t}\,x_{t-1} + \sqrt{\beta_t}\,\epsilon_t, \qquad \epsilon_t \sim \mathcal N(0, I),$$
which compounds into a closed form $x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon$ with
$\bar\alpha_t = \prod_{s \le t} (1-\beta_s)$; after enough steps $x_T$ is pure noise. A network
$\epsilon_\theta(x_t, t)$ learns to predict the noise, which gives an estimate of the clean image,
$$\hat x_0 = \frac{x_t - \sqrt{1-\bar\alpha_t}\,\epsilon_\theta(x_t, t)}{\sqrt{\bar\alpha_t}}.$$
(With $\beta_t$ in place of $\bar\alpha_t$ this holds only at $t = 1$.) Generation starts from noise and denoises
step by step. A text encoder turns a prompt into a conditioning vector, and **classifier-free guidance** pushes the
prediction away from the unconditional one: $\epsilon = \epsilon_\text{uncond} + s\,(\epsilon_\text{cond} -
\epsilon_\text{uncond})$.

### Generative adversarial networks (GANs)
Two networks play a game. A generator $G$ turns random noise $z$ into a sample; a discriminator $D$ outputs the
probability that its input is real. $D$ maximizes
$$\log D(x_\text{real}) + \log\bigl(1 - D(G(z))\bigr),$$
while $G$ tries to fool it, in practice by maximizing $\log D(G(z))$ (the non-saturating loss), which gives
stronger gradients early on. If the game reaches its ideal end, $G$'s samples cannot be told from real data.
In practice training is fragile: the two can oscillate, and the generator can **collapse** onto a few kinds of
output. GANs led image generation from 2014 to about 2021 (StyleGAN, BigGAN) before diffusion overtook them.
"""
COMPARISON = """
### How they compare

| | Autoregressive | Diffusion | GAN |
|---|---|---|---|
| **Generation** | sequential, one token per step | iterative, many denoising steps | one forward pass |
| **Training** | stable (maximum likelihood) | stable (denoising score matching) | unstable (adversarial game) |
| **Quality** | excellent for text | excellent for images | excellent for images |
| **Speed** | fast per token, slow for long outputs | slow: one network call per step | fast |
| **Diversity** | high | high | prone to mode collapse |

These are the textbook verdicts. The **Compare** tab puts figures measured on this repository's models beside
each of them: network evaluations and seconds per image, a Frechet distance to real images in a classifier's
feature space, class coverage, and how much each training loss still wobbles at the end. Every family runs on the
same data there (Fashion-MNIST); the autoregressive one as a pixel-by-pixel transformer, the same network as the
Shakespeare model with gray levels for tokens.
"""


def build_tab(page: gr.Blocks) -> dict:
    """The overview text (call inside gr.Blocks); a link shares no controls here."""
    gr.Markdown(OVERVIEW, latex_delimiters=LATEX)
    gr.Markdown(COMPARISON, elem_id="about-comparison")
    return {}


TAB = FamilyTab(id="about", label="About", build=build_tab)
