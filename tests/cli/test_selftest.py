"""`mwalerts selftest`: every hop of a deployed stack proved with real calls, each passing and
failing, and the temporary queue and subscription removed whatever happened.

The stack is built in moto (its topic, key, dead-letter queues and self-test alarm) with two
stand-ins, because moto cannot do these hops itself:
  - Lambda: moto runs an invoked function in Docker, so Invoke goes to the real handler on the
    same in-process AWS (tests.function.local_lambda.LocalLambda);
  - CloudWatch's alarm actions: moto's SetAlarmState changes the state but notifies no topic, so
    `ActingCloudWatch` publishes the alarm's notification to its actions as CloudWatch would (on
    a change of state only);
  - SQS's RedriveAllowPolicy: moto (5.2) neither keeps nor returns it, so `RedriveAllowPolicies`
    adds each queue's to GetQueueAttributes' answer.
"""

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws.environment import LocalAws
from local_aws.scenario import ACCOUNT, REGION
from mwalerts import contract, handler
from mwalerts_cli import selftest
from mwalerts_cli.selftest_hops import Writer, admits
from tests.cli.harness import Cli
from tests.function.local_lambda import FUNCTION_NAME, ROLE_ARN, LocalLambda

STACK = "MaintenanceWindowAlerts"
REDRIVE: "RedrivePolicies" = {}  # queue URLs are unique per test: moto starts empty each time
ALARM = "MaintenanceWindowAlerts-SelfTest"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"


