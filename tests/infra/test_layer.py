"""powertoolsLayer: where the function gets Powertools from, "public" (AWS's published layer, by
its SSM parameter), a layer version ARN, or "bundled" into the function's own asset by pip.

The bundled tests run pip against PyPI (about 10 s each, once per session)."""

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local_aws.environment import FUNCTION_ENVIRONMENT
from maintenance_window_alerts import constants
from maintenance_window_alerts import settings as keys
from maintenance_window_alerts.function import (
    PipTarget,
    bundled_asset_hash,
    install_function_asset,
)
from maintenance_window_alerts.layout import parse_layout
from tests.infra.synthesis import CDK_JSON_CONTEXT, Synth, package_assets, synthesize
from tests.support import ROOT

LAYER_ARN = "arn:aws-cn:lambda:cn-north-1:123456789012:layer:powertools-python:7"
BOOTSTRAP_PARAMETER = "BootstrapVersion"  # every CDK template's; not the layer's


@pytest.fixture(scope="module")
def with_layer_arn(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("arn"), {keys.POWERTOOLS_LAYER: LAYER_ARN})


@pytest.fixture(scope="session")
def host_asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An asset built as the bundled one, for this machine's platform and Python."""
    asset = tmp_path_factory.mktemp("host-asset")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    install_function_asset(asset, PipTarget(f"manylinux2014_{platform.machine()}", version))
    return asset


