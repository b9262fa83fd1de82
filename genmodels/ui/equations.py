"""Each tab's equations, rendered as math in a collapsible section, in the forms the code computes."""
import gradio as gr

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

TEXT = r"""
**The chain rule.** Any text $x_1 \dots x_n$ gets the probability
$$P(x_1, \dots, x_n) = \prod_{i=1}^{n} P(x_i \mid x_{<i}),$$
so a model that predicts the next token well models whole texts. The network outputs one score (logit) $z_v$ per
vocabulary token $v$, turned into probabilities by the softmax
$$P(x_i = v \mid x_{<i}) = \frac{e^{z_v}}{\sum_{u} e^{z_u}}.$$

**Training** minimizes the cross-entropy of the real next token, averaged over the training text:
$$\mathcal{L} = -\frac{1}{n} \sum_{i=1}^{n} \log P(x_i \mid x_{<i}).$$
Bits per character divide the same sum, in base 2, by the number of characters instead of tokens:
$\text{bpc} = \frac{1}{N_\text{chars}} \sum_i -\log_2 P(x_i \mid x_{<i})$.

**Sampling**, in this order:
1. Temperature: $p_v(T) = \dfrac{e^{z_v / T}}{\sum_u e^{z_u / T}}$; $T = 0$ means $\arg\max_v z_v$ (no division).
2. Top-k: keep the set $V_k$ of the $k$ largest $p_v$ ($k = 0$: keep all).
3. Top-p: sort by probability and keep the smallest prefix $V_p$ with $\sum_{v \in V_p} p_v \ge p$ (the
   token that crosses $p$ is kept, so at least one survives).
4. Renormalize over the kept set, $\tilde p_v = p_v / \sum_{u \in V} p_u$, and draw.

The uncertainty of one step is the entropy $H = -\sum_v \tilde p_v \log_2 \tilde p_v$ bits.
"""

PIXELS = r"""
**The same chain rule over pixels.** An image is 784 gray levels read in raster order (row by row), each
quantized to one of $L$ levels, and the class $c$ comes first:
$$P(x \mid c) = \prod_{i=1}^{784} P(x_i \mid x_{<i}, c).$$
Each factor is a softmax over the $L$ levels; temperature, top-k and top-p act on it exactly as on text.

**Training** minimizes $-\frac{1}{784} \sum_i \log_2 P(x_i \mid x_{<i}, c)$, the bits per pixel; a model that
knew nothing would pay $\log_2 L$ bits for every pixel.

**Cost.** Sampling needs one network call per pixel, 784 in sequence, however fast each call is: the price of
exact likelihoods.
"""

DIFFUSION = r"""
**Forward process (adding noise).** With a variance schedule $\beta_1, \dots, \beta_T$, one step is
$$\begin{gathered}x_t = \sqrt{1 - \beta_t}\, x_{t-1} + \sqrt{\beta_t}\, \epsilon, \\ \epsilon \sim \mathcal{N}(0, I).
\end{gathered}$$
Composing the steps gives a closed form that jumps from $x_0$ to any $t$ at once:
$$\begin{gathered}x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \epsilon, \\
\bar\alpha_t = \prod_{s=1}^{t} (1 - \beta_s).\end{gathered}$$
(The one-step form with $\beta_t$ in place of $\bar\alpha_t$ matches the closed form only at $t = 1$.)

**Training.** The U-Net $\epsilon_\theta$ learns to predict the noise:
$\mathcal{L} = \mathbb{E}_{x_0, t, \epsilon} \big\| \epsilon - \epsilon_\theta(x_t, t, c) \big\|^2$.
From its prediction, the clean image it implies is
$$\hat{x}_0 = \frac{x_t - \sqrt{1 - \bar\alpha_t}\, \hat\epsilon}{\sqrt{\bar\alpha_t}}.$$

**Classifier-free guidance** with scale $w$ ($c = \varnothing$ is the empty prompt):
$$\hat\epsilon = \epsilon_\theta(x_t, \varnothing)
+ w \big( \epsilon_\theta(x_t, c) - \epsilon_\theta(x_t, \varnothing) \big),$$
so $w = 0$ is unconditional, $w = 1$ is the plain conditional model, $w > 1$ pushes further toward the prompt.

**DDIM step** from $t$ to the previous chosen step $t'$:
$$\begin{aligned}x_{t'} &= \sqrt{\bar\alpha_{t'}}\, \hat{x}_0 + \sqrt{1 - \bar\alpha_{t'} - \sigma_t^2}\, \hat\epsilon
+ \sigma_t z, \\ \sigma_t &= \eta \sqrt{\frac{1 - \bar\alpha_{t'}}{1 - \bar\alpha_t}}
\sqrt{1 - \frac{\bar\alpha_t}{\bar\alpha_{t'}}}.\end{aligned}$$
$\eta = 0$ is deterministic. **DDPM** draws $x_{t'}$ from the posterior $q(x_{t'} \mid x_t, \hat{x}_0)$, a Gaussian
with mean $\frac{\sqrt{\bar\alpha_{t'}}\, \beta'_t}{1 - \bar\alpha_t} \hat{x}_0 +
\frac{\sqrt{1 - \beta'_t}\, (1 - \bar\alpha_{t'})}{1 - \bar\alpha_t} x_t$ and variance
$\frac{1 - \bar\alpha_{t'}}{1 - \bar\alpha_t} \beta'_t$, where $\beta'_t = 1 - \bar\alpha_t / \bar\alpha_{t'}$.
"""

