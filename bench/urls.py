"""The application's URLs plus the bare baselines the benchmark compares against."""

from django.http import HttpResponse
from django.template import engines
from django.urls import include, path
from django.views.decorators.http import require_POST

from assessments.models import Commune

TABLE = engines["django"].from_string(
    "<!doctype html><html><body><table>{% for code, name, kind in rows %}"
    "<tr><td>{{ code }}</td><td>{{ name }}</td><td>{{ kind }}</td></tr>"
    "{% endfor %}</table></body></html>"
)


def bare_table(request):
    """A bare view: one query, a table of `rows` rows."""
    rows = list(Commune.objects.values_list("code", "name", "kind")[: int(request.GET["rows"])])
    return HttpResponse(TABLE.render({"rows": rows}, request))


@require_POST
def bare_post(request):
    """A bare POST view behind the same middleware (session, CSRF, login)."""
    return HttpResponse("ok")


urlpatterns = [
    path("bench/table/", bare_table),
    path("bench/post/", bare_post),
    path("", include("config.urls")),
]
