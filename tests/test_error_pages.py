"""Error pages in Vietnamese, inside the site's layout where a request is at hand: what
happened, what to do, and a way back. Never Django's English pages (DEBUG is off here, as in
production)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("a bug")


def ok(request):
    return HttpResponse("ok")


urlpatterns = [
    path("boom/", boom),
    path("post-ok/", ok),
    path("", include("config.urls")),
]


def test_a_page_or_file_that_does_not_exist(client, commune_officer):
    client.force_login(commune_officer)

    response = client.get("/danh-gia/999999/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "Không tìm thấy trang" in page
    assert "Page not found" not in page
    assert 'href="/"' in page  # the way back to the start page
    assert 'data-testid="help-link"' in page  # inside the usual layout, with its menu


def test_a_page_the_user_may_not_open(client, commune_officer):
    client.force_login(commune_officer)

    response = client.get("/bao-cao/toan-quoc/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "Bạn không có quyền" in page
    assert "Forbidden" not in page
    assert 'href="/"' in page


def test_a_form_sent_from_a_page_left_open_too_long(commune_officer, settings):
    """The CSRF check fails when the session ended or the page is old (slow links, a tab left
    open overnight): the officer is told to reload, not shown Django's English page."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(commune_officer)

    response = browser.post("/dang-xuat/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "tải lại trang" in page
    assert "CSRF verification failed" not in page


def test_a_bug_shows_a_plain_vietnamese_page_and_nothing_of_the_code(
    client, settings, commune_officer
):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    client.force_login(commune_officer)

    response = client.get("/boom/")

    page = response.content.decode()
    assert response.status_code == 500
    assert "Hệ thống gặp lỗi" in page
    assert "RuntimeError" not in page and "Traceback" not in page
    assert 'href="/"' in page


def test_reopening_the_address_a_form_was_sent_to_leads_back(client, manager, commune):
    """After a form error the address bar shows where the form was sent (`…/them-thon/`); pressing
    Enter there, or opening it in a new tab, asked it with GET and got a blank 405 page."""
    client.force_login(manager)
    action = f"/don-vi/xa/{commune.pk}/them-thon/"

    response = client.get(action)

    page = response.content.decode()
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "chỉ dùng để gửi biểu mẫu" in page
    assert f'href="/don-vi/xa/{commune.pk}/"' in page  # the page the form is on
    assert 'data-testid="help-link"' in page  # inside the usual layout
