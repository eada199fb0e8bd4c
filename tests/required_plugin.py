"""Required runs: with E2E_REQUIRED=1 (or PORTAL_REQUIRE_ALL=1) a skipped test is a failure.

CI sets it for the PostgreSQL run, so browser tests (no Chromium) and Stripe-peer tests
(`stripe_peer`, no local peer) cannot quietly skip their way to a green build. Expected
failures (xfail) are left alone.
"""
from __future__ import annotations

import os

import pytest

REQUIRE_VARIABLES = ("E2E_REQUIRED", "PORTAL_REQUIRE_ALL")


def skips_are_failures() -> bool:
    return any(os.environ.get(name, "") not in ("", "0") for name in REQUIRE_VARIABLES)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: reason")
        return f"{longrepr[2]} ({longrepr[0]}:{longrepr[1]})"
    return str(longrepr)


def _fail(report) -> None:
    variables = " or ".join(f"{name}=1" for name in REQUIRE_VARIABLES)
    report.longrepr = f"skipped in a required run ({variables}): {_skip_reason(report)}"
    report.outcome = "failed"


def pytest_report_header(config):
    if skips_are_failures():
        return "required run: every skipped test counts as a failure"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and skips_are_failures():
        _fail(report)


_skipped_modules: list[str] = []


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")  # xdist workers forward reports to the controller


def pytest_collectreport(report):
    # A module skipped at import (importorskip, allow_module_level) has no test to fail, and
    # turning the collect report into an error would stop the whole run: count it here instead.
    if report.skipped and skips_are_failures():
        _skipped_modules.append(f"{report.nodeid}: {_skip_reason(report)}")


def pytest_terminal_summary(terminalreporter, config):
    if _skipped_modules and _is_controller(config):
        terminalreporter.section("skipped in a required run", red=True)
        for line in _skipped_modules:
            terminalreporter.line(line)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _skipped_modules and _is_controller(session.config) and exitstatus in (0, 5):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
