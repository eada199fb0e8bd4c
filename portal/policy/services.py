"""Which policy is in force, its versions, and publishing a new one.

Version 1 of each shipped profile is the JSON file in portal/policy/profiles/; it is used
whenever the database has no published version in force (fresh installs, tests). Published
versions are rows numbered from 2. The version in force on a day is the highest version
whose `effective_from` is on or before that day.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Callable

from sqlalchemy import func, select

from portal import timeutil
from portal.audit.services import record
from portal.extensions import db
from portal.policy.models import PolicyVersion
from portal.policy.rules import Policy, PolicyError, PolicyInvalid, parse_policy, section_errors

PROFILE_DIR = os.path.join(os.path.dirname(__file__), "profiles")
SHIPPED_VERSION = 1


class UnknownProfile(LookupError):
    pass


@dataclass(frozen=True)
class VersionInfo:
    """A version as the editor lists it (the shipped one has no row, so no id)."""
    profile: str
    version: int
    effective_from: date
    note: str | None
    created_by: int | None
    shipped: bool


def shipped_profiles() -> list[str]:
    return sorted(f[:-5] for f in os.listdir(PROFILE_DIR) if f.endswith(".json"))


@lru_cache(maxsize=16)
def _shipped_raw(profile: str) -> str:
    path = os.path.join(PROFILE_DIR, f"{profile}.json")
    if not os.path.isfile(path) or profile not in shipped_profiles():
        raise UnknownProfile(profile)
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def shipped_document(profile: str) -> dict:
    return json.loads(_shipped_raw(profile))


@lru_cache(maxsize=16)
def _shipped_policy(profile: str) -> Policy:
    doc = shipped_document(profile)
    return parse_policy(doc, profile=profile, version=SHIPPED_VERSION,
                        effective_from=date.fromisoformat(doc["effective_from"]))


@lru_cache(maxsize=256)
def _parsed(row_id: int, profile: str, version: int, effective_from: date, raw: str) -> Policy:
    return parse_policy(json.loads(raw), profile=profile, version=version,
                        effective_from=effective_from)


def _to_policy(row: PolicyVersion) -> Policy:
    return _parsed(row.id, row.profile, row.version, row.effective_from,
                   json.dumps(row.document, sort_keys=True))


def all_profiles() -> list[str]:
    """Shipped profiles plus any profile that only exists as published rows."""
    rows = db.session.scalars(select(PolicyVersion.profile).distinct()).all()
    return sorted(set(shipped_profiles()) | set(rows))


def policy_for(profile: str, as_of: date) -> Policy:
    """The policy in force for `profile` on `as_of` (one query; parsed documents are cached).

    Raises UnknownProfile for a profile with neither a shipped file nor a published row.
    """
    row = db.session.scalar(
        select(PolicyVersion)
        .where(PolicyVersion.profile == profile, PolicyVersion.effective_from <= as_of)
        .order_by(PolicyVersion.version.desc()).limit(1))
    if row is not None:
        return _to_policy(row)
    return _shipped_policy(profile)


def policies_for(profiles, as_of: date) -> dict[str, Policy]:
    """`policy_for` for several profiles in one query, keyed by profile.

    Raises UnknownProfile as `policy_for` does.
    """
    profiles = sorted(set(profiles))
    if not profiles:
        return {}
    # Only the newest version in force of each profile is read: every page showing a
    # timeline asks, and each published version is a whole document.
    newest = (select(PolicyVersion.profile, func.max(PolicyVersion.version).label("version"))
              .where(PolicyVersion.profile.in_(profiles), PolicyVersion.effective_from <= as_of)
              .group_by(PolicyVersion.profile).subquery())
    found = {row.profile: _to_policy(row) for row in db.session.scalars(
        select(PolicyVersion).join(newest, (PolicyVersion.profile == newest.c.profile)
                                   & (PolicyVersion.version == newest.c.version)))}
    return {p: found.get(p) or _shipped_policy(p) for p in profiles}


def policy_version(profile: str, version: int) -> Policy:
    """One version, in force or not (old versions stay readable)."""
    if version == SHIPPED_VERSION:
        return _shipped_policy(profile)
    row = db.session.scalar(select(PolicyVersion).where(
        PolicyVersion.profile == profile, PolicyVersion.version == version))
    if row is None:
        raise UnknownProfile(f"{profile} v{version}")
    return _to_policy(row)


def policy_versions(profile: str) -> list[VersionInfo]:
    """All versions of a profile, newest first, the shipped version 1 last."""
    rows = db.session.scalars(select(PolicyVersion).where(PolicyVersion.profile == profile)
                              .order_by(PolicyVersion.version.desc())).all()
    result = [VersionInfo(r.profile, r.version, r.effective_from, r.note, r.created_by, False)
              for r in rows]
    if profile in shipped_profiles():
        doc = shipped_document(profile)
        result.append(VersionInfo(profile, SHIPPED_VERSION,
                                  date.fromisoformat(doc["effective_from"]), doc.get("note"),
                                  None, True))
    elif not rows:
        raise UnknownProfile(profile)
    return result


_PUBLISH_GUARDS: list[Callable[[str, dict], list[PolicyError]]] = []


def register_publish_guard(guard: Callable[[str, dict], list[PolicyError]]) -> None:
    """Have publishing ask `guard(profile, document)` for errors: a feature whose records a new
    version would break (plans promised terms under the old one) refuses it. Wired once, by
    `portal.wiring`."""
    if guard not in _PUBLISH_GUARDS:
        _PUBLISH_GUARDS.append(guard)


def publish(profile: str, document: dict, effective_from: date, actor=None, *,
            today: date | None = None, note: str | None = None) -> PolicyVersion:
    """Validate and add the next version of `profile` (flushed, not committed).

    Raises PolicyInvalid (nothing is written) when the document has errors or the effective
    date is before `today`. Records an AuditEvent `policy.publish` with the version in force
    on the effective date as `before` and the new document as `after`.
    """
    today = today or timeutil.utcnow().date()  # looked up when called (a moved clock)
    errors: list[PolicyError] = []
    if effective_from < today:
        errors.append(PolicyError("effective_in_past", "effective_from"))
    if profile not in all_profiles():
        raise UnknownProfile(profile)
    latest = db.session.scalar(select(func.max(PolicyVersion.version))
                               .where(PolicyVersion.profile == profile))
    version = max(latest or SHIPPED_VERSION, SHIPPED_VERSION) + 1
    doc = dict(document, profile=profile, version=version,
               effective_from=effective_from.isoformat())
    if note is not None:
        doc["note"] = note
    try:
        parse_policy(doc, profile=profile, version=version, effective_from=effective_from)
    except PolicyInvalid as exc:
        errors.extend(exc.errors)
    errors.extend(e for e in section_errors(doc) if e not in errors)
    for guard in _PUBLISH_GUARDS:
        errors.extend(e for e in guard(profile, doc) if e not in errors)
    if errors:
        raise PolicyInvalid(errors)
    before = policy_for(profile, effective_from)
    row = PolicyVersion(profile=profile, version=version, effective_from=effective_from,
                        document=doc, created_by=getattr(actor, "id", None), note=note)
    db.session.add(row)
    db.session.flush()
    actor_pair = ("staff", actor.id) if actor is not None else None
    record("policy.publish", subject=row, actor=actor_pair,
           before={"version": before.version, "document": before.document},
           after={"version": version, "document": doc})
    return row
