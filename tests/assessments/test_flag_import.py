"""Commune flags (ĐBKK, border, ATK) from a list of codes: the service, the command, the page."""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from assessments.models import Assessment, Commune, CommuneFlagRecord, Role, State
from assessments.unit_import import UnitFileInvalid
from assessments.unit_lists import (
    ListChanged,
    apply_flags,
    check_list_upload,
    plan_flags,
    read_list,
    row_limit,
)
from tests.conftest import make_commune, make_district, make_list_file, make_province, make_user

pytestmark = pytest.mark.django_db
DIFFICULT = "is_extremely_difficult"
DECISION = "QĐ 861/QĐ-TTg"
START = datetime.date(2021, 6, 4)


@pytest.fixture
def communes(loc_binh, commune) -> list[Commune]:
    """Xã Hữu Khánh (06280) and two more xã of Lộc Bình."""
    return [
        commune,
        make_commune(loc_binh, "Xã Tam Gia", code="06559"),
        make_commune(loc_binh, "Xã Tú Đoạn", code="06562"),
    ]


@pytest.fixture
def ha_giang_commune(db) -> Commune:
    district = make_district(make_province("02", "Tỉnh Hà Giang"), "024", "Huyện Đồng Văn")
    return make_commune(district, "Xã Lũng Cú", code="00688")


def plan_of(upload, province, **options):
    rows = read_list(upload, size=upload.size, max_rows=row_limit(province))
    options = {"flag": DIFFICULT, "document": DECISION, "valid_from": START, **options}
    return plan_flags(rows, province=province, **options)


def flagged() -> set[str]:
    return set(Commune.objects.filter(is_extremely_difficult=True).values_list("code", flat=True))


# ---------------------------------------------------------------- the service and the command


def test_the_listed_communes_get_the_flag_with_a_record_of_the_document(
    communes, manager, tmp_path
):
    path = tmp_path / "dbkk.csv"
    path.write_text("Mã PX,Phường Xã\n06280,Xã Hữu Khánh\n06559,Xã Tam Gia\n", encoding="utf-8")
    out = StringIO()

    call_command(
        "import_flags", str(path), "--flag", DIFFICULT, "--document", DECISION,
        "--valid-from", "2021-06-04", "--valid-to", "2025-12-31", "--by", "manager", stdout=out,
    )  # fmt: skip

    assert flagged() == {"06280", "06559"}
    records = CommuneFlagRecord.objects.order_by("commune__code")
    assert [r.commune.code for r in records] == ["06280", "06559"]
    for record in records:
        assert (record.flag, record.value, record.document) == (DIFFICULT, True, DECISION)
        assert (record.valid_from, record.valid_to) == (START, datetime.date(2025, 12, 31))
        assert record.recorded_by == manager
    assert "saved 2 changes" in out.getvalue()


def test_codes_that_excel_turned_into_numbers_get_their_leading_zeros_back(communes):
    upload = make_list_file([[6280, "Xã Hữu Khánh"], [6559.0, "Xã Tam Gia"]], kind="xlsx")

    plan = plan_of(upload, communes[0].province)

    assert {c.commune.code for c in plan.changes} == {"06280", "06559"}


def test_unknown_codes_other_provinces_and_duplicates_are_errors_by_row_and_nothing_is_saved(
    communes, ha_giang_commune, manager, tmp_path
):
    path = tmp_path / "dbkk.csv"
    path.write_text(
        "Mã PX\n06280\n99999\n00688\n06280\n6A280\n06559\n", encoding="utf-8"
    )  # rows 2–7

    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command(
            "import_flags", str(path), "--flag", DIFFICULT, "--document", DECISION,
            "--valid-from", "2021-06-04", "--by", "manager", "--province", "20",
        )  # fmt: skip

    message = str(error.value)
    assert "nothing was changed" in message
    assert "Row 5: the code 06280 is already on row 2" in message
    assert "Row 6: «6A280» is not a commune code" in message
    with translation.override("en"), pytest.raises(UnitFileInvalid) as error:
        plan_of(make_list_file([["06280"], ["99999"], ["00688"]]), communes[0].province)
    assert error.value.errors == [
        "Row 3: no unit has the code 99999 on 04/06/2021.",
        "Row 4: 00688 is Xã Lũng Cú of Tỉnh Hà Giang, not of Tỉnh Lạng Sơn.",
    ]
    assert flagged() == set()
    assert not CommuneFlagRecord.objects.exists()


