"""The diffusion map's request and result: PATHS runs of the U-Net drawn as paths on a plane (limits in
genmodels.diffusion.requests.LIMITS)."""
from dataclasses import dataclass

from genmodels.diffusion import generate, trajectory_map
from genmodels.diffusion.requests import LIMITS, diffusion_model, rounded
from genmodels.eval.judge import gray_levels, judged


@dataclass(frozen=True)
class MapRequest:
    """PATHS runs from `prompt` that differ only in `comparison` (seeds, guidance or sampler); the other settings
    are the ones given (guidance and sampler where they do not differ; DDIM runs use eta 0)."""
    prompt: str
    comparison: str
    guidance: float
    sampler: str
    steps: int
    seed: int

    @classmethod
    def build(cls, prompt="a sneaker", comparison="guidance", guidance=3.0, sampler="DDIM", steps=25,
              seed=0) -> "MapRequest":
        return cls(LIMITS["prompt"].check(prompt), LIMITS["comparison"].check(comparison),
                   LIMITS["guidance"].check(guidance), LIMITS["sampler"].check(sampler),
                   LIMITS["map_steps"].check(steps), LIMITS["seed"].check(seed))

    def groups(self) -> list[trajectory_map.Group]:
        base = generate.Settings(prompt=self.prompt, guidance=self.guidance, steps=self.steps, sampler=self.sampler,
                                 eta=0.0, seed=self.seed)
        return trajectory_map.comparison_groups(self.comparison, base)


@dataclass(frozen=True)
class MapResult:
    """The map and the judge's verdict on each path's final image."""
    request: MapRequest
    map: trajectory_map.DiffusionMap
    verdicts: list[dict]

    def labels(self) -> list[str]:
        """Each path's name: its group, and which of the group's start noises it began from."""
        names = self.map.names
        return [f"{name} #{names[:i].count(name) + 1}" for i, name in enumerate(names)]

    def to_json(self) -> dict:
        m, r = self.map, self.request
        return {"prompt": r.prompt, "comparison": r.comparison, "steps": r.steps, "timesteps": m.timesteps,
                "explained_variance": [round(v, 4) for v in m.projection.explained],
                "projection": {"mean": rounded(m.projection.mean, 6),
                               "components": rounded(m.projection.components, 6)},
                "paths": [{"label": label, "group": name, "points": rounded(points), "image": image, "judge": verdict}
                          for label, name, points, image, verdict in zip(
                              self.labels(), m.names, m.paths, gray_levels(m.images), self.verdicts, strict=True)],
                "start_distance": round(m.start_distance, 4), "end_distance": round(m.end_distance, 4),
                "seconds": round(m.seconds, 4), "network_evaluations": m.network_evaluations}


def diffusion_map(request: MapRequest) -> MapResult:
    """Sample the request's runs together and project every x_t onto the plane of their two principal components."""
    result = trajectory_map.diffusion_map(diffusion_model(), request.groups())
    return MapResult(request, result, judged(result.images))

