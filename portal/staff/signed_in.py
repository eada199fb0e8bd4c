"""The signed-in staff member of one request: their row's columns read in one Core statement
(issue 15).

Every staff page loads the signed-in member (Flask-Login's user loader,
`portal.auth.session`). Building the `StaffUser` entity and its role rows through the ORM was
about a third of a signed-in "ok" request's Python; what a request asks of the member is its
id, name, email, language, whether it is switched on, its session version and its roles. So
the loader reads exactly those, in one statement, on every request (nothing is kept between
requests: a role change, a switched-off member or a session ended elsewhere counts on the very
next request), into a `SignedInStaff` of the request's own.

What it is not: an ORM entity. It is never in the database session, never lazy-loads, and is
not written to. Code that changes the member's own row (sign-out's session version) asks for
the entity explicitly with `entity()`, one statement then, the identity map's row if present.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select

from portal.extensions import db
from portal.staff.models import Role, StaffRole, StaffUser

_STAFF = StaffUser.__table__
_ROLES = StaffRole.__table__

# The member's columns and, on as many rows as they have roles (one row with a NULL role when
# none), each role: one statement, built once (looked up in the compiled cache after that).
_STATEMENT = (select(_STAFF.c.id, _STAFF.c.email, _STAFF.c.name, _STAFF.c.active,
                     _STAFF.c.session_version, _STAFF.c.locale, _ROLES.c.role)
              .select_from(_STAFF.outerjoin(_ROLES, _ROLES.c.staff_id == _STAFF.c.id))
              .where(_STAFF.c.id == bindparam("user_id")))


class SignedInStaff:
    """What a request knows of its signed-in staff member, as read at the request's start.
    Answers what Flask-Login, the access rules, the templates and the audit ask of
    `current_user` the way `StaffUser` does."""

    __slots__ = ("id", "email", "name", "active", "session_version", "locale", "roles")
    # The member's table, for the audit's subject (`audit.record(subject=...)`).
    __tablename__ = StaffUser.__tablename__

    is_authenticated = True
    is_anonymous = False
    is_staff = True

    def __init__(self, id: int, email: str, name: str, active: bool, session_version: int,
                 locale: str, roles: frozenset[Role]) -> None:
        self.id, self.email, self.name, self.active = id, email, name, active
        self.session_version, self.locale, self.roles = session_version, locale, roles

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    def get_id(self) -> str:
        return f"s:{self.id}"

    def entity(self) -> StaffUser:
        """The member's `StaffUser` row in this request's database session, to write to."""
        return db.session.get(StaffUser, self.id)

    def __repr__(self) -> str:
        return f"<SignedInStaff {self.id}>"


def load_signed_in(user_id: int) -> SignedInStaff | None:
    """The staff member `user_id` as the database holds them now, or None if there is none."""
    rows = db.session.connection().execute(_STATEMENT, {"user_id": user_id}).all()
    if not rows:
        return None
    first = rows[0]
    roles = frozenset(row.role for row in rows if row.role is not None)
    return SignedInStaff(first.id, first.email, first.name, first.active,
                         first.session_version, first.locale, roles)
