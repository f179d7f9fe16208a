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
    # the name is the decision's; the 2/3 share and both conditions are marked, not the name
    assert radio.source == "QĐ 318/QĐ-TTg (2022), Phụ lục I"
    share = radio.targets.get(region__isnull=True)
    assert share.threshold == Decimal("66.67")
    assert share.to_confirm and "2/3" in share.to_confirm_note
    assert all(c.to_confirm for c in radio.conditions.all())


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


# ---------------------------------------------------------------- sources and marks


def every_row(criteria_set: CriteriaSet):
    """(what, row) for every indicator, condition and target of the set."""
    for indicator in Indicator.objects.filter(criterion__criteria_set=criteria_set):
        yield f"chỉ tiêu {indicator.code}", indicator
        for condition in indicator.conditions.all():
            yield f"điều kiện {indicator.code}/{condition.code}", condition
        for target in indicator.targets.select_related("region", "commune_group"):
            yield f"mục tiêu {indicator.code} {target.region or target.commune_group}", target


def test_every_shipped_indicator_condition_and_target_has_a_source_or_a_mark(shipped_sets):
    for criteria_set in shipped_sets.values():
        for what, row in every_row(criteria_set):
            assert row.source or (row.to_confirm and row.to_confirm_note), (criteria_set, what)


def test_what_issue_10_found_shipped_as_settled_is_now_marked(ntm_set):
    def indicator(code):
        return Indicator.objects.get(criterion__criteria_set=ntm_set, code=code)

    radio, software = indicator("8.3"), indicator("8.4")
    assert all(t.to_confirm for t in radio.targets.all())  # the 2/3 share
    assert all(c.to_confirm for c in radio.conditions.all())
    for code in ("2", "3", "4"):  # the three software conditions
        assert software.conditions.get(code=code).to_confirm
    online = software.conditions.get(code="5")
    assert online.threshold == Decimal("60") and online.to_confirm
    assert "không phải ngưỡng đạt của từng xã" in online.to_confirm_note
    assert all(c.to_confirm for c in indicator("8.2").conditions.all())  # its wording
    for code in ("8.1", "8.2", "8.4"):  # "Đạt" in every region
        targets = indicator(code).targets.all()
        assert all(t.to_confirm for t in targets if t.region_id)
        assert [t.source for t in targets if not t.region_id][0].startswith("QĐ 318/QĐ-TTg")
    postal = indicator("8.1")
    assert {c.source for c in postal.conditions.all()} == {"QĐ 1127/QĐ-BTTTT (2022)"}


def test_the_special_target_rule_is_data_on_the_set_with_its_legal_basis(ntm_set):
    assert ntm_set.special_region.code == "trung-du-mien-nui-phia-bac"
    assert ntm_set.special_region_flags == ["is_extremely_difficult", "is_safe_zone_poor"]
    assert ntm_set.special_region_basis.startswith("QĐ 318/QĐ-TTg (2022): xã ĐBKK, xã ATK")


# ---------------------------------------------------------------- the advanced set


def test_a_fresh_database_has_the_advanced_set_only_as_a_draft(shipped_sets):
    versions = list(
        CriteriaSet.objects.filter(code="xa-ntm-nang-cao-2021-2025").values_list(
            "version", "status"
        )
    )

    assert versions == [(2, CriteriaSet.Status.DRAFT)]


def test_the_advanced_draft_keeps_only_what_has_a_source(shipped_sets):
    advanced = shipped_sets["xa-ntm-nang-cao-2021-2025"]
    indicators = Indicator.objects.filter(criterion__criteria_set=advanced)

    assert not indicators.filter(content__icontains="wi-fi").exists()
    assert not Condition.objects.filter(
        indicator__criterion__criteria_set=advanced, text__icontains="wi-fi"
    ).exists()
    smartphones = indicators.get(code="8.2")
    assert sorted(smartphones.targets.values_list("region__code", "threshold")) == [
        ("tay-nguyen", Decimal("50")),
        ("trung-du-mien-nui-phia-bac", Decimal("50")),
    ]
    assert advanced.to_confirm and "Y tế" in advanced.to_confirm_note
    assert advanced.criteria.get(number=15).name == "Hành chính công"
    assert all(i.to_confirm for i in indicators)


def test_loading_retires_an_active_advanced_version_1_and_keeps_it(db, tmp_path):
    """A database loaded before: the advanced set's version 1 is active (and may be in use)."""
    path = next(p for p in shipped_set_files() if p.stem == "xa-ntm-nang-cao-2021-2025")
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(version=1, status="active")
    data.pop("retire_versions")
    old_file = tmp_path / path.name
    old_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    load(old_file)
    old = CriteriaSet.objects.get(code="xa-ntm-nang-cao-2021-2025", version=1)
    indicator_ids = set(Indicator.objects.filter(criterion__criteria_set=old).values_list("pk"))

    output = load()

    old.refresh_from_db()
    new = CriteriaSet.objects.get(code="xa-ntm-nang-cao-2021-2025", version=2)
    assert old.status == CriteriaSet.Status.RETIRED
    assert new.status == CriteriaSet.Status.DRAFT and new.previous_version == old
    assert set(Indicator.objects.filter(criterion__criteria_set=old).values_list("pk")) == (
        indicator_ids
    )
    assert "v1 retired" in output
    assert "retired" not in load()  # once


