"""Passwords are hashed with Argon2id at the parameters measured for our servers, and older hashes
(PBKDF2, Argon2 at other parameters) are rewritten at their owner's next login.

These tests put the project's own hashers back (tests/conftest.py hashes with MD5 elsewhere).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    identify_hasher,
)
from django.urls import reverse

from config import settings as project_settings
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

ARGON2_OURS = "argon2$argon2id$v=19$m=19456,t=3,p=1$"


@pytest.fixture(autouse=True)
def _project_hashers(settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 at parameters other than ours (as Django's defaults are), but fast to make."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1


def test_a_new_password_is_hashed_with_argon2id_at_our_parameters():
    user = make_user("officer")

    assert user.password.startswith(ARGON2_OURS)
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(PASSWORD)
    assert not user.check_password("not-the-password")


@pytest.mark.parametrize(
    "old_hash",
    [
        # PBKDF2 as Django made it before (fewer iterations, to keep the test fast)
        lambda: PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=1000),
        lambda: CheapArgon2PasswordHasher().encode(PASSWORD, "saltsaltsalt"),
    ],
    ids=["pbkdf2", "argon2-other-parameters"],
)
def test_an_older_hash_is_rewritten_with_ours_at_the_next_login(client, old_hash):
    user = make_user("officer")
    user.password = old_hash()
    user.save(update_fields=["password"])

    response = log_in(client, "officer", PASSWORD)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith(ARGON2_OURS)
    assert user.check_password(PASSWORD)


def test_a_wrong_password_leaves_an_older_hash_as_it_was(client):
    user = make_user("officer")
    old = PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=1000)
    user.password = old
    user.save(update_fields=["password"])

    response = log_in(client, "officer", "not-the-password")

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password == old
