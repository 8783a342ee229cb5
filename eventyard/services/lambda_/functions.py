"""Functions, versions and aliases as functions of a connection. Each version row holds the
FunctionConfiguration document a client sees plus where its code lives."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.services.lambda_.errors import untyped
from eventyard.services.lambda_.names import FunctionRef, function_arn, last_modified, not_found, revision_mismatch
from eventyard.storage import Connection, Row

LATEST = "$LATEST"
MAX_NAME = 64  # a function's own name; ARNs naming it may be longer
MAX_ENVIRONMENT_BYTES = 4096  # the variables as compact JSON
RESERVED_ENV = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}
CONFIG_KEYS = ("Role", "Handler", "Description", "Timeout", "MemorySize", "Environment", "Runtime",
               "DeadLetterConfig", "TracingConfig", "Layers", "EphemeralStorage", "LoggingConfig",
               "Architectures", "SnapStart")


# AWS answers CreateFunction while the function is still Pending and an update while it is InProgress;
# the function is Active (and the update Successful) right after, with a new RevisionId each time.
PENDING = {"State": "Pending", "StateReason": "The function is being created.", "StateReasonCode": "Creating"}
IN_PROGRESS = {"LastUpdateStatus": "InProgress", "LastUpdateStatusReason": "The function is being created.",
               "LastUpdateStatusReasonCode": "Creating"}
STATUS_KEYS = ("State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
               "LastUpdateStatusReasonCode")


def logging_config(name: str, current: dict[str, Any] | None, given: dict[str, Any] | None) -> dict[str, Any]:
    """LoggingConfig as AWS keeps it: a partial update merges; JSON logs have application and system
    log levels (INFO unless given), text logs have none."""
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}", **(current or {}), **(given or {})}
    if config["LogFormat"] == "JSON":
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    else:
        config.pop("ApplicationLogLevel", None)
        config.pop("SystemLogLevel", None)
    return config


def runtime_version_arn(region: str, runtime: str) -> str:
    """AWS names a runtime version by a 64-digit hash; Eventyard's is stable per runtime identifier."""
    return f"arn:aws:lambda:{region}::runtime:{hashlib.sha256(runtime.encode()).hexdigest()}"


def creating_view(config: dict[str, Any], version: str | None = None) -> dict[str, Any]:
    """CreateFunction's answer: the function as it is while being created (`version`: the one
    Publish created, which AWS names in the answer while the ARN stays unqualified)."""
    view = {k: v for k, v in config.items() if not k.startswith("LastUpdateStatus")}
    view.update(PENDING, RevisionId=str(uuid.uuid4()))
    if version is not None:
        view["Version"] = version
    return view


def snap_start(given: dict[str, Any] | None) -> dict[str, Any]:
    """SnapStart as a function shows it: its ApplyOn kept, optimization off ($LATEST is never optimized)."""
    return {"ApplyOn": (given or {}).get("ApplyOn") or "None", "OptimizationStatus": "Off"}


def published_view(config: dict[str, Any]) -> dict[str, Any]:
    """UpdateFunctionCode's answer when it publishes: the new version while it is being created."""
    view = {k: v for k, v in config.items() if not k.startswith("LastUpdateStatus")}
    return {**view, **PENDING}


def updating_view(config: dict[str, Any]) -> dict[str, Any]:
    """UpdateFunctionCode's and UpdateFunctionConfiguration's answer: the update in progress."""
    return {**config, **IN_PROGRESS, "RevisionId": str(uuid.uuid4())}


def listed(config: dict[str, Any]) -> dict[str, Any]:
    """A function or version as ListFunctions and ListVersionsByFunction show it: no state, no runtime
    version, and $LATEST named in its ARN."""
    view = {k: v for k, v in config.items() if k not in STATUS_KEYS and k != "RuntimeVersionConfig"}
    if view.get("Version") == LATEST and not view["FunctionArn"].endswith(f":{LATEST}"):
        view["FunctionArn"] = f"{view['FunctionArn']}:{LATEST}"
    return view


