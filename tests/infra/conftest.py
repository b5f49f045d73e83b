"""The synthesized alerts stack, default, custom and with Powertools bundled: once per session,
shared by every file."""

import pytest

from maintenance_window_alerts import settings as keys
from tests.infra.synthesis import CUSTOM_CONTEXT, CUSTOM_ENV, INTERVALS, Synth, synthesize


@pytest.fixture(scope="session")
def default(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """cdk.json's settings."""
    return synthesize(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Every setting away from its default (CUSTOM_CONTEXT), in an account and region."""
    return synthesize(tmp_path_factory.mktemp("custom"), CUSTOM_CONTEXT, CUSTOM_ENV)


@pytest.fixture(scope="session")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The bundled synth: pip installs Powertools for the function's platform (test_layer.py
    reads its asset, test_checkov.py its template)."""
    return synthesize(
        tmp_path_factory.mktemp("bundled"), {keys.POWERTOOLS_LAYER: keys.POWERTOOLS_BUNDLED}
    )


@pytest.fixture(params=INTERVALS, ids=[name for name, _ in INTERVALS])
def synth_and_interval(request: pytest.FixtureRequest) -> tuple[Synth, int]:
    """Each synth with its sweep interval in minutes."""
    name, minutes = request.param
    return request.getfixturevalue(name), minutes
