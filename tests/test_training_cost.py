"""Each committed model's training cost, read from its training log."""
import json

from genmodels.eval.training_cost import LOGS, training_costs
from genmodels.ui.compare.views import cost_table


def test_every_committed_model_has_a_cost_from_its_log():
    costs = training_costs()
    assert set(costs) == {"pixels", "diffusion", "gan", "text"}
    for family, cost in costs.items():
        log = json.loads(LOGS[family].read_text())
        assert cost["seconds"] == log["seconds"] and cost["device"] == log["device"]
        assert cost["examples"] == cost["steps"] * cost["examples_per_step"] > 0
    assert costs["gan"]["parameters"] == sum(json.loads(LOGS["gan"].read_text())["params"].values())
    assert costs["diffusion"]["steps"] == json.loads(LOGS["diffusion"].read_text())["steps"]


def test_a_missing_log_leaves_its_family_out(tmp_path):
    costs = training_costs({"gan": LOGS["gan"], "pixels": tmp_path / "missing.json"})
    assert set(costs) == {"gan"}


def test_the_cost_table_sets_each_cost_beside_its_quality():
    report = json.loads((LOGS["text"].parents[1] / "report.json").read_text())
    table = cost_table(report, training_costs())
    assert table.count("\n| ") == 4  # one row per family under the header
    assert f"{report['pixels']['class_accuracy']:.0%} drawn as the asked class" in table
    assert "as many images as the diffusion model" in table
