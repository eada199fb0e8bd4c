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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    role_rows: Mapped[list[StaffRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

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
