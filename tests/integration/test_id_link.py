"""`id_link` (portal.core.urls, issue 15) builds what url_for builds, one route build a list."""
import pytest
from flask import url_for

from portal.core.urls import id_link


@pytest.mark.parametrize("endpoint, name", [("plan_review.detail", "plan_id"),
                                            ("dispute_work.show", "dispute_id"),
                                            ("payments.staff_payment", "payment_id"),
                                            ("collections.account", "account_id")])
def test_id_link_equals_url_for(app, endpoint, name):
    with app.test_request_context("/"):
        link = id_link(endpoint, name)
        for value in (1, 42, 10**12):
            assert link(value) == url_for(endpoint, **{name: value})


def test_id_link_refuses_a_route_without_the_id(app):
    with app.test_request_context("/"), pytest.raises(ValueError):
        id_link("payments.staff_payments", "payment_id")
