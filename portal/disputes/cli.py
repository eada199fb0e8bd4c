"""`flask disputes ...`: set up queues and rules, put staff in queues."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.disputes import routing
from portal.disputes.models import StaffLanguage
from portal.extensions import db
from portal.staff.models import Role, StaffRole, StaffUser

disputes_cli = AppGroup("disputes", help="Dispute queues, routing rules and members.")


def setup_queues(emails=(), languages=("en", "zh_Hans")) -> int:
    """Create default queues and rules if missing; put customer-service staff (all, or those
    with `emails`) into every queue they may work, with `languages` when they have none.
    Idempotent; returns how many staff were placed. The caller commits."""
    queues = routing.ensure_defaults()
    query = (select(StaffUser).join(StaffRole)
             .where(StaffRole.role == Role.CUSTOMER_SERVICE, StaffUser.active.is_(True)))
    if emails:
        query = query.where(StaffUser.email.in_(list(emails)))
    placed = 0
    for staff in db.session.scalars(query.distinct()):
        for queue in queues.values():
            if routing.can_work(staff, queue):
                routing.set_membership(queue, staff, True)
        has = db.session.scalar(select(StaffLanguage).where(StaffLanguage.staff_id == staff.id))
        if has is None:
            routing.set_languages(staff, languages)
        placed += 1
    return placed


@disputes_cli.command("setup")
@click.option("--email", "emails", multiple=True, help="Only these staff (repeatable).")
@click.option("--languages", default="en,zh_Hans", show_default=True,
              help="Languages for staff who have none recorded.")
def setup_command(emails, languages):
    """Default queues and rules; customer-service staff into the queues."""
    placed = setup_queues(emails, [lang.strip() for lang in languages.split(",") if lang.strip()])
    db.session.commit()
    click.echo(f"queues ready; staff placed: {placed}")
