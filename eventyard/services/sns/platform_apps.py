"""Mobile push: platform applications (an app's credentials for APNS, FCM/GCM, ADM, Baidu, MPNS or
WNS) and their platform endpoints (one device token each), with AWS's validations and wording.

No push service is reachable from Eventyard, so credentials are checked for their form (a PEM
certificate and key for APNS and MPNS, an FCM service-account JSON or server key, ...), not with
the platform. The attributes AWS never returns (PlatformCredential, PlatformPrincipal) are kept but
not shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from cryptography import x509

from eventyard.protocol.errors import AwsError
from eventyard.runtime import partitions
from eventyard.runtime.ids import new_uuid
from eventyard.services.sns.errors import invalid_parameter, missing_attributes
from eventyard.storage import Connection

PLATFORMS = ("APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "GCM", "ADM", "BAIDU", "MPNS", "WNS")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,256}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
SECRET_ATTRIBUTES = {"PlatformCredential", "PlatformPrincipal"}
APPLICATION_ATTRIBUTES = SECRET_ATTRIBUTES | {
    "EventEndpointCreated", "EventEndpointDeleted", "EventEndpointUpdated", "EventDeliveryFailure",
    "SuccessFeedbackRoleArn", "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate", "Enabled",
    "ApplePlatformTeamID", "ApplePlatformBundleID", "AuthenticationMethod"}
ENDPOINT_ATTRIBUTES = {"CustomUserData", "Enabled", "Token"}


@dataclass
class Application:
    arn: str
    name: str
    platform: str
    attributes: dict[str, str]


@dataclass
class Endpoint:
    arn: str
    application_arn: str
    attributes: dict[str, str]

    @property
    def enabled(self) -> bool:
        return self.attributes.get("Enabled", "true").lower() == "true"

    @property
    def platform(self) -> str:
        return self.arn.split(":endpoint/", 1)[1].split("/", 1)[0]


def application_not_found() -> AwsError:
    return AwsError("NotFound", "PlatformApplication does not exist", 404)


def endpoint_not_found() -> AwsError:
    return AwsError("NotFound", "Endpoint does not exist", 404)


# -- credentials ----------------------------------------------------------------------------
def _certificate(text: str) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(text.encode())
    except ValueError:
        return None


def _is_private_key(text: str) -> bool:
    return bool(re.search(r"-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----", text))


def _check_fcm(credential: str) -> None:
    if credential.lstrip().startswith("{"):  # FCM HTTP v1: the service account's JSON key file
        try:
            account = json.loads(credential)
        except ValueError:
            account = None
        if not isinstance(account, dict) or account.get("type") != "service_account" or not all(
                account.get(k) for k in ("project_id", "private_key", "client_email")):
            raise invalid_parameter("Attributes", "Platform credentials are invalid")


def check_credentials(platform: str, attributes: dict[str, str]) -> dict[str, str]:
    """AWS's checks of an application's credentials; returns the attributes AWS derives from them."""
    credential, principal = attributes.get("PlatformCredential"), attributes.get("PlatformPrincipal")
    if platform in {"ADM", "BAIDU"} and bool(principal) != bool(credential):  # a client id and secret go together
        given, missing = ("PlatformPrincipal", "PlatformCredential") if principal else ("PlatformCredential",
                                                                                         "PlatformPrincipal")
        raise invalid_parameter("Attributes", f"{given} attribute provided without {missing}")
    if not credential:
        raise invalid_parameter("Attributes", "PlatformCredential attribute is required")
    derived: dict[str, str] = {}
    if platform.startswith("APNS"):
        if attributes.get("ApplePlatformTeamID") or attributes.get("ApplePlatformBundleID"):  # token-based (.p8 key)
            if not (attributes.get("ApplePlatformTeamID") and attributes.get("ApplePlatformBundleID") and principal):
                raise invalid_parameter("Attributes", "ApplePlatformTeamID, ApplePlatformBundleID and "
                                        "PlatformPrincipal (the signing key ID) are required for token authentication")
            if not _is_private_key(credential):
                raise invalid_parameter("Attributes", "Platform credentials are invalid")
            derived["AuthenticationMethod"] = "Token"
        else:
            certificate = _certificate(principal or "")
            if certificate is None:
                raise invalid_parameter("PlatformPrincipal not valid.")
            if not _is_private_key(credential):
                raise invalid_parameter("Attributes", "Platform credentials are invalid")
            expiry = certificate.not_valid_after_utc.astimezone(UTC)
            derived["AppleCertificateExpirationDate"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
            derived["AuthenticationMethod"] = "Certificate"
    elif platform == "GCM":
        _check_fcm(credential)
    elif platform in {"ADM", "BAIDU"}:
        if not principal:
            raise invalid_parameter("Attributes", "PlatformPrincipal attribute is required")
    elif platform == "MPNS":
        if principal and (_certificate(principal) is None or not _is_private_key(credential)):
            raise invalid_parameter("Attributes", "Platform credentials are invalid")
    elif platform == "WNS":
        if not principal or not principal.startswith("ms-app://"):
            raise invalid_parameter("Attributes", "Platform credentials are invalid")
    return derived


def _check_names(attributes: dict[str, str], allowed: set[str]) -> None:
    for name in attributes:
        if name not in allowed:
            raise invalid_parameter("Attributes", f"Invalid attribute name: {name}")
    enabled = attributes.get("Enabled")
    if enabled is not None and enabled.lower() not in {"true", "false"}:
        raise invalid_parameter("Attributes", "Enabled must be true or false")


# -- applications ---------------------------------------------------------------------------
def _application(row: Any) -> Application:
    return Application(row["arn"], row["name"], row["platform"], json.loads(row["attributes"]))


def _check_application_name(name: str) -> None:
    # The name itself stands where the parameter's name usually does (recorded against AWS).
    if not name:
        raise invalid_parameter("", "cannot be empty")
    if len(name) > 256:
        raise invalid_parameter(name, "must be at most 256 characters long")
    if not _NAME.match(name):
        raise invalid_parameter(name, "must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'")


def create_application(conn: Connection, account: str, region: str, name: str, platform: str,
                       attributes: dict[str, str] | None, now: float) -> str:
    _check_application_name(name)
    if platform not in PLATFORMS:
        raise invalid_parameter("Platform", f"{platform} is not supported")
    if attributes is None:
        raise missing_attributes()
    _check_names(attributes, APPLICATION_ATTRIBUTES)
    stored = {"Enabled": "true", **attributes, **check_credentials(platform, attributes)}
    arn = partitions.arn("sns", region, account, f"app/{platform}/{name}")
    existing = conn.execute("SELECT attributes FROM sns_platform_applications WHERE arn = ?", (arn,)).fetchone()
    if existing is not None:
        if json.loads(existing[0]) != stored:
            raise invalid_parameter("Name", "An application with the same name but different properties already "
                                    "exists")
        return arn
    conn.execute("INSERT INTO sns_platform_applications (arn, account_id, region, name, platform, attributes,"
                 " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (arn, account, region, name, platform, json.dumps(stored), now))
    return arn


def find_application(conn: Connection, arn: str) -> Application | None:
    row = conn.execute("SELECT * FROM sns_platform_applications WHERE arn = ?", (arn,)).fetchone()
    return _application(row) if row else None


def check_application_arn(arn: str) -> None:
    """The ARN's shape, judged before anything else of the request (recorded against AWS)."""
    if arn.count(":") < 5:
        raise invalid_parameter("PlatformApplicationArn", f"An ARN must have at least 6 elements, not "
                                f"{arn.count(':') + 1}")


