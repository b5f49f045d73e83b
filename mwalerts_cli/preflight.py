"""`mwalerts preflight`: before `cdk deploy`, check every account and region the synthesized app
deploys to (cdk.out, whatever its layout): bootstrap, the Powertools layer, Lambda concurrency,
cross-region EventBridge, the region the app was synthesized for, and the organization layout's
standing in AWS Organizations. The checks are in mwalerts_cli.preflight_checks and
mwalerts_cli.preflight_organization."""

import argparse
import os
import shlex
from collections import Counter
from functools import cached_property
from pathlib import Path

from botocore.exceptions import BotoCoreError
from rich.text import Text

from mwalerts.clients import aws_session
from mwalerts.self_test_check import describe_aws_error
from mwalerts_cli import options
from mwalerts_cli.assembly import StackArtifact, read_assembly
from mwalerts_cli.aws import Clients
from mwalerts_cli.errors import USAGE, CliError
from mwalerts_cli.output import Column, Ui
from mwalerts_cli.preflight_checks import (
    AWS_ERRORS,
    FAIL,
    PASS,
    SKIP,
    WARN,
    Context,
    Finding,
    aws_error_fix,
    aws_failure,
    bootstrap_command,
    check_bootstrap,
    check_concurrency,
    check_events,
    check_layer,
    check_target,
    finding,
)
from mwalerts_cli.preflight_organization import check_organization

NAME = "preflight"
SUMMARY = "before cdk deploy: check each account and region the synthesized app deploys to"
DESCRIPTION = """\
Reads the synthesized cloud assembly (cdk.out: run `cdk synth` or `make synth` first) and checks,
for each stack, with the deployer's credentials (another account's through its CDK bootstrap
lookup role, as the CDK CLI does):

  target       the region it was synthesized for is the deploy's (no silent us-east-1)
  bootstrap    the account and region are bootstrapped at the version the app needs
  layer        the Powertools layer's public parameter resolves to a layer of the pinned version
  concurrency  the account's unreserved Lambda concurrency
  route        EventBridge can deliver to the central bus (central mode's members)
  central bus  the central bus exists and admits the member account
  organization organization mode's central stack: the central account is in the organization,
               and is the management account (callAs SELF) or a registered StackSets delegated
               administrator (DELEGATED_ADMIN); the row "trusted access" checks that StackSets'
               trusted access is enabled in the organization

Without credentials (or with --offline) it checks what it can without AWS and lists the rest as
SKIP. Exit 1 when a check fails, 2 when there is no assembly."""
EPILOG = """\
examples:
  make preflight CDK_ARGS="-c configFile=fleet.json --profile monitoring"
  mwalerts preflight --profile monitoring
  mwalerts preflight --assembly cdk.out --offline
  mwalerts preflight --only target --cdk-args "--all --profile prod"

docs/first-deploy.md says what each check means and how to fix a failure."""

CHECKS = ("target", "bootstrap", "layer", "concurrency", "events", "organization")
COLUMNS = (
    Column("Stack"),
    Column("Target"),
    Column("Check"),
    Column("Result", status=True),
    Column("Found", limit=100),
    Column("How to fix", limit=120),
)
# Where the CDK CLI reads the region, before the profile's (and its us-east-1 fallback).
REGION_VARIABLES = ("AWS_REGION", "AMAZON_REGION", "AWS_DEFAULT_REGION", "AMAZON_DEFAULT_REGION")
SESSION_NAME = "mwalerts-preflight"


def checks(text: str) -> frozenset[str]:
    chosen = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = chosen - set(CHECKS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown check {', '.join(sorted(unknown)) or text!r}: choose from {', '.join(CHECKS)}"
        )
    return chosen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assembly",
        type=Path,
        default=Path("cdk.out"),
        metavar="DIR",
        help="the synthesized cloud assembly (default: %(default)s)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="no AWS calls: only the checks that need none"
    )
    parser.add_argument(
        "--only",
        type=checks,
        default=frozenset(CHECKS),
        metavar="CHECK,CHECK",
        help=f"run only these checks ({', '.join(CHECKS)}; default: all)",
    )
    parser.add_argument(
        "--cdk-args",
        default="",
        metavar="ARGS",
        help="the CDK CLI's arguments (make's CDK_ARGS), for their --profile",
    )
    options.add_output_option(parser, "table", "json")


def run(args: argparse.Namespace, clients: Clients, ui: Ui) -> int:
    stacks = read_assembly(args.assembly)
    if not stacks:
        raise CliError(f"the assembly in {args.assembly} holds no stack", USAGE)
    profile = args.profile or _profile(args.cdk_args)
    if profile and not args.profile:
        clients = Clients.from_chain(profile=profile, region=args.region)
    online = None if args.offline else _online(clients)
    if online is None and not args.offline:
        ui.note("no AWS credentials: the checks that call AWS are listed as SKIP")
    preflight = Preflight(stacks, online, _deploy_region(args, clients), args.only)
    findings = preflight.findings()
    _show(ui, findings, args.output)
    return 1 if any(f.result == FAIL for f in findings) else 0


def _profile(cdk_args: str) -> str | None:
    """The --profile of the CDK CLI's arguments, as `cdk deploy` would use it."""
    words = shlex.split(cdk_args)
    for index, word in enumerate(words):
        if word == "--profile" and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--profile="):
            return word.partition("=")[2]
    return None