def test_a_complete_list_clears_the_flag_of_the_communes_it_leaves_out(communes, manager):
    Commune.objects.filter(code__in=["06280", "06562"]).update(is_extremely_difficult=True)
    province = communes[0].province

    partial = plan_of(make_list_file([["06559"]]), province)
    complete = plan_of(make_list_file([["06559"]]), province, complete=True)

    assert [(c.commune.code, c.value) for c in partial.changes] == [("06559", True)]
    assert sorted((c.commune.code, c.value) for c in complete.changes) == [
        ("06280", False),
        ("06559", True),
        ("06562", False),
    ]
    assert apply_flags(complete, user=manager) == 3
    assert flagged() == {"06559"}
    cleared = CommuneFlagRecord.objects.get(commune__code="06280")
    assert (cleared.value, cleared.document) == (False, DECISION)


def test_importing_the_same_list_again_changes_nothing(communes, manager):
    province = communes[0].province
    apply_flags(plan_of(make_list_file([["06280"], ["06559"]]), province), user=manager)

    again = plan_of(make_list_file([["06280"], ["06559"]]), province)

    assert again.changes == [] and again.unchanged == 2
    assert apply_flags(again, user=manager) == 0
    assert CommuneFlagRecord.objects.count() == 2


def test_the_codes_name_the_units_in_force_when_the_document_takes_effect(lang_son):
    vinh_tien = make_list_file([["06007", "Xã Vĩnh Tiến"]])  # merged into Khánh Long 01/12/2024

    plan = plan_of(vinh_tien, lang_son)

    assert [c.commune.name for c in plan.changes] == ["Xã Vĩnh Tiến"]
    with pytest.raises(UnitFileInvalid) as error:
        plan_of(make_list_file([["06007"]]), lang_son, valid_from=datetime.date(2025, 3, 1))
    assert "06007" in error.value.errors[0] and "01/03/2025" in error.value.errors[0]


def test_a_code_that_names_another_commune_than_the_file_says_is_a_warning(communes):
    upload = make_list_file([["06280", "xã hữu khánh"], ["06559", "Xã Tú Đoạn"]])

    plan = plan_of(upload, communes[0].province)

    assert len(plan.changes) == 2
    assert len(plan.warnings) == 1
    assert "06559" in plan.warnings[0] and "Xã Tam Gia" in plan.warnings[0]


def test_a_flag_that_moved_since_the_plan_refuses_the_whole_save(communes, manager):
    plan = plan_of(make_list_file([["06280"], ["06559"]]), communes[0].province)
    Commune.objects.filter(code="06559").update(is_extremely_difficult=True)

    with pytest.raises(ListChanged):
        apply_flags(plan, user=manager)

    assert flagged() == {"06559"}
    assert not CommuneFlagRecord.objects.exists()


def test_approved_assessments_of_a_flagged_commune_are_marked_for_the_reviewer(assessment, manager):
    Assessment.objects.filter(pk=assessment.pk).update_checked_rows(state=State.APPROVED)

    apply_flags(plan_of(make_list_file([["06280"]]), assessment.commune.province), user=manager)

    assessment.refresh_from_db()
    assert assessment.attention


# ---------------------------------------------------------------- checks before parsing


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"M\xe3 PX\n06280\n",  # Latin-1, not UTF-8
        b"Ma PX\n\x0006280\n",
        b"PK\x03\x04 a broken zip",
    ],
    ids=["pdf", "latin-1", "nul", "broken-zip"],
)
def test_a_file_that_is_neither_xlsx_nor_utf8_csv_is_refused_before_parsing(content):
    with pytest.raises(UnitFileInvalid):
        check_list_upload(io.BytesIO(content), size=len(content))


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")

    with pytest.raises(UnitFileInvalid):
        check_list_upload(buffer, size=len(buffer.getvalue()))


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.UPLOAD_MAX_BYTES = 10

    with pytest.raises(UnitFileInvalid):
        check_list_upload(io.BytesIO(b"Ma PX\n06280\n"), size=12)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_list_longer_than_the_province_could_need_is_refused(communes, kind):
    province = communes[0].province
    limit = row_limit(province)
    upload = make_list_file([[f"{n:05d}"] for n in range(limit + 1)], kind=kind)

    with pytest.raises(UnitFileInvalid) as error:
        read_list(upload, size=upload.size, max_rows=limit)

    assert str(limit) in error.value.errors[0]
    assert limit == 2 * 3 + 20


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_with_too_many_columns_or_no_code_column_is_refused(kind):
    wide = make_list_file([["06280"] + ["x"] * 40], header=["Mã PX"] + ["c"] * 40, kind=kind)
    nameless = make_list_file([["06280"]], header=["Số"], kind=kind)

    for upload in (wide, nameless):
        with pytest.raises(UnitFileInvalid):
            read_list(upload, size=upload.size, max_rows=100)


