"""The self-test event: the function proves its hops (the alert topic, the idempotency table, a
metric), each reported with its result, and the shared invoke-and-check code reads the answer."""

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from local_aws.environment import STREAK_TABLE_NAME, LocalAws
from mwalerts import contract, handler
from mwalerts.errors import InvalidEventError
from mwalerts.events import SelfTestEvent, parse_event, parse_invocation_event
from mwalerts.self_test import ITEM_KEY_PREFIX, timed_hop
from mwalerts.self_test_check import (
    INVOKE_HOP,
    parse_answer,
    run_self_test,
    self_test_event,
)
from tests.function.local_lambda import FUNCTION_NAME, LocalLambda
from tests.support import emf_documents, log_records

TEST_ID = "0f8c4a2e9b7d4c1fa3e5d6b7c8091a2b"
FUNCTION_HOPS = ["alert topic", "idempotency table", "streak table", "metric"]


def denied(operation: str, code: str = "AccessDeniedException") -> Any:
    """A client method that fails as AWS does when a policy refuses the call."""

    def call(**_kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": code, "Message": f"not authorized to perform {operation}"}},
            operation,
        )

    return call


def run(aws: LocalAws, context, capsys, event: dict[str, Any]) -> tuple[dict[str, Any], str]:
    result = handler.handler(event, context, clients=aws.clients)
    return result, capsys.readouterr().out


def test_a_self_test_proves_each_hop_and_answers_with_its_result(aws, context, capsys):
    result, printed = run(aws, context, capsys, self_test_event(TEST_ID))

    assert result["action"] == "self-test"
    assert result["id"] == TEST_ID
    assert result["ok"] is True
    assert [hop["hop"] for hop in result["hops"]] == FUNCTION_HOPS
    assert all(hop["ok"] and hop["seconds"] >= 0 and hop["detail"] for hop in result["hops"])
    assert set(result) == {"action", "id", "ok", "hops"}
    assert set(result["hops"][0]) == {"hop", "ok", "seconds", "detail"}
    (record,) = [r for r in log_records(printed) if r["message"].startswith("Self-test")]
    assert record["message"] == "Self-test passed"
    assert record["selfTestId"] == TEST_ID


def test_the_test_message_is_marked_and_says_how_to_filter_it_out(aws, context, capsys):
    run(aws, context, capsys, self_test_event(TEST_ID))

    (published,) = aws.published()
    assert published["subject"].startswith("[Self-test]")
    assert len(published["subject"]) < 100
    assert published["attributes"][contract.ATTRIBUTE_SELF_TEST] == {
        "Type": "String",
        "Value": "true",
    }
    body = published["message"]
    assert "test message from maintenance-window-alerts" in body
    assert TEST_ID in body
    assert FUNCTION_NAME in body
    assert json.dumps(contract.SELF_TEST_FILTER_POLICY) in body


def test_a_subscription_with_the_filter_policy_gets_no_test_message(aws, context, capsys):
    # Only the test message, which carries the attribute, is checked here. moto differs from SNS
    # for messages without attributes (alarm notifications): it passes them through this policy,
    # SNS drops them ("exists": false needs at least one attribute), so no test here may rely on
    # that; see tests/infra/test_self_test.py, the e-mail subscriptions.
    (subscription,) = aws.clients.sns.list_subscriptions_by_topic(TopicArn=aws.topic_arn)[
        "Subscriptions"
    ]
    aws.clients.sns.set_subscription_attributes(
        SubscriptionArn=subscription["SubscriptionArn"],
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps(contract.SELF_TEST_FILTER_POLICY),
    )

    run(aws, context, capsys, self_test_event(TEST_ID))

    assert len(aws.published()) == 1
    assert aws.sqs_messages() == []


def test_the_table_item_is_written_with_a_short_ttl_and_deleted(aws, context, capsys, monkeypatch):
    written: list[dict[str, Any]] = []
    put_item = aws.clients.dynamodb.put_item

    def recording_put(**kwargs: Any) -> Any:
        written.append(kwargs["Item"])
        return put_item(**kwargs)

    monkeypatch.setattr(aws.clients.dynamodb, "put_item", recording_put)
    run(aws, context, capsys, self_test_event(TEST_ID))

    (item,) = written
    assert item[contract.IDEMPOTENCY_PARTITION_KEY] == {"S": f"{ITEM_KEY_PREFIX}{TEST_ID}"}
    assert int(item[contract.IDEMPOTENCY_TTL_ATTRIBUTE]["N"]) > 0
    table = aws.clients.dynamodb.scan(TableName="maintenance-window-alerts-idempotency")
    assert table["Items"] == []


