"""The project's middleware: Vietnamese first, the client's address behind a proxy, idle
sessions, and the headers every response carries."""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import time
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _


class VietnameseByDefaultMiddleware:
    """Ignore the browser's Accept-Language so that an English-language browser (common on
    donated office PCs) still shows Vietnamese; the language switcher's cookie still wins.
    Put it just before django.middleware.locale.LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class MalformedRequestMiddleware:
    """Answer 400 to requests that no page of the application makes and that Django would carry
    into a 500. Put it before CsrfViewMiddleware, the first to read the form.

    - A body said to be in a character set other than UTF-8. The pages send UTF-8 only; one that
      is not ASCII-compatible (UTF-16) cannot even be split into fields, which older Django
      versions answered with a 500 (ticket 34709), and a multipart form in it reaches the views
      as garbled text.
    - A parameter holding a whole number that no integer column holds (beyond 64 bits). Django
      guards an `exact` lookup against it, but not an `in` lookup (every list of ticked rows or
      chosen sets, the admin's among them) nor the admin's date filters.
    - The admin's ticked rows that are not ids: its list actions pass them unparsed to an `in`
      lookup.
    """

    READABLE = frozenset({"utf-8", "ascii"})
    LARGEST = 2**63 - 1
    TICKED = "_selected_action"  # django.contrib.admin.helpers.ACTION_CHECKBOX_NAME

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self.readable_body(request):
            return HttpResponseBadRequest(
                "The request body must be UTF-8.", content_type="text/plain; charset=utf-8"
            )
        parameters = [*request.GET.lists()]
        if request.method == "POST":
            parameters += request.POST.lists()
        for name, values in parameters:
            if any(self.too_large(value) for value in values) or (
                name == self.TICKED and not all(self.is_id(value) for value in values)
            ):
                return HttpResponseBadRequest(
                    f"The parameter {name[:40]!r} is not a number the application holds.",
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)

    def readable_body(self, request) -> bool:
        charset = request.content_params.get("charset")
        if charset is None or request.META.get("CONTENT_LENGTH") in (None, "", "0"):
            return True
        try:
            return codecs.lookup(charset).name in self.READABLE
        except LookupError:
            return False

    def too_large(self, value: str) -> bool:
        """A whole number beyond 64 bits, as int() reads it (it takes "٣" and "1_000")."""
        if len(value) > 5000:  # int() refuses more than 4,300 digits by itself
            return False
        try:
            return abs(int(value)) > self.LARGEST
        except ValueError:
            return False

    def is_id(self, value: str) -> bool:
        try:
            return 0 < int(value) <= self.LARGEST
        except ValueError:
            return False


class ClientAddressFromProxyMiddleware:
    """Behind TRUSTED_PROXY_COUNT reverse proxies (nginx: 1), REMOTE_ADDR is the client's address
    as the outermost trusted proxy saw it, taken from the right of X-Forwarded-For: each proxy
    appends the address it was reached from, so entries further left came from the client and
    prove nothing. With no trusted proxy (the default) the header is ignored. Everything that
    records an address (axes, the login log, the audit log) reads REMOTE_ADDR after this.
    Put it first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        proxies = settings.TRUSTED_PROXY_COUNT
        if proxies:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if len(forwarded) >= proxies:
                # A proxy we trust writes addresses only: anything else leaves the socket's.
                with contextlib.suppress(ValueError):
                    address = ipaddress.ip_address(forwarded[-proxies].strip())
                    request.META["REMOTE_ADDR"] = str(address)
        return self.get_response(request)


class IdleSessionTimeoutMiddleware:
    """Log out a login left idle for more than SESSION_IDLE_TIMEOUT seconds (0: never), on top of
    the absolute SESSION_COOKIE_AGE. The time of the last request is written to the session at
    most once a minute, so most pages cost no session write; `start()`, called at login, pins
    the session's expiry to a date, so those writes never stretch its absolute lifetime.
    Put it after AuthenticationMiddleware and MessageMiddleware."""

    LAST_SEEN = "last_seen"  # session key: Unix time of the login's last request
    REFRESH_EVERY = 60  # seconds

    def __init__(self, get_response):
        self.get_response = get_response

    @classmethod
    def start(cls, session) -> None:
        """A new login: its idle clock starts now and it ends SESSION_COOKIE_AGE from now."""
        session[cls.LAST_SEEN] = int(time.time())
        session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))

    def __call__(self, request):
        timeout = settings.SESSION_IDLE_TIMEOUT
        if timeout and request.user.is_authenticated:
            session = request.session
            now = int(time.time())
            last_seen = session.get(self.LAST_SEEN)
            if last_seen is None:  # a login from before this middleware
                self.start(session)
            elif now - last_seen > timeout:
                logout(request)  # LoginRequiredMiddleware then sends the user to the login page
                messages.info(
                    request,
                    _("You were logged out after %(minutes)d minutes without activity.")
                    % {"minutes": timeout // 60},
                )
            elif now - last_seen >= self.REFRESH_EVERY:
                session[self.LAST_SEEN] = now
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Send PERMISSIONS_POLICY as the Permissions-Policy header: the pages use no camera,
    microphone, location, payment or USB, so no script on them may ask for these."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class NoStoreForUsersMiddleware:
    """A response to a logged-in user (a page, a workbook, an evidence file) is not kept by the
    browser or any cache on the way, so the next person at a shared office PC cannot bring it
    back: Cache-Control: no-store, unless the view set a Cache-Control of its own. Static files
    never reach it (WhiteNoise answers them first). Put it after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class FormAddressPageMiddleware:
    """An address that only takes a form (`…/them-thon/`, `…/gui/`) shows in the address bar
    after a form error; reopened (Enter, a new tab, a bookmark) it is asked with GET, which
    Django answers with an empty 405. This turns that into the error page in Vietnamese, with
    the page the form is on (the address one level up, when it is a page). Put it after
    AuthenticationMiddleware: the page is the site's layout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or request.method not in ("GET", "HEAD"):
            return response
        if getattr(response, "streaming", False) or response.content:
            return response
        back = request.path.rstrip("/").rpartition("/")[0] + "/"
        try:
            resolve(back)
        except Resolver404:
            back = "/"
        page = render(request, "405.html", {"back": back}, status=405)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page
