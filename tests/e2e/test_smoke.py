"""The harness itself: the live server answers and the sign-in page passes axe at each size."""
from tests.e2e.helpers import assert_no_horizontal_scroll, axe_check, check_page


def test_health_check_answers_through_a_real_browser(page):
    response = page.goto("/healthz")
    assert response.status == 200
    assert response.json() == {"db": "ok"}


def test_sign_in_page_is_accessible_and_fits_a_small_phone(page):
    response = page.goto("/login")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").count() == 1
    check_page(page)


def test_axe_check_reports_serious_violations(page):
    page.set_content("<html lang='en'><title>t</title><main><img src='x.png'></main></html>")
    try:
        axe_check(page)
    except AssertionError as exc:
        assert "image-alt" in str(exc) and "critical" in str(exc)
    else:
        raise AssertionError("axe_check passed a page with an image lacking alt text")


def test_horizontal_scroll_check_catches_a_page_wider_than_the_phone(page):
    page.set_content("<html lang='en'><head><meta name='viewport' "
                     "content='width=device-width, initial-scale=1'></head>"
                     "<body><div id='wide' style='width:500px'>x</div></body></html>")
    try:
        assert_no_horizontal_scroll(page)
    except AssertionError as exc:
        assert "div#wide" in str(exc)
    else:
        raise AssertionError("a 500px-wide block passed the 360px check")
