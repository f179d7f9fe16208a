"""Settings for ntm-ict, read from environment variables.

DEBUG is off unless the environment turns it on. With DEBUG off the application refuses to start
without SECRET_KEY and ALLOWED_HOSTS. DATABASE_URL unset means a SQLite file in the project folder.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A yes/no environment variable; anything but a clear yes or no is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None


def env_positive(name: str, default: int) -> int:
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1; got {value}")
    return value


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def sqlite_database(name: str | Path) -> dict:
    """SQLite whose writers queue instead of failing: every transaction starts IMMEDIATE (takes
    the write lock at BEGIN, so two transactions never deadlock upgrading a read lock, which
    SQLite answers at once with "database is locked") and waits up to SQLITE_TIMEOUT seconds
    for the lock."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": env_int("SQLITE_TIMEOUT", 20)},
    }


def database_from_url(url: str | None) -> dict:
    """Django's DATABASES entry for `sqlite:///path` or `postgres://user:pass@host:port/name`."""
    if not url:
        return sqlite_database(BASE_DIR / "db.sqlite3")
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///relative.db has path "/relative.db"; sqlite:////abs/path.db is absolute.
        name = path[1:]
        if not name:
            raise ImproperlyConfigured("DATABASE_URL sqlite:///PATH needs a file path")
        return sqlite_database(name)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL postgres://… needs a database name")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:/// or postgres://; got {parts.scheme or url!r}"
    )


def cache_from_url(url: str | None, key_prefix: str = "") -> dict:
    """Django's CACHES for CACHE_URL: unset means each process keeps its own memory cache (one
    application server); `redis://host:port/db` (or rediss://) a cache that N servers share."""
    if not url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    scheme = urlsplit(url).scheme
    if scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(
            f"CACHE_URL must start with redis:// or rediss://; got {scheme or url!r}"
        )
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": key_prefix,
            # A Redis that stops answering costs a page a second at most: the reports then
            # build without it (reports.views._cached) instead of waiting on it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not DEBUG:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
else:
    # Development only: a fixed key and local hosts, so `manage.py` works without set-up.
    SECRET_KEY = SECRET_KEY or "django-insecure-development-only"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    # before "assessments": its login receivers run first, so the login log sees its verdict
    "axes",
    "csp",
    "criteria",
    "assessments",
    "reports",
]

AUTH_USER_MODEL = "assessments.User"
# axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "assessments.backends.RoleBackend",
]

MIDDLEWARE = [
    "assessments.middleware.ClientAddressFromProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "assessments.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "assessments.middleware.VietnameseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "assessments.middleware.MalformedRequestMiddleware",  # before the first reader of a form
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "assessments.middleware.NoStoreForUsersMiddleware",
    "assessments.middleware.FormAddressPageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "assessments.middleware.IdleSessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as axes requires: it turns a lockout into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL"))}
# The dashboards' cache (reports.views._cached). Several application servers share one through
# CACHE_URL (Redis); CACHE_KEY_PREFIX, set to the release, keeps pages rendered by one release
# from being served by the next while both run during a rolling upgrade.
CACHES = cache_from_url(os.environ.get("CACHE_URL"), os.environ.get("CACHE_KEY_PREFIX", ""))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id with parameters measured here (assessments.passwords); PBKDF2 hashes made before
# still check, and are rewritten with Argon2 at their owner's next login.
PASSWORD_HASHERS = [
    "assessments.passwords.TunedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "assessments.passwords.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploaded workbooks are judged before they are parsed (see criteria.workbooks).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_MAX_UNCOMPRESSED_BYTES = env_int("UPLOAD_MAX_UNCOMPRESSED_BYTES", 100 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# The unit named under the province on exported workbooks.
REPORT_ISSUING_UNIT = os.environ.get("REPORT_ISSUING_UNIT", "Sở Khoa học và Công nghệ")

# E-mail (assessments.notify): an SMTP server from the environment (the default, localhost:25,
# suits a local postfix); in development (DEBUG) messages are printed to the console instead,
# and tests keep them in django.core.mail.outbox. SITE_URL starts the links in the messages.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds: a slow server must not hold a request
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "NTM-ICT <ntm-ict@localhost>")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Production hardening: on unless DEBUG, each switchable for a plain-HTTP test run.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# ...except /healthz, which a monitor polls on each application server over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Only a deployment behind an HTTPS proxy that sets X-Forwarded-Proto (and strips the client's
# own) may say so: elsewhere a client could send the header and pass for HTTPS.
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A login lasts SESSION_COOKIE_AGE at most, and ends after SESSION_IDLE_TIMEOUT without a
# request (0: no idle limit). Both in seconds.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, fonts and requests from this site only,
# no inline script, style attribute or event handler (templates use static files, json_script
# and data attributes; static/js/site.js handles data-print and data-confirm), images from
# this site or data: URLs (Bootstrap's icons), no plugin, no framing, forms post here only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Powerful browser features that no page uses, so that no script on a page may use them.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# Behind reverse proxies (nginx: 1) the client's address is read from X-Forwarded-For; with 0
# (the default: the application faces the clients) that header is ignored, since a client can
# write anything into it. See assessments.middleware.ClientAddressFromProxyMiddleware.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Login throttling (django-axes): LOGIN_FAILURE_LIMIT wrong passwords for one account from one
# address lock that pair for LOGIN_COOLOFF_MINUTES. By account and address together, so that
# one office behind one address is not locked out by a colleague's typing, and a stranger
# guessing a known account name cannot lock its owner out everywhere. Administrators unlock in
# the admin ("Access attempts") or with `manage.py axes_reset_username NAME` / `axes_reset`.
# Both at least 1: axes reads a cool-off of 0 as a lock until an administrator lifts it.
AXES_FAILURE_LIMIT = env_positive("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_positive("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lockout do not restart the cool-off, so "try again in 15 minutes"
# stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "assessments.logins.locked_out"
# The admin lists every login and every failure, not only the current attempts.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# axes reads REMOTE_ADDR, which ClientAddressFromProxyMiddleware has set from the proxy's header
# when TRUSTED_PROXY_COUNT says so: one rule for every address the application records.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Every login, failure, lockout and logout, with who and from where, whatever LOG_LEVEL;
    # axes itself logs its failures and lockouts (its routine lines repeat those above).
    "loggers": {"ntm_ict.auth": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