@pytest.fixture(scope="session")
def boto3_only_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a new virtual environment with boto3 alone, as the Lambda runtime has."""
    venv = tmp_path_factory.mktemp("boto3-only")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run([*pip, "install", "--quiet", "--disable-pip-version-check", "boto3"], check=True)
    return python


def layer_parameters(synth: Synth) -> dict[str, Any]:
    return {
        name: parameter
        for name, parameter in synth.template.find_parameters("*").items()
        if name != BOOTSTRAP_PARAMETER
    }


def wheel_tags(asset: Path) -> dict[str, set[str]]:
    """Distribution -> the tags of the wheel it was installed from (its WHEEL file's Tag lines)."""
    return {
        wheel.parent.name.partition("-")[0]: {
            line.removeprefix("Tag:").strip()
            for line in wheel.read_text().splitlines()
            if line.startswith("Tag:")
        }
        for wheel in asset.glob("*.dist-info/WHEEL")
    }


def test_public_is_the_default_and_takes_the_layer_from_the_public_parameter(
    default: Synth,
) -> None:
    parameters = layer_parameters(default)

    assert CDK_JSON_CONTEXT[keys.POWERTOOLS_LAYER] == keys.POWERTOOLS_PUBLIC
    assert [p["Default"] for p in parameters.values()] == [constants.POWERTOOLS_LAYER_PARAMETER]
    assert default.properties(default.stack.alerts.function)["Layers"] == [
        {"Ref": next(iter(parameters))}
    ]


def test_layer_arn_is_used_as_it_is_without_the_public_parameter(with_layer_arn: Synth) -> None:
    function = with_layer_arn.properties(with_layer_arn.stack.alerts.function)

    assert function["Layers"] == [LAYER_ARN]
    assert layer_parameters(with_layer_arn) == {}
    assert function["Handler"] == constants.LAMBDA_HANDLER


def test_bundled_function_has_no_layer_and_code_with_powertools_beside_the_package(
    bundled: Synth,
) -> None:
    function = bundled.properties(bundled.stack.alerts.function)
    (asset,) = package_assets(bundled.outdir)

    assert "Layers" not in function
    assert layer_parameters(bundled) == {}
    assert function["Code"]["S3Key"] == f"{asset.name.removeprefix('asset.')}.zip"
    assert function["Handler"] == constants.LAMBDA_HANDLER
    assert (asset / "mwalerts" / "handler.py").is_file()
    assert not list(asset.rglob("__pycache__"))
    assert not list(asset.rglob("*.pyc"))
    assert not (asset / "bin").exists()


def test_bundled_asset_holds_powertools_and_pydantic_built_for_lambda_arm64_python_3_13(
    bundled: Synth,
) -> None:
    (asset,) = package_assets(bundled.outdir)
    tags = wheel_tags(asset)

    assert (asset / f"aws_lambda_powertools-{constants.POWERTOOLS_VERSION}.dist-info").is_dir()
    assert tags["aws_lambda_powertools"] == {"py3-none-any"}
    assert tags["pydantic"] == {"py3-none-any"}
    # The one compiled dependency: Linux on arm64 (Graviton), CPython 3.13.
    assert tags["pydantic_core"] >= {"cp313-cp313-manylinux2014_aarch64"}
    assert all(tag.endswith(("-none-any", "aarch64")) for tag in set().union(*tags.values()))


def test_asset_built_for_this_machine_imports_the_handler_with_boto3_alone(
    host_asset: Path, boto3_only_python: Path
) -> None:
    # As the Lambda runtime would: the asset as the working directory and on the path, the
    # function's environment, nothing else installed but boto3.
    environment = {**FUNCTION_ENVIRONMENT, "PYTHONPATH": str(host_asset), "PATH": os.defpath}
    result = subprocess.run(
        [str(boto3_only_python), "-c", "import mwalerts.handler, pydantic_core; print('ok')"],
        cwd=host_asset,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    without_asset = subprocess.run(
        [str(boto3_only_python), "-c", "import aws_lambda_powertools"],
        env={**environment, "PYTHONPATH": ""},
        capture_output=True,
        check=False,
    )
    assert without_asset.returncode != 0  # the virtual environment itself has no Powertools


def test_bundled_asset_hash_changes_with_the_code_the_version_and_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "mwalerts"
    (package / "__pycache__").mkdir(parents=True)
    (package / "handler.py").write_text("x = 1\n")
    target = PipTarget()
    before = bundled_asset_hash(package, target)

    (package / "__pycache__" / "handler.cpython-313.pyc").write_bytes(b"cache")
    assert bundled_asset_hash(package, target) == before  # caches are not in the asset
    assert bundled_asset_hash(package, PipTarget(python_version="3.12")) != before
    monkeypatch.setattr(constants, "POWERTOOLS_REQUIREMENT", "aws-lambda-powertools==9.9.9")
    assert bundled_asset_hash(package, target) != before
    monkeypatch.undo()
    (package / "handler.py").write_text("x = 2\n")
    assert bundled_asset_hash(package, target) != before


def test_bundled_synth_fails_naming_the_setting_when_pip_cannot_get_the_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As offline: no index, and no configuration that could name another source.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")

    with pytest.raises(Exception, match=keys.POWERTOOLS_LAYER) as raised:
        synthesize(tmp_path, {keys.POWERTOOLS_LAYER: keys.POWERTOOLS_BUNDLED})

    assert "pip could not install" in str(raised.value)
    assert f"{keys.POWERTOOLS_LAYER} 'public' or a layer version ARN" in str(raised.value)


def test_each_deployment_and_central_mode_take_their_own_powertools_layer() -> None:
    account, other = "111111111111", "222222222222"
    layout = parse_layout(
        {
            **CDK_JSON_CONTEXT,
            "deployments": [
                {"account": account, "region": "cn-north-1", keys.POWERTOOLS_LAYER: LAYER_ARN},
                {"account": other, "region": "eu-west-1"},
            ],
        },
        base_dir=ROOT,
    )
    central = parse_layout(
        {
            **CDK_JSON_CONTEXT,
            "central": {
                "account": account,
                "region": "us-gov-west-1",
                "externalId": "alerts-external-id",
                "members": [{"account": other, "regions": ["us-gov-west-1"]}],
                keys.POWERTOOLS_LAYER: keys.POWERTOOLS_BUNDLED,
            },
        },
        base_dir=ROOT,
    )

    assert [d.settings.powertools_layer for d in layout.deployments] == [
        LAYER_ARN,
        keys.POWERTOOLS_PUBLIC,
    ]
    assert central.central is not None
    assert central.central.settings.powertools_layer == keys.POWERTOOLS_BUNDLED


def test_a_bad_powertools_layer_in_an_entry_fails_naming_the_entry_and_the_key() -> None:
    entry = {"account": "111111111111", "region": "eu-west-1", keys.POWERTOOLS_LAYER: "latest"}

    with pytest.raises(keys.SettingsError, match=rf"deployments\[0\].*{keys.POWERTOOLS_LAYER}"):
        parse_layout({**CDK_JSON_CONTEXT, "deployments": [entry]}, base_dir=ROOT)
