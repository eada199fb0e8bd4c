"""Publishing asks for the preview first: a draft's fingerprint is shown with its preview and
must come back with the publish request, with a ticked confirmation.

The fingerprint is a keyed hash (so only the portal can make one) of the profile, the exact
draft document, its effective date, who previews it and the profile's latest version number:
editing the draft after its preview, or another version being published meanwhile, voids it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.policy.models import PolicyVersion

MESSAGES = {
    "not_previewed": _l("Nothing was published. The draft is not the one previewed (it was "
                        "changed, or another version was published since): check its effect "
                        "below, then publish."),
    "not_confirmed": _l("Tick the box to confirm that you have read the effect and want to "
                        "publish this version."),
}


def _latest_version(profile: str) -> int:
    return db.session.scalar(select(func.max(PolicyVersion.version))
                             .where(PolicyVersion.profile == profile)) or 0


def fingerprint(profile: str, document: dict, effective_from: date, actor) -> str:
    """The draft's fingerprint, to show with its preview."""
    payload = json.dumps({"profile": profile, "document": document,
                          "effective_from": effective_from.isoformat(),
                          "actor": getattr(actor, "id", None),
                          "latest": _latest_version(profile)},
                         sort_keys=True, default=str, ensure_ascii=True)
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"policy-draft:" + payload.encode(), hashlib.sha256).hexdigest()


def publish_refusal(profile: str, document: dict, effective_from: date, actor, *,
                    given: str | None, confirmed: bool) -> str | None:
    """Why this publish request may not go ahead ('not_previewed', 'not_confirmed'), or None.
    Ask it before `services.publish`, from every page that publishes."""
    expected = fingerprint(profile, document, effective_from, actor)
    if not given or not hmac.compare_digest(str(given), expected):
        return "not_previewed"
    if not confirmed:
        return "not_confirmed"
    return None


def check_draft(form, profile: str, document: dict, actor, *, publishing: bool) -> str | None:
    """For a page that publishes `document` from `form` (with `draft`, `confirm` and
    `effective_from` fields): why this publish request may not go ahead (None when it may, or
    when it is only a preview). The form then carries the draft's fingerprint for its preview."""
    effective_from = form.effective_from.data
    refusal = publish_refusal(profile, document, effective_from, actor, given=form.draft.data,
                              confirmed=form.confirm.data) if publishing else None
    form.draft.data = fingerprint(profile, document, effective_from, actor)
    if refusal or not publishing:
        form.confirm.data = False
    return refusal
