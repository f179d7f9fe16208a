from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from django.views.i18n import set_language

from assessments import guide, health
from assessments import views as assessment_views

FAVICON = "img/favicon.svg"

urlpatterns = [
    path("", assessment_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("dang-nhap/", auth_views.LoginView.as_view(), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("mat-khau/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "mat-khau/da-doi/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The language switcher must work on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's). The static URL is
    # looked up per request: it names the file's current hash once collectstatic has run.
    path("favicon.ico", login_not_required(RedirectView.as_view(url=lazy(static, str)(FAVICON)))),
    path("huong-dan/", guide.guide_page, name="guide"),
    path("huong-dan/img/<str:name>", guide.guide_image, name="guide_image"),
    path("bo-tieu-chi/", include("criteria.urls")),
    path("bao-cao/", include("reports.urls")),
    path("", include("assessments.urls")),
    path("quan-tri/", admin.site.urls),
]
