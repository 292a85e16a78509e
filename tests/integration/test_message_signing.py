"""Celery message signing (`PERPBOT_SIGNING_*`): a worker that signs runs only messages signed
by a certificate in its store; an unsigned, an altered and an outsider's message, sent
straight to the broker with kombu as anyone who reaches Redis could, never run, and an
unsigned remote-control shutdown does not stop it."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery.security.certificate import Certificate
from celery.security.key import PrivateKey
from celery.security.serialization import SecureSerializer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from kombu import Exchange
from kombu.serialization import dumps
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Event
from tests.support.celery_app import app
from tests.support.waiting import wait_until
from tests.support.workers import celery_worker

pytestmark = pytest.mark.slow

KEY_PASSWORD = "test-key-password"
TASK = "perpbot.test.record_run"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, key: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey, ca: bool
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey, password: str | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A throwaway CA, a perpbot certificate it signed (the store trusts both) and its key."""
    ca_key, key = _new_key(), _new_key()
    ca = _certificate("perpbot test CA", ca_key, "perpbot test CA", ca_key, ca=True)
    cert = _certificate("perpbot processes", key, "perpbot test CA", ca_key, ca=False)
    store = tmp_path / "trusted"
    store.mkdir()
    (store / "ca.pem").write_bytes(_pem(ca))
    (store / "perpbot.pem").write_bytes(_pem(cert))
    (tmp_path / "perpbot.key").write_bytes(_key_pem(key, KEY_PASSWORD))
    (tmp_path / "perpbot.pem").write_bytes(_pem(cert))
    return {"key": tmp_path / "perpbot.key", "cert": tmp_path / "perpbot.pem", "store": store}


def _signer(key_pem: bytes, cert_pem: bytes, password: str | None) -> SecureSerializer:
    return SecureSerializer(
        PrivateKey(key_pem, password=password.encode() if password else None),
        Certificate(cert_pem.decode()),
        None,
        "sha256",
        serializer="json",
    )


def _publish(key: str, sign: Callable[[object], bytes] | None) -> None:
    """A task message for `record_run(key)`, its body signed by `sign` (or plain JSON), put
    on the broker by hand as any client of Redis could."""
    message = app.amqp.as_task_v2(str(uuid.uuid4()), TASK, args=(key,))
    if sign is None:
        content_type, _, payload = dumps(message.body, serializer="json")
    else:
        content_type, payload = "application/data", sign(message.body)
    with app.connection_for_write() as connection:
        connection.Producer().publish(
            payload,
            exchange=Exchange("perpbot", type="direct"),
            routing_key="default",
            headers=message.headers,
            content_type=content_type,
            content_encoding="utf-8",
            **message.properties,
        )


def _done(engine, key: str) -> bool:
    with Session(engine) as session:
        return (
            session.scalar(
                select(Event.id).where(Event.entity_id == key, Event.kind == "test.done")
            )
            is not None
        )


def test_a_signing_worker_refuses_unsigned_altered_and_untrusted_messages(pki, tmp_path, clean_db):
    env = {
        "PERPBOT_SIGNING_KEY": str(pki["key"]),
        "PERPBOT_SIGNING_KEY_PASSWORD": KEY_PASSWORD,
        "PERPBOT_SIGNING_CERT": str(pki["cert"]),
        "PERPBOT_SIGNING_CERT_STORE": str(pki["store"]),
    }
    ours = _signer(pki["key"].read_bytes(), pki["cert"].read_bytes(), KEY_PASSWORD)
    outsider_key = _new_key()
    outsider_cert = _certificate("someone", outsider_key, "someone", outsider_key, ca=True)
    theirs = _signer(_key_pem(outsider_key), _pem(outsider_cert), None)
    run = uuid.uuid4().hex[:8]
    keys = {name: f"{run}-{name}" for name in ("unsigned", "altered", "untrusted", "signed")}

    def altered(body: object) -> bytes:
        # Signed as it was, then its body changed: the signature no longer matches it.
        signed = base64.b64decode(ours.serialize(body))
        return base64.b64encode(signed.replace(keys["altered"].encode(), b"altered-elsewhere"))

    log = tmp_path / "worker.log"
    with celery_worker(queues="default", env=env, log_path=log) as worker:
        # An unsigned remote-control shutdown, as `celery control shutdown` without the key.
        app.control.broadcast("shutdown")
        _publish(keys["unsigned"], None)
        _publish(keys["altered"], altered)
        _publish(keys["untrusted"], theirs.serialize)
        _publish(keys["signed"], ours.serialize)
        # One worker process takes the queue in order: the signed message runs last.
        wait_until(
            lambda: _done(clean_db, keys["signed"]),
            timeout=60,
            message=lambda: f"the signed message never ran; worker log:\n{log.read_text()[-3000:]}",
        )
        assert worker.poll() is None  # the shutdown was refused too

    assert not any(_done(clean_db, keys[name]) for name in ("unsigned", "altered", "untrusted"))
    assert not _done(clean_db, "altered-elsewhere")
    records = re.split(r"\n(?=\[\d{4}-)", log.read_text())  # one per log record
    assert _refused(records, keys["unsigned"], "Refusing to deserialize untrusted content")
    assert _refused(records, keys["altered"], "Can't decode message body: DecodeError(Security")
    assert _refused(records, keys["untrusted"], "Unknown certificate")
    assert _refused(records, '"method": "shutdown"', "Refusing to deserialize untrusted content")


def _refused(records: list[str], key: str, why: str) -> bool:
    """The worker logged refusing the message for `key`, saying `why`."""
    return any(key in record and why in record for record in records)
