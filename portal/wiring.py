"""Every registry and event listener of the portal, wired in one place.

Escalation-pause providers, the outbox's delivery rules and collection-message holds
(contact rules), other features' items on the consequences timeline, policy sections checked
at publishing and the policy preview, who may sign in, the sections of the staff account
context, role home pages, navigation entries and the listeners of `portal.events` are added
here and nowhere else, never as a side effect of importing a module, so a process sees the
same rules whatever it happened to import. Every entry point calls `wire()` before doing
work: the web app and the CLI (`create_app`), a job worker (`import portal.jobs.nightly` and
`wire()`, no blueprints), the bench scripts (through `create_app`). It is idempotent.
"""
from __future__ import annotations

from portal import events
from portal.jobs import corrections
from portal.jobs.correction_timeline import correction_items_for
from portal.jobs.routes import NAV as JOBS_NAV
from portal.account_pages.routes import NAV as ACCOUNTS_NAV
from portal.auth import session as auth_session
from portal.care import access as care_access, services as care
from portal.care.rules import unusable_keys as care_unusable_keys
from portal.collections import services as collections_services
from portal.collections import promise_rules, promises, reminders
from portal.collections.routes import NAV as COLLECTIONS_NAV
from portal.consequences import pauses, services as consequences
from portal.consequences.preview import preview_change
from portal.contact import batch as contact_batch, delivery as contact_delivery
from portal.contact.routes import NAV as CONTACT_NAV
from portal.contact.rules import unusable_keys as contact_unusable_keys
from portal.core import nav
from portal.core.storage_move import register_document_source
from portal.disputes import context as dispute_context, holds, uploads
from portal.disputes.admin_routes import NAV as DISPUTE_ADMIN_NAV
from portal.disputes.routes import NAV as DISPUTES_NAV
from portal.disputes.staff_routes import NAV as DISPUTE_WORK_NAV
from portal.experiments import services as experiments
from portal.experiments.routes import NAV as EXPERIMENTS_NAV
from portal.legal.routes import NAV as LEGAL_NAV, index as legal_workspace
from portal.legal.timeline import legal_items_for
from portal.links.services import (GRANT_KEY as ONE_TAP_GRANT,
                                   staff_context_section as links_section)
from portal.outbox.services import register_delivery_rules
from portal.payments import fast_posting
from portal.payments.policy import unusable_keys
from portal.payments.routes import NAV as PAYMENTS_NAV
from portal.payments.staff_list import staff_context_section as payments_section
from portal.payments.staff_routes import NAV as PAYMENTS_STAFF_NAV
from portal.plans import (documents as plan_documents, listeners as plan_listeners,
                          servicing_rules, services as plan_services)
from portal.plans.review_routes import NAV as PLAN_REVIEW_NAV
from portal.plans.risk_routes import NAV as PLAN_LIMITS_NAV
from portal.plans.routes import NAV as PLANS_NAV
from portal.plans.timeline import plan_change_items_for
from portal.policy.routes import NAV as POLICY_NAV, register_preview
from portal.policy.rules import register_section_check
from portal.policy.services import register_publish_guard
from portal.staff import account_context
from portal.staff.models import Role, StaffUser
from portal.staff import signed_in as staff_signed_in
from portal.staff.routes import NAV as STAFF_NAV, register_home_view

_wired = False


