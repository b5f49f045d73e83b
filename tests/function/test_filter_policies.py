"""The subscription filter policies of docs/alerts.md route alerts as it says (SNS filter
policies, applied by moto's SNS to the alert's message attributes)."""

import json
from datetime import UTC, datetime
from typing import Any

import boto3

from local_aws.environment import LambdaContext, LocalAws
from local_aws.scenario import TaskPlan, seed_window_execution
from mwalerts import handler

# The examples in docs/alerts.md, "Message attributes and subscription filter policies".
PRODUCTION_ONLY = {"windowName": [{"prefix": "prod-"}]}
TIMEOUTS_ONLY = {"status": ["TIMED_OUT"]}
TEN_OR_MORE_FAILURES = {"failedInvocations": [{"numeric": [">=", 10]}]}


def subscriber(aws: LocalAws, name: str, policy: dict[str, Any]) -> str:
    sqs = boto3.client("sqs", region_name="us-east-2")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.clients.sns.subscribe(
        TopicArn=aws.topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps(policy)},
    )
    return url


def received(url: str) -> list[str]:
    """The subjects a queue received."""
    sqs = boto3.client("sqs", region_name="us-east-2")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(json.loads(m["Body"])["Subject"] for m in messages)


def test_filter_policies_route_alerts_by_window_name_status_and_failure_count(aws):
    production = subscriber(aws, "production-only", PRODUCTION_ONLY)
    timeouts = subscriber(aws, "timeouts-only", TIMEOUTS_ONLY)
    big = subscriber(aws, "ten-or-more", TEN_OR_MORE_FAILURES)
    runs = {
        "prod failed": seed_window_execution(  # named prod-web-nightly-patching
            aws.ssm, [TaskPlan({"SUCCESS": 5, "FAILED": 12})], seed=1
        ),
        "dev timed out": seed_window_execution(
            aws.ssm,
            [TaskPlan({"SUCCESS": 5, "TIMED_OUT": 2})],
            seed=2,
            status="TIMED_OUT",
            window_id="mw-00000000000000de1",
        ),
    }
    for execution in runs.values():
        handler.handler(execution.event(), LambdaContext(), clients=aws.clients)

    prod_subject, dev_subject = (p["subject"] for p in aws.published())
    assert prod_subject.startswith("[FAILED] prod-web-nightly-patching")
    assert dev_subject.startswith("[TIMED_OUT] patching-0de1")
    assert received(production) == [prod_subject]
    assert received(timeouts) == [dev_subject]
    assert received(big) == [prod_subject]


# docs/alerts.md, "New or still failing, and the resolved notice".
NO_RESOLVED_NOTICES = {"status": [{"anything-but": ["RESOLVED"]}]}
NEW_FAILURES_ONLY = {"newFailures": [{"numeric": [">", 0]}]}


def test_filter_policies_drop_resolved_notices_or_keep_only_new_failures(aws):
    no_notices = subscriber(aws, "no-resolved-notices", NO_RESOLVED_NOTICES)
    new_only = subscriber(aws, "new-failures-only", NEW_FAILURES_ONLY)
    fleet = ["i-00000000000000001", "i-00000000000000002"]
    for night, failing in enumerate([{fleet[0]}, {fleet[0]}, set()], start=1):
        plan = TaskPlan.fleet({i: "FAILED" if i in failing else "SUCCESS" for i in fleet})
        execution = seed_window_execution(
            aws.ssm, [plan], seed=night, start_time=datetime(2026, 11, night, 2, tzinfo=UTC)
        )
        handler.handler(execution.event(), LambdaContext(), clients=aws.clients)

    first, second, resolved = (p["subject"] for p in aws.published())
    assert second.endswith("; all still failing")
    assert resolved.startswith("[RESOLVED]")
    assert received(no_notices) == sorted([first, second])
    assert received(new_only) == [first]
