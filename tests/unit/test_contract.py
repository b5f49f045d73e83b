"""The shared names agree with the SSM API's own model."""

import botocore.session

from mwalerts import contract


def _shape(name: str) -> dict:
    """A shape's constraints (pattern, min, max, enum) from botocore's SSM model."""
    return botocore.session.get_session().get_service_model("ssm").shape_for(name).metadata


def test_id_patterns_are_the_ones_in_botocores_ssm_model():
    assert _shape("MaintenanceWindowId")["pattern"] == contract.WINDOW_ID_PATTERN
    assert _shape("MaintenanceWindowExecutionId")["pattern"] == contract.EXECUTION_ID_PATTERN


def test_statuses_are_the_apis_status_enum_in_order():
    assert list(contract.ALL_STATUSES) == _shape("MaintenanceWindowExecutionStatus")["enum"]
    assert set(contract.TERMINAL_STATUSES) | set(contract.NON_TERMINAL_STATUSES) == set(
        contract.ALL_STATUSES
    )


def test_page_size_is_the_apis_maximum():
    assert _shape("MaintenanceWindowMaxResults")["max"] == contract.SSM_PAGE_SIZE
