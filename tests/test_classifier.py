"""The Fashion-MNIST judge: shapes, augmentation, a `tiny` run that learns, and the committed weights' accuracy."""
import json
import os

import pytest
import torch

from genmodels.checkpoint import load_checkpoint, save_checkpoint
from genmodels.data.fashion_mnist import CLASS_NAMES, DEBIAN_DIR, FILES, idx_file, load_split
from genmodels.eval.classifier import (
    ASSET_STEM,
    PRESETS,
    REMAKE,
    ClassifierConfig,
    FashionClassifier,
    augment,
    classify,
    load_classifier,
    per_class_accuracy,
    predict_logits,
    train,
)
from tests.conftest import cpu_one_thread

pytestmark = pytest.mark.usefixtures("one_thread")


def require_dataset():
    """Skip without the Debian Fashion-MNIST files, except under CI=true, which installs them."""
    if not all(idx_file(DEBIAN_DIR, name) for names in FILES.values() for name in names):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{DEBIAN_DIR} is missing: install it with `apt-get install -y dataset-fashion-mnist`")
        pytest.skip(f"{DEBIAN_DIR} is missing")


def random_classifier(seed: int = 0) -> FashionClassifier:
    """A classifier with perturbed weights and batch-norm statistics, all exactly representable in fp16."""
    torch.manual_seed(seed)
    model = FashionClassifier(ClassifierConfig())
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(0.05 * torch.rand_like(tensor)).copy_(tensor.half().float())
    return model.eval()


def test_logits_and_features_shapes():
    config = ClassifierConfig()
    model = FashionClassifier(config).eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    with torch.inference_mode():
        logits, features = model(x), model.features(x)
        assert torch.equal(model.head(features), logits)
    assert logits.shape == (5, 10) and features.shape == (5, config.feature_dim)
    assert (features >= 0).all()  # post-ReLU embedding
    assert model.num_params() <= 1_000_000


def test_augment_flips_and_shifts_by_at_most_max_shift():
    x = torch.full((64, 1, 28, 28), -1.0)
    x[:, 0, 10, 5] = 1.0  # one bright pixel, off-centre
    out = augment(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and ((out == 1).sum((1, 2, 3)) == 1).all()  # nothing lost, background filled with -1
    rows, cols = (out[:, 0] == 1).nonzero()[:, 1:].T
    flipped = (cols - 22).abs() <= 2
    assert ((rows - 10).abs() <= 2).all() and (flipped | ((cols - 5).abs() <= 2)).all()
    assert 0 < flipped.sum() < 64 and len(set(rows.tolist())) == 5
    same = augment(x, 0, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, x[0]) or torch.equal(a, x[0].flip(-1)) for a in same)


def test_checkpoint_round_trip_gives_identical_predictions(tmp_path):
    model = random_classifier()
    save_checkpoint(model, model.config, tmp_path / "classifier", half=True)
    loaded, _ = load_checkpoint(FashionClassifier, ClassifierConfig, tmp_path / "classifier", REMAKE)
    x = torch.rand(32, 1, 28, 28) * 2 - 1
    assert torch.equal(predict_logits(loaded, x), predict_logits(model, x))
    probs = classify(x, loaded)
    assert probs.shape == (32, 10) and torch.allclose(probs.sum(-1), torch.ones(32))
    uint8 = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    assert torch.allclose(classify(uint8, loaded), classify(uint8.float().unsqueeze(1) / 127.5 - 1, loaded))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    require_dataset()
    out_dir = tmp_path_factory.mktemp("eval")
    with cpu_one_thread():
            log = train("tiny", out_dir, DEBIAN_DIR)
    return out_dir, log


def test_tiny_preset_learns_and_logs(tiny_run):
    out_dir, log = tiny_run
    preset = PRESETS["tiny"]
    assert json.loads((out_dir / "classifier_log.json").read_text()) == json.loads(json.dumps(log))
    assert log["train_images"] == preset.train_images and log["device"] == "cpu"
    assert log["test"]["epoch"] == list(range(1, preset.epochs + 1)) and len(log["test"]["accuracy"]) == preset.epochs
    loss = log["train"]["loss"]
    assert loss[0] > 2.0  # about log(10): it starts knowing nothing
    assert sum(loss[-3:]) / 3 < 0.7 * sum(loss[:3]) / 3
    assert log["test_accuracy"] > 0.4  # well above chance (0.1) after seconds
    assert log["classes"] == CLASS_NAMES and len(log["per_class_accuracy"]) == 10


def test_tiny_checkpoint_reproduces_its_logged_accuracy(tiny_run):
    out_dir, log = tiny_run
    model, record = load_checkpoint(FashionClassifier, ClassifierConfig, out_dir / "classifier", REMAKE)
    images, labels = load_split("test", DEBIAN_DIR)
    images, labels = images[:PRESETS["tiny"].test_images], labels[:PRESETS["tiny"].test_images]
    per_class = per_class_accuracy(model, images, labels)
    assert per_class == pytest.approx(log["per_class_accuracy"], abs=1e-4)
    accuracy = (predict_logits(model, images).argmax(1) == labels).float().mean().item()
    assert accuracy == pytest.approx(record["meta"]["test_accuracy"], abs=1e-4)


@pytest.mark.slow
def test_committed_classifier_is_at_least_92_percent_accurate():
    require_dataset()
    model = load_classifier("cpu")
    assert load_classifier("cpu") is model  # loaded once per process
    images, labels = load_split("test", DEBIAN_DIR)
    per_class = per_class_accuracy(model, images, labels)  # full 10,000-image test split
    accuracy = sum(per_class) / len(per_class)  # 1,000 images per class, so this is the overall accuracy
    assert accuracy >= 0.92, dict(zip(CLASS_NAMES, per_class))
    record = json.loads(ASSET_STEM.with_suffix(".json").read_text())
    assert accuracy == pytest.approx(record["meta"]["test_accuracy"], abs=1e-4)
    assert per_class == pytest.approx(record["meta"]["per_class_accuracy"], abs=1e-4)
