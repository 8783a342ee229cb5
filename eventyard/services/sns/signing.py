"""Message signatures subscribers can verify, as on AWS: SignatureVersion 1 (SHA1withRSA) and 2
(SHA256withRSA) over SNS's canonical string, with a certificate served at SigningCertURL.

The key and self-signed certificate are generated once and kept in the database (`agree`), so
signatures stay verifiable across restarts and every node sharing the database signs with the same
key. A data directory that already holds a key from before (files) contributes that one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from eventyard.storage import Connection, Migration

MIGRATIONS = [
    Migration("sns-nodes-0002-signing-key",
              "CREATE TABLE sns_signing_key (id TEXT PRIMARY KEY, key_pem TEXT NOT NULL, cert_pem TEXT NOT NULL)"),
]

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


def candidate_key(directory: Path) -> tuple[bytes, bytes]:
    """The key and certificate this node proposes: the data directory's (from before keys moved into
    the database), else a new pair."""
    key_path, cert_path = directory / "sns-signing-key.pem", directory / "sns-signing-cert.pem"
    if key_path.exists() and cert_path.exists():
        key_path.chmod(0o600)  # a key other users could read would let them forge SNS signatures
        return key_path.read_bytes(), cert_path.read_bytes()
    return _generate()


def agree(conn: Connection, key_pem: bytes, cert_pem: bytes) -> tuple[bytes, bytes]:
    """Inside a transaction: the one signing key of the database (the first node's proposal wins)."""
    conn.execute("INSERT INTO sns_signing_key (id, key_pem, cert_pem) VALUES ('sns', ?, ?) ON CONFLICT (id) DO NOTHING",
                 (key_pem.decode(), cert_pem.decode()))
    row = conn.execute("SELECT key_pem, cert_pem FROM sns_signing_key WHERE id = 'sns'").fetchone()
    return str(row[0]).encode(), str(row[1]).encode()


class Signer:
    def __init__(self, key_pem: bytes, certificate_pem: bytes) -> None:
        self._key: Any = serialization.load_pem_private_key(key_pem, password=None)
        self.certificate_pem = certificate_pem
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


def _generate() -> tuple[bytes, bytes]:
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
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)
