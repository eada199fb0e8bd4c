"""What text and numbers the portal accepts, decided in one place.

- Text: no control characters (NUL and the other C0/C1 codes) except tab, line feed and
  carriage return, which a text area sends. PostgreSQL refuses NUL in text, and nothing a
  person types needs the others.
- Whole numbers: ASCII digits with an optional leading minus, within stated bounds. Python's
  `int()` also reads "+5", " 5 ", "1_000" and other scripts' digits ("٣"); none of those is
  what a person meant in a form, so none is accepted.
- Ids (in a URL or a query parameter): ASCII digits from 1 up to the largest id a database
  column holds; anything else is "not found", never an overflow in the database.

Every form derives from `PortalForm`, which applies the first two rules to each field with a
message beside it; `refuse_control_characters` applies the first to every query parameter;
`IdConverter` replaces Flask's `int` URL converter for the third.
"""
from __future__ import annotations

import re

from flask import abort, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import BaseConverter, ValidationError
from wtforms import IntegerField

from portal.core.pagination import clamp_page

MAX_ID = 2**31 - 1  # a PostgreSQL INTEGER column, the type of every id
MIN_INT, MAX_INT = -(2**31 - 1), 2**31 - 1  # integer fields without stated bounds
# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; a regex scans a 10 MB
# field in milliseconds.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WHOLE = re.compile(r"-?[0-9]{1,12}", re.ASCII)
_ID = re.compile(r"[0-9]{1,12}", re.ASCII)

CONTROL_MESSAGE = _l("This contains characters that cannot be used here. Please type it again.")
WHOLE_MESSAGE = _l("Enter a whole number using the digits 0 to 9.")
RANGE_MESSAGE = _l("Enter a number from %(min)s to %(max)s.")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a control character other than tab and line breaks."""
    return _CONTROL.search(text) is not None


def parse_whole(text: str, low: int = MIN_INT, high: int = MAX_INT) -> int:
    """`text` (spaces around it aside) as an int within [low, high]; ValueError otherwise."""
    text = text.strip()
    if not _WHOLE.fullmatch(text):
        raise ValueError(text)
    value = int(text)
    if not low <= value <= high:
        raise ValueError(text)
    return value


def parse_id(text) -> int | None:
    """An id from text, or None when it cannot be one (callers answer 404)."""
    text = str(text or "")
    if not _ID.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def arg_page(name: str = "page") -> int:
    """A page number from the query string: ASCII digits, clamped to the pages a list can
    ask for; anything else is the first page (a hand-edited link is not an error)."""
    raw = (request.args.get(name) or "").strip()
    # Beyond 100 digits it is no number anyone typed (and int() refuses beyond 4300).
    return clamp_page(int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= 100 else 1


def arg_cursors() -> dict:
    """The `after` and `before` cursors of a list's page links, as given (each list checks
    and types them: `pagination.decode_cursor`; anything malformed starts the list over)."""
    return {"after": request.args.get("after"), "before": request.args.get("before")}


class IdConverter(BaseConverter):
    """`<int:...>` in every route: ASCII digits within an id's range, else the route does not
    match (404)."""

    regex = r"[0-9]{1,12}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def field_problem(field) -> str | None:
    """The message for a field whose submitted text the portal does not accept, else None."""
    texts = [v for v in (field.raw_data or []) if isinstance(v, str)]
    if any(has_control_characters(t) for t in texts):
        return str(CONTROL_MESSAGE)
    if isinstance(field, IntegerField) and texts and texts[0].strip():
        if not _WHOLE.fullmatch(texts[0].strip()):
            return str(WHOLE_MESSAGE)
        if not MIN_INT <= int(texts[0]) <= MAX_INT:  # a field's own NumberRange says more
            return str(RANGE_MESSAGE % {"min": MIN_INT, "max": MAX_INT})
    return None


class PortalForm(FlaskForm):
    """The base of every form: fields whose text breaks the rules above are refused with a
    message beside them, before any other validator (some query the database) sees them."""

    def validate(self, extra_validators=None) -> bool:
        problems = {}
        for name, field in self._fields.items():
            problem = field_problem(field)
            if problem:
                problems[name] = problem
        if not problems:
            return super().validate(extra_validators)
        for name, problem in problems.items():
            self._fields[name].errors = [problem]
        return False


def refuse_control_characters():
    """before_request: a query string carrying control characters is a bad request (400)."""
    for key, value in request.args.items(multi=True):
        if has_control_characters(key) or has_control_characters(value):
            abort(400)
