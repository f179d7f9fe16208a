"""Commune groups from a list of codes: the typed forms of a group, the command, the page."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from assessments.models import Commune, CommuneGroupAssignment
from assessments.unit_import import UnitFileInvalid
from assessments.unit_lists import (
    ListChanged,
    apply_groups,
    group_codes_by_typed_form,
    plan_groups,
    read_list,
    row_limit,
)
from criteria.models import CommuneGroup, CriteriaSet
from tests.conftest import make_commune, make_list_file, make_user

pytestmark = pytest.mark.django_db
SET = "bo-theo-nhom"
HEADER = ("Mã PX", "Phường Xã", "Nhóm")


@pytest.fixture
def grouped_set(db) -> CriteriaSet:
    """A set whose targets go by commune group, as the 2026–2030 set's do."""
    criteria_set = CriteriaSet.objects.create(
        code=SET,
        version=2,
        name="Bộ tiêu chí theo nhóm xã",
        kind="commune_ntm",
        year_from=2026,
        year_to=2030,
        target_basis="commune_group",
        status="active",
    )
    for n in (1, 2, 3):
        CommuneGroup.objects.create(
            criteria_set=criteria_set, code=f"nhom-{n}", name=f"Nhóm {n}", order=n
        )
    return criteria_set


@pytest.fixture
def communes(loc_binh, commune) -> list[Commune]:
    return [
        commune,
        make_commune(loc_binh, "Xã Tam Gia", code="06559"),
        make_commune(loc_binh, "Xã Tú Đoạn", code="06562"),
    ]


def plan_of(upload, province, set_code=SET):
    rows = read_list(upload, size=upload.size, max_rows=row_limit(province), with_groups=True)
    return plan_groups(rows, province=province, set_code=set_code, document="QĐ 12/QĐ-UBND")


def groups() -> dict[str, str]:
    return dict(
        CommuneGroupAssignment.objects.filter(set_code=SET).values_list(
            "commune__code", "group_code"
        )
    )


@pytest.mark.parametrize(
    "typed, code",
    [
        ("nhom-1", "nhom-1"),
        ("1", "nhom-1"),
        ("Nhóm 1", "nhom-1"),
        ("NHÓM 2", "nhom-2"),
        ("nhóm3", "nhom-3"),
        ("Nhom 3", "nhom-3"),
        ("03", "nhom-3"),
        ("N2", "nhom-2"),
    ],
)
def test_a_group_may_be_written_as_its_code_its_number_or_its_name(
    grouped_set, communes, typed, code
):
    plan = plan_of(make_list_file([["06280", "", typed]], header=HEADER), communes[0].province)

    assert [c.new for c in plan.changes] == [code]


def test_a_form_two_groups_share_names_neither():
    a = CommuneGroup(code="vung-1", name="Nhóm A")
    b = CommuneGroup(code="nhom-1", name="Nhóm B")

    forms = group_codes_by_typed_form([a, b])

    assert "1" not in forms
    assert forms["vung1"] == "vung-1" and forms["nhom1"] == "nhom-1"


def test_the_command_puts_the_listed_communes_in_their_groups(
    grouped_set, communes, manager, tmp_path
):
    path = tmp_path / "nhom.csv"
    path.write_text("Mã PX,Nhóm\n6280,Nhóm 3\n06559,nhom-1\n", encoding="utf-8")
    out = StringIO()

    call_command("import_commune_groups", str(path), "--set", SET, "--by", "manager", stdout=out)

    assert groups() == {"06280": "nhom-3", "06559": "nhom-1"}
    assignment = CommuneGroupAssignment.objects.get(commune__code="06280")
    assert assignment.updated_by == manager
    assert "saved 2 changes" in out.getvalue()


def test_bad_rows_are_listed_by_number_and_nothing_is_saved(
    grouped_set, communes, manager, tmp_path, loc_binh
):
    make_commune(loc_binh, "Thị trấn Lộc Bình", code="06529", kind="thi_tran")
    path = tmp_path / "nhom.csv"
    path.write_text(
        "Mã PX,Nhóm\n06280,1\n06559,Nhóm 4\n99999,2\n06529,2\n06280,3\n06562,\n",
        encoding="utf-8",
    )

    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command("import_commune_groups", str(path), "--set", SET, "--by", "manager")
    assert "Row 6: the code 06280 is already on row 2" in str(error.value)
    assert "Row 7: the group is empty" in str(error.value)

    upload = make_list_file(
        [["06280", "", "1"], ["06559", "", "Nhóm 4"], ["99999", "", "2"], ["06529", "", "2"]],
        header=HEADER,
    )
    with translation.override("en"), pytest.raises(UnitFileInvalid) as error:
        plan_of(upload, communes[0].province)
    assert [e.split(":")[0] for e in error.value.errors] == ["Row 3", "Row 4", "Row 5"]
    assert "nhom-1 (Nhóm 1), nhom-2 (Nhóm 2), nhom-3 (Nhóm 3)" in error.value.errors[0]
    assert "99999" in error.value.errors[1]
    assert "Thị trấn Lộc Bình is not a xã" in error.value.errors[2]
    assert groups() == {}


