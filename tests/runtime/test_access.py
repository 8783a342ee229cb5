"""The resource-policy evaluator (runtime/access.py): IAM's grammar, explicit Deny first."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eventyard.runtime.access import Caller, Decision, arn_account, crosses_accounts, evaluate, refusal_message

OWNER, OTHER = "111111111111", "222222222222"
QUEUE = f"arn:aws:sqs:us-east-1:{OWNER}:orders"
TOPIC = f"arn:aws:sns:us-east-1:{OTHER}:alerts"
BOB = Caller(OTHER, f"arn:aws:iam::{OTHER}:user/bob")
SNS = Caller.aws_service("sns.amazonaws.com", TOPIC, OTHER)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any = "*", action: Any = "sqs:SendMessage", resource: Any = QUEUE, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def deny(principal: Any = "*", action: Any = "sqs:*", resource: Any = QUEUE, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": resource, **extra}


# -- principals ------------------------------------------------------------------------------------
def test_no_policy_grants_nothing() -> None:
    assert evaluate(None, BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    assert evaluate("not json", BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    assert evaluate(policy(), BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED


def test_an_account_is_named_by_its_id_or_its_root_arn_and_covers_every_principal_in_it() -> None:
    for named in (OTHER, f"arn:aws:iam::{OTHER}:root", [f"arn:aws:iam::{OWNER}:root", OTHER], "*"):
        assert evaluate(policy(allow({"AWS": named})), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(allow({"AWS": OWNER})), BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED


def test_a_user_or_role_arn_names_only_that_principal_and_a_role_names_its_sessions() -> None:
    assert evaluate(policy(allow({"AWS": f"arn:aws:iam::{OTHER}:user/bob"})), BOB, "sqs:SendMessage",
                    QUEUE) is Decision.ALLOWED
    assert evaluate(policy(allow({"AWS": f"arn:aws:iam::{OTHER}:user/alice"})), BOB, "sqs:SendMessage",
                    QUEUE) is Decision.NOT_ALLOWED
    session = Caller(OTHER, f"arn:aws:sts::{OTHER}:assumed-role/worker/job-1")
    assert evaluate(policy(allow({"AWS": f"arn:aws:iam::{OTHER}:role/team/worker"})), session, "sqs:SendMessage",
                    QUEUE) is Decision.ALLOWED
    assert evaluate(policy(allow({"AWS": f"arn:aws:iam::{OTHER}:role/other"})), session, "sqs:SendMessage",
                    QUEUE) is Decision.NOT_ALLOWED


def test_a_service_principal_is_named_under_service_in_its_global_or_regional_form() -> None:
    assert evaluate(policy(allow({"Service": "sns.amazonaws.com"})), SNS, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(allow({"Service": ["events.amazonaws.com", "sns.us-east-1.amazonaws.com"]})), SNS,
                    "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(allow({"Service": "events.amazonaws.com"})), SNS, "sqs:SendMessage",
                    QUEUE) is Decision.NOT_ALLOWED
    # An account grant is not a grant to a service acting for a resource of that account.
    assert evaluate(policy(allow({"AWS": OTHER})), SNS, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    assert evaluate(policy(allow({"Service": "sns.amazonaws.com"})), BOB, "sqs:SendMessage",
                    QUEUE) is Decision.NOT_ALLOWED


def test_not_principal_applies_to_everyone_else() -> None:
    statement = {"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{OTHER}:user/bob"}, "Action": "*",
                 "Resource": "*"}
    carol = Caller(OTHER, f"arn:aws:iam::{OTHER}:user/carol")
    document = policy(allow({"AWS": OTHER}), statement)
    assert evaluate(document, BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(document, carol, "sqs:SendMessage", QUEUE) is Decision.DENIED


# -- actions and resources ---------------------------------------------------------------------------
def test_actions_match_without_case_and_with_wildcards() -> None:
    for action in ("SQS:SendMessage", "sqs:send*", "sqs:*", "*", ["sqs:ReceiveMessage", "sqs:Send?essage"]):
        assert evaluate(policy(allow(action=action)), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(allow(action="sqs:Receive*")), BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    not_action = {"Effect": "Allow", "Principal": "*", "NotAction": "sqs:DeleteQueue", "Resource": QUEUE}
    assert evaluate(policy(not_action), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(not_action), BOB, "sqs:DeleteQueue", QUEUE) is Decision.NOT_ALLOWED


def test_resources_match_with_wildcards_and_case() -> None:
    for resource in (QUEUE, "*", "arn:aws:sqs:*:111111111111:*", [TOPIC, "arn:aws:sqs:us-east-1:*:ord?rs"]):
        assert evaluate(policy(allow(resource=resource)), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(allow(resource=QUEUE.upper())), BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    not_resource = {"Effect": "Allow", "Principal": "*", "Action": "*", "NotResource": TOPIC}
    assert evaluate(policy(not_resource), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED


# -- conditions -----------------------------------------------------------------------------------------
def test_arn_like_source_arn_admits_only_the_named_source() -> None:
    only_alerts = allow({"Service": "sns.amazonaws.com"}, Condition={"ArnLike": {"aws:SourceArn": TOPIC}})
    assert evaluate(policy(only_alerts), SNS, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    other = Caller.aws_service("sns.amazonaws.com", f"arn:aws:sns:us-east-1:{OTHER}:spam", OTHER)
    assert evaluate(policy(only_alerts), other, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    # ArnLike matches each of the six parts on its own: "*" does not reach across a colon.
    wildcard = allow("*", Condition={"ArnEquals": {"AWS:SourceArn": f"arn:aws:sns:*:{OTHER}:*"}})
    assert evaluate(policy(wildcard), SNS, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    across = allow("*", Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*"}})
    assert evaluate(policy(across), SNS, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED


def test_string_conditions_and_their_missing_key_rules() -> None:
    by_account = allow("*", Condition={"StringEquals": {"aws:SourceAccount": OTHER}})
    assert evaluate(policy(by_account), SNS, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(by_account), BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED  # no such key
    # A negated operator holds when the key is missing; ...IfExists holds too; Null tests presence.
    negated = allow("*", Condition={"StringNotEquals": {"aws:SourceAccount": OWNER}})
    assert evaluate(policy(negated), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    if_exists = allow("*", Condition={"StringEqualsIfExists": {"aws:SourceAccount": OWNER}})
    assert evaluate(policy(if_exists), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(if_exists), SNS, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    absent = allow("*", Condition={"Null": {"aws:SourceArn": "true"}})
    assert evaluate(policy(absent), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(absent), SNS, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED


def test_listed_values_are_alternatives_and_operators_and_keys_must_all_hold() -> None:
    either = allow("*", Condition={"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:user/al*",
                                                                       "arn:aws:iam::*:user/b?b"]}})
    assert evaluate(policy(either), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    neither = allow("*", Condition={"StringNotLike": {"aws:PrincipalArn": ["*alice", "*bob"]}})
    assert evaluate(policy(neither), BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    both = allow("*", Condition={"StringEquals": {"aws:PrincipalAccount": OTHER},
                                 "Bool": {"aws:PrincipalIsAWSService": False}})
    assert evaluate(policy(both), BOB, "sqs:SendMessage", QUEUE) is Decision.ALLOWED
    assert evaluate(policy(both), SNS, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED
    unknown = allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    assert evaluate(policy(unknown), BOB, "sqs:SendMessage", QUEUE) is Decision.NOT_ALLOWED


def test_the_sns_default_policy_admits_no_other_account() -> None:
    default = policy(allow({"AWS": "*"}, action=["SNS:Publish", "SNS:Subscribe"], resource=TOPIC,
                           Condition={"StringEquals": {"AWS:SourceOwner": OTHER}}))
    outsider = Caller.account_root(OWNER)
    assert evaluate(default, outsider, "SNS:Publish", TOPIC) is Decision.NOT_ALLOWED


def test_an_explicit_deny_wins_over_any_allow() -> None:
    document = policy(allow({"AWS": OTHER}, action="sqs:*"), deny({"AWS": f"arn:aws:iam::{OTHER}:user/bob"},
                                                                   action="sqs:SendMessage"))
    assert evaluate(document, BOB, "sqs:SendMessage", QUEUE) is Decision.DENIED
    assert evaluate(document, BOB, "sqs:ReceiveMessage", QUEUE) is Decision.ALLOWED


def test_refusals_are_worded_as_aws_words_them() -> None:
    assert refusal_message(BOB, "sqs:sendmessage", QUEUE, Decision.NOT_ALLOWED) == (
        f"User: arn:aws:iam::{OTHER}:user/bob is not authorized to perform: sqs:sendmessage on resource: {QUEUE} "
        "because no resource-based policy allows the sqs:sendmessage action")
    assert refusal_message(SNS, "lambda:InvokeFunction", "arn:f", Decision.DENIED) == (
        "User: sns.amazonaws.com is not authorized to perform: lambda:InvokeFunction on resource: arn:f "
        "with an explicit deny in a resource-based policy")


def test_only_other_accounts_callers_are_checked() -> None:
    assert not crosses_accounts(None, OWNER)  # authentication off, or an in-process call
    assert not crosses_accounts(Caller.account_root(OWNER), OWNER)
    assert crosses_accounts(BOB, OWNER)
    assert arn_account(QUEUE) == OWNER
    assert arn_account("arn:aws:iam::aws:policy/ReadOnlyAccess") is None
    assert arn_account("orders") is None
    assert Caller.role_session(f"arn:aws:iam::{OTHER}:role/path/worker", "s") == Caller(
        OTHER, f"arn:aws:sts::{OTHER}:assumed-role/worker/s")


# -- invariants -------------------------------------------------------------------------------------------
ACCOUNTS = st.sampled_from([OWNER, OTHER])
PRINCIPALS = st.one_of(
    st.just("*"),
    st.builds(lambda a: {"AWS": a}, ACCOUNTS),
    st.builds(lambda a: {"AWS": f"arn:aws:iam::{a}:root"}, ACCOUNTS),
    st.builds(lambda a, n: {"AWS": f"arn:aws:iam::{a}:user/{n}"}, ACCOUNTS, st.sampled_from(["bob", "carol"])),
    st.just({"Service": "sns.amazonaws.com"}),
)
ACTIONS = st.sampled_from(["*", "sqs:*", "sqs:SendMessage", "SQS:send*", "sqs:ReceiveMessage"])
RESOURCES = st.sampled_from(["*", QUEUE, "arn:aws:sqs:*:*:ord*", TOPIC])
CONDITIONS = st.one_of(
    st.none(),
    st.builds(lambda a: {"StringEquals": {"aws:SourceAccount": a}}, ACCOUNTS),
    st.builds(lambda a: {"StringNotEquals": {"aws:PrincipalAccount": a}}, ACCOUNTS),
    st.just({"ArnLike": {"aws:SourceArn": TOPIC}}),
)


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    statement = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"])), "Principal": draw(PRINCIPALS),
                 "Action": draw(ACTIONS), "Resource": draw(RESOURCES)}
    condition = draw(CONDITIONS)
    if condition is not None:
        statement["Condition"] = condition
    return statement


CALLERS = st.sampled_from([BOB, SNS, Caller(OTHER, f"arn:aws:iam::{OTHER}:user/carol"), Caller.account_root(OWNER)])
REQUESTS = st.tuples(CALLERS, st.sampled_from(["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteQueue"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(statements(), max_size=6), statements(effect="Deny"), REQUESTS)
def test_adding_a_deny_statement_never_allows_what_was_refused(existing: list[dict[str, Any]],
                                                               added: dict[str, Any],
                                                               request: tuple[Caller, str]) -> None:
    caller, action = request
    before = evaluate(policy(*existing), caller, action, QUEUE)
    after = evaluate(policy(*existing, added), caller, action, QUEUE)
    if before is not Decision.ALLOWED:
        assert after is not Decision.ALLOWED
    if before is Decision.DENIED:
        assert after is Decision.DENIED


@settings(max_examples=300, deadline=None)
@given(st.lists(statements(), max_size=6), statements(effect="Allow"), REQUESTS)
def test_adding_an_allow_statement_never_takes_access_away(existing: list[dict[str, Any]],
                                                           added: dict[str, Any],
                                                           request: tuple[Caller, str]) -> None:
    caller, action = request
    before = evaluate(policy(*existing), caller, action, QUEUE)
    after = evaluate(policy(*existing, added), caller, action, QUEUE)
    if before is Decision.ALLOWED:
        assert after is Decision.ALLOWED
    if before is Decision.DENIED:
        assert after is Decision.DENIED  # an explicit deny still wins


@settings(max_examples=200, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=6), st.randoms(use_true_random=False), REQUESTS)
def test_the_order_of_statements_does_not_matter(existing: list[dict[str, Any]], rng: Any,
                                                 request: tuple[Caller, str]) -> None:
    caller, action = request
    shuffled = list(existing)
    rng.shuffle(shuffled)
    assert evaluate(policy(*existing), caller, action, QUEUE) is evaluate(policy(*shuffled), caller, action, QUEUE)
