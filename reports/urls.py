from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.province_dashboard, name="province"),
    path("toan-quoc/", views.national_rollup, name="national"),
    path("excel/", views.province_export, name="province_export"),
    path("huyen/<int:pk>/", views.district_dashboard, name="district"),
    path("huyen/<int:pk>/excel/", views.district_export, name="district_export"),
    path("phieu/<int:pk>/", views.scorecard, name="scorecard"),
]