def wire() -> None:
    """Fill every registry and connect every listener, once per process."""
    global _wired
    if _wired:
        return
    _pause_providers()
    register_delivery_rules(contact_delivery.RULES)  # opt-outs, holds, caps, quiet hours, footer
    contact_batch.register_hold(holds.accounts_on_hold)  # no collection message while contested
    contact_batch.register_hold(care.accounts_on_hold)  # nor while a breathing space freezes it
    care_access.register_collector_scope(collections_services.may_work)
    consequences.register_item_source(legal_items_for)  # legal steps on the timeline
    register_document_source(uploads.stored_documents)  # `documents move-to-store`
    register_document_source(plan_documents.stored_documents)
    consequences.register_item_source(correction_items_for)  # charges taken back, and why
    consequences.register_item_source(plan_change_items_for)  # plan dates changed, and how
    register_section_check("payments", unusable_keys)
    register_section_check("contact", contact_unusable_keys)  # reminder days
    register_section_check("care", care_unusable_keys)  # what a breathing space freezes
    register_section_check("promises", promise_rules.unusable_keys)  # promise limits
    register_section_check("servicing", servicing_rules.unusable_keys)  # plan changes
    register_preview(preview_change)  # the policy editor's "what would change"
    register_publish_guard(plan_listeners.frozen_plans_keep_their_terms)
    plan_services.register_offer_variant(experiments.offer_variant)  # champion/challenger
    # staff sign in too, read as a light object of the request's own (one Core statement)
    auth_session.register_user_kind("s", StaffUser, staff_signed_in.load_signed_in)
    # A one-tap link's grant survives sign-in, so what is paid or agreed then names the message
    auth_session.keep_across_sign_in(ONE_TAP_GRANT)
    _staff_account_context()
    register_home_view(Role.LEGAL, legal_workspace)  # the legal role's home is its workspace
    nav.add(*ACCOUNTS_NAV, *PAYMENTS_NAV, *PLANS_NAV, *DISPUTES_NAV, *CONTACT_NAV,
            *STAFF_NAV, *PLAN_REVIEW_NAV, *COLLECTIONS_NAV, *DISPUTE_WORK_NAV,
            *DISPUTE_ADMIN_NAV, *POLICY_NAV, *PAYMENTS_STAFF_NAV, *LEGAL_NAV, *PLAN_LIMITS_NAV,
            *JOBS_NAV, *EXPERIMENTS_NAV)
    _listeners()
    _wired = True


def _pause_providers() -> None:
    # Order matters where two pauses apply at once: the first one answering is shown.
    pauses.register(holds.hold_pause, candidates=holds.accounts_with_contesting_disputes,
                    batch=holds.hold_pauses)
    pauses.register(plan_services.plan_pause, candidates=plan_services.accounts_with_plans,
                    batch=plan_services.plan_pauses)
    # An open promise to pay (a collector's or the cardholder's own), until its date + grace.
    pauses.register(promises.promise_pause, candidates=promises.accounts_with_promises,
                    batch=promises.promise_pauses)
    # Last: a plan or a dispute is shown first; what a breathing space freezes adds up anyway.
    pauses.register(care.care_pause, candidates=care.accounts_with_care, batch=care.care_pauses)


def _staff_account_context() -> None:
    # What staff read about an account, besides its balance and ledger (staff's own).
    for section in (plan_services.staff_context_section, payments_section,
                    consequences.staff_context_section, dispute_context.staff_context_section,
                    care.staff_summary, links_section):
        account_context.register_section(section)


def _listeners() -> None:
    # weak=False: the listeners are module functions, kept for the life of the process.
    events.payment_posted.connect(plan_listeners.on_payment_posted, weak=False)
    events.payment_reversed.connect(plan_listeners.on_payment_reversed, weak=False)
    events.credit_posted.connect(plan_listeners.on_credit_posted, weak=False)
    # A payment dated on a day the nightly run already charged: take back what it would not
    # have charged (in the payment's transaction).
    events.payment_posted.connect(corrections.on_payment_posted, weak=False)
    # When neither would act (no active plan, the night not yet past the payment's day), the
    # webhook posts through the fast path; a payment_posted listener without a guard here
    # turns that path off.
    fast_posting.register_guard(plan_listeners.on_payment_posted,
                                plan_listeners.posting_needs_plan)
    fast_posting.register_guard(corrections.on_payment_posted,
                                corrections.posting_needs_corrections)
    # The same for a credit (an upheld dispute, a plan's waiver) on a day already walked.
    events.credit_posted.connect(corrections.on_credit_posted, weak=False)
    # And for the issuer's feed: figures as of a day the nightly run has already walked past.
    events.issuer_figures_lowered.connect(corrections.on_issuer_figures_lowered, weak=False)
    # A plan change moved instalments: no reminder goes out for a date that no longer holds.
    events.plan_rescheduled.connect(reminders.on_plan_rescheduled, weak=False)
