"""Imports every feature's models so SQLAlchemy and Alembic know all tables."""
from portal.accounts.models import Account, Cardholder, LedgerEntry  # noqa: F401
from portal.audit.models import AuditEvent  # noqa: F401
from portal.auth.models import OneTimeCode  # noqa: F401
from portal.outbox.models import OutboxMessage  # noqa: F401
from portal.staff.models import StaffRole, StaffSetupLink, StaffUser  # noqa: F401
from portal.disputes.models import Dispute, DisputeRoutingRule  # noqa: F401
from portal.payments.models import AutopayMandate, Payment, PaymentReversal, SandboxIntent, WebhookEvent  # noqa: F401
from portal.policy.models import PolicyVersion  # noqa: F401
from portal.consequences.models import AccountNightlyState, ConsequenceEvent, Notice, StageChange  # noqa: F401
from portal.plans.models import HardshipStatement, Plan, PlanInstalment, ProofDocument  # noqa: F401
from portal.contact.models import ContactPreference  # noqa: F401
from portal.collections.models import (  # noqa: F401
    AccountAssignment, ContactLog, PromiseToPay, SentReminder)
from portal.legal.models import LegalAction  # noqa: F401
from portal.experiments.models import Experiment, ExperimentAssignment  # noqa: F401
from portal.journal.models import JournalAck  # noqa: F401
from portal.jobs.models import JobRun  # noqa: F401
from portal.care.models import CareRecord  # noqa: F401
from portal.balances.models import LedgerSnapshot  # noqa: F401
from portal.links.models import MessageOutcome, OneTapLink  # noqa: F401
from portal.accounts.versions import PageVersion  # noqa: F401
