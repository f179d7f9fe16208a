"""The application's URLs plus the bare baselines the benchmark compares against."""

from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.template import engines
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from assessments.models import Assessment, Change, Commune, IndicatorResult

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


@require_POST
def durable_save(request, pk: int, indicator_pk: int):
    """The least a correct save does, behind the same middleware (session, CSRF, login): in one
    transaction, lock the assessment row, update one result row, insert one history row, commit;
    then redirect, as the form does. No form, scope check, decision or version check."""
    note = request.POST["note"]
    with transaction.atomic():
        state = Assessment.objects.select_for_update().values_list("state", flat=True).get(pk=pk)
        IndicatorResult.objects.filter(
            assessment_id=pk, indicator_id=indicator_pk
        ).update_checked_rows(note=note, updated_by=request.user, updated_at=timezone.now())
        Change.objects.create(
            assessment_id=pk,
            indicator_id=indicator_pk,
            field="note",
            new=note,
            version=0,
            state=state,
            source="bench",
            actor=request.user,
        )
    return HttpResponseRedirect(f"/danh-gia/{pk}/")


urlpatterns = [
    path("bench/table/", bare_table),
    path("bench/post/", bare_post),
    path("bench/save/<int:pk>/<int:indicator_pk>/", durable_save),
    path("", include("config.urls")),
]
