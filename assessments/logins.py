"""Logins: who tried, from which address, with what outcome (the "ntm_ict.auth" log), the
clocks a new login starts, and the page a login gets while axes holds its account and address
locked."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .middleware import IdleSessionTimeoutMiddleware

log = logging.getLogger("ntm_ict.auth")


def client_address(request: HttpRequest | None) -> str:
    """The address a request came from (REMOTE_ADDR, set from the proxy's header when the
    deployment trusts one), or "-" when there is none."""
    if request is None:
        return "-"
    return request.META.get("REMOTE_ADDR") or "-"


def log_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    log.info("login success user=%r address=%s", user.get_username(), client_address(request))


def start_session_clocks(sender, request: HttpRequest | None, user, **kwargs) -> None:
    # At login rather than on the next request: the session is being written now anyway.
    if request is not None and hasattr(request, "session"):
        IdleSessionTimeoutMiddleware.start(request.session)


def log_failed_login(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    # axes' own receiver runs first ("axes" comes before "assessments" in INSTALLED_APPS): it
    # marks the attempt that reaches the limit, and every attempt refused while locked.
    outcome = "locked" if getattr(request, "axes_locked_out", False) else "failure"
    username = credentials.get("username")
    log.warning("login %s user=%r address=%s", outcome, username, client_address(request))


def log_logout(sender, request: HttpRequest | None, user, **kwargs) -> None:
    username = user.get_username() if user is not None else None
    log.info("logout user=%r address=%s", username, client_address(request))


def connect_login_signals() -> None:
    user_logged_in.connect(log_login, dispatch_uid="ntm_ict.auth.login")
    user_logged_in.connect(start_session_clocks, dispatch_uid="ntm_ict.session-clocks")
    user_login_failed.connect(log_failed_login, dispatch_uid="ntm_ict.auth.failure")
    user_logged_out.connect(log_logout, dispatch_uid="ntm_ict.auth.logout")


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """axes' lockout response (AXES_LOCKOUT_CALLABLE): the login page again, saying why and for
    how long, with status 429."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "locked_out_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "registration/login.html", context, status=429)
