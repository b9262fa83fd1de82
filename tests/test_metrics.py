"""Metrics on the judge: Frechet distance against closed forms, coverage, diversity, loss stability, real features."""
import math

import pytest
import torch

from genmodels.data.fashion_mnist import DEBIAN_DIR, load_split
from genmodels.eval.classifier import load_classifier, predict_logits
from genmodels.eval.metrics import (
    class_accuracy,
    class_histogram,
    classifier_features,
    coverage,
    entropy_bits,
    frechet_distance,
    loss_stability,
    mean_pairwise_distance,
)
from tests.conftest import cpu_one_thread
from tests.test_classifier import require_dataset

pytestmark = pytest.mark.usefixtures("one_thread")


def whitened(n: int, d: int, seed: int = 0) -> torch.Tensor:
    """n points (n, d) whose sample mean is exactly 0 and sample covariance exactly the identity (in float64)."""
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    q, _ = torch.linalg.qr(x - x.mean(0))  # orthonormal columns, each summing to 0
    return q * math.sqrt(n - 1)


def correlated(n: int, d: int, seed: int) -> torch.Tensor:
    """n random points (n, d) with a full, non-diagonal covariance and a nonzero mean."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) @ torch.randn(d, d, generator=g, dtype=torch.float64) + 1


def test_frechet_distance_of_a_set_with_itself_is_zero():
    x = correlated(400, 16, seed=1) * 50
    scale = torch.cov(x.T).trace().item()
    assert abs(frechet_distance(x, x)) < 1e-6 * scale
    assert abs(frechet_distance(x.float(), x.float())) < 1e-6 * scale


def test_frechet_distance_grows_with_a_mean_shift():
    x = correlated(300, 8, seed=2)
    shift = torch.zeros(8, dtype=torch.float64)
    shift[0] = 1.0
    d1, d2 = frechet_distance(x, x + shift), frechet_distance(x, x + 2 * shift)
    assert 0 < d1 < d2
    assert d1 == pytest.approx(1.0, rel=1e-9) and d2 == pytest.approx(4.0, rel=1e-9)  # covariances are equal


def test_frechet_distance_matches_the_closed_form_for_1d_gaussians():
    z = whitened(200, 1, seed=3)
    m1, s1, m2, s2 = 0.5, 2.0, -1.5, 0.25
    assert frechet_distance(m1 + s1 * z, m2 + s2 * z) == pytest.approx((m1 - m2) ** 2 + (s1 - s2) ** 2, rel=1e-9)


def test_frechet_distance_matches_the_closed_form_for_diagonal_covariances():
    mu_a, mu_b = torch.tensor([0.0, 1.0, 2.0, -3.0]).double(), torch.tensor([1.0, 1.0, -2.0, 0.5]).double()
    s_a, s_b = torch.tensor([1.0, 2.0, 0.5, 3.0]).double(), torch.tensor([3.0, 0.1, 0.5, 1.0]).double()  # std devs
    a, b = mu_a + s_a * whitened(500, 4, seed=4), mu_b + s_b * whitened(300, 4, seed=5)
    expected = ((mu_a - mu_b).square() + (s_a - s_b).square()).sum().item()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_is_symmetric_and_matches_the_eigenvalues_of_the_covariance_product():
    a, b = correlated(400, 12, seed=6), correlated(250, 12, seed=7) * 0.5 + 0.3
    d_ab, d_ba = frechet_distance(a, b), frechet_distance(b, a)
    assert d_ab == pytest.approx(d_ba, rel=1e-9)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    cross = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0).sqrt().sum()  # tr (S_a S_b)^(1/2), unsymmetrized
    expected = ((a.mean(0) - b.mean(0)).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross).item()
    assert d_ab == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_rejects_mismatched_features():
    with pytest.raises(ValueError):
        frechet_distance(torch.zeros(10, 3), torch.zeros(10, 4))
    with pytest.raises(ValueError):
        frechet_distance(torch.zeros(1, 3), torch.zeros(10, 3))


def test_class_accuracy_takes_labels_or_probabilities():
    probs = torch.eye(10)[[3, 3, 1, 3]]  # (4, 10)
    assert class_accuracy(probs, 3) == pytest.approx(0.75)
    assert class_accuracy(torch.tensor([3, 3, 1, 3]), torch.tensor([3, 2, 1, 0])) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        class_accuracy(probs, torch.tensor([3, 3]))


def test_coverage_of_one_class_and_of_uniform_labels():
    one = coverage(torch.full((50,), 7))
    assert one["classes_covered"] == 1 and one["entropy_bits"] == 0 and one["smallest_share"] == 0
    assert one["histogram"][7] == 1
    uniform = coverage(torch.arange(10).repeat(30))
    assert uniform["classes_covered"] == 10 and uniform["smallest_share"] == pytest.approx(0.1)
    assert uniform["entropy_bits"] == pytest.approx(math.log2(10))
    assert coverage(torch.eye(10)[torch.arange(10).repeat(3)]) == uniform  # probabilities (N, 10) work too
    with pytest.raises(ValueError):
        class_histogram(torch.tensor([0, 10]))
    assert entropy_bits([0.5, 0.5, 0.0]) == pytest.approx(1.0)


def test_mean_pairwise_distance_is_zero_for_identical_features_and_exact_for_known_ones():
    same = mean_pairwise_distance(torch.ones(40, 128) * 0.37, torch.full((40,), 2))
    assert same["per_class"][2] == 0 and same["mean"] == 0 and same["classes_measured"] == 1
    assert same["per_class"][0] is None
    corners = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    result = mean_pairwise_distance(corners, torch.tensor([0, 0, 1, 1, 4]))
    assert result["per_class"][0] == pytest.approx(5.0) and result["per_class"][1] == pytest.approx(1.0)
    assert result["per_class"][4] is None and result["mean"] == pytest.approx(3.0)
    assert mean_pairwise_distance(corners, torch.tensor([0, 1, 2, 3, 4]))["mean"] is None


def test_loss_stability_of_a_constant_and_of_a_line():
    flat = loss_stability([2.5] * 100)
    assert flat["points"] == 20 and flat["mean"] == 2.5 and flat["std"] == 0 and flat["relative_spread"] == 0
    assert flat["slope_per_1000_steps"] == pytest.approx(0, abs=1e-12)
    steps = list(range(0, 5000, 50))  # 100 logged points, one per 50 steps
    line = loss_stability([3.0 - 2e-4 * s for s in steps], tail=0.5, steps=steps)
    assert line["points"] == 50 and line["slope_per_1000_steps"] == pytest.approx(-0.2, rel=1e-9)
    assert line["mean"] == pytest.approx(3.0 - 2e-4 * sum(steps[50:]) / 50)
    assert loss_stability([1.0, 2.0, 3.0, 4.0], tail=1.0)["slope_per_1000_steps"] == pytest.approx(1000.0)
    with pytest.raises(ValueError):
        loss_stability([1.0, 2.0], tail=0.2)  # one point is no curve
    with pytest.raises(ValueError):
        loss_stability([1.0, 2.0, 3.0], steps=[0, 1])


@pytest.fixture(scope="module")
def real_features():
    """Judge features of 500 test images, 500 train images and the 500 test images with their pixels shuffled."""
    require_dataset()
    test_images, _ = load_split("test", DEBIAN_DIR)
    train_images, _ = load_split("train", DEBIAN_DIR)
    test_images, train_images = test_images[:500], train_images[:500]
    order = torch.argsort(torch.rand(500, 784, generator=torch.Generator().manual_seed(0)), dim=1)
    shuffled = test_images.flatten(1).gather(1, order).view(500, 28, 28)  # each image's own pixel permutation
    with cpu_one_thread():
        model = load_classifier("cpu")
        return model, test_images, [classifier_features(x, model) for x in (test_images, train_images, shuffled)]


def test_classifier_features_are_the_penultimate_layer(real_features):
    model, images, (test_feats, _, _) = real_features
    assert test_feats.shape == (500, model.config.feature_dim) and test_feats.dtype == torch.float32
    assert torch.isfinite(test_feats).all() and test_feats.std(0).max() > 0
    with torch.no_grad():
        logits = model.head(test_feats[:64])  # (64, 10), dropout off in eval mode
    torch.testing.assert_close(logits, predict_logits(model, images[:64]), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(classifier_features(images[:64], model, batch_size=7), test_feats[:64])


def test_real_images_are_near_each_other_and_far_from_shuffled_pixels(real_features):
    _, _, (test_feats, train_feats, shuffled_feats) = real_features
    real = frechet_distance(test_feats, train_feats)
    shuffled = frechet_distance(test_feats, shuffled_feats)
    assert 0 < real and 10 * real < shuffled, (real, shuffled)
