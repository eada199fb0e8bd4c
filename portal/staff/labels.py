"""Staff roles in words: wherever a role shows on a page, its name in the reader's language,
never its code."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.staff.models import Role

ROLE_NAMES = {
    Role.CUSTOMER_SERVICE: _l("Customer service"),
    Role.COLLECTOR: _l("Collector"),
    Role.COLLECTIONS_MANAGER: _l("Collections manager"),
    Role.RISK: _l("Risk"),
    Role.LEGAL: _l("Legal"),
    Role.ADMIN: _l("Administrator"),
}


def role_name(code) -> str:
    """The name of the role `code` (a Role or its value); an unknown code shows as it is."""
    try:
        return str(ROLE_NAMES[Role(code)])
    except ValueError:
        return str(code or "")
