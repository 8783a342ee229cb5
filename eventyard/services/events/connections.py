"""Connections (how to authorize: API key, basic, OAuth client credentials) and API destinations
(an HTTP endpoint, method and rate limit). Secrets stay in the stored document and are never
returned, as AWS keeps them in Secrets Manager.

An OAuth connection is AUTHORIZING until a token is obtained from its authorization endpoint (the
first delivery through it), then AUTHORIZED; an API destination is ACTIVE while its connection is
AUTHORIZED and INACTIVE otherwise (recorded against AWS)."""

from __future__ import annotations

from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime import partitions
from eventyard.runtime.ids import new_uuid
from eventyard.services.events import store
from eventyard.services.events.arns import arn_of
from eventyard.storage import Connection

CONNECTION = "connection"
DESTINATION = "api-destination"
OAUTH = "OAUTH_CLIENT_CREDENTIALS"


def _public_auth(auth_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """AuthParameters as Describe returns them: everything but the secrets."""
    out: dict[str, Any] = {}
    if auth_type == "API_KEY":
        out["ApiKeyAuthParameters"] = {"ApiKeyName": params["ApiKeyAuthParameters"]["ApiKeyName"]}
    elif auth_type == "BASIC":
        out["BasicAuthParameters"] = {"Username": params["BasicAuthParameters"]["Username"]}
    elif auth_type == "OAUTH_CLIENT_CREDENTIALS":
        oauth = dict(params["OAuthParameters"])
        oauth["ClientParameters"] = {"ClientID": oauth["ClientParameters"]["ClientID"]}
        out["OAuthParameters"] = oauth
    if "InvocationHttpParameters" in params:
        out["InvocationHttpParameters"] = params["InvocationHttpParameters"]
    return out


def _check_auth(auth_type: str, params: dict[str, Any]) -> None:
    needed = {"API_KEY": "ApiKeyAuthParameters", "BASIC": "BasicAuthParameters",
              "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters"}[auth_type]
    if needed not in params:
        raise AwsError("ValidationException", f"{needed} must be specified for AuthorizationType {auth_type}.")


def create_connection(conn: Connection, account: str, region: str, params: dict[str, Any],
                      now: float) -> dict[str, Any]:
    name = params["Name"]
    if store.get(conn, CONNECTION, account, region, name) is not None:
        raise AwsError("ResourceAlreadyExistsException", f"Connection {name} already exists.")
    _check_auth(params["AuthorizationType"], params["AuthParameters"])
    doc = {
        "Name": name, "ConnectionArn": arn_of("connection", account, region, f"{name}/{new_uuid()}"),
        "AuthorizationType": params["AuthorizationType"],
        "ConnectionState": "AUTHORIZING" if params["AuthorizationType"] == OAUTH else "AUTHORIZED",
        "SecretArn": partitions.arn("secretsmanager", region, account, f"secret:events!connection/{name}/{new_uuid()}"),
        "CreationTime": now, "LastModifiedTime": now, "LastAuthorizedTime": now,
        "_auth": params["AuthParameters"],
    }
    if params.get("Description"):
        doc["Description"] = params["Description"]
    store.put(conn, CONNECTION, account, region, name, doc)
    return doc


def get_connection(conn: Connection, account: str, region: str, name: str) -> dict[str, Any]:
    doc = store.get(conn, CONNECTION, account, region, name)
    if doc is None:
        raise AwsError("ResourceNotFoundException", f"Failed to describe the connection(s). Connection '{name}' does not exist.")
    return doc


def describe_connection(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    out["AuthParameters"] = _public_auth(doc["AuthorizationType"], doc["_auth"])
    return out


def update_connection(conn: Connection, account: str, region: str, params: dict[str, Any],
                      now: float) -> dict[str, Any]:
    doc = get_connection(conn, account, region, params["Name"])
    if params.get("AuthorizationType"):
        doc["AuthorizationType"] = params["AuthorizationType"]
    if params.get("AuthParameters"):
        merged = dict(doc["_auth"])
        merged.update(params["AuthParameters"])
        doc["_auth"] = merged
    if doc["AuthorizationType"] == OAUTH and (params.get("AuthParameters") or params.get("AuthorizationType")):
        doc["ConnectionState"] = "AUTHORIZING"  # new credentials: authorized again on the next token
    if "Description" in params:
        doc["Description"] = params["Description"]
    doc["LastModifiedTime"] = now
    store.put(conn, CONNECTION, account, region, doc["Name"], doc)
    return doc


def mark_authorized(conn: Connection, account: str, region: str, name: str, now: float) -> None:
    doc = store.get(conn, CONNECTION, account, region, name)
    if doc is not None and doc["ConnectionState"] != "AUTHORIZED":
        doc.update(ConnectionState="AUTHORIZED", LastAuthorizedTime=now)
        store.put(conn, CONNECTION, account, region, name, doc)


def connection_name(connection_arn: str) -> str:
    return connection_arn.split(":connection/", 1)[-1].split("/")[0]


def with_state(conn: Connection, account: str, region: str, destination: dict[str, Any]) -> dict[str, Any]:
    """The destination with its state: ACTIVE while its connection is AUTHORIZED."""
    connection = store.get(conn, CONNECTION, account, region, connection_name(destination["ConnectionArn"]))
    active = connection is not None and connection["ConnectionState"] == "AUTHORIZED"
    return {**destination, "ApiDestinationState": "ACTIVE" if active else "INACTIVE"}


def create_destination(conn: Connection, account: str, region: str, params: dict[str, Any],
                       now: float) -> dict[str, Any]:
    name = params["Name"]
    if store.get(conn, DESTINATION, account, region, name) is not None:
        raise AwsError("ResourceAlreadyExistsException", f"An api-destination '{name}' already exists.")
    get_connection(conn, account, region, connection_name(params["ConnectionArn"]))
    doc = {
        "Name": name, "ApiDestinationArn": arn_of("api-destination", account, region, f"{name}/{new_uuid()}"),
        "ApiDestinationState": "ACTIVE", "ConnectionArn": params["ConnectionArn"],
        "InvocationEndpoint": params["InvocationEndpoint"], "HttpMethod": params["HttpMethod"],
        "InvocationRateLimitPerSecond": params.get("InvocationRateLimitPerSecond", 300),
        "CreationTime": now, "LastModifiedTime": now,
    }
    if params.get("Description"):
        doc["Description"] = params["Description"]
    store.put(conn, DESTINATION, account, region, name, doc)
    return with_state(conn, account, region, doc)


def get_destination(conn: Connection, account: str, region: str, name: str) -> dict[str, Any]:
    doc = store.get(conn, DESTINATION, account, region, name)
    if doc is None:
        raise AwsError("ResourceNotFoundException",
                       f"Failed to describe the api-destination(s). An api-destination '{name}' does not exist.")
    return doc


def update_destination(conn: Connection, account: str, region: str, params: dict[str, Any],
                       now: float) -> dict[str, Any]:
    doc = get_destination(conn, account, region, params["Name"])
    for key in ("Description", "ConnectionArn", "InvocationEndpoint", "HttpMethod", "InvocationRateLimitPerSecond"):
        if key in params:
            doc[key] = params[key]
    doc["LastModifiedTime"] = now
    store.put(conn, DESTINATION, account, region, doc["Name"], doc)
    return with_state(conn, account, region, doc)
