"""A page number from the query string never makes a staff list fail, however large."""
import pytest

from portal.core.pagination import MAX_PAGE, clamp_page

HUGE = "99999999999999999999"


@pytest.mark.parametrize("given,expected", [(None, 1), (-3, 1), (0, 1), (7, 7),
                                            (10**30, MAX_PAGE)])
def test_clamp_page(given, expected):
    assert clamp_page(given) == expected


@pytest.mark.parametrize("role,path", [
    ("legal", "/staff/legal/"),
    ("collections_manager", "/staff/payments"),
    ("collections_manager", "/staff/collections/assign"),
])
def test_a_huge_page_number_shows_a_page_not_an_error(client, login_as, make_staff, make_account,
                                                      role, path):
    make_account()
    login_as(client, make_staff(role))
    assert client.get(f"{path}?page={HUGE}").status_code == 200
