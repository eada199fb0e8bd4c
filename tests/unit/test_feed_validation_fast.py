"""The feed's email check takes a shortcut for plain addresses (the domain checked once and
remembered): differential tests against validate_email itself, the check it replaces, over
generated hostile addresses and whole rows. Same accept/reject decisions, same normalised
address, same message."""
import random
import string

from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.journal import feed_rules
from portal.journal.feed_rules import RowError, validate_row

from tests.unit.test_feed_rows import GOOD


def reference_email(value: str) -> tuple[str | None, str | None]:
    """The check as it was before the shortcut (feed_rules before issue 15's import work)."""
    try:
        return validate_email(value, check_deliverability=False).normalized, None
    except EmailNotValidError as exc:
        return None, f"email '{value}' is not a valid email address ({exc})"


def checked(value: str) -> tuple[str | None, str | None]:
    feed_rules.forget()  # each value decided alone, then again with the domain remembered
    first = feed_rules._checked_email(value)
    feed_rules._checked_email.cache_clear()
    return first if first == feed_rules._checked_email(value) else ("differs", value)


LOCALS = ["a", "li.wei", "A.B", "x+tag", "under_score", "da-sh", ".lead", "trail.", "two..dots",
          "Postmaster", "ABUSE", "info", "infos", "a" * 64, "a" * 65, "é", "quo\"te", "sp ace",
          "", "a@b", "!#$%&'*/=?^`{|}~", "中文", "x" * 200]
DOMAINS = ["example.com", "EXAMPLE.COM", "example.org", "mail.example.co.uk", "localhost",
           "test", "foo.test", "foo.local", "foo.invalid", "foo.onion", "foo.arpa",
           "example", "123.456", "1.2.3.4", "[1.2.3.4]", "-bad.com", "bad-.com", "a..b.com",
           ".com", "com.", "xn--fsq.com", "xn--bad.com", "例子.中国", "ex_ample.com",
           "a" * 63 + ".com", "a" * 64 + ".com", ".".join(["a" * 60] * 4) + ".com",
           "x" * 250 + ".com", "foo.c", "foo.123", "foo.c0m", "foo..com", ""]


def test_plain_and_hostile_addresses_decide_as_validate_email():
    values = [f"{local}@{domain}" for local in LOCALS for domain in DOMAINS]
    values += ["plain", "@example.com", "a@", "a@@example.com", "<a@example.com>",
               "Name <a@example.com>", " a@example.com", "a@example.com ", "a@exa mple.com",
               "a\n@example.com", "a@example.com.", "A@Example.COM"]
    for value in values:
        assert checked(value) == reference_email(value), value


def test_generated_addresses_decide_as_validate_email():
    rng = random.Random(15)
    alphabet = string.ascii_letters + string.digits + "._+-@!#\"' ()[]<>,;:\\é中"
    for _ in range(3000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70)))
        labels = ["".join(rng.choice(string.ascii_letters + string.digits + "-_.")
                          for _ in range(rng.randint(0, 66))) for _ in range(rng.randint(1, 5))]
        value = f"{local}@{'.'.join(labels)}"
        assert checked(value) == reference_email(value), value


@settings(max_examples=400, deadline=None)
@given(st.from_regex(r"\A[A-Za-z0-9_+.-]{1,70}@[A-Za-z0-9.-]{0,80}\Z"))
def test_near_plain_addresses_decide_as_validate_email(value):
    assert checked(value) == reference_email(value)


def test_rows_with_generated_emails_give_the_same_row_or_reasons():
    rng = random.Random(1515)
    for n in range(400):
        email = f"{rng.choice(LOCALS)}@{rng.choice(DOMAINS)}"
        raw = {**GOOD, "email": email, "phone": rng.choice(["", "+8613800138001"])}
        expected, reason = reference_email(email)
        feed_rules.forget()
        try:
            row = validate_row(raw)
        except RowError as exc:
            assert reason is not None and reason in exc.reasons, (email, exc.reasons)
        else:
            assert reason is None and row.email == expected, email