class Stack:
    """The outputs of a deployed stack, as CloudFormation's DescribeStacks gives them."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def describe_stacks(self, *, StackName: str) -> dict[str, Any]:  # noqa: N803
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
        return {"Stacks": [{"StackName": StackName, "Outputs": outputs}]}


class ActingCloudWatch:
    """moto's CloudWatch, plus what moto leaves out: an alarm's change of state notifies the
    topics of its actions (unless `deliver` is off: a policy that drops CloudWatch's publish).
    As in CloudWatch, setting the state an alarm is already in notifies nothing."""

    def __init__(self, *, deliver: bool = True) -> None:
        self._cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        self._sns = boto3.client("sns", region_name=REGION)
        self.deliver = deliver
        self.states: list[str] = []  # every state set
        self.notified: list[str] = []  # the states that notified (changes of state)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cloudwatch, name)

    def _alarm(self, name: str) -> dict[str, Any]:
        found = self._cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return found[0] if found else {}

    def set_alarm_state(self, **request: Any) -> Any:
        before = self._alarm(request["AlarmName"]).get("StateValue")
        response = self._cloudwatch.set_alarm_state(**request)
        self.states.append(request["StateValue"])
        if before == request["StateValue"]:
            return response
        self.notified.append(request["StateValue"])
        alarm = self._alarm(request["AlarmName"])
        actions = alarm["AlarmActions"] if request["StateValue"] == "ALARM" else alarm["OKActions"]
        for topic in actions if self.deliver else []:
            notification = {
                "AlarmName": request["AlarmName"],
                "NewStateValue": request["StateValue"],
                "NewStateReason": request["StateReason"],
            }
            self._sns.publish(TopicArn=topic, Message=json.dumps(notification))
        return response


# What each dead-letter queue's RedriveAllowPolicy is (moto does not keep it), by queue URL.
RedrivePolicies = dict[str, str]


class RedriveAllowPolicies:
    """moto's SQS, whose GetQueueAttributes also answers with the queue's RedriveAllowPolicy."""

    def __init__(self, policies: RedrivePolicies) -> None:
        self._sqs = boto3.client("sqs", region_name=REGION)
        self._policies = policies

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def get_queue_attributes(self, **request: Any) -> Any:
        response = self._sqs.get_queue_attributes(**request)
        policy = self._policies.get(request["QueueUrl"])
        if policy and "All" in request["AttributeNames"]:
            response["Attributes"]["RedriveAllowPolicy"] = policy
        return response


def key_policy(*, events: bool = True, account: bool = True) -> str:
    statements = []
    if account:
        statements.append({"Effect": "Allow", "Principal": {"AWS": ROOT_ARN}, "Action": "kms:*"})
    if events:
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def deployed_stack(
    aws: LocalAws,
    *,
    alarm: bool = True,
    key: str | None = None,
    rule_queue: dict[str, str] | None = None,
    redrive: RedrivePolicies | None = None,
) -> dict[str, str]:
    """The stack's resources in moto, and its outputs (the queues' RedriveAllowPolicy in
    `redrive`, or in REDRIVE)."""
    redrive = REDRIVE if redrive is None else redrive
    kms = boto3.client("kms", region_name=REGION)
    sqs: Any = boto3.client("sqs", region_name=REGION)
    key_arn = kms.create_key(Policy=key or key_policy())["KeyMetadata"]["Arn"]
    encrypted = {"KmsMasterKeyId": key_arn}
    deny_all = json.dumps({"redrivePermission": "denyAll"})
    events_may_send = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
            }
        ]
    }
    rule_attributes = {**encrypted, "Policy": json.dumps(events_may_send), **(rule_queue or {})}
    rule_redrive = rule_attributes.pop("RedriveAllowPolicy", deny_all)
    outputs = {
        contract.OUTPUT_TOPIC_ARN: aws.topic_arn,
        contract.OUTPUT_FUNCTION_NAME: FUNCTION_NAME,
        contract.OUTPUT_RULE_DLQ_URL: sqs.create_queue(
            QueueName="rule-dlq", Attributes=rule_attributes
        )["QueueUrl"],
        contract.OUTPUT_FUNCTION_DLQ_URL: sqs.create_queue(
            QueueName="function-dlq", Attributes=encrypted
        )["QueueUrl"],
    }
    redrive[outputs[contract.OUTPUT_RULE_DLQ_URL]] = rule_redrive
    redrive[outputs[contract.OUTPUT_FUNCTION_DLQ_URL]] = deny_all
    if alarm:
        boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
            AlarmName=ALARM,
            Namespace="MaintenanceWindows",
            MetricName=contract.METRIC_SELF_TESTS,
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1000,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[aws.topic_arn],
            OKActions=[],
        )
        outputs[contract.OUTPUT_SELF_TEST_ALARM_NAME] = ALARM
    return outputs


def selftest_run(
    aws: LocalAws,
    cli: Cli,
    outputs: dict[str, str],
    *options: str,
    cloudwatch: ActingCloudWatch | None = None,
    function: Any = None,
    sqs: RedriveAllowPolicies | None = None,
) -> tuple[int, str, str]:
    made = {
        "sqs": sqs or RedriveAllowPolicies(REDRIVE),
        "cloudformation": Stack(outputs),
        "cloudwatch": cloudwatch or ActingCloudWatch(),
        "lambda": function or LocalLambda(aws),
    }
    return cli("selftest", "--stack", STACK, "--wait", "1", *options, **made)


def rows(out: str) -> dict[str, tuple[str, str]]:
    """The table: hop -> (result, detail). (The in-process function's EMF lines come first.)"""
    lines = [line for line in out.splitlines() if not line.startswith("{")]
    header = lines[0]
    starts = [header.index(name) for name in ("hop", "result", "seconds", "detail")]
    table = {}
    for line in lines[2:]:
        if not line.strip():
            continue
        hop = line[: starts[1]].strip()
        table[hop] = (line[starts[1] : starts[2]].strip(), line[starts[3] :].strip())
    return table


def assert_cleaned_up(aws: LocalAws) -> None:
    """No temporary queue or subscription left: only the test's own subscriber remains."""
    sqs = boto3.client("sqs", region_name=REGION)
    queues = sqs.list_queues().get("QueueUrls", [])
    assert not [url for url in queues if "mwalerts-selftest" in url]
    subscriptions = aws.clients.sns.list_subscriptions_by_topic(TopicArn=aws.topic_arn)
    assert len(subscriptions["Subscriptions"]) == 1


def test_every_hop_passes_on_a_healthy_stack(aws, cli):
    cloudwatch = ActingCloudWatch()
    code, out, err = selftest_run(aws, cli, deployed_stack(aws), cloudwatch=cloudwatch)

    table = rows(out)
    assert code == 0, (out, err)
    assert list(table) == [
        "function: invoke",
        "function: alert topic",
        "function: idempotency table",
        "function: streak table",
        "function: metric",
        "delivery",
        "alarm -> topic",
        f"dead-letter queue: {contract.OUTPUT_RULE_DLQ_URL}",
        f"dead-letter queue: {contract.OUTPUT_FUNCTION_DLQ_URL}",
    ]
    assert {result for result, _ in table.values()} == {"ok"}
    assert "admit EventBridge" in table[f"dead-letter queue: {contract.OUTPUT_RULE_DLQ_URL}"][1]
    assert cloudwatch.states == ["OK", "ALARM", "OK"]
    assert "Removed the temporary queue and its subscription" in err
    assert "9 of 9 hops passed or skipped" in err
    assert_cleaned_up(aws)


class RecordingQueues(RedriveAllowPolicies):
    """RedriveAllowPolicies, keeping each CreateQueue request."""

    def __init__(self, policies: RedrivePolicies) -> None:
        super().__init__(policies)
        self.created: list[dict[str, Any]] = []

    def create_queue(self, **request: Any) -> Any:
        self.created.append(request)
        return self._sqs.create_queue(**request)


def test_the_temporary_queue_is_sse_sqs_and_admits_only_the_alert_topic(aws, cli, monkeypatch):
    seen: dict[Any, Any] = {}
    close = selftest.TemporarySubscription.close
    sqs = RecordingQueues(REDRIVE)

    def inspect_then_close(queue: selftest.TemporarySubscription) -> list[str]:
        attributes = queue.sqs.get_queue_attributes(
            QueueUrl=queue.queue_url or "", AttributeNames=["All"]
        )["Attributes"]
        seen.update(attributes)
        return close(queue)

    monkeypatch.setattr(selftest.TemporarySubscription, "close", inspect_then_close)
    selftest_run(aws, cli, deployed_stack(aws), sqs=sqs)

    assert seen["SqsManagedSseEnabled"] == "true"
    (statement,) = json.loads(seen["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": aws.topic_arn}}
    assert statement["Resource"] == seen["QueueArn"]  # the ARN computed before the queue existed
    # The policy comes with CreateQueue, so SNS can deliver from the queue's first moment.
    (created,) = sqs.created
    assert created["QueueName"].startswith("mwalerts-selftest-")
    assert created["Attributes"]["Policy"] == seen["Policy"]


def test_the_temporary_queue_skips_a_body_that_is_not_a_notification(aws):
    sqs = boto3.client("sqs", region_name=REGION)
    queue = selftest.TemporarySubscription(
        sqs, aws.clients.sns, aws.topic_arn, "mwalerts-selftest-x"
    )
    queue.open()
    try:
        sqs.send_message(QueueUrl=queue.queue_url or "", MessageBody="not JSON")

        assert queue.wait_for(lambda _envelope: True, 1) is None
        assert queue.received == []
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue.queue_url or "", AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"  # received, and deleted
    finally:
        assert queue.close() == []


def test_a_denied_publish_fails_the_function_hop_and_skips_delivery(aws, cli, monkeypatch):
    def denied(**_kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "KMSAccessDenied", "Message": "denied"}}, "Publish")

    monkeypatch.setattr(aws.clients.sns, "publish", denied)
    code, out, _ = selftest_run(aws, cli, deployed_stack(aws))

    table = rows(out)
    assert code == 1
    assert table["function: alert topic"] == ("FAILED", "KMSAccessDenied: denied")
    assert table["function: idempotency table"][0] == "ok"
    assert table["delivery"][0] == "skipped"
    assert_cleaned_up(aws)


