"""gunicorn entry point for the load test: the application with the bare baseline views."""

import logging
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

settings.ROOT_URLCONF = "bench.urls"
# The bench logs in hundreds of times: its login log follows LOG_LEVEL (WARNING in `make bench`).
logging.getLogger("ntm_ict.auth").setLevel(os.environ.get("LOG_LEVEL", "INFO"))
# The login measure's baseline runs a server with other hashers first (bench/ops.py).
if os.environ.get("BENCH_PASSWORD_HASHERS"):
    settings.PASSWORD_HASHERS = os.environ["BENCH_PASSWORD_HASHERS"].split(",")
application = get_wsgi_application()
