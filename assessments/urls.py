from django.urls import path

from . import views

app_name = "assessments"
urlpatterns = [
    path("don-vi/", views.province_page, name="province"),
    path("don-vi/huyen/<int:pk>/", views.district_page, name="district"),
    path("don-vi/xa/<int:pk>/", views.commune_page, name="commune"),
    path("don-vi/xa/<int:pk>/sua/", views.commune_edit, name="commune_edit"),
    path("don-vi/xa/<int:pk>/them-thon/", views.village_add, name="village_add"),
    path(
        "don-vi/xa/<int:pk>/nhom/<int:set_pk>/",
        views.commune_group_edit,
        name="commune_group_edit",
    ),
    path("don-vi/thon/<int:pk>/sua/", views.village_edit, name="village_edit"),
    path("nguoi-dung/", views.user_list, name="user_list"),
    path("nguoi-dung/them/", views.user_create, name="user_create"),
    path("nguoi-dung/<int:pk>/", views.user_edit, name="user_edit"),
    path("nguoi-dung/<int:pk>/mat-khau/", views.user_password, name="user_password"),
    path("nhat-ky/", views.audit_log, name="audit_log"),
    path("thong-bao/", views.notifications, name="notifications"),
]
urlpatterns += [
    path("phan-cong-tham-dinh/", views.review_assignments, name="review_assignments"),
    path("ky-danh-gia/", views.period_list, name="period_list"),
    path("ky-danh-gia/them/", views.period_create, name="period_create"),
    path("ky-danh-gia/<int:pk>/mo-dong/", views.period_toggle, name="period_toggle"),
    path("danh-gia/", views.worklist_page, name="worklist"),
    path("danh-gia/tao/", views.assessment_create, name="assessment_create"),
    path("danh-gia/tao-ca-huyen/", views.assessment_create_all, name="assessment_create_all"),
    path("danh-gia/duyet/", views.approve_selected, name="approve_selected"),
    path("danh-gia/duyet-huyen/<int:pk>/", views.approve_district, name="approve_district"),
    path("danh-gia/<int:pk>/", views.assessment_page, name="assessment"),
    path(
        "danh-gia/<int:pk>/chi-tieu/<int:indicator_pk>/",
        views.indicator_save,
        name="indicator_save",
    ),
    path("danh-gia/<int:pk>/gui/", views.assessment_submit, name="submit"),
    path("danh-gia/<int:pk>/chuyen-tinh/", views.assessment_forward, name="forward"),
    path("danh-gia/<int:pk>/duyet/", views.assessment_approve, name="approve"),
    path("danh-gia/<int:pk>/tra-lai/", views.assessment_return, name="return"),
    path("danh-gia/<int:pk>/mo-lai/", views.assessment_reopen, name="reopen"),
    path(
        "danh-gia/<int:pk>/sao-chep-ky-truoc/", views.assessment_copy_previous, name="copy_previous"
    ),
    path("bang-chung/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("bang-chung/<int:pk>/go-bo/", views.evidence_remove, name="evidence_remove"),
]
urlpatterns += [
    path("danh-gia/huyen/<int:pk>/mau-excel/", views.excel_template, name="excel_template"),
    path("danh-gia/huyen/<int:pk>/nhap-excel/", views.excel_upload, name="excel_upload"),
    path("danh-gia/huyen/<int:pk>/ap-dung-excel/", views.excel_apply, name="excel_apply"),
]
urlpatterns += [
    path("don-vi/nhap-danh-sach-dien/", views.flag_import, name="flag_import"),
    path("don-vi/nhap-danh-sach-dien/luu/", views.flag_import_apply, name="flag_import_apply"),
    path("don-vi/nhap-nhom-xa/", views.group_import, name="group_import"),
    path("don-vi/nhap-nhom-xa/luu/", views.group_import_apply, name="group_import_apply"),
]
