"""Resource policies: may this caller perform this action on this resource?

With authentication on (`--auth sigv4`) each access key acts in its own account. AWS lets a caller
act on another account's resource only when the resource's own policy (a queue or topic policy, a
function's permissions, a bus policy, a stream's resource policy) grants it; an explicit Deny in
that policy always wins. Services ask `evaluate` at the point where a request's resource is found
from an ARN or URL that names another account, and for the deliveries they make as a service
principal (`sns.amazonaws.com` sending to a queue of another account).

Identity policies (what IAM attaches to the caller's user or role) are not evaluated by Eventyard:
a caller in the resource's own account is allowed, one from another account needs the resource
policy's grant. The grammar is IAM's: Effect, Principal/NotPrincipal, Action/NotAction (wildcards,
case-insensitive), Resource/NotResource (wildcards) and Condition with the string, ARN, numeric,
Bool and Null operators (their `IfExists` forms and `ForAnyValue:`/`ForAllValues:` qualifiers).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_ROLE_ARN = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):role/(.+)$")


@dataclass(frozen=True)
class Caller:
    """Who makes a request, as resource policies see it.

    `principal` is an IAM principal's ARN (`arn:aws:iam::111122223333:root`, a user, an
    `assumed-role` session) or, for a delivery an AWS service makes, the service's principal
    (`sns.amazonaws.com`) with the resource it acts for (`source_arn`, `source_account`)."""

    account_id: str
    principal: str
    service: bool = False
    source_arn: str | None = None
    source_account: str | None = None

    @classmethod
    def account_root(cls, account_id: str) -> Caller:
        return cls(account_id, f"arn:aws:iam::{account_id}:root")

    @classmethod
    def aws_service(cls, principal: str, source_arn: str, source_account: str) -> Caller:
        return cls(source_account, principal, service=True, source_arn=source_arn, source_account=source_account)

    @classmethod
    def role_session(cls, role_arn: str, session: str) -> Caller | None:
        """A service acting through an IAM role: the role's session (None for what is not a role ARN)."""
        match = _ROLE_ARN.match(role_arn)
        if match is None:
            return None
        account, name = match.group(1), match.group(2).rsplit("/", 1)[-1]
        return cls(account, f"arn:aws:sts::{account}:assumed-role/{name}/{session}")

    def context(self) -> dict[str, str]:
        """The global condition keys AWS puts in the request context for this caller (lower-cased)."""
        keys = {"aws:principalisawsservice": "true" if self.service else "false"}
        if self.service:
            keys["aws:principalservicename"] = self.principal
        else:
            keys.update({"aws:principalarn": self.principal, "aws:principalaccount": self.account_id,
                         "aws:principaltype": _principal_type(self.principal)})
        if self.source_arn is not None:
            keys["aws:sourcearn"] = self.source_arn
        if self.source_account is not None:
            keys["aws:sourceaccount"] = self.source_account
            keys["aws:sourceowner"] = self.source_account  # SNS and SQS's legacy name for it
        return keys