GAN = r"""
**The game.** The discriminator $D$ outputs the probability that its input is real; the generator $G$ maps
noise $z \sim \mathcal{N}(0, I)$ to images. $D$ maximizes
$$\begin{aligned}V(D, G) = \; & \mathbb{E}_{x \sim p_\text{data}} [\log D(x)] \\
& + \mathbb{E}_{z} [\log (1 - D(G(z)))].\end{aligned}$$
The minimax generator would minimize the second term, but its gradient vanishes while $D$ easily spots fakes, so
$G$ minimizes the **non-saturating** loss instead:
$$\mathcal{L}_G = -\mathbb{E}_{z} [\log D(G(z))].$$
For a fixed $G$ the best discriminator is $D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}$, and
against it $V = -\log 4 + 2\, \mathrm{JSD}(p_\text{data} \,\|\, p_g)$: the game is won when $p_g = p_\text{data}$
and $D^* = \tfrac12$ everywhere.

**Latent interpolation.** In $d$ dimensions a Gaussian latent has $\|z\| \approx \sqrt{d}$: samples live on a
thin shell. The straight line $(1 - t) z_a + t z_b$ cuts inside it; spherical interpolation stays on it:
$$\begin{gathered}\mathrm{slerp}(z_a, z_b; t) = \frac{\sin((1 - t)\Omega)}{\sin \Omega} z_a
+ \frac{\sin(t \Omega)}{\sin \Omega} z_b, \\ \cos \Omega = \frac{z_a \cdot z_b}{\|z_a\| \|z_b\|}.\end{gathered}$$
"""

COMPARE = r"""
**Frechet distance** between real ($r$) and generated ($g$) images, with $\mu$ and $\Sigma$ the mean and covariance
of the judge classifier's 128 features (the recipe of FID, in a Fashion-MNIST feature space rather than Inception's):
$$d_F^2 = \|\mu_r - \mu_g\|^2 + \mathrm{Tr}\big(\Sigma_r + \Sigma_g - 2 (\Sigma_r \Sigma_g)^{1/2}\big).$$
Lower is better; two real samples of the same size give the floor.

**Diversity.** With $q_k$ the share of samples the judge puts in class $k$, the class entropy
$H = -\sum_k q_k \log_2 q_k$ is $\log_2 10 \approx 3.32$ bits when all ten classes are equally common and $0$
when a generator collapses onto one.

**Speed** is wall-clock seconds per image at batch 1; diffusion costs one U-Net call per step (two with guidance),
the pixel model one transformer call per pixel, a GAN one generator call.
"""

FAMILIES = {"text": TEXT, "pixels": PIXELS, "diffusion": DIFFUSION, "gan": GAN, "compare": COMPARE}


def add_equations(family: str) -> None:
    """A closed "The equations" section holding the family's equations (call inside gr.Blocks)."""
    with gr.Accordion("The equations", open=False, elem_id=f"{family}-equations"):
        gr.Markdown(FAMILIES[family], latex_delimiters=LATEX)