def _deploy_region(args: argparse.Namespace, clients: Clients) -> str | None:
    """The region `cdk deploy` would take for an environment-agnostic stack, as it resolves it,
    except its us-east-1 fallback: None when nothing configures one."""
    if args.region:
        return str(args.region)
    variable = next((os.environ[name] for name in REGION_VARIABLES if os.environ.get(name)), None)
    return variable or clients.session.region_name


def _online(clients: Clients) -> Clients | None:
    """The clients, when the standard chain finds credentials; None for offline checks."""
    try:
        found = clients.session.get_credentials()
    except BotoCoreError:
        return None
    return clients if found is not None else None


class Preflight:
    """The checks of every stack of an assembly; `online`: the deployer's clients, or None."""

    def __init__(
        self,
        stacks: list[StackArtifact],
        online: Clients | None,
        deploy_region: str | None,
        chosen: frozenset[str] = frozenset(CHECKS),
    ) -> None:
        self.stacks = stacks
        self.online = online
        self.deploy_region = deploy_region
        self.chosen = chosen
        self._assumed: dict[str, Clients | Finding] = {}
        self._identity_failure: Finding | None = None

    @cached_property
    def deployer(self) -> str | None:
        """The deploying account (one STS call), or None offline or when STS fails (the failure
        kept as a row for findings())."""
        region = next((s.region for s in self.stacks if s.region), self.deploy_region)
        if self.online is None or region is None:
            return None
        try:
            identity = self.online.in_region(region).client("sts").get_caller_identity()
        except AWS_ERRORS as error:
            stack = next((s for s in self.stacks if s.region == region), self.stacks[0])
            fixing = (region, None, "check the credentials, then run preflight again")
            self._identity_failure = aws_failure(
                stack, "access", error, "GetCallerIdentity", fixing
            )
            return None
        account: str = identity["Account"]
        return account

    def findings(self) -> list[Finding]:
        findings = self._stack_findings()
        if self._identity_failure is not None:
            findings.insert(0, self._identity_failure)
        return findings

    def _stack_findings(self) -> list[Finding]:
        findings: list[Finding] = []
        bootstrapped: set[tuple[str | None, str]] = set()
        for stack in self.stacks:
            if "target" in self.chosen:
                findings.extend(check_target(stack, self.deploy_region))
            region = stack.region or self.deploy_region
            if region is None or not self.chosen - {"target"}:
                continue
            clients = self.clients_of(stack, region)
            if isinstance(clients, Finding):
                findings.append(clients)
                continue
            context = Context(clients, self.deployer, tuple(self.stacks), self._lookup_clients)
            if "bootstrap" in self.chosen and (stack.account, region) not in bootstrapped:
                bootstrapped.add((stack.account, region))
                findings.extend(check_bootstrap(stack, context, region))
            findings.extend(self._stack_checks(stack, context, region))
        return findings

    def _stack_checks(self, stack: StackArtifact, context: Context, region: str) -> list[Finding]:
        findings: list[Finding] = []
        if "layer" in self.chosen:
            findings.extend(check_layer(stack, context, region))
        if "concurrency" in self.chosen:
            findings.extend(check_concurrency(stack, context, region))
        if "events" in self.chosen:
            findings.extend(check_events(stack, context, region))
        if "organization" in self.chosen:
            findings.extend(check_organization(stack, context, region))
        return findings

    def clients_of(self, stack: StackArtifact, region: str) -> Clients | Finding | None:
        """The clients for the stack's account and region: the deployer's own, or its lookup
        role's in another account; a FAIL finding when that role cannot be assumed."""
        if self.online is None:
            return None
        if stack.account in (None, self.deployer) or stack.lookup_role_arn is None:
            return self.online.in_region(region)
        role = stack.lookup_role_arn
        if role not in self._assumed:
            self._assumed[role] = self._assume(stack, role, region)
        return self._assumed[role]

    def _lookup_clients(self, stack: StackArtifact) -> Clients | None:
        clients = self.clients_of(stack, stack.region or "")
        return clients if isinstance(clients, Clients) else None

    def _assume(self, stack: StackArtifact, role: str, region: str) -> Clients | Finding:
        assert self.online is not None
        try:
            sts = self.online.in_region(region).client("sts")
            credentials = sts.assume_role(RoleArn=role, RoleSessionName=SESSION_NAME)
        except AWS_ERRORS as error:
            context = Context(None, self.deployer, tuple(self.stacks))
            found = f"cannot assume the CDK lookup role {role}: {describe_aws_error(error)}"
            # Denied: the account's bootstrap does not trust the deploying account.
            fix = aws_error_fix(error, region, None, bootstrap_command(stack, context, region))
            return finding(stack, "access", FAIL, found, fix)
        keys = credentials["Credentials"]
        session = aws_session(
            region_name=region,
            credentials={
                "aws_access_key_id": keys["AccessKeyId"],
                "aws_secret_access_key": keys["SecretAccessKey"],
                "aws_session_token": keys["SessionToken"],
            },
        )
        return Clients(session)


def _show(ui: Ui, findings: list[Finding], output: str) -> None:
    if output == "json":
        ui.json([finding.__dict__ for finding in findings])
        return
    rows = [(f.stack, f.target, f.check, f.result, f.found, f.fix or "-") for f in findings]
    ui.table(COLUMNS, rows)
    ui.line()
    counts = Counter(finding.result for finding in findings)
    summary = ", ".join(f"{counts[result]} {result}" for result in (PASS, WARN, FAIL, SKIP))
    failed = counts[FAIL]
    ui.line(
        Text(
            f"Preflight: {len(findings)} checks: {summary}"
            + (": fix the failures before cdk deploy" if failed else ""),
            style="bold red" if failed else "green",
        )
    )
