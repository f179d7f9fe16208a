"""Hardening: login throttling and its log, the client's address behind a proxy, passwords,
sessions and the headers every page carries."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOCKED_OUT = "Nhập sai mật khẩu quá nhiều lần"


def log_in(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail_to_log_in(client, username: str, times: int, **extra):
    for _ in range(times):
        response = log_in(client, username, "not-the-password", **extra)
    return response


# Login throttling


def test_five_wrong_passwords_lock_the_account_from_that_address_with_a_message(client):
    make_user("officer")

    for attempt in range(4):
        response = log_in(client, "officer", "not-the-password")
        assert response.status_code == 200, attempt
        assert LOCKED_OUT not in response.content.decode()
    response = log_in(client, "officer", "not-the-password")

    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED_OUT in page and "15 phút" in page
    assert 'name="password"' in page  # still the login page, not a bare error page
    response = log_in(client, "officer", PASSWORD)
    assert response.status_code == 429
    assert not is_logged_in(client)


def test_the_limit_and_cool_off_come_from_the_settings(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=40)
    make_user("officer")

    response = fail_to_log_in(client, "officer", 2)

    assert response.status_code == 429
    assert "40 phút" in response.content.decode()


def test_a_lock_holds_one_account_from_one_address_only(client):
    make_user("officer")
    make_user("colleague")
    fail_to_log_in(client, "officer", 5)

    assert log_in(client, "colleague", PASSWORD).status_code == 302
    client.logout()
    assert log_in(client, "officer", PASSWORD, REMOTE_ADDR="10.20.0.7").status_code == 302
    assert is_logged_in(client)


def test_the_account_logs_in_again_after_the_cool_off(client):
    make_user("officer")
    fail_to_log_in(client, "officer", 5)

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert log_in(client, "officer", PASSWORD).status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client):
    make_user("officer")
    fail_to_log_in(client, "officer", 4)
    assert log_in(client, "officer", PASSWORD).status_code == 302
    client.logout()

    assert fail_to_log_in(client, "officer", 4).status_code == 200


def test_an_administrator_unlocks_an_account_in_the_admin(client):
    make_user("officer")
    admin = make_user("root", is_staff=True, is_superuser=True)
    fail_to_log_in(client, "officer", 5)
    attempt = AccessAttempt.objects.get(username="officer")
    client.force_login(admin)

    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert "officer" in listing.content.decode()
    client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    client.logout()

    assert log_in(client, "officer", PASSWORD).status_code == 302


def test_axes_reset_unlocks_every_account(client):
    make_user("officer")
    fail_to_log_in(client, "officer", 5)

    call_command("axes_reset", verbosity=0)

    assert log_in(client, "officer", PASSWORD).status_code == 302


def test_force_login_is_not_throttled(client, district_officer):
    fail_to_log_in(client, district_officer.username, 5)

    client.force_login(district_officer)

    assert client.get(reverse("assessments:worklist")).status_code == 200


# The login log


def test_every_login_and_failure_is_logged_with_who_where_and_the_outcome(client, caplog):
    make_user("officer")
    caplog.set_level(logging.INFO, logger="ntm_ict.auth")

    log_in(client, "officer", "not-the-password")
    log_in(client, "officer", PASSWORD)
    client.post(reverse("logout"))

    lines = [r.getMessage() for r in caplog.records if r.name == "ntm_ict.auth"]
    assert lines == [
        "login failure user='officer' address=127.0.0.1",
        "login success user='officer' address=127.0.0.1",
        "logout user='officer' address=127.0.0.1",
    ]
    assert AccessFailureLog.objects.filter(username="officer").count() == 1
    assert AccessLog.objects.filter(username="officer", ip_address="127.0.0.1").count() == 1


def test_the_log_names_the_attempts_a_lock_refused(client, caplog):
    make_user("officer")
    caplog.set_level(logging.INFO, logger="ntm_ict.auth")

    fail_to_log_in(client, "officer", 5)
    log_in(client, "officer", PASSWORD)

    outcomes = [r.getMessage().split()[1] for r in caplog.records if r.name == "ntm_ict.auth"]
    assert outcomes == ["failure"] * 4 + ["locked", "locked"]


def test_the_login_log_is_on_at_any_log_level(settings):
    assert settings.LOGGING["loggers"]["ntm_ict.auth"]["level"] == "INFO"


# The client's address behind a proxy


def test_the_forwarded_address_is_ignored_unless_the_deployment_trusts_a_proxy(client, caplog):
    make_user("officer")
    caplog.set_level(logging.INFO, logger="ntm_ict.auth")

    log_in(client, "officer", "wrong-password", HTTP_X_FORWARDED_FOR="203.0.113.7")

    assert AccessAttempt.objects.get().ip_address == "127.0.0.1"
    assert caplog.records[-1].getMessage().endswith("address=127.0.0.1")


@pytest.mark.parametrize(
    ("proxies", "forwarded_for"),
    [
        (1, "203.0.113.7"),
        # the client wrote its own header: nginx appended the address it really came from
        (1, "198.51.100.1, 203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.3"),
    ],
)
def test_behind_trusted_proxies_the_address_is_the_one_the_outermost_proxy_saw(
    client, settings, caplog, proxies, forwarded_for
):
    settings.TRUSTED_PROXY_COUNT = proxies
    make_user("officer")
    caplog.set_level(logging.INFO, logger="ntm_ict.auth")

    log_in(client, "officer", "wrong-password", HTTP_X_FORWARDED_FOR=forwarded_for)

    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    assert caplog.records[-1].getMessage().endswith("address=203.0.113.7")


def test_a_spoofed_address_cannot_escape_a_lock_behind_a_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("officer")
    for n in range(5):
        log_in(client, "officer", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7")

    response = log_in(client, "officer", PASSWORD, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")

    assert response.status_code == 429


# Passwords


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("Lang-Son-20", False),  # 11 characters
        ("Lang-Son-202", True),  # 12
        ("ntm-demo-2025", True),  # the demo accounts' password
        (PASSWORD, True),
        ("Lạng-Sơn-" + "x" * 119, True),  # 128
        ("Lạng-Sơn-" + "x" * 120, False),  # 129
    ],
)
def test_a_password_has_12_to_128_characters(password, accepted):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password)
    except ValidationError:
        assert not accepted
    else:
        assert accepted


def test_the_nav_links_the_users_name_to_the_password_change_page(client, district_officer):
    client.force_login(district_officer)

    page = client.get(reverse("assessments:worklist")).content.decode()

    assert f'href="{reverse("password_change")}"' in page


NEW_PASSWORD = "Mat-khau-moi-2025"


def test_a_user_changes_their_password_and_stays_logged_in(client, district_officer):
    client.force_login(district_officer)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == reverse("password_change_done")
    district_officer.refresh_from_db()
    assert district_officer.check_password(NEW_PASSWORD)
    assert client.get(reverse("assessments:worklist")).status_code == 200


def test_changing_the_password_logs_out_the_users_other_sessions(client, district_officer):
    from django.test import Client

    other_computer = Client()
    assert log_in(other_computer, district_officer.username, PASSWORD).status_code == 302
    assert other_computer.get(reverse("assessments:worklist")).status_code == 200
    log_in(client, district_officer.username, PASSWORD)

    client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert client.get(reverse("assessments:worklist")).status_code == 200
    response = other_computer.get(reverse("assessments:worklist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_short_new_password_is_refused_in_vietnamese(client, district_officer):
    client.force_login(district_officer)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "ngan-qua", "new_password2": "ngan-qua"},
    )

    assert response.status_code == 200
    assert "ít nhất 12 ký tự" in response.content.decode()
    district_officer.refresh_from_db()
    assert district_officer.check_password(PASSWORD)


# Sessions


def idle_for(client, seconds: int) -> None:
    """Move the login's last request `seconds` into the past."""
    import time

    session = client.session
    session["last_seen"] = int(time.time()) - seconds
    session.save()