class Decision(enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"  # a Deny statement matched: nothing else can allow it
    NOT_ALLOWED = "not allowed"  # no statement allows it


def arn_account(arn: Any) -> str | None:
    """The account an ARN names (its fifth field), when it is one (12 digits)."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and len(parts[4]) == 12 and parts[4].isdigit() else None


def crosses_accounts(caller: Caller | None, owner_account: str) -> bool:
    """Whether a request must pass the resource's policy: authentication is on (there is a caller)
    and the resource belongs to another account. Same-account callers are not checked."""
    return caller is not None and caller.account_id != owner_account


def evaluate(policy: str | Mapping[str, Any] | None, caller: Caller, action: str, resource: str,
             context: Mapping[str, str] | None = None) -> Decision:
    """What `policy` (a JSON document or its text; None or unreadable text grants nothing) decides
    for `caller` performing `action` (e.g. `sqs:SendMessage`) on `resource` (an ARN)."""
    statements = _statements(policy) if isinstance(policy, str) else _statements_of(policy)
    keys = caller.context()
    if context:
        keys.update({k.lower(): v for k, v in context.items()})
    allowed = False
    for statement in statements:
        if not _applies(statement, caller, action, resource, keys):
            continue
        if statement["Effect"] == "Deny":
            return Decision.DENIED
        allowed = True
    return Decision.ALLOWED if allowed else Decision.NOT_ALLOWED


def refusal_message(caller: Caller, action: str, resource: str, decision: Decision) -> str:
    """AWS's words for a request a resource policy refuses."""
    why = ("with an explicit deny in a resource-based policy" if decision is Decision.DENIED
           else f"because no resource-based policy allows the {action} action")
    return f"User: {caller.principal} is not authorized to perform: {action} on resource: {resource} {why}"


# -- reading a policy ---------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _statements(text: str) -> tuple[dict[str, Any], ...]:
    try:
        document = json.loads(text)
    except ValueError:
        return ()
    return _statements_of(document)


def _statements_of(document: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(document, Mapping):
        return ()
    found = document.get("Statement")
    items = found if isinstance(found, list) else [found]
    return tuple(s for s in items if isinstance(s, dict) and s.get("Effect") in ("Allow", "Deny"))


def policy_strings(value: Any) -> list[str]:
    """A policy element's string values: one string or a list of them (anything else holds none)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _applies(statement: Mapping[str, Any], caller: Caller, action: str, resource: str,
             keys: Mapping[str, str]) -> bool:
    return (_matches_element(statement, "Principal", lambda p: _principal_matches(p, caller))
            and _matches_element(statement, "Action", lambda a: any(_action_matches(p, action) for p in policy_strings(a)))
            and _matches_element(statement, "Resource",
                                 lambda r: any(_glob(p, resource) for p in policy_strings(r)), missing=True)
            and _conditions_hold(statement.get("Condition"), keys))


def _matches_element(statement: Mapping[str, Any], name: str, matches: Callable[[Any], bool],
                     missing: bool = False) -> bool:
    """`Action` matches what it names, `NotAction` what it does not; a statement with neither
    matches nothing, except `Resource` (resource policies often leave it to the resource)."""
    if name in statement:
        return matches(statement[name])
    negated = f"Not{name}"
    if negated in statement:
        return not matches(statement[negated])
    return missing


# -- principals ----------------------------------------------------------------------------------
_IAM_ARN = re.compile(r"^arn:[a-z-]+:(?:iam|sts)::(\d{12}):(.+)$")


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if caller.service:
        # "AWS": "*" is everyone, as "*" is; a service is named under "Service".
        return "*" in policy_strings(principal.get("AWS")) or any(
            _service_matches(name, caller.principal) for name in policy_strings(principal.get("Service")))
    return any(_aws_principal_matches(name, caller) for name in policy_strings(principal.get("AWS")))


def _service_matches(named: str, service: str) -> bool:
    """`sns.amazonaws.com`, or its regional form `sns.us-east-1.amazonaws.com`."""
    if named == service:
        return True
    prefix, _, _ = service.partition(".")
    return bool(re.fullmatch(re.escape(prefix) + r"\.[a-z0-9-]+\.amazonaws\.com", named))


def _aws_principal_matches(named: str, caller: Caller) -> bool:
    if named == "*":
        return True
    if re.fullmatch(r"\d{12}", named):
        return named == caller.account_id
    match = _IAM_ARN.match(named)
    if match is None or match.group(1) != caller.account_id:
        return False
    resource = match.group(2)
    if resource == "root":
        return True  # the account: every principal in it
    if named == caller.principal:
        return True
    if resource.startswith("role/"):  # a role names its sessions too
        role_name = resource.rsplit("/", 1)[-1]
        return caller.principal.startswith(f"arn:aws:sts::{caller.account_id}:assumed-role/{role_name}/")
    return False


def _principal_type(principal: str) -> str:
    match = _IAM_ARN.match(principal)
    resource = match.group(2) if match else ""
    if resource == "root":
        return "Account"
    if resource.startswith("user/"):
        return "User"
    if resource.startswith("assumed-role/"):
        return "AssumedRole"
    return "FederatedUser" if resource.startswith("federated-user/") else "Account"


# -- actions and resources -------------------------------------------------------------------------
@lru_cache(maxsize=2048)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    translated = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(translated, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _action_matches(pattern: str, action: str) -> bool:
    """`sqs:SendMessage`, `SQS:send*`, `*`: service prefixes and names compare without case."""
    return _glob(pattern, action, ignore_case=True)


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: each of an ARN's six colon-separated parts is matched on its own."""
    wanted, given = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(given) and all(_glob(w, g) for w, g in zip(wanted, given, strict=True))


# -- conditions --------------------------------------------------------------------------------------
def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def matches(given: str, wanted: str) -> bool:
        a, b = _number(given), _number(wanted)
        return a is not None and b is not None and compare(a, b)
    return matches


# operator -> (does a given value match a policy value, is the operator negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "stringequals": (lambda g, w: g == w, False),
    "stringnotequals": (lambda g, w: g == w, True),
    "stringequalsignorecase": (lambda g, w: g.lower() == w.lower(), False),
    "stringnotequalsignorecase": (lambda g, w: g.lower() == w.lower(), True),
    "stringlike": (lambda g, w: _glob(w, g), False),
    "stringnotlike": (lambda g, w: _glob(w, g), True),
    "arnequals": (lambda g, w: _arn_like(w, g), False),
    "arnlike": (lambda g, w: _arn_like(w, g), False),
    "arnnotequals": (lambda g, w: _arn_like(w, g), True),
    "arnnotlike": (lambda g, w: _arn_like(w, g), True),
    "numericequals": (_numeric(lambda a, b: a == b), False),
    "numericnotequals": (_numeric(lambda a, b: a == b), True),
    "numericlessthan": (_numeric(lambda a, b: a < b), False),
    "numericlessthanequals": (_numeric(lambda a, b: a <= b), False),
    "numericgreaterthan": (_numeric(lambda a, b: a > b), False),
    "numericgreaterthanequals": (_numeric(lambda a, b: a >= b), False),
    "bool": (lambda g, w: g.lower() == w.lower(), False),
}


def _conditions_hold(condition: Any, keys: Mapping[str, str]) -> bool:
    """Every operator's every key must hold (AND); a key holds when any listed value matches (OR),
    or, for a negated operator, when none does."""
    if condition is None:
        return True
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, Mapping):
            return False
        for key, wanted in tests.items():
            if not _condition_holds(str(operator), keys.get(str(key).lower()), _values(wanted)):
                return False
    return True


def _values(wanted: Any) -> list[str]:
    items = wanted if isinstance(wanted, list) else [wanted]
    return ["true" if v is True else "false" if v is False else str(v) for v in items if v is not None]


def _condition_holds(operator: str, given: str | None, wanted: Iterable[str]) -> bool:
    name = operator.lower()
    qualifier, _, name = name.rpartition(":")  # ForAnyValue:/ForAllValues: (every key here has one value)
    if name == "null":
        return any((given is None) == (w.lower() == "true") for w in wanted)
    if_exists = name.endswith("ifexists")
    name = name.removesuffix("ifexists")
    found = _OPERATORS.get(name)
    if found is None:
        return False  # an operator Eventyard does not know (dates, IP addresses) never holds
    test, negated = found
    if given is None:
        # A missing key: ...IfExists and ForAllValues hold; a negated operator holds; others do not.
        return if_exists or qualifier == "forallvalues" or negated
    matched = any(test(given, w) for w in wanted)
    return not matched if negated else matched
