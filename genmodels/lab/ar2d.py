"""The 2-D lab's autoregressive model: the plane cut into bins x bins cells, a point written as two tokens, its x-bin
then its y-bin, and p(x, y) = p(x) p(y | x) learned by one small network trained with cross-entropy.

This is the text model's factorization P(x1..xn) = prod P(x_i | x_<i) with n = 2: the network reads the previous
token (BOS, then the x-bin) and predicts the next. Sampling draws the x-bin, then the y-bin given it, each at a
temperature (logits / T), and places the point uniformly inside its cell, so the grid the model sees stays visible.
"""
import math
import reprlib
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genmodels.gan.toy2d import BATCH_RANGE, DEPTH_RANGE, HIDDEN_RANGE, LR_MAX, MAX_TOTAL_STEPS, SEED_RANGE
from genmodels.gan.toy_data import ToyDistribution
from genmodels.lab.parts import History, changes_run, is_number, is_whole, jsonable, mlp, range_errors
from genmodels.runtime import make_generator

BINS_RANGE = (4, 64)  # bins per axis
TEMPERATURE_MAX = 5.0  # temperatures lie in (0, TEMPERATURE_MAX]; greedy (T = 0) would put every sample in one cell
LIVE_SETTINGS = ("temperature", "x_bin")  # these change what is drawn, not the run; any other change starts a new run
N_POINTS = 512  # fixed real points and samples from fixed uniforms, in every snapshot
DATA_POINTS = 100_000  # the data's own histogram over the cells, from this many fixed real points
HISTORY_KEYS = ("step", "loss")  # loss: cross-entropy in bits per token, the mean over the x and the y token
NFE_PER_SAMPLE = 2  # one network evaluation for p(x), one for p(y | x)


