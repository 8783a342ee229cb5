"""Mobile push (platform applications, endpoints, Publish to an endpoint) and SMS (Publish to a phone
number, SMS attributes, opt-outs, the SMS sandbox) with boto3; deliveries read back from
GET /_eventyard/sns/deliveries."""

from __future__ import annotations

import datetime
import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import ServerProcess
from tests.sns.conftest import captured, wait_for

FCM_ACCOUNT = json.dumps({"type": "service_account", "project_id": "demo", "private_key_id": "k",
                          "private_key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n",
                          "client_email": "push@demo.iam.gserviceaccount.com"})
TOKEN = "ab" * 32


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def _apns_credentials() -> tuple[str, str, datetime.datetime]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple Push Services: demo")])
    expiry = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
                   .not_valid_after(expiry).sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), pem_key, expiry


def test_platform_applications_check_credentials_as_aws_does(sns: Any, unique: str) -> None:
    certificate, key, expiry = _apns_credentials()
    arn = sns.create_platform_application(Name=f"ios-{unique}", Platform="APNS_SANDBOX", Attributes={
        "PlatformPrincipal": certificate, "PlatformCredential": key})["PlatformApplicationArn"]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:app/APNS_SANDBOX/ios-{unique}"
    attributes = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attributes["AppleCertificateExpirationDate"] == expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert attributes["Enabled"] == "true"
    assert "PlatformCredential" not in attributes and "PlatformPrincipal" not in attributes
    with pytest.raises(ClientError) as bad_certificate:
        sns.create_platform_application(Name=f"x-{unique}", Platform="APNS", Attributes={
            "PlatformPrincipal": "not a certificate", "PlatformCredential": key})
    assert _error(bad_certificate) == ("InvalidParameter", "Invalid parameter: PlatformPrincipal not valid.")
    with pytest.raises(ClientError) as bad_fcm:
        sns.create_platform_application(Name=f"y-{unique}", Platform="GCM", Attributes={
            "PlatformCredential": json.dumps({"type": "user"})})
    assert _error(bad_fcm) == ("InvalidParameter", "Invalid parameter: Attributes Reason: Platform credentials are invalid")
    with pytest.raises(ClientError) as missing:
        sns.create_platform_application(Name=f"z-{unique}", Platform="GCM", Attributes={})
    # No attributes at all is the model front end's error (recorded against AWS).
    assert _error(missing) == ("ValidationError", "1 validation error detected: Value null at 'attributes' failed "
                                                  "to satisfy constraint: Member must not be null")
    with pytest.raises(ClientError) as platform:
        sns.create_platform_application(Name=f"w-{unique}", Platform="NOKIA", Attributes={"PlatformCredential": "k"})
    assert _error(platform)[0] == "InvalidParameter"
    sns.set_platform_application_attributes(PlatformApplicationArn=arn, Attributes={"EventDeliveryFailure": ""})
    listed = [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]]
    assert arn in listed
    sns.delete_platform_application(PlatformApplicationArn=arn)
    with pytest.raises(ClientError) as gone:
        sns.get_platform_application_attributes(PlatformApplicationArn=arn)
    assert _error(gone)[0] == "NotFound"


