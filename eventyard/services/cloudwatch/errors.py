"""CloudWatch's error dialect: its query-era codes, statuses and wording, in one place.

CloudWatch began as a query service; every protocol reports these codes (JSON and CBOR carry them in
`x-amzn-query-error`). Parameters are named as the query protocol spells them
(`MetricData.member.1.Value`), as AWS's messages do whatever protocol the request came in.
"""

from __future__ import annotations

from eventyard.protocol.errors import AwsError
from eventyard.protocol.validation import Violation, coral_message


def invalid_value(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message, 400)


def invalid_parameter(value: object, parameter: str) -> AwsError:
    return invalid_value(f"The value {value} for parameter {parameter} is invalid.")


def invalid_combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message, 400)


def missing_parameter(parameter: str) -> AwsError:
    return AwsError("MissingParameter", f"The parameter {parameter} is required.", 400)


def validation(message: str) -> AwsError:
    return AwsError("ValidationError", message, 400)


def limit_exceeded(message: str) -> AwsError:
    return AwsError("LimitExceeded", message, 400)


def invalid_next_token() -> AwsError:
    return AwsError("InvalidNextToken", "The service couldn't process the NextToken.", 400)


def alarm_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFound", f"Alarm {name} does not exist.", 404)


def dashboard_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFound", f"Dashboard {name} does not exist", 404)


def resource_not_found(arn: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"{arn} not found", 404)


def resource_conflict(message: str) -> AwsError:
    return AwsError("ResourceConflict", message, 409)


def dashboard_invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterInput", message, 400)


def invalid_format(message: str) -> AwsError:
    return AwsError("InvalidFormat", message, 400)


def too_many_tags(limit: int) -> AwsError:
    return AwsError("LimitExceededException", f"The maximum number of tags is {limit}.", 400)


def on_violations(violations: list[Violation]) -> AwsError:
    """Model constraint violations, as CloudWatch's front end reports them."""
    missing = [v for v in violations if v.missing]
    if missing and missing[0].path.count(".") == 0:
        return missing_parameter(missing[0].member)
    return validation(coral_message(violations))
