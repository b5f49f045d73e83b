"""Organization mode's sweep fan-out: the schedule enqueues one message per covered
account-region, and the alert function works through them, a bounded number at once.

Thousands of account-regions do not fit one invocation's 5 minutes; an SQS queue, consumed by
the same function through an event source mapping, spreads them over workers (at most
sweepConcurrency at once) and retries a failed place alone (partial batch responses), until its
third receive moves it to a dead-letter queue whose alarm pages the on-call.
"""

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from maintenance_window_alerts import compliance, constants
from maintenance_window_alerts.health import DeadLetterQueue
from mwalerts import contract

# The AWS Lambda Developer Guide: "set the source queue's visibility timeout to at least six
# times the timeout that you configure on your function", so that a batch Lambda retries after
# throttling is not received again while it still runs.
VISIBILITY_TIMEOUT = Duration.seconds(6 * contract.FUNCTION_TIMEOUT_SECONDS)
# A place is tried three times (one visibility timeout apart) before it is kept aside.
MAX_RECEIVE_COUNT = 3
# Lambda's maximum for a standard queue without a batching window, and few enough that one
# worker's ten places fit its timeout.
BATCH_SIZE = 10
DEAD_LETTERS = (
    "account-regions the sweep could not list after 3 attempts (their reader role missing or "
    "denied, as in a closed or suspended account, SSM failing, or the function failing on them)"
)
# What the on-call does about them: no redrive, as the next sweeps cover every account-region
# again (each looks back over several intervals).
DEAD_LETTERS_ACTION = (
    "No redrive is needed: once the cause is fixed, the next sweeps cover these account-regions "
    "again, looking back over several intervals; then purge the queue (its URL: the stack output "
    f"{contract.OUTPUT_SWEEP_DLQ_URL})."
)


@dataclass(frozen=True)
class SweepQueue:
    queue: sqs.Queue
    dead_letter_queue: DeadLetterQueue


def sweep_queue(scope: Construct, key: kms.IKey) -> SweepQueue:
    """The queue of one message per account-region to sweep, and its dead-letter queue: both
    encrypted with `key` (the message key), TLS only."""
    dead_letters = sqs.Queue(
        scope,
        constants.SWEEP_DLQ_ID,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),  # the maximum: time to notice
        # Any queue of this account may name it (SQS's default, stated): naming the sweep queue
        # alone would need its ARN, and the sweep queue names this one: a circular reference.
        redrive_allow_policy=sqs.RedriveAllowPolicy(
            redrive_permission=sqs.RedrivePermission.ALLOW_ALL
        ),
    )
    compliance.acknowledge_dead_letter_queue(dead_letters, holds=DEAD_LETTERS, deny_all=False)
    queue = sqs.Queue(
        scope,
        constants.SWEEP_QUEUE_ID,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        visibility_timeout=VISIBILITY_TIMEOUT,
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dead_letters, max_receive_count=MAX_RECEIVE_COUNT
        ),
    )
    return SweepQueue(
        queue,
        DeadLetterQueue(
            dead_letters,
            constants.SWEEP_DLQ_ALARM_ID,
            "sweep dead-letter queue",
            DEAD_LETTERS,
            contract.OUTPUT_SWEEP_DLQ_URL,
            action=DEAD_LETTERS_ACTION,
        ),
    )


def sweep_through(function: lambda_.Function, sweep: SweepQueue, *, concurrency: int) -> None:
    """Let `function` send to the queue (the schedule's fan-out) and consume it: at most
    `concurrency` instances at once (the event source mapping's MaximumConcurrency), each batch
    answered with the places that failed (ReportBatchItemFailures), which alone come back."""
    # SendMessage alone: what sending needs of the key (the message key) the function already
    # has (security.grant_function); queue.grant_send_messages would add kms:Encrypt and
    # kms:ReEncrypt* as well.
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["sqs:SendMessage"],  # SendMessageBatch too
            resources=[sweep.queue.queue_arn],
        )
    )
    function.add_event_source(
        sources.SqsEventSource(
            sweep.queue,
            batch_size=BATCH_SIZE,
            max_concurrency=concurrency,
            report_batch_item_failures=True,
        )
    )
    (mapping,) = (c for c in function.node.children if isinstance(c, lambda_.EventSourceMapping))
    compliance.acknowledge_sweep_event_source(mapping)
