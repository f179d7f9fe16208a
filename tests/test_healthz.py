"""/healthz: what a load balancer polls. No login, no data; 503 when the database is down."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def refuse_every_query(execute, sql, params, many, context):
    """Django's documented query hook, standing in for a database that does not answer."""
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def test_healthz_answers_ok_without_a_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


def test_healthz_answers_503_when_the_database_does_not_answer(client):
    with connection.execute_wrapper(refuse_every_query):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert b"database" in response.content


def test_healthz_shows_no_data_to_a_signed_in_user_either(client, user):
    client.force_login(user)

    response = client.get("/healthz")

    assert response.status_code == 200 and response.content == b"ok"


def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


def test_healthz_answers_over_plain_http_where_pages_redirect_to_https(client, settings):
    """A monitor polling an application server directly speaks plain HTTP: it gets the answer,
    not the redirect to HTTPS that every page gets in production."""
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/dang-nhap/").status_code == 301  # pages still go to HTTPS
    response = client.get("/healthz")

    assert response.status_code == 200 and response.content == b"ok"
