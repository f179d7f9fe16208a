from django.urls import path

from . import views

app_name = "criteria"
urlpatterns = [
    path("", views.set_list, name="set_list"),
    path("nhap-excel/", views.set_import, name="set_import"),
    path("<int:pk>/", views.set_detail, name="set_detail"),
    path("<int:pk>/excel/", views.set_export, name="set_export"),
    path("<int:pk>/sao-chep/", views.set_copy, name="set_copy"),
    path(
        "<int:pk>/sao-chep-cho-tinh/",
        views.set_copy_into_province,
        name="set_copy_into_province",
    ),
    path("<int:pk>/ap-dung/", views.set_activate, name="set_activate"),
    path("tieu-chi/<int:pk>/them-chi-tieu/", views.indicator_add, name="indicator_add"),
    path("chi-tieu/<int:pk>/sua/", views.indicator_edit, name="indicator_edit"),
    path("chi-tieu/<int:pk>/xoa/", views.indicator_delete, name="indicator_delete"),
]