def test_a_function_error_fails_the_invoke_hop(aws, cli, monkeypatch):
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("init failed")

    monkeypatch.setattr(handler, "handle_event", broken)
    code, out, _ = selftest_run(aws, cli, deployed_stack(aws))

    table = rows(out)
    assert code == 1
    assert table["function: invoke"] == (
        "FAILED",
        "the function failed (Unhandled): RuntimeError: init failed",
    )
    assert table["delivery"][0] == "skipped"
    assert_cleaned_up(aws)


def test_no_test_message_on_the_topic_fails_delivery(aws, cli):
    # The stack's output names a topic the function does not publish to: nothing arrives.
    outputs = deployed_stack(aws)
    other = aws.clients.sns.create_topic(Name="another-topic")["TopicArn"]
    outputs[contract.OUTPUT_TOPIC_ARN] = other

    code, out, _ = selftest_run(aws, cli, outputs)

    table = rows(out)
    assert code == 1
    assert table["delivery"][0] == "FAILED"
    assert table["delivery"][1].startswith("no test message within 1 s")
    assert table["alarm -> topic"][0] == "FAILED"  # its notification goes to the real topic


def test_an_alarm_notification_that_never_arrives_fails_the_hop_and_resets_the_alarm(aws, cli):
    cloudwatch = ActingCloudWatch(deliver=False)
    code, out, _ = selftest_run(aws, cli, deployed_stack(aws), cloudwatch=cloudwatch)

    result, detail = rows(out)["alarm -> topic"]
    assert code == 1
    assert result == "FAILED"
    assert detail.startswith(f"no notification from {ALARM} within 1 s")
    assert cloudwatch.states == ["OK", "ALARM", "OK"]
    assert_cleaned_up(aws)


