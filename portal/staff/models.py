"""Staff users and their roles."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Boolean
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import str_enum
from portal.extensions import db
from portal.timeutil import utcnow


class Role(enum.StrEnum):
    CUSTOMER_SERVICE = "customer_service"
    COLLECTOR = "collector"
    COLLECTIONS_MANAGER = "collections_manager"
    RISK = "risk"
    LEGAL = "legal"
    ADMIN = "admin"


# No werkzeug hash has this form, so no password matches it: the member has yet to choose one.
UNSET_PASSWORD = "!unset"


class StaffUser(db.Model):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    totp_secret: Mapped[str] = mapped_column(String(64))
    # The last TOTP time step accepted, so a code cannot be replayed within its window.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped on sign-out: sessions carrying an older value end (see portal.auth.session).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The language of the emails the portal sends this person (set-up links).
    locale: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    role_rows: Mapped[list[StaffRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def setup_pending(self) -> bool:
        """Created by an administrator and not yet set up through the emailed link."""
        return self.password_hash == UNSET_PASSWORD

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    is_authenticated = True
    is_anonymous = False
    is_staff = True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"s:{self.id}"


class StaffRole(db.Model):
    __tablename__ = "staff_role"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "staff_role_name"), primary_key=True)


class SetupPurpose(enum.StrEnum):
    NEW = "new"                      # a new staff member's first password and authenticator
    AUTHENTICATOR = "authenticator"  # an administrator reset the authenticator


class StaffSetupLink(db.Model):
    """A one-time, expiring link that lets a staff member set a password and enrol an
    authenticator. Only a hash of the token is stored; the secret it enrols waits here until
    the person proves (with a code) that their app holds it."""
    __tablename__ = "staff_setup_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[SetupPurpose] = mapped_column(str_enum(SetupPurpose, "staff_setup_purpose"))
    totp_secret: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