def test_endpoints_are_idempotent_per_token_and_validated(sns: Any, unique: str) -> None:
    app = sns.create_platform_application(Name=f"android-{unique}", Platform="GCM",
                                          Attributes={"PlatformCredential": FCM_ACCOUNT})["PlatformApplicationArn"]
    first = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1", CustomUserData="u1")
    again = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1", CustomUserData="u1")
    assert first["EndpointArn"] == again["EndpointArn"]
    assert first["EndpointArn"].startswith(f"arn:aws:sns:us-east-1:000000000000:endpoint/GCM/android-{unique}/")
    with pytest.raises(ClientError) as differs:
        sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1", CustomUserData="other")
    assert _error(differs) == ("InvalidParameter", f"Invalid parameter: Token Reason: Endpoint {first['EndpointArn']} "
                               "already exists with the same Token, but different attributes.")
    attributes = sns.get_endpoint_attributes(EndpointArn=first["EndpointArn"])["Attributes"]
    assert attributes == {"Enabled": "true", "Token": "device-1", "CustomUserData": "u1"}
    sns.set_endpoint_attributes(EndpointArn=first["EndpointArn"], Attributes={"Token": "device-2"})
    endpoints = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert [(e["EndpointArn"], e["Attributes"]["Token"]) for e in endpoints] == [(first["EndpointArn"], "device-2")]
    certificate, key, _ = _apns_credentials()
    ios = sns.create_platform_application(Name=f"ios-{unique}", Platform="APNS", Attributes={
        "PlatformPrincipal": certificate, "PlatformCredential": key})["PlatformApplicationArn"]
    with pytest.raises(ClientError) as not_hex:
        sns.create_platform_endpoint(PlatformApplicationArn=ios, Token="not-hex")
    assert _error(not_hex)[0] == "InvalidParameter"
    sns.delete_endpoint(EndpointArn=first["EndpointArn"])
    sns.delete_endpoint(EndpointArn=first["EndpointArn"])  # AWS: deleting twice succeeds
    with pytest.raises(ClientError) as gone:
        sns.get_endpoint_attributes(EndpointArn=first["EndpointArn"])
    assert _error(gone) == ("NotFound", "Endpoint does not exist")


