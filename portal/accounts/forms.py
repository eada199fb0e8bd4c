"""Forms on the cardholder's account pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from portal.accounts.models import EntryKind
from portal.accounts.queries import HistoryFilter
from portal.accounts.labels import ENTRY_KIND_LABELS
from portal.core.inputs import PortalForm


class HistoryFilterForm(PortalForm):
    """The history filter: a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Type of entry"), default="", validators=[Optional()])
    date_from = DateField(
        _l("From date"), validators=[Optional()],
        render_kw={"placeholder": "YYYY-MM-DD"},
    )
    date_to = DateField(
        _l("To date"), validators=[Optional()],
        render_kw={"placeholder": "YYYY-MM-DD"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("All types"))] + [
            (kind.value, label) for kind, label in ENTRY_KIND_LABELS.items()
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in (self.date_from, self.date_to):
            if field.errors:
                # WTForms says "Not a valid date value."; say what we expect instead.
                field.errors = [_l("Enter a date like 2026-11-28.")]
        if self.kind.errors:
            self.kind.errors = [_l("Choose a type from the list.")]
        if ok and self.date_from.data and self.date_to.data and \
                self.date_from.data > self.date_to.data:
            self.date_to.errors = [_l("The end date must be on or after the start date.")]
            ok = False
        return ok

    def to_filter(self) -> HistoryFilter:
        kind = EntryKind(self.kind.data) if self.kind.data else None
        return HistoryFilter(kind=kind, date_from=self.date_from.data,
                             date_to=self.date_to.data)
