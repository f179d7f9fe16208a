"""The Content-Security-Policy in a real browser: the province dashboard draws its charts and the
admin works, with no console error and no policy violation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ..conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

# Runs in every document before its own scripts: records each violation of the policy.
WATCH_POLICY = """
window.policyViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.policyViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def problems(page) -> list[str]:
    """Console errors and uncaught script errors, on every page the test opens."""
    seen: list[str] = []
    page.add_init_script(WATCH_POLICY)
    page.on("console", lambda m: seen.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return seen


def violations(page) -> list[str]:
    return page.evaluate("window.policyViolations")


def log_in_to(page, live_server, path: str, username: str) -> None:
    """Log in on the login page, which then opens `path`."""
    page.goto(f"{live_server.url}{reverse('login')}?next={path}")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{live_server.url}{path}*")


def test_the_dashboard_draws_its_charts_under_the_policy(
    page, live_server, assessment, user, problems
):
    log_in_to(page, live_server, reverse("reports:province"), user.username)

    response = page.reload()

    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_function("() => window.Chart && Chart.getChart('criterion-chart')")
    painted = page.evaluate(
        """() => {
            const c = document.getElementById('criterion-chart');
            const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
            return painted;
        }"""
    )
    assert painted > 1000
    assert violations(page) == []
    assert problems == []


def test_the_admin_works_under_the_policy(page, live_server, problems):
    make_user("root", is_staff=True, is_superuser=True)
    log_in_to(page, live_server, reverse("admin:index"), "root")

    response = page.reload()

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("#site-name").is_visible()
    # the admin's own stylesheet applies: its header is not the browser's default white
    header = page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    assert violations(page) == []
    assert problems == []


def test_the_policy_is_enforced_and_its_violations_are_seen(page, live_server, problems):
    page.goto(f"{live_server.url}{reverse('login')}")

    page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.inlineRan = true';
            document.body.append(script);
        }"""
    )

    page.wait_for_function("() => window.policyViolations.length > 0")
    assert page.evaluate("window.inlineRan") is None
    assert violations(page)[0].startswith("script-src")
    assert any("Content Security Policy" in p for p in problems)
