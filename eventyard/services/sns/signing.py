"""Message signatures subscribers can verify, as on AWS: SignatureVersion 1 (SHA1withRSA) and 2
(SHA256withRSA) over SNS's canonical string, with a certificate served at SigningCertURL.

The key and self-signed certificate are generated once per data directory, so signatures stay
verifiable across restarts.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# The fields each message type signs, in AWS's order (absent optional fields are skipped).
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_CACHE_SIZE = 4096


def string_to_sign(document: dict[str, Any]) -> str:
    fields = SIGNED_FIELDS[document["Type"]]
    return "".join(f"{name}\n{document[name]}\n" for name in fields if document.get(name) is not None)


class Signer:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        key_path, cert_path = directory / "sns-signing-key.pem", directory / "sns-signing-cert.pem"
        if not (key_path.exists() and cert_path.exists()):
            _generate(key_path, cert_path)
        self._key: Any = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        self.certificate_pem = cert_path.read_bytes()
        digest = hashlib.sha256(self.certificate_pem).hexdigest()[:32]
        self.certificate_name = f"SimpleNotificationService-{digest}.pem"
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()

    def sign(self, document: dict[str, Any], version: str) -> str:
        """Base64 signature of `document`; one message fanned out to many queues is signed once."""
        text = string_to_sign(document)
        key = (version, hashlib.sha256(text.encode()).hexdigest())
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = base64.b64encode(self._key.sign(text.encode(), padding.PKCS1v15(), algorithm)).decode()
        self._cache[key] = signature
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return signature


def _generate(key_path: Path, cert_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Eventyard")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650)).sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    # Written to temporary names and renamed, so a crash never leaves half a key behind.
    for path, data in ((key_path, key_pem), (cert_path, certificate.public_bytes(serialization.Encoding.PEM))):
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
