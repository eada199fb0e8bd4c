"""Every error answer is the portal's own page, in the reader's language, with the security
headers of every page; a database that cannot be reached is a 503 with Retry-After (issue 12,
finding 8)."""
import pytest

from portal import create_app
from portal.extensions import db as _db

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options")


def _assert_portal_page(response):
    for header in SECURITY_HEADERS:
        assert header in response.headers, header
    assert response.headers["Cache-Control"] == "no-store"
    assert 'href="/static/' in response.get_data(as_text=True)  # the styled page


@pytest.fixture(params=["sqlite", "postgresql"])
def app_without_database(request, tmp_path):
    """The portal pointed at a database that cannot be opened (a SQLite file in no directory,
    a PostgreSQL port nobody listens on)."""
    url = (f"sqlite:///{tmp_path}/missing/dir/portal.db" if request.param == "sqlite"
           else "postgresql+psycopg://postgres@127.0.0.1:9/portal?connect_timeout=2")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_STORAGE_URI": "memory://", "SERVER_NAME": None,
                      "OUTBOX_DIR": str(tmp_path / "outbox"),
                      "UPLOAD_DIR": str(tmp_path / "uploads")})
    yield app
    with app.app_context():
        _db.session.remove()


@pytest.mark.parametrize("headers,cookie,text", [
    ({"Accept-Language": "zh-CN,zh;q=0.9"}, None, "门户暂时无法使用"),
    ({"Accept-Language": "en"}, "zh_Hans", "门户暂时无法使用"),
    ({"Accept-Language": "en-GB"}, None, "The portal is briefly unavailable"),
])
def test_a_signed_in_page_while_the_database_is_down_is_a_styled_503(
        app_without_database, headers, cookie, text):
    client = app_without_database.test_client()
    if cookie:
        client.set_cookie("portal_locale", cookie)
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"], sess["sv"] = "c:1", True, 1
    response = client.get("/home", headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert text in response.get_data(as_text=True)
    _assert_portal_page(response)


def test_a_staff_post_while_the_database_is_down_is_a_styled_503(app_without_database):
    client = app_without_database.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"], sess["sv"] = "s:1", True, 1
    app_without_database.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/staff/plans/1/approve", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    _assert_portal_page(response)


@pytest.mark.parametrize("method,path,status", [
    ("get", "/no-such-page", 404), ("put", "/login", 405), ("post", "/login", 400),
    ("get", "/staff/plans/" + "9" * 40, 404),
])
def test_error_pages_are_styled_in_the_readers_language_with_the_security_headers(
        client, method, path, status):
    response = getattr(client, method)(path, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert 'lang="zh-Hans"' in html
    _assert_portal_page(response)


def test_a_signed_in_chinese_cardholder_sees_error_pages_in_chinese(
        client, login_as, make_account):
    account = make_account()
    account.cardholder.locale = "zh_Hans"
    _db.session.commit()
    login_as(client, account.cardholder)
    response = client.get("/accounts/999999/plans", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "找不到页面" in response.get_data(as_text=True)
