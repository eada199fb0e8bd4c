"""How the outbox hands a message on: one small interface, one transport per channel, chosen by
configuration (docs/operations.md, "Email and SMS delivery").

A transport's `send(message)` returns when the peer has accepted the message, or raises
`DeliveryFailed`: `permanent=True` when trying again cannot help (an SMTP 5xx refusal, an SMS
provider's 4xx), else the outbox retries it later with back-off. Any other exception counts as
temporary.

- email: `OUTBOX_TRANSPORT=file` (development default: .eml files in OUTBOX_DIR) or `smtp`
  (SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, SMTP_STARTTLS, SMTP_FROM).
- sms: `SMS_TRANSPORT=file` (development default: .json files in OUTBOX_DIR) or `http`: a JSON
  POST {"id", "to", "body"} to SMS_HTTP_URL with `Authorization: Bearer SMS_HTTP_TOKEN`;
  2xx = accepted, 4xx = refused for good, anything else (5xx, timeout, no connection) = retry.

Email goes through the standard library's smtplib and email.message: they are the SMTP client
and MIME builder Python maintains (STARTTLS, AUTH, RFC 5322/6532 headers), so a third-party
wrapper would add a dependency without adding a capability the outbox needs.
"""
from __future__ import annotations

import email.policy
import functools
import json
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from flask import current_app

from portal.outbox.models import Channel, OutboxMessage
from portal.timeutil import as_aware


class DeliveryFailed(Exception):
    """The peer did not take the message; `permanent` says whether retrying can help."""

    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Hand the message on; raise DeliveryFailed when the peer does not take it."""


def outbox_dir() -> str:
    path = current_app.config.get("OUTBOX_DIR") or os.path.join(current_app.instance_path, "outbox")
    os.makedirs(path, exist_ok=True)
    return path


class _KeptHeaderClasses(HeaderRegistry):
    """The standard library's header registry, each header's class made once: the registry
    makes a new class (`type(...)`) for every header it parses, which was about a third of
    building a receipt (bench/README.md, "Postings first, receipts after")."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        made = self._made.get(name.lower())
        if made is None:
            made = self._made[name.lower()] = super().__getitem__(name)
        return made


# `policy.default` with header classes made once: the same messages, byte for byte.
EMAIL_POLICY = email.policy.default.clone(header_factory=_KeptHeaderClasses())


@functools.lru_cache(maxsize=16)
def _sender_header(sender: str):
    """The From header of `sender`, parsed once (every message of a transport has the same)."""
    return EMAIL_POLICY.header_factory("From", sender)


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The MIME message: plain text, UTF-8, in the cardholder's language as the template
    rendered it when the message was queued (messages carry no HTML part today). The date is
    given as a datetime (its header formats it as `format_datetime` does, without parsing
    the text again)."""
    mail = EmailMessage(policy=EMAIL_POLICY)
    mail["From"] = _sender_header(sender)
    mail["To"] = message.recipient
    mail["Subject"] = message.subject or ""
    mail["Date"] = as_aware(message.created_at)
    mail["Message-ID"] = make_msgid(idstring=str(message.id))
    mail.set_content(message.body)
    return mail


def sms_payload(message: OutboxMessage) -> dict:
    return {"id": message.id, "to": message.recipient, "body": message.body,
            "created_at": as_aware(message.created_at).isoformat()}


class FileTransport:
    """Development and tests: one file per message in OUTBOX_DIR (.eml or .json)."""

    def send(self, message: OutboxMessage) -> None:
        created = as_aware(message.created_at)
        stem = f"{created:%Y%m%dT%H%M%S}-{message.id:08d}-{message.purpose}"
        directory = outbox_dir()
        if message.channel == Channel.EMAIL:
            mail = build_email(message, current_app.config["MAIL_FROM"])
            path, data = os.path.join(directory, stem + ".eml"), mail.as_bytes()
        else:
            path = os.path.join(directory, stem + ".json")
            payload = {k: v for k, v in sms_payload(message).items() if k != "id"}
            data = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
        tmp = path + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)  # a reader never sees half a message


def _text(text) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def _smtp_code_failure(code: int, text) -> DeliveryFailed:
    return DeliveryFailed(f"SMTP {code}: {_text(text)}", permanent=500 <= code < 600)


class SmtpTransport:
    """Email to an SMTP relay: one connection per message (a relay's limits and a dropped
    connection then cost one message, not a batch)."""

    def __init__(self, config):
        self.host = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.username = config.get("SMTP_USERNAME")
        self.password = config.get("SMTP_PASSWORD")
        self.starttls = bool(config.get("SMTP_STARTTLS"))
        self.sender = config.get("SMTP_FROM") or config["MAIL_FROM"]
        self.timeout = float(config["SMTP_TIMEOUT"])

    def send(self, message: OutboxMessage) -> None:
        mail = build_email(message, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            # the portal's credentials, not the message: retried, so that fixing SMTP_PASSWORD
            # within the retry window delivers what waited
            raise DeliveryFailed(f"SMTP {exc.smtp_code} (sign-in refused, check SMTP_USERNAME "
                                 f"and SMTP_PASSWORD): {_text(exc.smtp_error)}",
                                 permanent=False) from exc
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            code, text = next(iter(exc.recipients.values()))
            raise _smtp_code_failure(code, text) from exc
        except smtplib.SMTPResponseException as exc:  # sender, data, auth, HELO refused
            raise _smtp_code_failure(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:  # no connection, dropped, timeout
            raise DeliveryFailed(f"SMTP unreachable: {type(exc).__name__}: {exc}",
                                 permanent=False) from exc
        if refused:  # one recipient per message: a partial refusal is that recipient's
            code, text = next(iter(refused.values()))
            raise _smtp_code_failure(code, text)


class HttpSmsTransport:
    """Text messages through an SMS provider's HTTP API (the adapter's contract is in the
    module docstring and docs/operations.md)."""

    def __init__(self, config):
        self.url = config["SMS_HTTP_URL"]
        self.token = config.get("SMS_HTTP_TOKEN") or ""
        self.timeout = float(config["SMS_HTTP_TIMEOUT"])

    def send(self, message: OutboxMessage) -> None:
        data = json.dumps(sms_payload(message), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {self.token}",
            "Idempotency-Key": f"outbox-{message.id}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace")
            raise DeliveryFailed(f"SMS provider {exc.code}: {detail}",
                                 permanent=400 <= exc.code < 500) from exc
        except (urllib.error.URLError, socket.timeout, OSError) as exc:
            raise DeliveryFailed(f"SMS provider unreachable: {exc}", permanent=False) from exc


EMAIL_TRANSPORTS = {"file": lambda config: FileTransport(), "smtp": SmtpTransport}
SMS_TRANSPORTS = {"file": lambda config: FileTransport(), "http": HttpSmsTransport}


def transport_for(channel: Channel) -> Transport:
    """The configured transport for a channel (OUTBOX_TRANSPORT for email, SMS_TRANSPORT)."""
    config = current_app.config
    if channel == Channel.EMAIL:
        return EMAIL_TRANSPORTS[config["OUTBOX_TRANSPORT"]](config)
    return SMS_TRANSPORTS[config["SMS_TRANSPORT"]](config)