def test_the_metric_is_one_self_test_without_dimensions(aws, context, capsys):
    _, printed = run(aws, context, capsys, self_test_event(TEST_ID))

    (document,) = emf_documents(printed)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "MaintenanceWindows"
    assert [metric["Name"] for metric in directive["Metrics"]] == [contract.METRIC_SELF_TESTS]
    assert directive["Dimensions"] == [[]]
    assert document[contract.METRIC_SELF_TESTS] == [1.0]
    assert document["selfTestId"] == TEST_ID


def test_a_denied_publish_fails_its_hop_and_the_others_still_run(aws, context, capsys, monkeypatch):
    monkeypatch.setattr(aws.clients.sns, "publish", denied("Publish", "KMSAccessDenied"))
    result, printed = run(aws, context, capsys, self_test_event(TEST_ID))

    assert result["ok"] is False
    topic, table, streaks, metric = result["hops"]
    assert topic["ok"] is False
    assert topic["detail"].startswith("KMSAccessDenied: not authorized to perform Publish")
    assert table["ok"] is True
    assert streaks["ok"] is True
    assert metric["ok"] is True
    (record,) = [r for r in log_records(printed) if r["message"].startswith("Self-test")]
    assert record["message"] == "Self-test failed"
    assert record["level"] == "ERROR"


def test_a_denied_table_write_fails_its_hop(aws, context, capsys, monkeypatch):
    monkeypatch.setattr(aws.clients.dynamodb, "put_item", denied("PutItem"))
    result, _ = run(aws, context, capsys, self_test_event(TEST_ID))

    assert [hop["ok"] for hop in result["hops"]] == [True, False, True, True]
    assert result["hops"][1]["detail"].startswith("AccessDeniedException:")


def test_a_streak_table_the_role_cannot_query_fails_its_hop(aws, context, capsys, monkeypatch):
    monkeypatch.setattr(aws.clients.dynamodb, "query", denied("Query"))
    result, _ = run(aws, context, capsys, self_test_event(TEST_ID))

    assert [hop["ok"] for hop in result["hops"]] == [True, True, False, True]
    assert result["hops"][2]["detail"].startswith("AccessDeniedException:")


def test_the_streak_table_hop_leaves_no_item(aws, context, capsys):
    result, _ = run(aws, context, capsys, self_test_event(TEST_ID))

    assert result["hops"][2]["detail"].endswith(f"in {STREAK_TABLE_NAME}")
    assert aws.clients.dynamodb.scan(TableName=STREAK_TABLE_NAME)["Items"] == []


def test_a_self_test_writes_no_exactly_once_record_and_no_alert_metrics(aws, context, capsys):
    _, printed = run(aws, context, capsys, self_test_event(TEST_ID))

    names = {
        metric["Name"]
        for document in emf_documents(printed)
        for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    assert names == {contract.METRIC_SELF_TESTS}
    assert (
        aws.clients.dynamodb.scan(TableName="maintenance-window-alerts-idempotency")["Items"] == []
    )


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({**self_test_event("x"), "detail": {"id": "a b"}}, "detail.id: String should match"),
        ({**self_test_event("x"), "detail": {"id": "a" * 65}}, "detail.id"),
        ({**self_test_event("x"), "detail": {}}, "detail.id: Field required"),
        ({**self_test_event("x"), "detail-type": "Other"}, "detail-type"),
    ],
)
def test_an_invalid_self_test_event_is_rejected_like_any_other(
    aws, context, capsys, event, problem
):
    with pytest.raises(InvalidEventError, match="invalid self-test event") as raised:
        handler.handler(event, context, clients=aws.clients)

    assert problem in str(raised.value)
    assert aws.published() == []
    printed = capsys.readouterr().out
    (document,) = emf_documents(printed)
    assert document[contract.METRIC_INVALID_EVENTS] == [1.0]


def test_the_self_test_model_takes_the_contract_names():
    event = parse_invocation_event(self_test_event(TEST_ID))

    assert isinstance(event, SelfTestEvent)
    assert event.source == contract.SELF_TEST_SOURCE
    assert event.detail_type == contract.SELF_TEST_DETAIL_TYPE


def test_eventbridge_parsing_alone_does_not_take_the_self_test_event():
    # replay and the other commands read saved EventBridge events: a self-test is not one.
    with pytest.raises(InvalidEventError, match="maintenance-window execution"):
        parse_event(self_test_event(TEST_ID))


def test_a_hop_that_cannot_reach_aws_says_so():
    def unreachable() -> str:
        raise EndpointConnectionError(endpoint_url="https://sns.eu-west-1.amazonaws.com")

    hop = timed_hop("alert topic", unreachable)

    assert hop.ok is False
    assert hop.detail.startswith("EndpointConnectionError: Could not connect")