def test_the_cloudwatch_stand_in_notifies_only_a_change_of_state(aws):
    deployed_stack(aws)
    cloudwatch = ActingCloudWatch()
    for state in ("ALARM", "ALARM", "OK", "OK", "ALARM"):
        cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue=state, StateReason="test")

    assert cloudwatch.notified == ["ALARM", "OK", "ALARM"]


def test_an_alarm_left_in_alarm_still_notifies_the_topic(aws, cli):
    # An interrupted run (or another at the same time) left the alarm in ALARM: setting ALARM
    # again would be no change of state, and CloudWatch would notify nothing.
    outputs = deployed_stack(aws)
    boto3.client("cloudwatch", region_name=REGION).set_alarm_state(
        AlarmName=ALARM, StateValue="ALARM", StateReason="mwalerts selftest (interrupted)"
    )
    cloudwatch = ActingCloudWatch()

    code, out, _ = selftest_run(aws, cli, outputs, cloudwatch=cloudwatch)

    assert code == 0, out
    assert rows(out)["alarm -> topic"] == ("ok", f"{ALARM} notified the topic; set back to OK")
    assert cloudwatch.states == ["OK", "ALARM", "OK"]
    assert cloudwatch.notified == ["OK", "ALARM", "OK"]
    (state,) = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    assert state["StateValue"] == "OK"


def test_the_alarm_is_set_to_ok_first_with_a_reason_naming_the_run(aws, cli):
    reasons: list[str] = []

    class Recording(ActingCloudWatch):
        def set_alarm_state(self, **request: Any) -> Any:
            reasons.append(request["StateReason"])
            return super().set_alarm_state(**request)

    selftest_run(aws, cli, deployed_stack(aws), cloudwatch=Recording())

    test_id = reasons[0].removeprefix("mwalerts selftest ").split(":")[0]
    assert len(test_id) >= 16
    assert all(reason.startswith(f"mwalerts selftest {test_id}: ") for reason in reasons)


def test_a_missing_alarm_fails_the_hop(aws, cli):
    outputs = deployed_stack(aws, alarm=False)
    outputs[contract.OUTPUT_SELF_TEST_ALARM_NAME] = "no-such-alarm"

    code, out, _ = selftest_run(aws, cli, outputs)

    result, detail = rows(out)["alarm -> topic"]
    assert code == 1
    assert result == "FAILED"
    assert detail.startswith("ResourceNotFound")


