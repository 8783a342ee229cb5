"""Which runtimes a function may be created or updated with, in AWS's words.

Lambda checks Runtime itself (not the front end's model validation): a value it does not know is
InvalidParameterValueException naming the runtimes it takes, in the order it prints them; a retired
runtime is refused with its own message. Both recorded against AWS (January 2026).
"""

from __future__ import annotations

from eventyard.protocol.errors import AwsError

# The runtimes new functions could use when recorded, in Lambda's order.
CREATABLE = ("nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x", "nodejs22.x",
             "java25", "python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4", "ruby3.2", "python3.8",
             "python3.9", "java17", "nodejs16.x", "dotnet10", "dotnet8", "java11", "dotnet6", "nodejs18.x",
             "provided.al2", "java8.al2")
# Runtimes past AWS's "block function create and update" date.
RETIRED = frozenset({
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
    "java8", "python2.7", "python3.6", "python3.7", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
    "dotnetcore3.1", "go1.x", "ruby2.5", "ruby2.7", "provided",
})


def check(runtime: str | None) -> None:
    """Refuse a runtime CreateFunction or UpdateFunctionConfiguration may not use (None: not given)."""
    if runtime is None or runtime in CREATABLE:
        return
    if runtime in RETIRED:
        raise AwsError("InvalidParameterValueException",
                       f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS "
                       "Lambda functions. We recommend you use a supported runtime while creating or updating "
                       "functions.")
    raise AwsError("InvalidParameterValueException",
                   f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
                   f"[{', '.join(CREATABLE)}] or be a valid ARN")

# Every runtime identifier Lambda's front end knows, in the order it prints them where a request names one
# runtime to filter by (ListLayers' CompatibleRuntime; recorded January 2026, internal identifiers included).
KNOWN = ("ruby3.5", "ruby2.6", "dotnetcore1.0", "python3.7", "nodejs8.10", "nasa", "ruby2.7", "python2.7-greengrass",
         "dotnetcore2.0", "python3.8", "java21", "dotnet6", "dotnetcore2.1", "python3.9", "java11", "nodejs6.10",
         "provided", "dotnetcore3.1", "dotnet8", "java25", "java17", "nodejs", "nodejs4.3", "java8.al2", "go1.x",
         "dotnet10", "nodejs20.x", "go1.9", "byol", "nodejs10.x", "provided.al2023", "nodejs22.x", "python3.10",
         "java8", "nodejs12.x", "python3.11", "nodejs24.x", "nodejs8.x", "python3.12", "nodejs14.x", "nodejs8.9",
         "nodejs26.x", "python3.13", "python3.14", "nodejs16.x", "python3.15", "provided.al2", "nodejs4.3-edge",
         "nodejs18.x", "ruby3.2", "python3.4", "ruby3.3", "ruby3.4", "ruby2.5", "python3.6", "python2.7")