# The shared invoke-and-check code (the Trigger and `mwalerts selftest` run it).


def test_invoke_and_check_returns_the_invoke_then_the_functions_hops(aws):
    local = LocalLambda(aws)
    check = run_self_test(local, FUNCTION_NAME, TEST_ID)

    assert check.ok
    assert [hop.hop for hop in check.hops] == [INVOKE_HOP, *FUNCTION_HOPS]
    (invocation,) = local.invocations
    assert invocation["InvocationType"] == "RequestResponse"
    assert invocation["event"] == self_test_event(TEST_ID)
    assert check.summary().startswith(f"Self-test {TEST_ID} of {FUNCTION_NAME} passed: invoke ")


def test_each_run_has_a_fresh_id(aws):
    local = LocalLambda(aws)
    first, second = run_self_test(local, FUNCTION_NAME), run_self_test(local, FUNCTION_NAME)

    assert first.test_id != second.test_id
    assert [i["event"]["detail"]["id"] for i in local.invocations] == [
        first.test_id,
        second.test_id,
    ]


def test_a_failed_hop_names_itself_and_its_error_in_the_summary(aws, monkeypatch):
    monkeypatch.setattr(aws.clients.sns, "publish", denied("Publish", "KMSAccessDenied"))
    check = run_self_test(LocalLambda(aws), FUNCTION_NAME, TEST_ID)

    assert not check.ok
    assert [hop.hop for hop in check.failed] == ["alert topic"]
    assert check.summary() == (
        "Self-test failed: alert topic: KMSAccessDenied: not authorized to perform Publish"
    )


def test_a_function_error_is_a_failed_invoke(aws, monkeypatch):
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("ALERT_TOPIC_ARN")

    monkeypatch.setattr(handler, "handle_event", broken)
    check = run_self_test(LocalLambda(aws), FUNCTION_NAME, TEST_ID)

    (hop,) = check.hops
    assert (hop.hop, hop.ok) == (INVOKE_HOP, False)
    assert hop.detail == "the function failed (Unhandled): KeyError: 'ALERT_TOPIC_ARN'"
    assert check.summary().startswith("Self-test failed: invoke: the function failed")


def test_an_invoke_aws_refuses_is_a_failed_invoke():
    class Refusing:
        def invoke(self, **_kwargs: Any) -> Any:
            denied("Invoke", "ResourceNotFoundException")()

    check = run_self_test(Refusing(), "gone", TEST_ID)

    (hop,) = check.hops
    assert not hop.ok
    assert hop.detail.startswith("ResourceNotFoundException:")


class Answering:
    """A function that answers with `payload`."""

    def __init__(self, payload: str) -> None:
        self.payload = payload

    def invoke(self, **_kwargs: Any) -> dict[str, Any]:
        return {"StatusCode": 200, "Payload": io.BytesIO(self.payload.encode())}


def answer(**overrides: Any) -> str:
    hop = {"hop": "alert topic", "ok": True, "seconds": 0.1, "detail": "published"}
    return json.dumps(
        {"action": "self-test", "id": TEST_ID, "ok": True, "hops": [hop], **overrides}
    )


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("null", "no self-test action"),
        ("not json", "not JSON"),
        (json.dumps({"action": "alerted"}), "no self-test action"),
        (answer(id="another"), "it answers test 'another'"),
        (answer(hops=[]), "it lists no hops"),
        (answer(hops=[{"hop": "x"}]), "a hop without hop, ok, seconds, detail"),
        (
            answer(hops=[{"hop": "x", "ok": True, "seconds": "soon", "detail": ""}]),
            "seconds are not a number",
        ),
    ],
)
def test_an_answer_that_is_not_this_tests_result_is_a_failure(payload, problem):
    check = run_self_test(Answering(payload), FUNCTION_NAME, TEST_ID)

    (hop,) = check.hops
    assert not hop.ok
    assert "is not this self-test's result" in hop.detail
    assert problem in hop.detail


def test_a_function_error_without_a_document_is_still_reported():
    class Crashing(Answering):
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            return {**super().invoke(**kwargs), "FunctionError": "Unhandled"}

    assert run_self_test(Crashing(""), "f", TEST_ID).hops[0].detail.endswith("no error document")
    assert run_self_test(Crashing("[1]"), "f", TEST_ID).hops[0].detail.endswith("[1]")


def test_a_hop_the_function_reports_failed_fails_the_check():
    failed = {"hop": "metric", "ok": False, "seconds": 0.0, "detail": "x"}
    hops = parse_answer(answer(hops=[failed]), TEST_ID)

    assert hops[0].ok is False
