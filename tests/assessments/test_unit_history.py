"""The units in force before 01/12/2024, the shipped names, and `make run` run twice."""

from __future__ import annotations

import csv
import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from assessments.models import Commune
from assessments.unit_import import UnitFileInvalid, import_ended_units, read_ended_units
from tests.conftest import make_commune, make_district

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[2] / "assessments" / "data"
MERGED_AWAY = {  # code: (name, district, main successor) — DOMAIN.md §5
    "06007": ("Xã Vĩnh Tiến", "180", "05998"),  # → Xã Khánh Long
    "06040": ("Xã Đại Đồng", "180", "06040"),  # → Thị trấn Thất Khê (and Xã Đội Cấn)
    "06295": ("Xã Đồng Giáp", "184", "06286"),  # → Xã Khánh Khê
    "06301": ("Xã Tràng Các", "184", "06286"),  # → Xã Khánh Khê
    "06574": ("Xã Tĩnh Bắc", "188", "06559"),  # → Xã Tam Gia
    "06454": ("Xã Sơn Hà", "186", "06385"),  # → Thị trấn Hữu Lũng
}
BEFORE, AFTER = datetime.date(2024, 6, 1), datetime.date(2025, 3, 1)


def run(command: str, *args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command(command, *args, stdout=out)
    return out.getvalue()


def make_run() -> str:
    """What `make run` does to the units."""
    return run("import_units", "--region", "trung-du-mien-nui-phia-bac") + run(
        "apply_reorganisation"
    )


def xa_of_lang_son(on: datetime.date):
    return Commune.objects.current(on).filter(kind="xa", province__code="20")


def test_periods_before_december_2024_score_181_xa_and_later_ones_175(lang_son):
    assert xa_of_lang_son(BEFORE).count() == 181
    assert xa_of_lang_son(datetime.date(2024, 11, 30)).count() == 181
    assert xa_of_lang_son(datetime.date(2024, 12, 1)).count() == 175
    assert xa_of_lang_son(AFTER).count() == 175
    assert Commune.objects.current(BEFORE).filter(province=lang_son).count() == 200
    assert Commune.objects.current(AFTER).filter(province=lang_son).count() == 194


def test_each_merged_away_commune_ended_on_30_november_2024_under_its_district(lang_son):
    ended = Commune.objects.filter(valid_to=datetime.date(2024, 11, 30), kind="xa")

    found = {c.code: (c.name, c.district.code, c.successor.code) for c in ended}

    assert found == MERGED_AWAY
    for commune in ended:
        assert commune.successor.valid_from in (None, datetime.date(2024, 12, 1))
        assert commune.province == lang_son


def test_the_code_06040_names_dai_dong_before_december_2024_and_that_khe_after(lang_son):
    assert Commune.objects.current(BEFORE).get(code="06040").name == "Xã Đại Đồng"
    assert Commune.objects.current(AFTER).get(code="06040").name == "Thị trấn Thất Khê"
    # Thất Khê itself was 05995 until then: one township before and after.
    assert Commune.objects.current(BEFORE).get(code="05995").successor.code == "06040"
    townships = Commune.objects.filter(province=lang_son, kind="thi_tran")
    assert townships.current(BEFORE).count() == townships.current(AFTER).count() == 14


def test_make_run_twice_changes_nothing_the_second_time(db):
    call_command("load_criteria", verbosity=0)
    first = make_run()
    rows = list(Commune.objects.order_by("pk").values())

    second = make_run()

    assert "units ended on 30/11/2024: 7 created" in first
    assert "communes: 0 created, 0 updated, 194 unchanged" in second
    assert "units ended on 30/11/2024: 0 created, 0 updated, 7 unchanged" in second
    assert "units of 01/07/2025: 0 created, 0 updated, 65 unchanged" in second
    assert "created 0 new units, 65 already in place" in second
    assert "renamed" not in second
    assert list(Commune.objects.order_by("pk").values()) == rows
    assert xa_of_lang_son(BEFORE).count() == 181
    assert xa_of_lang_son(AFTER).count() == 175
    assert xa_of_lang_son(datetime.date(2025, 7, 1)).count() == 61


def test_a_database_reorganised_before_the_history_existed_gets_it_and_the_corrected_names(
    db, tmp_path
):
    """As `make run` left it before: the 01/03/2025 list, then the reform with "xã Bắc Sơn"."""
    call_command("load_criteria", verbosity=0)
    run("import_units", str(DATA / "lang-son-units-2025-03-01.csv"), "--on", "2025-03-01")
    misspelt = tmp_path / "units.csv"
    misspelt.write_text(
        (DATA / "lang-son-units-2025-07-01.csv")
        .read_text(encoding="utf-8")
        .replace("Xã Bắc Sơn", "xã Bắc Sơn"),
        encoding="utf-8",
    )
    run("apply_reorganisation", "--units", str(misspelt))
    assert Commune.objects.get(code="06325", valid_from=datetime.date(2025, 7, 1)).name == (
        "xã Bắc Sơn"
    )

    output = make_run()

    assert "renamed 06325: «xã Bắc Sơn» → «Xã Bắc Sơn»" in output
    assert Commune.objects.get(code="06325", valid_from=datetime.date(2025, 7, 1)).name == (
        "Xã Bắc Sơn"
    )
    assert xa_of_lang_son(BEFORE).count() == 181
    vinh_tien = Commune.objects.get(code="06007")
    assert vinh_tien.successor.name == "Xã Khánh Long"
    assert vinh_tien.successor.valid_to == datetime.date(2025, 6, 30)  # the unit as it was
    assert "renamed" not in make_run()


def test_the_shipped_lists_carry_the_corrected_names():
    texts = {path.name: path.read_text(encoding="utf-8") for path in DATA.glob("*.csv")}

    everything = "\n".join(texts.values())
    assert "xã Bắc Sơn" not in everything
    assert "Đồng ý" not in everything
    assert "Xã Bắc Sơn" in texts["lang-son-units-2025-07-01.csv"]
    assert "06337,Xã Đồng Ý" in texts["lang-son-merge-2025-07-01.csv"]
    assert "Thị trấn NT Thái Bình" in texts["lang-son-merge-2025-07-01.csv"]


def test_the_file_of_ended_units_marks_what_is_inferred_rather_than_confirmed():
    rows = {row["commune_code"]: row for row in read_ended_units(DATA / ENDED_FILE)}

    assert set(rows) == set(MERGED_AWAY) | {"05995"}
    assert all(row["source"] for row in rows.values())
    with (DATA / ENDED_FILE).open(encoding="utf-8") as handle:
        unconfirmed = [row["Mã PX"] for row in csv.DictReader(handle) if row["Cần xác nhận"]]
    assert unconfirmed == ["05995"]


ENDED_FILE = "lang-son-ended-2024-12-01.csv"
HEADER = "Mã PX,Phường Xã,Mã QH,Cấp,Hiệu lực đến,Mã PX kế thừa,Nguồn,Cần xác nhận\n"


def test_bad_rows_of_a_file_of_ended_units_are_listed_by_number(tmp_path):
    path = tmp_path / "ended.csv"
    path.write_text(
        HEADER
        + "06007,Xã Vĩnh Tiến,180,Xã,2024-11-30,05998,NQ,\n"
        + "6A07,Xã Hỏng,180,Làng,30-11-2024,05998,NQ,\n",
        encoding="utf-8",
    )

    with pytest.raises(UnitFileInvalid) as error:
        read_ended_units(path)

    assert len(error.value.errors) == 1
    assert error.value.errors[0].startswith(("Row 3:", "Dòng 3:"))
    for part in ("6A07", "Làng", "30-11-2024"):
        assert part in error.value.errors[0]


def test_an_ended_unit_whose_successor_is_unknown_imports_nothing(province, tmp_path):
    district = make_district(province, "180", "Huyện Tràng Định")
    make_commune(district, "Xã Khánh Long", code="05998")
    path = tmp_path / "ended.csv"
    path.write_text(
        HEADER
        + "06007,Xã Vĩnh Tiến,180,Xã,2024-11-30,05998,NQ,\n"
        + "06040,Xã Đại Đồng,180,Xã,2024-11-30,06040,NQ,\n",
        encoding="utf-8",
    )

    with pytest.raises(UnitFileInvalid) as error:
        import_ended_units(read_ended_units(path))

    assert "06040" in error.value.errors[0] and "01/12/2024" in error.value.errors[0]
    assert not Commune.objects.filter(code="06007").exists()


def test_a_list_of_an_earlier_day_cannot_add_a_unit_under_a_code_held_by_a_later_one(
    province, tmp_path
):
    district = make_district(province, "188", "Huyện Lộc Bình")
    make_commune(district, "Xã Mới", code="06550", valid_from=datetime.date(2025, 7, 1))
    path = tmp_path / "units.csv"
    path.write_text(
        "Mã TP,Tỉnh / Thành Phố,Mã QH,Quận Huyện,Mã PX,Phường Xã,Cấp\n"
        "20,Tỉnh Lạng Sơn,188,Huyện Lộc Bình,06550,Xã Hữu Khánh,Xã\n",
        encoding="utf-8",
    )

    with pytest.raises(CommandError) as error:
        run("import_units", str(path), "--on", "2025-03-01")

    assert "06550" in str(error.value) and "01/07/2025" in str(error.value)
    assert Commune.objects.filter(code="06550").count() == 1
