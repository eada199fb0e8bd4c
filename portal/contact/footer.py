"""The opt-out every service and collection email and text carries (Regulation F
§1006.6(e): a clear, simple way to opt out), and the signed link behind it."""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from portal.core.urls import external_url
from portal.outbox.models import Channel

_SALT = "contact-opt-out"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def opt_out_token(cardholder_id: int, channel: Channel | str) -> str:
    """A signed token naming one cardholder and one channel. It does not expire: an old
    email's link must still work."""
    return _serializer().dumps({"c": cardholder_id, "ch": Channel(channel).value})


def read_token(token: str) -> tuple[int, Channel] | None:
    """(cardholder id, channel) from a token, or None when it is forged or malformed."""
    try:
        data = _serializer().loads(token)
        return int(data["c"]), Channel(data["ch"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def opt_out_link(cardholder_id: int) -> str:
    return external_url("contact.opt_out", token=opt_out_token(cardholder_id, Channel.EMAIL))


def with_opt_out(channel: Channel, body: str, cardholder_id: int, locale: str | None) -> str:
    """`body` followed by the opt-out line for its channel, in the cardholder's language."""
    with force_locale(locale or "en"):
        if channel == Channel.EMAIL:
            line = _("To stop emails like this one, open this link: %(link)s",
                     link=opt_out_link(cardholder_id))
            return f"{body}\n\n{line}"
        line = _("Reply STOP to stop these texts.")
        return f"{body} {line}"