# ---------------------------------------------------------------- sets already in use


def test_a_set_in_use_takes_corrected_sources_and_marks_in_place(ntm_set):
    """A database loaded before sources and marks existed: the rows scored against stay."""
    rows = Indicator.objects.filter(criterion__criteria_set=ntm_set)
    ids = sorted(rows.values_list("pk", flat=True))
    condition_ids = sorted(
        Condition.objects.filter(indicator__in=rows).values_list("pk", flat=True)
    )
    rows.update(source="", to_confirm=False, to_confirm_note="")
    Condition.objects.filter(indicator__in=rows).update(source="", to_confirm=False)
    Target.objects.filter(indicator__in=rows).update(source="", to_confirm=False)
    CriteriaSet.objects.filter(pk=ntm_set.pk).update(
        special_region=None, special_region_flags=[], special_region_basis=""
    )

    output = load()

    ntm_set.refresh_from_db()
    assert "xa-ntm-2021-2025 v1 in use: sources, marks and notes updated" in output
    assert ntm_set.status == CriteriaSet.Status.ACTIVE
    assert ntm_set.special_region_flags == ["is_extremely_difficult", "is_safe_zone_poor"]
    assert sorted(rows.values_list("pk", flat=True)) == ids
    assert (
        sorted(Condition.objects.filter(indicator__in=rows).values_list("pk", flat=True))
        == condition_ids
    )
    assert rows.get(code="8.1").source == "QĐ 318/QĐ-TTg (2022), Phụ lục I"
    assert Target.objects.filter(indicator__code="8.3", to_confirm=True).exists()
    assert "xa-ntm-2021-2025 v1 unchanged" in load()


def test_the_special_rule_of_a_set_in_use_is_not_changed_by_a_file(ntm_set, tmp_path):
    def other_rule(data):
        data["special_region"] = "tay-nguyen"

    changed = write_changed(tmp_path, "xa-ntm-2021-2025", other_rule)

    with pytest.raises(CommandError, match="refused"):
        load(changed)
    ntm_set.refresh_from_db()
    assert ntm_set.special_region.code == "trung-du-mien-nui-phia-bac"


def test_a_shipped_draft_changed_in_the_app_is_kept_unless_its_file_is_named(shipped_sets):
    draft = shipped_sets["xa-ntm-2026-2030"]
    criterion_7 = draft.criteria.get(number=7)
    Indicator.objects.create(
        criterion=criterion_7, code="7.1", content="Chỉ tiêu do tỉnh bổ sung", value_type="yes_no"
    )
    path = next(p for p in shipped_set_files() if p.stem == "xa-ntm-2026-2030")

    output = load()

    assert "xa-ntm-2026-2030 v1 kept" in output
    assert criterion_7.indicators.filter(code="7.1").exists()

    assert "xa-ntm-2026-2030 v1 updated" in load(str(path))
    assert not Indicator.objects.filter(criterion__criteria_set=draft).exists()


# ---------------------------------------------------------------- 2026–2030


def test_the_2026_set_loads_as_a_draft_with_only_what_is_confirmed(shipped_sets):
    cs = shipped_sets["xa-ntm-2026-2030"]

    assert cs.status == CriteriaSet.Status.DRAFT
    assert (cs.legal_number, cs.legal_date.isoformat(), cs.legal_issuer) == (
        "51/2025/QĐ-TTg",
        "2025-12-29",
        "Thủ tướng Chính phủ",
    )
    assert "Bộ tiêu chí quốc gia về xã nông thôn mới giai đoạn 2026 - 2030" in cs.legal_title
    assert "15/02/2026" in cs.notes
    assert cs.target_basis == CriteriaSet.TargetBasis.COMMUNE_GROUP
    assert list(cs.criteria.order_by("order").values_list("number", "name")) == [
        (1, "Quy hoạch"),
        (2, "Hạ tầng kinh tế - xã hội"),
        (3, "Phát triển kinh tế nông thôn"),
        (4, "Đào tạo nguồn nhân lực nông thôn"),
        (5, "Văn hóa, giáo dục, y tế"),
        (6, "Giảm nghèo và an sinh xã hội"),
        (7, "Khoa học công nghệ và chuyển đổi số"),
        (8, "Môi trường và cảnh quan nông thôn"),
        (9, "Xây dựng hệ thống chính trị và hành chính công"),
        (10, "Tiếp cận pháp luật và an ninh, quốc phòng"),
    ]
    assert cs.to_confirm and "Phụ lục I" in cs.to_confirm_note
    groups = list(cs.commune_groups.values_list("code", "name", "definition"))
    assert [g[:2] for g in groups] == [
        ("nhom-1", "Nhóm 1"),
        ("nhom-2", "Nhóm 2"),
        ("nhom-3", "Nhóm 3"),
    ]
    assert groups[1][2] == "xã không thuộc nhóm 1 và nhóm 3"
    assert groups[2][2].startswith("xã khu vực II và xã khu vực III")
    criterion_7 = cs.criteria.get(number=7)
    assert criterion_7.to_confirm and criterion_7.to_confirm_note
    assert not Indicator.objects.filter(criterion__criteria_set=cs).exists()
