"""Words for codes: categories, statuses, queues. Lazy, so they translate when shown."""
from flask_babel import lazy_gettext as _l

from portal.i18n import LANGUAGE_NAMES

CATEGORY_LABELS = {
    "wrong_amount": _l("The amount is wrong"),
    "not_my_debt": _l("This is not my debt (identity theft)"),
    "already_paid": _l("I have already paid"),
    "unauthorised_transaction": _l("I did not make a purchase on this account"),
    "conduct_complaint": _l("A complaint about how I was contacted"),
    "hardship_other": _l("Financial hardship or something else"),
}

# What the cardholder reads: no internal steps (approval, escalation) are named.
CUSTOMER_STATUS = {
    "open": _l("Received"),
    "acknowledged": _l("Being reviewed"),
    "awaiting_customer": _l("Waiting for information from you"),
    "escalated": _l("Being reviewed by a specialist"),
    "pending_approval": _l("Decision being confirmed"),
    "resolved_upheld": _l("Resolved in your favour"),
    "resolved_partly": _l("Partly resolved in your favour"),
    "rejected": _l("Not upheld"),
    "withdrawn": _l("Withdrawn"),
}

STAFF_STATUS = {
    "open": _l("New"),
    "acknowledged": _l("Acknowledged"),
    "awaiting_customer": _l("Awaiting customer"),
    "escalated": _l("Escalated"),
    "pending_approval": _l("Pending approval"),
    "resolved_upheld": _l("Upheld"),
    "resolved_partly": _l("Partly upheld"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}

QUEUE_LABELS = {
    "billing": _l("Billing errors"),
    "fraud": _l("Fraud and identity theft"),
    "conduct": _l("Conduct complaints"),
    "hardship": _l("Hardship"),
}

ESCALATION_LABELS = {"legal": _l("Legal"), "manager": _l("A manager")}
OUTCOME_LABELS = {"upheld": _l("Upheld"), "partly": _l("Partly upheld"),
                  "rejected": _l("Rejected")}
TEMPLATE_LABELS = {
    "received": _l("Thank you, we are looking into it"),
    "need_statement": _l("Ask for a statement or receipt"),
    "need_identity": _l("Ask for a police report or signed statement"),
    "corrected": _l("The balance has been corrected"),
}
LEGAL_STEP_LABELS = {
    "formal_objection": _l("Formal objection received"),
    "referred_to_counsel": _l("Referred to counsel"),
    "counsel_advice": _l("Advice from counsel received"),
    "regulator_complaint": _l("Complaint to the regulator received"),
    "court_papers": _l("Court papers received"),
}
COMPONENT_LABELS = {"principal": _l("Principal"), "interest": _l("Interest"), "fee": _l("Fees")}
LANGUAGE_LABELS = LANGUAGE_NAMES  # each language named in itself, as in the picker

RESOLUTION_ERRORS = {
    "above_contested": _l("The amount is more than the contested amount."),
    "not_partial": _l("A partly upheld amount must be less than the contested amount."),
    "amount_required": _l("Enter the amount to credit."),
    "not_positive": _l("The amount must be more than zero."),
    "amount_with_rejection": _l("A rejection credits nothing: leave the amount empty."),
    "nothing_contested": _l("This dispute contests no amount, so it cannot be partly upheld."),
    "unknown_outcome": _l("Choose an outcome."),
}


def queue_label(code: str) -> str:
    return str(QUEUE_LABELS.get(code, code))