def test_a_push_to_an_endpoint_is_captured_with_its_platform_payload(
        sns: Any, server: ServerProcess, unique: str) -> None:
    app = sns.create_platform_application(Name=f"android-{unique}", Platform="GCM",
                                          Attributes={"PlatformCredential": FCM_ACCOUNT})["PlatformApplicationArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token=f"tok-{unique}")["EndpointArn"]
    gcm = {"notification": {"title": "Order", "body": "shipped"}}
    published = sns.publish(TargetArn=endpoint, MessageStructure="json",
                            Message=json.dumps({"GCM": json.dumps(gcm), "default": "shipped"}))
    plain = sns.publish(TargetArn=endpoint, Message="hello")
    records = wait_for(lambda: len(captured(server, endpoint=endpoint)) == 2 and captured(server, endpoint=endpoint))
    by_id = {r["message_id"]: r for r in records}
    assert json.loads(by_id[published["MessageId"]]["message"]) == gcm
    assert json.loads(by_id[plain["MessageId"]]["message"]) == {"data": {"default": "hello"}}
    assert {r["status"] for r in records} == {"delivered"} and {r["platform"] for r in records} == {"GCM"}
    with pytest.raises(ClientError) as no_entry:
        sns.publish(TargetArn=endpoint, MessageStructure="json", Message=json.dumps({"APNS": "{}"}))
    assert _error(no_entry) == ("InvalidParameter", "Invalid parameter: JSON must contain an entry for 'default' or 'GCM'.")


def test_a_rejected_token_disables_the_endpoint_until_it_is_enabled_again(
        sns: Any, server: ServerProcess, unique: str) -> None:
    certificate, key, _ = _apns_credentials()
    app = sns.create_platform_application(Name=f"ios-{unique}", Platform="APNS", Attributes={
        "PlatformPrincipal": certificate, "PlatformCredential": key})["PlatformApplicationArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="bad0" + "1" * 60)["EndpointArn"]
    sns.publish(TargetArn=endpoint, Message="first")  # accepted; the platform rejects the token
    [record] = captured(server, endpoint=endpoint)
    assert record["status"] == "failed" and json.loads(record["message"]) == {"aps": {"alert": "first"}}
    assert sns.get_endpoint_attributes(EndpointArn=endpoint)["Attributes"]["Enabled"] == "false"
    with pytest.raises(ClientError) as disabled:
        sns.publish(TargetArn=endpoint, Message="second")
    assert _error(disabled) == ("EndpointDisabled", "Endpoint is disabled")
    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Token": TOKEN, "Enabled": "true"})
    sns.publish(TargetArn=endpoint, Message="third")
    assert [r["status"] for r in captured(server, endpoint=endpoint)] == ["failed", "delivered"]


def test_a_topic_delivers_to_application_and_sms_subscriptions(sns: Any, server: ServerProcess, unique: str) -> None:
    app = sns.create_platform_application(Name=f"android-{unique}", Platform="GCM",
                                          Attributes={"PlatformCredential": "legacy-server-key"})["PlatformApplicationArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token=f"t-{unique}")["EndpointArn"]
    topic = sns.create_topic(Name=f"news-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=endpoint)
    number = "+1555" + str(abs(hash(unique)) % 10**7).zfill(7)
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=number)
    sns.publish(TopicArn=topic, Message=json.dumps({"default": "news", "GCM": json.dumps({"data": {"n": 1}})}),
                MessageStructure="json")
    push = wait_for(lambda: captured(server, endpoint=endpoint))
    assert json.loads(push[0]["message"]) == {"data": {"n": 1}} and push[0]["topic_arn"] == topic
    text = wait_for(lambda: captured(server, phone_number=number))
    assert text[0]["message"] == "news" and text[0]["status"] == "delivered"


def test_sms_is_captured_with_its_type_and_opted_out_numbers_are_not_sent_to(
        sns: Any, server: ServerProcess, unique: str) -> None:
    number = "+1444" + str(abs(hash(unique)) % 10**7).zfill(7)
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional", "DefaultSenderID": "Shop"})
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}
    with pytest.raises(ClientError) as bad_type:
        sns.set_sms_attributes(attributes={"DefaultSMSType": "Loud"})
    assert _error(bad_type)[0] == "InvalidParameter"
    sent = sns.publish(PhoneNumber=number, Message="code 1234", MessageAttributes={
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Promotional"}})
    [record] = captured(server, phone_number=number)
    assert record["message_id"] == sent["MessageId"] and record["message"] == "code 1234"
    assert record["sms_type"] == "Promotional" and record["sender_id"] == "Shop"
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is False
    request = urllib.request.Request(f"{server.url}/_eventyard/sns/opt-outs", method="POST",
                                     data=json.dumps({"phoneNumber": number}).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is True
    assert number in sns.list_phone_numbers_opted_out()["phoneNumbers"]
    sns.publish(PhoneNumber=number, Message="not sent")
    assert [r["status"] for r in captured(server, phone_number=number)] == ["delivered", "failed"]
    sns.opt_in_phone_number(phoneNumber=number)
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is False
    with pytest.raises(ClientError) as bad_number:
        sns.publish(PhoneNumber="12ab", Message="x")
    assert _error(bad_number)[0] == "InvalidParameter"


def test_sms_sandbox_numbers_are_verified_with_the_captured_one_time_password(
        sns: Any, server: ServerProcess, unique: str) -> None:
    number = "+1333" + str(abs(hash(unique)) % 10**7).zfill(7)
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is False
    sns.create_sms_sandbox_phone_number(PhoneNumber=number, LanguageCode="en-US")
    assert {"PhoneNumber": number, "Status": "Pending"} in sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"]
    [otp] = captured(server, phone_number=number, type="SandboxOTP")
    wrong_code = f"{(int(otp['otp']) + 1) % 1000000:06d}"
    with pytest.raises(ClientError) as wrong:
        sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword=wrong_code)
    assert _error(wrong)[0] == "VerificationException"
    sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword=otp["otp"])
    assert {"PhoneNumber": number, "Status": "Verified"} in sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"]
    sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    with pytest.raises(ClientError) as gone:
        sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    assert _error(gone)[0] == "ResourceNotFound"
    assert sns.list_origination_numbers()["PhoneNumbers"] == []
