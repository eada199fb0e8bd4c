"""Each staff role has its own home; nobody else may open it."""
import pytest

from portal.staff.models import Role

HOMES = {
    "customer_service": "/staff/service",
    "collector": "/staff/collections",
    "collections_manager": "/staff/manager",
    "risk": "/staff/risk",
    "legal": "/staff/legal",
    "admin": "/staff/admin",
}


@pytest.mark.parametrize("role", list(HOMES))
def test_single_role_lands_on_its_home(client, make_staff, login_as, role):
    login_as(client, make_staff(role))
    assert client.get("/staff/").headers["Location"] == HOMES[role]


@pytest.mark.parametrize("role", list(HOMES))
@pytest.mark.parametrize("path", list(HOMES.values()))
def test_role_homes_open_only_for_their_role(client, make_staff, login_as, role, path):
    login_as(client, make_staff(role))
    expected = 200 if HOMES[role] == path else 403
    assert client.get(path).status_code == expected


@pytest.mark.parametrize("path", ["/staff/", *HOMES.values()])
def test_anonymous_visitors_are_sent_to_staff_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")


@pytest.mark.parametrize("path", ["/staff/", *HOMES.values()])
def test_cardholders_cannot_open_staff_pages(client, make_cardholder, login_as, path):
    login_as(client, make_cardholder(password="Correct-Horse-42"))
    assert client.get(path).status_code == 403


def test_several_roles_see_a_link_to_each_home(client, make_staff, login_as):
    login_as(client, make_staff("collector", "legal"))
    page = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/collections"' in page and 'href="/staff/legal"' in page
    assert 'href="/staff/risk"' not in page


def test_role_homes_list_the_role_s_tools(client, make_staff, login_as):
    login_as(client, make_staff("risk"))
    page = client.get("/staff/risk").get_data(as_text=True)
    assert "stage thresholds" in page and "placeholder" not in page
    assert 'href="/staff/risk/policies/"' in page and 'href="/staff/risk/plan-limits"' in page
    login_as(client, make_staff("collections_manager"))
    page = client.get("/staff/manager").get_data(as_text=True)
    assert 'href="/staff/collections/assign"' in page and 'href="/staff/payments"' in page


def test_admin_home_lists_staff_and_their_roles(client, make_staff, login_as):
    admin = make_staff("admin", name="Ada Admin")
    make_staff("collector", "legal", name="Colin Collector", email="colin@issuer.example")
    login_as(client, admin)
    page = client.get("/staff/admin").get_data(as_text=True)
    assert "Ada Admin" in page and "colin@issuer.example" in page
    assert "Collector, Legal" in page


def test_staff_nav_shows_only_own_role_pages(client, make_staff, login_as):
    login_as(client, make_staff("collector"))
    page = client.get("/staff/collections").get_data(as_text=True)
    assert 'href="/staff/collections"' in page and 'href="/staff/admin"' not in page


def test_every_role_has_a_home():
    assert set(HOMES) == {r.value for r in Role}


def test_staff_stay_signed_in_for_their_longer_idle_limit(app, client, make_staff, login_as):
    """Staff get 30 idle minutes; the session cookie must not end them at the cardholders' 15."""
    from portal.timeutil import utcnow

    assert app.config["PERMANENT_SESSION_LIFETIME"] >= app.config["STAFF_IDLE_TIMEOUT"]
    login_as(client, make_staff("risk"))
    with client.session_transaction() as sess:
        sess["last_seen"] = utcnow().timestamp() - 20 * 60
    assert client.get("/staff/risk").status_code == 200