def test_headers_and_separators_are_read_as_people_write_them():
    upload = SimpleUploadedFile("l.csv", "STT;Ma xa;Ten xa\n1;6280;Hữu Khánh\n\n".encode())

    rows = read_list(upload, size=upload.size, max_rows=10)

    assert [(r.number, r.code, r.name) for r in rows] == [(2, "06280", "Hữu Khánh")]


# ---------------------------------------------------------------- the page

URL = reverse("assessments:flag_import")
APPLY = reverse("assessments:flag_import_apply")


def form_data(upload, **extra):
    return {
        "flag": DIFFICULT,
        "document": DECISION,
        "valid_from": "04/06/2021",
        "valid_to": "",
        "file": upload,
        **extra,
    }


def test_a_province_admin_sees_the_changes_then_saves_them(client, communes, manager):
    client.force_login(manager)

    preview = client.post(URL, form_data(make_list_file([["6280"], ["06559"]])))

    assert preview.status_code == 200
    assert [c.commune.code for c in preview.context["plan"].changes] == ["06280", "06559"]
    assert 'data-testid="preview"' in preview.content.decode()
    assert flagged() == set()

    saved = client.post(APPLY)

    assert saved.status_code == 302 and saved.url == reverse("assessments:province")
    assert flagged() == {"06280", "06559"}
    assert set(CommuneFlagRecord.objects.values_list("recorded_by", flat=True)) == {manager.pk}
    assert client.post(APPLY).status_code == 302  # the preview is used once
    assert CommuneFlagRecord.objects.count() == 2


def test_errors_are_shown_with_their_row_numbers_and_nothing_is_kept(client, communes, manager):
    client.force_login(manager)
    client.post(URL, form_data(make_list_file([["06559"]])))  # an earlier preview

    page = client.post(URL, form_data(make_list_file([["06280"], ["99999"]])))

    assert page.context["plan"] is None
    assert re.search(r"(Row|Dòng) 3: .*99999", page.content.decode())
    client.post(APPLY)
    assert flagged() == set()


@pytest.mark.parametrize("who", ["user", "district_officer", "viewer", "commune_officer"])
def test_only_province_admins_and_superusers_may_import_lists(client, communes, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(make_list_file([["06280"]]))).status_code == 403
    assert client.post(APPLY).status_code == 403
    assert flagged() == set()


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302 and reverse("login") in response.url


def test_an_admin_of_another_province_cannot_flag_this_provinces_communes(
    client, communes, ha_giang_commune
):
    other_admin = make_user(
        "admin-hg", role=Role.PROVINCE_ADMIN, province=ha_giang_commune.province
    )
    client.force_login(other_admin)

    page = client.post(URL, form_data(make_list_file([["06280"]])))

    assert page.context["plan"] is None
    assert "Tỉnh Hà Giang" in page.content.decode()
    assert page.context["form"].errors["file"][0].startswith(("Row 2:", "Dòng 2:"))
    assert "province" not in page.context["form"].fields


def test_a_superuser_chooses_the_province(client, communes, ha_giang_commune):
    client.force_login(make_user("root", is_superuser=True, is_staff=True))

    page = client.post(
        URL, form_data(make_list_file([["00688"]]), province=ha_giang_commune.province.pk)
    )
    client.post(APPLY)

    assert [c.commune.code for c in page.context["plan"].changes] == ["00688"]
    assert flagged() == {"00688"}


def test_the_save_is_refused_when_the_flags_changed_since_the_preview(client, communes, manager):
    client.force_login(manager)
    client.post(URL, form_data(make_list_file([["06280"], ["06559"]])))
    Commune.objects.filter(code="06559").update(is_extremely_difficult=True)

    response = client.post(APPLY, follow=True)

    assert flagged() == {"06559"}
    assert not CommuneFlagRecord.objects.exists()
    assert response.resolver_match.url_name == "flag_import"


def test_the_preview_costs_as_many_queries_for_forty_communes_as_for_three(
    client, communes, manager, loc_binh
):
    more = [make_commune(loc_binh, code=f"{7000 + n:05d}") for n in range(37)]
    client.force_login(manager)
    with CaptureQueriesContext(connection) as three:
        client.post(URL, form_data(make_list_file([[c.code] for c in communes])))

    with CaptureQueriesContext(connection) as forty:
        client.post(URL, form_data(make_list_file([[c.code] for c in communes + more])))

    assert len(forty) == len(three)


def test_the_province_page_links_the_list_imports_for_its_administrators_only(
    client, province, manager, user
):
    client.force_login(manager)
    assert URL in client.get(reverse("assessments:province")).content.decode()

    client.force_login(user)
    assert URL not in client.get(reverse("assessments:province")).content.decode()
