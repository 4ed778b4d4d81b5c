"""Homes for the transparency report: one with the session's built stores and a trained
model in use, and a copy of the policy folder a test may change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from steward import policy


@pytest.fixture(scope="session")
def modelled_home(home_from_built) -> Path:
    """STEWARD_HOME with the built identified zone and warehouse and a promoted model."""
    from steward.model import policy as model_policy
    from steward.model import run

    def train(home: Path) -> None:
        # 80 students can miss the calibration threshold by chance; the report is about
        # showing the card of the model in use (the gate has its own tests), so this
        # candidate is judged against thresholds that every trained model meets
        raw = model_policy.load().raw
        lenient = model_policy.ModelPolicy(
            {
                **raw,
                "promotion": {
                    **raw["promotion"],
                    "min_roc_auc": 0.0,
                    "max_expected_calibration_error": 1.0,
                    "fairness": {
                        **raw["promotion"]["fairness"],
                        "max_equal_opportunity_difference": 1.0,
                    },
                },
            }
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(model_policy, "load", lambda: lenient)
            trained = run.train(force=True)
        assert trained["verdict"] == "promoted", trained

    return home_from_built("transparency", train)


@pytest.fixture
def policy_copy(tmp_path) -> Path:
    """A copy of include/policies to change."""
    folder = tmp_path / "policies"
    shutil.copytree(policy.POLICY_DIR, folder)
    return folder
