"""Policy documents: the checks IAM makes before it stores one, the URL-encoded form its API
answers with, and reading a role's trust policy (who may assume it).

IAM keeps the text as given and returns it URL-encoded (RFC 3986); SDKs decode it again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from eventyard.runtime.access import policy_strings
from eventyard.services.iam.errors import malformed_policy

VERSIONS = {"2008-10-17", "2012-10-17"}
_ASSUME_ACTIONS = {"sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml", "sts:tagsession",
                   "sts:setsourceidentity", "sts:setcontext", "sts:*", "*"}


def wire(document: str) -> str:
    """The form IAM answers a document in."""
    return quote(document, safe="-_.~")


def _parse(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise malformed_policy("This policy contains invalid Json") from None
    if not isinstance(document, dict):
        raise malformed_policy("This policy contains invalid Json")
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise malformed_policy("The policy failed legacy parsing")
    if "Statement" not in document:
        raise malformed_policy("Syntax errors in policy.")
    return document


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement")
    items: list[Any] = found if isinstance(found, list) else [found]
    if not items or not all(isinstance(item, dict) for item in items):
        raise malformed_policy("Syntax errors in policy.")
    return items


def _check_effect(statement: dict[str, Any]) -> None:
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise malformed_policy("Syntax errors in policy.")


def check_identity_policy(text: str) -> None:
    """A policy attached to a user, group or role (managed or inline)."""
    for statement in statements(_parse(text)):
        _check_effect(statement)
        if "Principal" in statement or "NotPrincipal" in statement:
            raise malformed_policy("Policy document should not specify a principal.")
        if "Action" not in statement and "NotAction" not in statement:
            raise malformed_policy("Policy statement must contain actions.")
        if "Resource" not in statement and "NotResource" not in statement:
            raise malformed_policy("Policy statement must contain resources.")


def check_trust_policy(text: str) -> None:
    """A role's AssumeRolePolicyDocument: who may assume it."""
    for statement in statements(_parse(text)):
        _check_effect(statement)
        if "Resource" in statement or "NotResource" in statement:
            raise malformed_policy("Has prohibited field Resource")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise malformed_policy("Missing required field Principal")
        actions = policy_strings(statement.get("Action", statement.get("NotAction")))
        if not actions or any(a.lower() not in _ASSUME_ACTIONS for a in actions):
            raise malformed_policy("AssumeRole policy may only specify STS AssumeRole actions.")


def _allows_assume_role(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Allow" or "Action" not in statement:
        return False
    return any(a.lower() in {"sts:assumerole", "sts:*", "*"} for a in policy_strings(statement["Action"]))


def _principals(statement: dict[str, Any], key: str) -> Iterable[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return policy_strings(principal.get(key)) + (["*"] if principal.get("AWS") == "*" and key != "AWS" else [])
    return []


def trusts_service(text: str, service: str, region: str | None = None) -> bool:
    """Whether a trust policy lets an AWS service (e.g. `lambda.amazonaws.com`) assume the role;
    the regional form (`states.us-east-1.amazonaws.com`) counts too."""
    try:
        items = statements(_parse(text))
    except Exception:
        return False
    names = {service}
    if region:
        names.add(service.replace(".amazonaws.com", f".{region}.amazonaws.com"))
    return any(_allows_assume_role(s) and (names & set(_principals(s, "Service")) or "*" in _principals(s, "AWS"))
               for s in items)


def trusts_principal(text: str, principal_arn: str, account_id: str) -> bool:
    """Whether a trust policy lets an IAM principal (a user, role session or account root) assume
    the role: its ARN, its account's root ARN, its account id, or "*" named under "AWS"."""
    try:
        items = statements(_parse(text))
    except Exception:
        return False
    accepted = {"*", account_id, f"arn:aws:iam::{account_id}:root", principal_arn}
    if ":assumed-role/" in principal_arn:  # a role session is trusted through its role's ARN
        role = principal_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        accepted.add(f"arn:aws:iam::{account_id}:role/{role}")
    denied = any(s.get("Effect") == "Deny" and accepted & set(_principals(s, "AWS")) for s in items)
    return not denied and any(_allows_assume_role(s) and accepted & set(_principals(s, "AWS")) for s in items)