def get_application(conn: Connection, arn: str) -> Application:
    row = conn.execute("SELECT * FROM sns_platform_applications WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        check_application_arn(arn)
        raise application_not_found()
    return _application(row)


def application_view(application: Application) -> dict[str, str]:
    return {k: v for k, v in application.attributes.items() if k not in SECRET_ATTRIBUTES}


def set_application_attributes(conn: Connection, application: Application, attributes: dict[str, str]) -> None:
    _check_names(attributes, APPLICATION_ATTRIBUTES)
    merged = {**application.attributes, **attributes}
    if SECRET_ATTRIBUTES & set(attributes):
        merged.update(check_credentials(application.platform, merged))
    conn.execute("UPDATE sns_platform_applications SET attributes = ? WHERE arn = ?",
                 (json.dumps(merged), application.arn))


def delete_application(conn: Connection, arn: str) -> None:
    conn.execute("DELETE FROM sns_platform_endpoints WHERE application_arn = ?", (arn,))
    conn.execute("DELETE FROM sns_platform_applications WHERE arn = ?", (arn,))


def list_applications(conn: Connection, account: str, region: str) -> list[Application]:
    rows = conn.execute("SELECT * FROM sns_platform_applications WHERE account_id = ? AND region = ? ORDER BY arn",
                        (account, region)).fetchall()
    return [_application(r) for r in rows]


# -- endpoints ------------------------------------------------------------------------------
def check_token(platform: str, token: str) -> None:
    if not token:
        raise invalid_parameter("Token", "Token cannot be empty")
    if platform.startswith("APNS") and (not _HEX.match(token) or len(token) > 400 or len(token) % 2):
        raise invalid_parameter("Token", "iOS device tokens must be no more than 400 hexadecimal characters")
    if len(token) > 4096:
        raise invalid_parameter("Token", "Token must be no more than 4096 characters")


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(row["arn"], row["application_arn"], json.loads(row["attributes"]))


def create_endpoint(conn: Connection, application: Application, token: str, custom: str | None,
                    attributes: dict[str, str], now: float) -> str:
    """AWS's CreatePlatformEndpoint is idempotent for a token with the same attributes."""
    check_token(application.platform, token)
    _check_names(attributes, ENDPOINT_ATTRIBUTES)
    if custom is not None and len(custom.encode()) > 2048:
        raise invalid_parameter("CustomUserData", "CustomUserData must be less than 2KB")
    wanted = {"Enabled": "true", **attributes, "Token": token}
    if custom is not None:
        wanted["CustomUserData"] = custom
    row = conn.execute("SELECT * FROM sns_platform_endpoints WHERE application_arn = ? AND token = ?",
                       (application.arn, token)).fetchone()
    if row is not None:
        existing = _endpoint(row)
        if existing.attributes != wanted:
            raise invalid_parameter("Token", f"Endpoint {existing.arn} already exists with the same Token, but "
                                    "different attributes.")
        return existing.arn
    _, _, _, region, account, _ = application.arn.split(":", 5)
    arn = partitions.arn("sns", region, account, f"endpoint/{application.platform}/{application.name}/{new_uuid()}")
    conn.execute("INSERT INTO sns_platform_endpoints (arn, application_arn, token, attributes, created_at)"
                 " VALUES (?, ?, ?, ?, ?)", (arn, application.arn, token, json.dumps(wanted), now))
    return arn


def find_endpoint(conn: Connection, arn: str) -> Endpoint | None:
    row = conn.execute("SELECT * FROM sns_platform_endpoints WHERE arn = ?", (arn,)).fetchone()
    return _endpoint(row) if row else None


def get_endpoint(conn: Connection, arn: str) -> Endpoint:
    found = find_endpoint(conn, arn)
    if found is None:
        raise endpoint_not_found()
    return found


def set_endpoint_attributes(conn: Connection, endpoint: Endpoint, attributes: dict[str, str]) -> None:
    _check_names(attributes, ENDPOINT_ATTRIBUTES)
    merged = {**endpoint.attributes, **attributes}
    if "Token" in attributes:
        check_token(endpoint.platform, attributes["Token"])
    conn.execute("UPDATE sns_platform_endpoints SET attributes = ?, token = ? WHERE arn = ?",
                 (json.dumps(merged), merged["Token"], endpoint.arn))


def delete_endpoint(conn: Connection, arn: str) -> None:
    conn.execute("DELETE FROM sns_platform_endpoints WHERE arn = ?", (arn,))  # AWS: deleting twice succeeds


def list_endpoints(conn: Connection, application_arn: str) -> list[Endpoint]:
    rows = conn.execute("SELECT * FROM sns_platform_endpoints WHERE application_arn = ? ORDER BY created_at, arn",
                        (application_arn,)).fetchall()
    return [_endpoint(r) for r in rows]
