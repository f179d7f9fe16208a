from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from criteria.models import Condition, CriteriaSet, Indicator, Target
from criteria.specs import shipped_set_files

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        CriteriaSet.objects.count(),
        Indicator.objects.count(),
        Condition.objects.count(),
        Target.objects.count(),
    )


def load(*files) -> str:
    out = StringIO()
    call_command("load_criteria", *files, stdout=out, stderr=out)
    return out.getvalue()


def test_loading_twice_changes_nothing_the_second_time(shipped_sets):
    before = counts()
    stamps = dict(CriteriaSet.objects.values_list("pk", "updated_at"))
    ids = sorted(Indicator.objects.values_list("pk", flat=True))

    output = load()

    assert counts() == before
    assert dict(CriteriaSet.objects.values_list("pk", "updated_at")) == stamps
    assert sorted(Indicator.objects.values_list("pk", flat=True)) == ids
    assert output.count("unchanged") == len(shipped_set_files())


def test_ntm_set_has_19_criteria_in_5_groups_and_criterion_8_in_full(ntm_set):
    assert ntm_set.status == CriteriaSet.Status.ACTIVE
    assert ntm_set.legal_number == "318/QĐ-TTg"
    assert ntm_set.groups.count() == 5
    assert ntm_set.criteria.count() == 19
    criterion_8 = ntm_set.criteria.get(number=8)
    assert criterion_8.name == "Thông tin và Truyền thông"
    assert list(criterion_8.indicators.values_list("code", flat=True)) == [
        "8.1",
        "8.2",
        "8.3",
        "8.4",
    ]
    postal = criterion_8.indicators.get(code="8.1")
    assert postal.value_type == Indicator.ValueType.CHECKLIST
    assert postal.conditions.count() == 6
    assert postal.conditions.filter(text__contains="4 giờ/ngày làm việc").exists()
    telecom = criterion_8.indicators.get(code="8.2")
    assert telecom.value_type == Indicator.ValueType.VILLAGE_CHECKLIST
    assert set(telecom.conditions.values_list("alternative_group", flat=True)) == {
        "Điện thoại",
        "Internet",
    }
    # one general target and one per region for each ICT indicator
    assert Target.objects.filter(indicator__criterion=criterion_8).count() == 4 * 8
    radio = criterion_8.indicators.get(code="8.3")
    assert radio.to_confirm is True
    assert radio.targets.get(region__isnull=True).threshold == Decimal("66.67")


def write_changed(tmp_path, code: str, change) -> str:
    path = next(p for p in shipped_set_files() if p.stem == code)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    changed = tmp_path / path.name
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(changed)


def rename_postal(data: dict) -> None:
    data["groups"][1]["criteria"][6]["indicators"][0]["content"] = "Đổi tên"


def test_changed_file_for_an_active_set_is_refused_and_changes_nothing(shipped_sets, tmp_path):
    changed = write_changed(tmp_path, "xa-ntm-2021-2025", rename_postal)
    before = counts()

    with pytest.raises(CommandError, match="refused"):
        load(changed)

    assert counts() == before
    assert not Indicator.objects.filter(content="Đổi tên").exists()


def test_changed_file_updates_a_draft_set(shipped_sets, tmp_path):
    CriteriaSet.objects.filter(code="xa-ntm-2021-2025").update(status=CriteriaSet.Status.DRAFT)
    changed = write_changed(tmp_path, "xa-ntm-2021-2025", rename_postal)

    output = load(changed)

    assert "updated" in output
    assert Indicator.objects.filter(content="Đổi tên", code="8.1").exists()
    assert CriteriaSet.objects.get(code="xa-ntm-2021-2025").status == CriteriaSet.Status.DRAFT


def test_file_naming_an_unknown_region_is_refused(db, tmp_path):
    def bad_region(data):
        data["groups"][1]["criteria"][6]["indicators"][0]["targets"][1]["region"] = "sao-hoa"

    changed = write_changed(tmp_path, "xa-ntm-2021-2025", bad_region)

    with pytest.raises(CommandError, match="sao-hoa"):
        load(changed)
    assert CriteriaSet.objects.count() == 0