def test_a_set_whose_targets_go_by_region_has_no_groups_to_import(communes, ntm_set):
    upload = make_list_file([["06280", "", "1"]], header=HEADER)

    with pytest.raises(UnitFileInvalid):
        plan_of(upload, communes[0].province, set_code=ntm_set.code)
    with pytest.raises(UnitFileInvalid):
        plan_of(upload, communes[0].province, set_code="khong-co")


def test_a_second_import_changes_only_what_differs_and_keeps_unlisted_communes(
    grouped_set, communes, manager
):
    province = communes[0].province
    first = plan_of(
        make_list_file([["06280", "", "1"], ["06559", "", "2"]], header=HEADER), province
    )
    apply_groups(first, user=manager)

    second = plan_of(
        make_list_file([["06280", "", "1"], ["06562", "", "3"]], header=HEADER), province
    )

    assert [(c.commune.code, c.old, c.new) for c in second.changes] == [("06562", "", "nhom-3")]
    assert second.unchanged == 1
    apply_groups(second, user=manager)
    assert groups() == {"06280": "nhom-1", "06559": "nhom-2", "06562": "nhom-3"}
    moved = plan_of(make_list_file([["06559", "", "3"]], header=HEADER), province)
    assert [(c.old, c.new) for c in moved.changes] == [("nhom-2", "nhom-3")]


def test_a_group_that_moved_since_the_plan_refuses_the_whole_save(grouped_set, communes, manager):
    plan = plan_of(
        make_list_file([["06280", "", "1"], ["06559", "", "2"]], header=HEADER),
        communes[0].province,
    )
    CommuneGroupAssignment.objects.create(commune=communes[1], set_code=SET, group_code="nhom-3")

    with pytest.raises(ListChanged):
        apply_groups(plan, user=manager)

    assert groups() == {"06559": "nhom-3"}


# ---------------------------------------------------------------- the page

URL = reverse("assessments:group_import")
APPLY = reverse("assessments:group_import_apply")


def form_data(upload, **extra):
    return {"set_code": SET, "document": "", "file": upload, **extra}


def test_a_province_admin_sees_the_changes_then_saves_them(client, grouped_set, communes, manager):
    CommuneGroupAssignment.objects.create(commune=communes[0], set_code=SET, group_code="nhom-2")
    client.force_login(manager)

    preview = client.post(
        URL, form_data(make_list_file([["06280", "", "1"], ["6559", "", "Nhóm 3"]], header=HEADER))
    )

    page = preview.content.decode()
    assert [(c.commune.code, c.old, c.new) for c in preview.context["plan"].changes] == [
        ("06280", "nhom-2", "nhom-1"),
        ("06559", "", "nhom-3"),
    ]
    assert "Nhóm 2" in page and "Nhóm 3" in page
    assert groups() == {"06280": "nhom-2"}

    saved = client.post(APPLY)

    assert saved.status_code == 302
    assert groups() == {"06280": "nhom-1", "06559": "nhom-3"}


def test_errors_are_shown_with_their_row_numbers(client, grouped_set, communes, manager):
    client.force_login(manager)

    page = client.post(URL, form_data(make_list_file([["06280", "", "7"]], header=HEADER)))

    assert page.context["plan"] is None
    assert re.search(r"(Row|Dòng) 2: .*7", page.content.decode())


@pytest.mark.parametrize("who", ["user", "district_officer", "viewer"])
def test_only_province_admins_and_superusers_may_import_groups(
    client, grouped_set, communes, who, request
):
    client.force_login(request.getfixturevalue(who))
    upload = make_list_file([["06280", "", "1"]], header=HEADER)

    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(upload)).status_code == 403
    assert client.post(APPLY).status_code == 403
    assert groups() == {}


def test_a_superuser_may_import_groups(client, grouped_set, communes):
    client.force_login(make_user("root", is_superuser=True, is_staff=True))

    client.post(
        URL,
        form_data(
            make_list_file([["06280", "", "1"]], header=HEADER), province=communes[0].province.pk
        ),
    )
    client.post(APPLY)

    assert groups() == {"06280": "nhom-1"}


def test_the_save_is_refused_when_groups_changed_since_the_preview(
    client, grouped_set, communes, manager
):
    client.force_login(manager)
    client.post(URL, form_data(make_list_file([["06280", "", "1"]], header=HEADER)))
    CommuneGroupAssignment.objects.create(commune=communes[0], set_code=SET, group_code="nhom-2")

    response = client.post(APPLY, follow=True)

    assert groups() == {"06280": "nhom-2"}
    assert response.resolver_match.url_name == "group_import"


def test_the_preview_costs_as_many_queries_for_forty_communes_as_for_three(
    client, grouped_set, communes, manager, loc_binh
):
    more = [make_commune(loc_binh, code=f"{7000 + n:05d}") for n in range(37)]
    client.force_login(manager)
    with CaptureQueriesContext(connection) as three:
        client.post(
            URL, form_data(make_list_file([[c.code, "", "1"] for c in communes], header=HEADER))
        )

    with CaptureQueriesContext(connection) as forty:
        client.post(
            URL,
            form_data(make_list_file([[c.code, "", "2"] for c in communes + more], header=HEADER)),
        )

    assert len(forty) == len(three)