@dataclass
class Resolved:
    config: dict[str, Any]
    code: dict[str, Any]
    version: str  # the version that runs ($LATEST or a number)


def check_environment(variables: dict[str, str] | None) -> None:
    reserved = sorted(set(variables or {}) & RESERVED_ENV)
    if reserved:
        # AWS's wording for reserved environment variable keys
        raise AwsError("InvalidParameterValueException",
                       "Lambda was unable to configure your environment variables because the environment "
                       "variables you have provided contains reserved keys that are currently not supported "
                       f"for modification. Reserved keys used in this request: {','.join(reserved)}")
    measured = json.dumps(variables or {}, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > MAX_ENVIRONMENT_BYTES:
        raise AwsError("InvalidParameterValueException",
                       "Lambda was unable to configure your environment variables because the environment variables "
                       f"you have provided exceeded the 4KB limit. String measured: {measured}")


def build_config(region: str, account_id: str, name: str, params: dict[str, Any], code: dict[str, Any],
                 layers: list[dict[str, Any]], now: float) -> dict[str, Any]:
    check_environment((params.get("Environment") or {}).get("Variables"))
    config: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": function_arn(region, account_id, name),
        "Runtime": params.get("Runtime"),
        "Role": params["Role"],
        "Handler": params.get("Handler"),
        "CodeSize": code["size"],
        "Description": params.get("Description", ""),
        "Timeout": params.get("Timeout", 3),
        "MemorySize": params.get("MemorySize", 128),
        "LastModified": last_modified(now),
        "CodeSha256": code["sha256"],
        "Version": LATEST,
        "TracingConfig": params.get("TracingConfig") or {"Mode": "PassThrough"},
        "RevisionId": str(uuid.uuid4()),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": params.get("Architectures") or ["x86_64"],
        "EphemeralStorage": params.get("EphemeralStorage") or {"Size": 512},
        "SnapStart": snap_start(params.get("SnapStart")),
        "LoggingConfig": logging_config(name, None, params.get("LoggingConfig")),
    }
    if params.get("Runtime"):
        config["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_version_arn(region, params["Runtime"])}
    if params.get("Environment") is not None:
        config["Environment"] = {"Variables": params["Environment"].get("Variables", {})}
    if params.get("DeadLetterConfig"):
        config["DeadLetterConfig"] = params["DeadLetterConfig"]
    if layers:
        config["Layers"] = [{"Arn": layer["LayerVersionArn"], "CodeSize": layer["Content"]["CodeSize"]}
                            for layer in layers]
    return {k: v for k, v in config.items() if v is not None}


def _row(conn: Connection, ref: FunctionRef, version: str) -> Row | None:
    return conn.execute(
        "SELECT * FROM lambda_functions WHERE account_id=? AND region=? AND name=? AND version=?",
        (ref.account_id, ref.region, ref.name, version)).fetchone()


def exists(conn: Connection, ref: FunctionRef) -> bool:
    return _row(conn, ref, LATEST) is not None


def exists_version(conn: Connection, ref: FunctionRef, version: str) -> bool:
    return _row(conn, ref, version) is not None


def insert(conn: Connection, ref: FunctionRef, config: dict[str, Any], code: dict[str, Any],
           tags: dict[str, str], now: float) -> None:
    if exists(conn, ref):
        raise AwsError("ResourceConflictException", f"Function already exist: {ref.name}", 409)
    conn.execute("INSERT INTO lambda_functions VALUES (?,?,?,?,?,?,?)",
                 (ref.account_id, ref.region, ref.name, LATEST, json.dumps(config), json.dumps(code), now))
    conn.execute("INSERT INTO lambda_function_meta (account_id, region, name, tags) VALUES (?,?,?,?)"
                 " ON CONFLICT (account_id, region, name) DO UPDATE SET tags = excluded.tags,"
                 " reserved_concurrency = NULL, next_version = 1",
                 (ref.account_id, ref.region, ref.name, json.dumps(tags)))


def get_version(conn: Connection, ref: FunctionRef, version: str) -> Resolved:
    row = _row(conn, ref, version)
    if row is None:  # AWS names $LATEST in the error only when the request did
        named = None if version == LATEST and ref.qualifier != LATEST else version
        raise not_found(FunctionRef(ref.name, named, ref.region, ref.account_id))
    return Resolved(json.loads(row["config"]), json.loads(row["code"]), version)


def get_alias(conn: Connection, ref: FunctionRef, alias: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT config FROM lambda_aliases WHERE account_id=? AND region=? AND name=? AND alias=?",
                       (ref.account_id, ref.region, ref.name, alias)).fetchone()
    return json.loads(row["config"]) if row else None


def resolve(conn: Connection, ref: FunctionRef, pick: bool = True) -> Resolved:
    """The version a reference runs: $LATEST, a number, or an alias (weighted when it routes)."""
    qualifier = ref.qualifier or LATEST
    if qualifier == LATEST or qualifier.isdigit():
        return get_version(conn, ref, qualifier)
    if not exists(conn, ref):
        raise not_found(ref)
    alias = get_alias(conn, ref, qualifier)
    if alias is None:
        raise not_found(ref)
    version = alias["FunctionVersion"]
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    if pick and weights:
        roll = random.random()
        for other, weight in weights.items():
            if roll < weight:
                version = other
                break
            roll -= weight
    return get_version(conn, ref, version)


def check_revision(current: str, given: str | None) -> None:
    if given and given != current:
        raise revision_mismatch("GetFunction/GetAlias")


def update_latest(conn: Connection, ref: FunctionRef, changes: dict[str, Any],
                  code: dict[str, Any] | None, now: float, revision: str | None) -> dict[str, Any]:
    current = get_version(conn, ref, LATEST)
    check_revision(current.config["RevisionId"], revision)
    config = dict(current.config)
    config.update(changes)
    if "LoggingConfig" in changes:
        config["LoggingConfig"] = logging_config(ref.name, current.config.get("LoggingConfig"), changes["LoggingConfig"])
    if "SnapStart" in changes:
        config["SnapStart"] = snap_start(changes["SnapStart"])
    if "Runtime" in changes:
        config["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_version_arn(ref.region, changes["Runtime"])}
    if code is not None:
        config["CodeSha256"], config["CodeSize"] = code["sha256"], code["size"]
    config["LastModified"] = last_modified(now)
    config["RevisionId"] = str(uuid.uuid4())
    conn.execute("UPDATE lambda_functions SET config=?, code=? WHERE account_id=? AND region=? AND name=? AND version=?",
                 (json.dumps(config), json.dumps(code or current.code), ref.account_id, ref.region, ref.name, LATEST))
    return config


def publish_version(conn: Connection, ref: FunctionRef, description: str | None, now: float,
                    expected: dict[str, Any] | None = None) -> dict[str, Any]:
    """Publish $LATEST; `expected` holds the request's RevisionId and CodeSha256, which must match it."""
    latest = get_version(conn, ref, LATEST)
    check_revision(latest.config["RevisionId"], (expected or {}).get("RevisionId"))
    sha = (expected or {}).get("CodeSha256")
    if sha and sha != latest.config["CodeSha256"]:
        raise AwsError("InvalidParameterValueException",
                       f"CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST "
                       f"({latest.config['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.")
    last = conn.execute(
        "SELECT config FROM lambda_functions WHERE account_id=? AND region=? AND name=? AND version != ?"
        " ORDER BY CAST(version AS BIGINT) DESC LIMIT 1", (ref.account_id, ref.region, ref.name, LATEST)).fetchone()
    if last is not None:
        previous = json.loads(last["config"])
        # AWS: publishing unchanged code and configuration returns the existing version
        same = all(previous.get(k) == latest.config.get(k) for k in ("CodeSha256", *CONFIG_KEYS))
        if same:
            return previous
    meta = conn.execute("SELECT next_version FROM lambda_function_meta WHERE account_id=? AND region=? AND name=?",
                        (ref.account_id, ref.region, ref.name)).fetchone()
    number = str(meta["next_version"])
    conn.execute("UPDATE lambda_function_meta SET next_version = next_version + 1 WHERE account_id=? AND region=?"
                 " AND name=?", (ref.account_id, ref.region, ref.name))
    config = dict(latest.config)
    config.update({"Version": number, "FunctionArn": function_arn(ref.region, ref.account_id, ref.name, number),
                   "RevisionId": str(uuid.uuid4()), "LastModified": last_modified(now)})
    if description is not None:
        config["Description"] = description
    conn.execute("INSERT INTO lambda_functions VALUES (?,?,?,?,?,?,?)",
                 (ref.account_id, ref.region, ref.name, number, json.dumps(config), json.dumps(latest.code), now))
    # AWS: publishing gives $LATEST a new RevisionId too
    conn.execute("UPDATE lambda_functions SET config=? WHERE account_id=? AND region=? AND name=? AND version=?",
                 (json.dumps(dict(latest.config, RevisionId=str(uuid.uuid4()))), ref.account_id, ref.region,
                  ref.name, LATEST))
    return config


def list_versions(conn: Connection, ref: FunctionRef) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT config FROM lambda_functions WHERE account_id=? AND region=? AND name=?"
                        " ORDER BY CASE WHEN version = '$LATEST' THEN -1 ELSE CAST(version AS BIGINT) END",
                        (ref.account_id, ref.region, ref.name)).fetchall()
    if not rows:
        raise not_found(ref)
    return [json.loads(r["config"]) for r in rows]


def list_latest(conn: Connection, region: str, account_id: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT config FROM lambda_functions WHERE account_id=? AND region=? AND version=?"
                        " ORDER BY name", (account_id, region, LATEST)).fetchall()
    return [json.loads(r["config"]) for r in rows]


def usage(conn: Connection, region: str, account_id: str) -> tuple[int, int]:
    """The account's function count and TotalCodeSize: every version's code (each published version counts
    again, as on AWS) plus every layer version's."""
    rows = conn.execute("SELECT version, config FROM lambda_functions WHERE account_id=? AND region=?",
                        (account_id, region)).fetchall()
    layers = conn.execute("SELECT config FROM lambda_layers WHERE account_id=? AND region=?",
                          (account_id, region)).fetchall()
    total = sum(json.loads(r["config"]).get("CodeSize", 0) for r in rows)
    total += sum(json.loads(r["config"])["Content"]["CodeSize"] for r in layers)
    return sum(1 for r in rows if r["version"] == LATEST), total


def delete(conn: Connection, ref: FunctionRef) -> None:
    args = (ref.account_id, ref.region, ref.name)
    if ref.qualifier == LATEST:
        raise AwsError("InvalidParameterValueException",
                       "$LATEST version cannot be deleted without deleting the function.")
    if ref.qualifier:
        if not ref.qualifier.isdigit():
            raise AwsError("InvalidParameterValueException", "Deletion of aliases is not supported.")
        if not exists(conn, ref):  # AWS: deleting a version the function never had succeeds
            raise not_found(FunctionRef(ref.name, None, ref.region, ref.account_id))
        conn.execute("DELETE FROM lambda_functions WHERE account_id=? AND region=? AND name=? AND version=?",
                     (*args, ref.qualifier))
        return
    if not exists(conn, ref):
        raise not_found(ref)
    for table in ("lambda_functions", "lambda_function_meta", "lambda_aliases", "lambda_policies",
                  "lambda_event_invoke_configs", "lambda_provisioned_concurrency"):
        conn.execute(f"DELETE FROM {table} WHERE account_id=? AND region=? AND name=?", args)


# -- aliases --------------------------------------------------------------------------------------
def alias_config(ref: FunctionRef, alias: str, params: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(previous or {})
    config.update({"AliasArn": function_arn(ref.region, ref.account_id, ref.name, alias), "Name": alias,
                   "RevisionId": str(uuid.uuid4())})
    for key in ("FunctionVersion", "Description", "RoutingConfig"):
        if params.get(key) is not None:
            config[key] = params[key]
    if not (config.get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
        config.pop("RoutingConfig", None)  # AWS shows no RoutingConfig once its weights are empty
    config.setdefault("Description", "")
    return config


def check_routing(version: str | None, weights: dict[str, float]) -> None:
    if len(weights) > 1:
        raise AwsError("InvalidParameterValueException",
                       "Number of items in AdditionalVersionWeights cannot be greater than 1")
    if version in weights:
        raise AwsError("InvalidParameterValueException", f"Invalid function version {version}. Function version "
                       f"{version} is already included in routing configuration.")
    if weights and version == LATEST:
        raise untyped("InvalidParameterValueException",
                      "$LATEST is not supported for an alias pointing to more than 1 version")


def put_alias(conn: Connection, ref: FunctionRef, alias: str, params: dict[str, Any], create: bool) -> dict[str, Any]:
    check_routing(params.get("FunctionVersion"), (params.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
                  or {})
    if not exists(conn, ref):  # AWS names the version the alias was to point to
        raise not_found(FunctionRef(ref.name, params.get("FunctionVersion"), ref.region, ref.account_id))
    previous = get_alias(conn, ref, alias)
    if previous is not None and not create:
        check_revision(previous["RevisionId"], params.get("RevisionId"))
    if create and previous is not None:
        raise AwsError("ResourceConflictException",
                       f"Alias already exists: {function_arn(ref.region, ref.account_id, ref.name, alias)}", 409)
    if not create and previous is None:
        raise AwsError("ResourceNotFoundException",
                       f"Alias not found: {function_arn(ref.region, ref.account_id, ref.name, alias)}", 404)
    config = alias_config(ref, alias, params, previous)
    for version in [config["FunctionVersion"], *((config.get("RoutingConfig") or {}).get(
            "AdditionalVersionWeights") or {})]:
        if _row(conn, ref, version) is None:
            raise AwsError("ResourceNotFoundException",
                           f"Function not found: {function_arn(ref.region, ref.account_id, ref.name, version)}", 404)
    conn.execute("INSERT INTO lambda_aliases (account_id, region, name, alias, config) VALUES (?,?,?,?,?)"
                 " ON CONFLICT (account_id, region, name, alias) DO UPDATE SET config = excluded.config",
                 (ref.account_id, ref.region, ref.name, alias, json.dumps(config)))
    return config


def require_alias(conn: Connection, ref: FunctionRef, alias: str) -> dict[str, Any]:
    config = get_alias(conn, ref, alias)
    if config is None:  # GetAlias's own wording
        raise AwsError("ResourceNotFoundException",
                       f"Cannot find alias arn: {function_arn(ref.region, ref.account_id, ref.name, alias)}", 404)
    return config


def list_aliases(conn: Connection, ref: FunctionRef) -> list[dict[str, Any]]:
    if not exists(conn, ref):
        raise not_found(ref)
    rows = conn.execute("SELECT config FROM lambda_aliases WHERE account_id=? AND region=? AND name=? ORDER BY alias",
                        (ref.account_id, ref.region, ref.name)).fetchall()
    return [json.loads(r["config"]) for r in rows]


# -- meta: tags, reserved concurrency ---------------------------------------------------------------
def meta(conn: Connection, ref: FunctionRef) -> Row:
    row = conn.execute("SELECT * FROM lambda_function_meta WHERE account_id=? AND region=? AND name=?",
                       (ref.account_id, ref.region, ref.name)).fetchone()
    if row is None:
        raise not_found(FunctionRef(ref.name, None, ref.region, ref.account_id))
    return row


def set_meta(conn: Connection, ref: FunctionRef, column: str, value: Any) -> None:
    meta(conn, ref)
    conn.execute(f"UPDATE lambda_function_meta SET {column}=? WHERE account_id=? AND region=? AND name=?",
                 (value, ref.account_id, ref.region, ref.name))
