"""Function URL configurations (CreateFunctionUrlConfig and its siblings), in AWS's words.

A URL belongs to a function or to one of its aliases (never a version: the model's Qualifier pattern
refuses numbers and `$LATEST`). Its id is 32 lowercase letters and digits, as AWS's are; the URL a
client sees is `http(s)://<url-id>.lambda-url.<region>.<host>:<port>/` on the host the client used
(a loopback address becomes `localhost`, whose subdomains are loopback too), served by
`url_invocations.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import string
from typing import Any
from urllib.parse import urlsplit

from eventyard.protocol.errors import AwsError
from eventyard.services.base import RequestContext
from eventyard.services.lambda_ import functions
from eventyard.services.lambda_.names import FunctionRef, function_arn, parse_ref
from eventyard.storage import Connection, Row

URL_ID_ALPHABET = string.ascii_lowercase + string.digits
DEFAULT_INVOKE_MODE = "BUFFERED"


def new_url_id() -> str:
    return "".join(secrets.choice(URL_ID_ALPHABET) for _ in range(32))


def url_timestamp(now: float) -> str:
    """Function URL times: ISO 8601 with microseconds, in UTC."""
    return dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def function_url(url_id: str, region: str, base_url: str) -> str:
    parts = urlsplit(base_url)
    host = parts.hostname or "localhost"
    if host.replace(".", "").isdigit() or ":" in host:  # an IP address has no subdomains
        host = "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or 'http'}://{url_id}.lambda-url.{region}.{host}{port}/"


def not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "The resource you requested does not exist.", 404)


def function_missing() -> AwsError:
    return AwsError("ResourceNotFoundException", "Function does not exist", 404)


# -- storage ------------------------------------------------------------------------------------
def find(conn: Connection, ref: FunctionRef) -> Row | None:
    return conn.execute("SELECT * FROM lambda_function_urls WHERE account_id=? AND region=? AND name=? AND qualifier=?",
                        (ref.account_id, ref.region, ref.name, ref.qualifier or "")).fetchone()


def by_url_id(conn: Connection, url_id: str) -> Row | None:
    return conn.execute("SELECT * FROM lambda_function_urls WHERE url_id=?", (url_id,)).fetchone()


def delete_for(conn: Connection, account_id: str, region: str, name: str, qualifier: str | None = None) -> None:
    """Drop a function's URLs (all of them, or one alias's: '' is the function's own) when the
    configuration, the alias or the function goes; their ids stay known as retired."""
    where = "account_id=? AND region=? AND name=?" + ("" if qualifier is None else " AND qualifier=?")
    args = (account_id, region, name) if qualifier is None else (account_id, region, name, qualifier)
    conn.execute(f"INSERT INTO lambda_retired_function_urls (url_id) SELECT url_id FROM lambda_function_urls"
                 f" WHERE {where} ON CONFLICT (url_id) DO NOTHING", args)
    conn.execute(f"DELETE FROM lambda_function_urls WHERE {where}", args)


def is_retired(conn: Connection, url_id: str) -> bool:
    return conn.execute("SELECT url_id FROM lambda_retired_function_urls WHERE url_id=?",
                        (url_id,)).fetchone() is not None


def _target_exists(conn: Connection, ref: FunctionRef) -> bool:
    if not functions.exists(conn, ref):
        return False
    return ref.qualifier is None or functions.get_alias(conn, ref, ref.qualifier) is not None


def view(row: Row, base_url: str, *, full: bool) -> dict[str, Any]:
    """A configuration as answered: Get and List (`full`) name the invoke mode even when it was never
    set (BUFFERED) and the last change; Create and Update name the mode only when one was given."""
    out: dict[str, Any] = {
        "FunctionUrl": function_url(row["url_id"], row["region"], base_url),
        "FunctionArn": function_arn(row["region"], row["account_id"], row["name"], row["qualifier"] or None),
        "AuthType": row["auth_type"],
        "CreationTime": url_timestamp(row["created_at"]),
    }
    if row["cors"]:
        out["Cors"] = json.loads(row["cors"])
    if full or row["invoke_mode"]:
        out["InvokeMode"] = row["invoke_mode"] or DEFAULT_INVOKE_MODE
    return out


class FunctionUrlOperations:
    """The Lambda provider's URL operations (mixed into LambdaProvider)."""

    platform: Any

    def _url_ref(self, ctx: RequestContext, params: dict[str, Any]) -> FunctionRef:
        return parse_ref(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))

    async def create_function_url_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._url_ref(ctx, params)
        now = self.platform.clock.now()

        def run(conn: Connection) -> Row:
            if not _target_exists(conn, ref):
                raise function_missing()
            if find(conn, ref) is not None:
                arn = function_arn(ref.region, ref.account_id, ref.name, ref.qualifier)
                raise AwsError("ResourceConflictException", f"Failed to create function url config for "
                               f"[functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this "
                               "Lambda function", 409)
            return conn.execute(
                "INSERT INTO lambda_function_urls (account_id, region, name, qualifier, url_id, auth_type, cors,"
                " invoke_mode, created_at, modified_at) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING *",
                (ref.account_id, ref.region, ref.name, ref.qualifier or "", new_url_id(), params["AuthType"],
                 json.dumps(params["Cors"]) if params.get("Cors") is not None else None, params.get("InvokeMode"),
                 now, now)).fetchone()

        return view(await self.platform.db.write(run), ctx.base_url, full=False)

    async def get_function_url_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._url_ref(ctx, params)
        row = await self.platform.db.read(lambda conn: find(conn, ref))
        if row is None:
            raise not_found()
        return {**view(row, ctx.base_url, full=True), "LastModifiedTime": url_timestamp(row["modified_at"])}

    async def update_function_url_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._url_ref(ctx, params)
        now = self.platform.clock.now()

        def run(conn: Connection) -> Row:
            if not _target_exists(conn, ref):
                raise function_missing()  # Update names the function, Get and Delete the configuration
            row = find(conn, ref)
            if row is None:
                raise not_found()
            cors = json.dumps(params["Cors"]) if params.get("Cors") is not None else row["cors"]
            return conn.execute(
                "UPDATE lambda_function_urls SET auth_type=?, cors=?, invoke_mode=?, modified_at=?"
                " WHERE url_id=? RETURNING *",
                (params.get("AuthType") or row["auth_type"], cors, params.get("InvokeMode") or row["invoke_mode"],
                 now, row["url_id"])).fetchone()

        row = await self.platform.db.write(run)
        return {**view(row, ctx.base_url, full=False), "LastModifiedTime": url_timestamp(row["modified_at"])}

    async def delete_function_url_config(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        ref = self._url_ref(ctx, params)

        def run(conn: Connection) -> None:
            if find(conn, ref) is None:
                raise not_found()
            delete_for(conn, ref.account_id, ref.region, ref.name, ref.qualifier or "")

        await self.platform.db.write(run)

    async def list_function_url_configs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._url_ref(ctx, params)
        unqualified = FunctionRef(ref.name, None, ref.region, ref.account_id)

        def run(conn: Connection) -> list[Row]:
            if not functions.exists(conn, unqualified):
                raise function_missing()
            return conn.execute("SELECT * FROM lambda_function_urls WHERE account_id=? AND region=? AND name=?"
                                " ORDER BY qualifier", (ref.account_id, ref.region, ref.name)).fetchall()

        rows = await self.platform.db.read(run)
        start = int(params["Marker"]) if str(params.get("Marker", "")).isdigit() else 0
        size = params.get("MaxItems") or 50
        page = [{**view(row, ctx.base_url, full=True), "LastModifiedTime": url_timestamp(row["modified_at"])}
                for row in rows[start:start + size]]
        out: dict[str, Any] = {"FunctionUrlConfigs": page}
        if start + size < len(rows):
            out["NextMarker"] = str(start + size)
        return out