def test_a_login_idle_for_more_than_30_minutes_is_logged_out(client, district_officer):
    client.force_login(district_officer)
    assert client.get(reverse("assessments:worklist")).status_code == 200

    idle_for(client, 31 * 60)
    response = client.get(reverse("assessments:worklist"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "30 phút" in response.content.decode()
    assert not is_logged_in(client)


def test_a_login_active_within_30_minutes_stays(client, district_officer):
    client.force_login(district_officer)
    client.get(reverse("assessments:worklist"))

    idle_for(client, 29 * 60)

    assert client.get(reverse("assessments:worklist")).status_code == 200


def test_the_idle_limit_comes_from_the_settings(client, settings, district_officer):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    client.force_login(district_officer)
    client.get(reverse("assessments:worklist"))

    idle_for(client, 6 * 60)

    assert client.get(reverse("assessments:worklist")).status_code == 302


def test_activity_is_written_to_the_session_at_most_once_a_minute(client, district_officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(district_officer)  # the login starts the clock

    with CaptureQueriesContext(connection) as soon_after:
        client.get(reverse("assessments:worklist"))
        client.get(reverse("assessments:worklist"))
    idle_for(client, 2 * 60)
    with CaptureQueriesContext(connection) as minutes_later:
        client.get(reverse("assessments:worklist"))

    def session_writes(queries):
        return [
            q["sql"]
            for q in queries
            if "django_session" in q["sql"] and not q["sql"].lstrip().startswith("SELECT")
        ]

    assert session_writes(soon_after.captured_queries) == []
    assert len(session_writes(minutes_later.captured_queries)) == 1


def test_activity_does_not_stretch_the_8_hour_limit(client, district_officer):
    client.force_login(district_officer)
    client.get(reverse("assessments:worklist"))
    expiry = client.session.get_expiry_date()

    idle_for(client, 10 * 60)
    client.get(reverse("assessments:worklist"))

    assert client.session.get_expiry_date() == expiry
    assert expiry - timezone.now() <= timedelta(hours=8)


# Headers


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"  # inline script
    r"|\sstyle=[\"']"  # style attribute
    r"|\son[a-z]+=[\"']"  # event handler attribute
    r"|javascript:",
    re.IGNORECASE,
)


def test_no_template_has_inline_script_style_or_event_handler():
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in INLINE.finditer(path.read_text(encoding="utf-8"))
    ]

    assert found == []


def test_every_page_carries_a_strict_content_security_policy(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_every_page_carries_a_permissions_policy(client):
    header = client.get(reverse("login"))["Permissions-Policy"]

    assert {"camera=()", "microphone=()", "geolocation=()"} <= set(header.split(", "))


def test_pages_and_downloads_for_a_logged_in_user_are_not_stored(client, user, ntm_set):
    client.force_login(user)

    page = client.get(reverse("assessments:worklist"))
    download = client.get(reverse("criteria:set_export", args=[ntm_set.pk]))

    assert page["Cache-Control"] == "no-store"
    assert download.status_code == 200
    assert download["Cache-Control"] == "no-store"


def test_a_page_that_sets_its_own_cache_control_keeps_it(client):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:index"))

    # the admin's never_cache, which also forbids storing
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_favicon_is_found_without_logging_in(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith("/img/favicon.svg")
