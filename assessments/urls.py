from django.urls import path

from . import views

app_name = "assessments"
urlpatterns = [
    path("don-vi/", views.province_page, name="province"),
    path("don-vi/huyen/<int:pk>/", views.district_page, name="district"),
    path("don-vi/xa/<int:pk>/", views.commune_page, name="commune"),
    path("don-vi/xa/<int:pk>/sua/", views.commune_edit, name="commune_edit"),
    path("don-vi/xa/<int:pk>/them-thon/", views.village_add, name="village_add"),
    path("don-vi/thon/<int:pk>/sua/", views.village_edit, name="village_edit"),
    path("nguoi-dung/", views.user_list, name="user_list"),
    path("nguoi-dung/them/", views.user_create, name="user_create"),
    path("nguoi-dung/<int:pk>/", views.user_edit, name="user_edit"),
    path("nguoi-dung/<int:pk>/mat-khau/", views.user_password, name="user_password"),
]