def test_a_stack_without_the_alarm_output_skips_the_hop(aws, cli):
    code, out, _ = selftest_run(aws, cli, deployed_stack(aws, alarm=False))

    result, detail = rows(out)["alarm -> topic"]
    assert code == 0
    assert result == "skipped"
    assert f"no {contract.OUTPUT_SELF_TEST_ALARM_NAME} output" in detail


def test_an_alarm_that_cannot_be_reset_fails_the_hop(aws, cli):
    class NoReset(ActingCloudWatch):
        def set_alarm_state(self, **request: Any) -> Any:
            if request["StateValue"] == "OK" and "ALARM" in self.states:  # the reset only
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "Set")
            return super().set_alarm_state(**request)

    code, out, _ = selftest_run(aws, cli, deployed_stack(aws), cloudwatch=NoReset())

    result, detail = rows(out)["alarm -> topic"]
    assert (code, result) == (1, "FAILED")
    assert detail == "the notification arrived; could not set it back to OK: AccessDenied: no"


@pytest.mark.parametrize(
    ("stack", "problem"),
    [
        (
            {"rule_queue": {"RedriveAllowPolicy": json.dumps({"redrivePermission": "allowAll"})}},
            "its RedriveAllowPolicy is not denyAll",
        ),
        ({"rule_queue": {"Policy": json.dumps({"Statement": []})}}, "its queue policy does not"),
        ({"key": key_policy(events=False)}, "its key's policy does not admit EventBridge"),
    ],
)
def test_a_misconfigured_rule_dead_letter_queue_fails_its_hop(aws, cli, stack, problem):
    code, out, _ = selftest_run(aws, cli, deployed_stack(aws, **stack))

    result, detail = rows(out)[f"dead-letter queue: {contract.OUTPUT_RULE_DLQ_URL}"]
    assert (code, result) == (1, "FAILED")
    assert problem in detail


def test_a_key_that_does_not_admit_the_function_role_fails_the_failure_queue(aws, cli):
    outputs = deployed_stack(aws, key=key_policy(account=False))

    code, out, _ = selftest_run(aws, cli, outputs)

    result, detail = rows(out)[f"dead-letter queue: {contract.OUTPUT_FUNCTION_DLQ_URL}"]
    assert (code, result) == (1, "FAILED")
    assert "does not admit the function role" in detail


def test_a_key_naming_the_function_role_admits_it(aws, cli):
    named = json.loads(key_policy(account=False))
    named["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": [ROLE_ARN]},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        }
    )
    code, out, _ = selftest_run(aws, cli, deployed_stack(aws, key=json.dumps(named)))

    assert code == 0
    assert rows(out)[f"dead-letter queue: {contract.OUTPUT_FUNCTION_DLQ_URL}"][0] == "ok"


def test_a_disabled_key_fails_the_dead_letter_queues(aws, cli):
    outputs = deployed_stack(aws)
    sqs = boto3.client("sqs", region_name=REGION)
    key = sqs.get_queue_attributes(
        QueueUrl=outputs[contract.OUTPUT_RULE_DLQ_URL], AttributeNames=["KmsMasterKeyId"]
    )["Attributes"]["KmsMasterKeyId"]
    boto3.client("kms", region_name=REGION).disable_key(KeyId=key.rsplit("/", 1)[-1])

    code, out, _ = selftest_run(aws, cli, outputs)

    assert code == 1
    for output in contract.DEAD_LETTER_QUEUE_OUTPUTS:
        result, detail = rows(out)[f"dead-letter queue: {output}"]
        assert result == "FAILED"
        assert detail.endswith(" is Disabled")


@pytest.mark.parametrize(
    ("principal", "admitted"),
    # IAM's grammar: "*" or a mapping; anything else (a list here) names no one.
    [("*", True), (["*"], False), ({"AWS": ACCOUNT}, True), ({"AWS": "111111111111"}, False)],
)
def test_a_policy_admits_a_role_by_any_principal_or_its_account(principal, admitted):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sqs:*"}
    role = Writer("the function role", role_arn=ROLE_ARN)

    assert admits([statement], role, ("sqs:SendMessage",)) is admitted