def inverse_cdf(cdf: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The first bin whose cumulative probability exceeds u: for u ~ U(0, 1), a draw from the distribution. cdf is
    (bins,) with u (N,), or (N, bins) with u (N, 1); a total that rounds below u takes the last bin."""
    return torch.searchsorted(cdf, u, right=True).clamp(max=cdf.shape[-1] - 1)


@dataclass
class ARSettings:
    """Everything that defines a run (the same settings, seed included, give the same run), and how it is drawn."""
    bins: int = 32
    hidden: int = 128
    depth: int = 2
    lr: float = 3e-3
    batch_size: int = 256
    seed: int = 0
    temperature: float = 1.0  # live: divides the logits of both tokens when sampling
    x_bin: int = 16  # live: the column whose p(y | x) is shown; in [0, bins - 1]

    def validate(self) -> "ARSettings":
        """Raise ValueError naming every out-of-range setting, else return a copy with whole numbers as ints."""
        errors = []
        if not is_number(self.lr) or not 0 < self.lr <= LR_MAX:
            errors.append(f"lr must be in (0, {LR_MAX}] (got {reprlib.repr(self.lr)})")
        if not is_number(self.temperature) or not 0 < self.temperature <= TEMPERATURE_MAX:
            errors.append(f"temperature must be in (0, {TEMPERATURE_MAX}] (got {reprlib.repr(self.temperature)})")
        whole = {"bins": BINS_RANGE, "hidden": HIDDEN_RANGE, "depth": DEPTH_RANGE, "batch_size": BATCH_RANGE,
                 "seed": SEED_RANGE}
        errors += range_errors(self, whole)
        last_bin = int(self.bins) - 1 if is_whole(self.bins, *BINS_RANGE) else BINS_RANGE[1] - 1
        if not is_whole(self.x_bin, 0, last_bin):
            errors.append(f"x_bin must be a whole number in [0, {last_bin}] (got {reprlib.repr(self.x_bin)})")
        if errors:
            raise ValueError("; ".join(errors))
        return replace(self, lr=float(self.lr), temperature=float(self.temperature), x_bin=int(self.x_bin),
                       **{name: int(getattr(self, name)) for name in whole})


@dataclass
class ARSnapshot:
    """What the UI draws after some steps; every array is numpy, to_dict() turns it into plain JSON. Distributions
    over x-bins and y-bins run from the lowest coordinate up; joints have rows y and columns x (a heat map's z)."""
    step: int
    extent: tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax)
    bins: int
    bin_edges_x: np.ndarray  # (bins + 1,)
    bin_edges_y: np.ndarray  # (bins + 1,)
    real: np.ndarray  # (N_POINTS, 2) the same real points in every snapshot of a run
    samples: np.ndarray  # (N_POINTS, 2) drawn at the temperature from fixed uniforms
    temperature: float
    x_bin: int
    p_x: np.ndarray  # (bins,) the model's p(x-bin) at T = 1
    p_x_temp: np.ndarray  # (bins,) at the temperature: what samples() draws from
    p_y_given_x: np.ndarray  # (bins,) the model's p(y-bin | x_bin) at T = 1
    p_y_given_x_temp: np.ndarray  # (bins,) at the temperature
    joint: np.ndarray  # (bins, bins) p(x) p(y | x) at T = 1
    data_p_x: np.ndarray  # (bins,) the share of DATA_POINTS real points in each x-bin: what a perfect model learns
    data_p_y_given_x: np.ndarray  # (bins,) their shares over the y-bins of column x_bin; all 0 if it holds none
    data_joint: np.ndarray  # (bins, bins) their shares over the cells
    data_bits: float  # the entropy of data_joint in bits per token: the loss of a perfect model
    history: dict[str, np.ndarray]  # HISTORY_KEYS -> (rows,)
    last: dict[str, float]  # the latest step's loss (empty at step 0)
    diverged: bool
    message: str

    def to_dict(self) -> dict:
        """Plain lists, floats, ints, strings and None: ready for json.dumps(allow_nan=False)."""
        return jsonable(self)


class ToyAR:
    """One training session: its own network, optimizer, random generator and bounded history; reset() restarts it."""
    nfe_per_sample = NFE_PER_SAMPLE

    def __init__(self, settings: ARSettings, data: ToyDistribution):
        self.settings, self.data = settings.validate(), data
        self.reset()

    def reset(self) -> None:
        """Rebuild everything from the settings and seed: the run starts again at step 0."""
        s, bins = self.settings, self.settings.bins
        init = make_generator(s.seed)  # weights, the training seed, then the fixed draws, in this order
        # One network for both positions, as in a GPT: the input is the previous token, one-hot over BOS and the
        # x-bins, so BOS gives p(x) and x-bin i gives p(y | x = i). The chain rule p(x, y) = p(x) p(y | x) holds for
        # every distribution over the cells, and one-hot inputs let the network learn any table of them.
        self.net = mlp([bins + 1, *[s.hidden] * s.depth, bins], nn.ReLU, init)  # (B, bins + 1) -> logits (B, bins)
        self.rng = make_generator(int(torch.randint(2**62, (), generator=init)))  # all training draws
        self.opt = torch.optim.Adam(self.net.parameters(), lr=s.lr, fused=True)
        self.prefixes = torch.eye(bins + 1)  # (bins + 1, bins + 1) row 0 is BOS, row 1 + i is x-bin i
        xmin, xmax, ymin, ymax = self.data.extent
        self.edges_x = torch.linspace(xmin, xmax, bins + 1, dtype=torch.float64)  # (bins + 1,)
        self.edges_y = torch.linspace(ymin, ymax, bins + 1, dtype=torch.float64)  # (bins + 1,)
        self.real = self.data.sample(N_POINTS, init)  # (N_POINTS, 2)
        # Fixed uniforms: inverse-CDF sampling from them moves a sample only when the model's CDF moves past it.
        self.uniforms = torch.rand(N_POINTS, 2, generator=init, dtype=torch.float64)  # (N_POINTS, 2) x, y token
        self.jitter = torch.rand(N_POINTS, 2, generator=init, dtype=torch.float64)  # (N_POINTS, 2) place in cell
        tx, ty = self.tokenize(self.data.sample(DATA_POINTS, init))  # (DATA_POINTS,), (DATA_POINTS,)
        counts = torch.bincount(ty * bins + tx, minlength=bins * bins).view(bins, bins).double()  # (bins y, bins x)
        self.data_joint = counts / DATA_POINTS  # (bins, bins)
        cells = self.data_joint[self.data_joint > 0]
        self.data_bits = float(-(cells * cells.log2()).sum()) / 2
        self.steps, self.diverged, self.message = 0, False, ""
        self.history, self.last = History(HISTORY_KEYS), {}

    def adopt(self, settings: ARSettings) -> bool:
        """Take new settings: temperature and x_bin apply at once, a change to anything else starts a new run.
        Returns whether the run restarted."""
        settings = settings.validate()
        restart = changes_run(self.settings, settings, LIVE_SETTINGS)
        self.settings = settings
        if restart:
            self.reset()
        return restart

    def tokenize(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Points (N, 2) as their x-bin and y-bin (N,), (N,); points outside the extent go to the edge bins."""
        bins, (xmin, xmax, ymin, ymax) = self.settings.bins, self.data.extent
        tx = ((points[:, 0] - xmin) / (xmax - xmin) * bins).floor().long().clamp(0, bins - 1)
        ty = ((points[:, 1] - ymin) / (ymax - ymin) * bins).floor().long().clamp(0, bins - 1)
        return tx, ty

    def step(self) -> dict[str, float]:
        """One Adam step on a fresh batch; returns the loss in bits per token (the mean over the x and y token)."""
        if self.diverged:
            raise RuntimeError(self.message)
        if self.steps >= MAX_TOTAL_STEPS:
            raise RuntimeError(f"this session reached the limit of {MAX_TOTAL_STEPS} steps: reset to start again")
        tx, ty = self.tokenize(self.data.sample(self.settings.batch_size, self.rng))  # (B,), (B,)
        # BOS once, since every point's first token sees the same prefix, then each point's x-bin
        logits = self.net(self.prefixes[torch.cat([tx.new_zeros(1), tx + 1])])  # (1 + B, bins)
        nats = F.cross_entropy(logits[:1].expand(len(tx), -1), tx) + F.cross_entropy(logits[1:], ty)
        loss = nats / 2 / math.log(2)  # bits per token
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.steps += 1
        self.last = {"loss": loss.item()}
        self.history.add((self.steps, self.last["loss"]))
        bad = ["loss"] if not math.isfinite(self.last["loss"]) else []
        bad += ["weights"] if not all(torch.isfinite(p).all() for p in self.net.parameters()) else []
        if bad:
            self.diverged = True
            self.message = (f"training diverged at step {self.steps}: {' and '.join(bad)} became NaN or infinite "
                            "(try a smaller learning rate); reset to start again")
        return self.last

    def distributions(self, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """p(x) (bins,) and p(y | x) for every x-bin (bins, bins) in rows x, at `temperature`: one pass over the
        bins + 1 possible prefixes."""
        with torch.no_grad():
            logits = self.net(self.prefixes).double()  # (bins + 1, bins)
        probs = torch.softmax(logits / temperature, -1)
        return probs[0], probs[1:]

    def draw(self, uniforms: torch.Tensor, jitter: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Samples at the settings' temperature by inverse CDF: the x-bin from p(x), the y-bin from p(y | x), from
        uniforms (N, 2), then placed at jitter (N, 2) inside the cell; returns points (N, 2), x-bins and y-bins (N,)."""
        p_x, p_y_given_x = self.distributions(self.settings.temperature)  # (bins,), (bins, bins)
        tx = inverse_cdf(p_x.cumsum(0), uniforms[:, 0].contiguous())  # (N,)
        ty = inverse_cdf(p_y_given_x.cumsum(1)[tx], uniforms[:, 1:].contiguous())[:, 0]  # (N,)
        width_x, width_y = self.edges_x[1] - self.edges_x[0], self.edges_y[1] - self.edges_y[0]
        points = torch.stack([self.edges_x[tx] + jitter[:, 0] * width_x, self.edges_y[ty] + jitter[:, 1] * width_y], 1)
        return points.float(), tx, ty

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n fresh samples (n, 2) at the settings' temperature, their uniforms drawn from `generator`."""
        uniforms = torch.rand(n, 4, generator=generator, dtype=torch.float64)  # (n, 4)
        return self.draw(uniforms[:, :2], uniforms[:, 2:])[0]

    def samples(self) -> torch.Tensor:
        """N_POINTS samples (N_POINTS, 2) from the uniforms fixed at reset: the same weights draw the same points."""
        return self.draw(self.uniforms, self.jitter)[0]

    def snapshot(self) -> ARSnapshot:
        """The model's distributions at T = 1 and at the temperature, the data's, fixed real points and samples."""
        s = self.settings
        p_x, p_y_given_x = self.distributions()  # (bins,), (bins, bins)
        p_x_temp, p_y_given_x_temp = self.distributions(s.temperature)
        column = self.data_joint[:, s.x_bin]  # (bins,) over y
        return ARSnapshot(
            step=self.steps, extent=self.data.extent, bins=s.bins, bin_edges_x=self.edges_x.numpy().copy(),
            bin_edges_y=self.edges_y.numpy().copy(), real=self.real.numpy().copy(), samples=self.samples().numpy(),
            temperature=s.temperature, x_bin=s.x_bin, p_x=p_x.numpy(), p_x_temp=p_x_temp.numpy(),
            p_y_given_x=p_y_given_x[s.x_bin].numpy(), p_y_given_x_temp=p_y_given_x_temp[s.x_bin].numpy(),
            joint=(p_x[:, None] * p_y_given_x).T.numpy(), data_p_x=self.data_joint.sum(0).numpy(),
            data_p_y_given_x=(column / column.sum() if column.sum() > 0 else column).numpy(),
            data_joint=self.data_joint.numpy().copy(), data_bits=self.data_bits, history=self.history.as_arrays(),
            last=dict(self.last), diverged=self.diverged, message=self.message)