def test_an_unencrypted_dead_letter_queue_fails_its_hop(aws, cli):
    outputs = deployed_stack(aws)
    sqs = boto3.client("sqs", region_name=REGION)
    outputs[contract.OUTPUT_FUNCTION_DLQ_URL] = sqs.create_queue(QueueName="plain")["QueueUrl"]

    code, out, _ = selftest_run(aws, cli, outputs)

    detail = rows(out)[f"dead-letter queue: {contract.OUTPUT_FUNCTION_DLQ_URL}"][1]
    assert code == 1
    assert "not encrypted with a KMS key" in detail
    assert "RedriveAllowPolicy is not denyAll" in detail


def test_a_dead_letter_queue_that_cannot_be_read_fails_its_hop(aws, cli):
    outputs = deployed_stack(aws)
    outputs[contract.OUTPUT_RULE_DLQ_URL] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/gone"

    code, out, _ = selftest_run(aws, cli, outputs)

    assert code == 1
    assert rows(out)[f"dead-letter queue: {contract.OUTPUT_RULE_DLQ_URL}"][0] == "FAILED"


def test_the_dead_letter_queues_are_only_read(aws, cli):
    outputs = deployed_stack(aws)
    selftest_run(aws, cli, outputs)

    sqs = boto3.client("sqs", region_name=REGION)
    for key in contract.DEAD_LETTER_QUEUE_OUTPUTS:
        attributes = sqs.get_queue_attributes(
            QueueUrl=outputs[key], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"


def test_an_interrupted_run_still_removes_its_queue_and_subscription(aws, cli):
    class Interrupted:
        def invoke(self, **_kwargs: Any) -> Any:
            raise KeyboardInterrupt

    code, _, err = selftest_run(aws, cli, deployed_stack(aws), function=Interrupted())

    assert code == 130
    assert "interrupted" in err
    assert_cleaned_up(aws)


def test_what_cannot_be_removed_is_named_and_fails_the_run(aws, cli, monkeypatch):
    def refused(**_kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "Unsubscribe")

    monkeypatch.setattr(aws.clients.sns, "unsubscribe", refused)
    code, _, err = selftest_run(aws, cli, deployed_stack(aws))

    assert code == 1
    assert "could not remove the temporary subscription arn:aws:sns:" in err
    assert "AccessDenied: no" in err


def test_a_queue_that_cannot_be_deleted_is_named_and_fails_the_run(aws, cli):
    class NoDelete(RedriveAllowPolicies):
        def delete_queue(self, **_kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DeleteQueue")

    code, out, err = selftest_run(aws, cli, deployed_stack(aws), sqs=NoDelete(REDRIVE))

    assert code == 1
    assert {result for result, _ in rows(out).values()} == {"ok"}  # every hop passed
    assert "could not remove the temporary queue https://" in err
    assert "mwalerts-selftest-" in err
    assert "AccessDenied: no" in err
    assert "Removed the temporary queue" not in err


def test_a_stack_without_the_needed_outputs_stops_with_exit_2(aws, cli):
    code, _, err = selftest_run(aws, cli, {contract.OUTPUT_TOPIC_ARN: aws.topic_arn})

    assert code == 2
    assert f"has no {contract.OUTPUT_FUNCTION_NAME}" in err


@pytest.mark.parametrize("wait", ["0", "abc", "901"])
def test_a_bad_wait_stops_with_exit_2(aws, cli, capsys, wait):
    with pytest.raises(SystemExit) as exited:
        cli("selftest", "--wait", wait)

    assert exited.value.code == 2
    assert "expected a whole number of seconds from 1 to 900" in capsys.readouterr().err


def test_without_stack_it_finds_the_stack_in_the_account_and_region(aws, cli):
    made = {
        "sqs": RedriveAllowPolicies(REDRIVE),
        "cloudformation": Stack(deployed_stack(aws)),
        "cloudwatch": ActingCloudWatch(),
        "lambda": LocalLambda(aws),
    }
    code, _, err = cli("selftest", "--wait", "1", **made)

    assert code == 0
    assert f"Stack {STACK} (found in account {ACCOUNT} / region {REGION}" in err
