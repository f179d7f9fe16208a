from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from assessments.models import Commune, District, Province

pytestmark = pytest.mark.django_db
HEADER = ["Mã TP", "Tỉnh / Thành Phố", "Mã QH", "Quận Huyện", "Mã PX", "Phường Xã", "Cấp"]


def run(*args) -> str:
    out = StringIO()
    call_command("import_units", *args, stdout=out)
    return out.getvalue()


def write_csv(tmp_path, rows, name="units.csv"):
    path = tmp_path / name
    path.write_text("\n".join(",".join(map(str, r)) for r in [HEADER, *rows]), encoding="utf-8")
    return str(path)


def test_lang_son_list_has_11_districts_and_194_units_of_which_175_xa(lang_son):
    assert District.objects.filter(province=lang_son).count() == 11
    communes = Commune.objects.filter(province=lang_son).current(datetime.date(2025, 3, 1))
    assert communes.count() == 194
    assert communes.filter(kind=Commune.Kind.RURAL).count() == 175
    assert communes.filter(kind=Commune.Kind.TOWNSHIP).count() == 14
    assert communes.filter(kind=Commune.Kind.WARD).count() == 5
    assert lang_son.region.code == "trung-du-mien-nui-phia-bac"
    loc_binh = District.objects.get(code="188")
    assert loc_binh.name == "Huyện Lộc Bình"
    assert loc_binh.communes.current(datetime.date(2025, 3, 1)).count() == 20
    assert Commune.objects.get(code="05971").name == "Phường Hoàng Văn Thụ"


def test_importing_the_same_list_twice_changes_nothing(lang_son):
    before = list(Commune.objects.order_by("pk").values())

    output = run()

    assert "communes: 0 created, 0 updated, 194 unchanged" in output
    assert "districts: 0 created, 0 updated, 11 unchanged" in output
    assert list(Commune.objects.order_by("pk").values()) == before


def test_a_renamed_unit_is_updated_in_place(db, tmp_path):
    first = write_csv(
        tmp_path, [[20, "Tỉnh Lạng Sơn", 188, "Huyện Lộc Bình", "06280", "Xã A", "Xã"]]
    )
    run(first)
    pk = Commune.objects.get(code="06280").pk
    renamed = write_csv(
        tmp_path, [[20, "Tỉnh Lạng Sơn", 188, "Huyện Lộc Bình", "06280", "Xã B", "Xã"]], "b.csv"
    )

    output = run(renamed)

    assert "communes: 0 created, 1 updated, 0 unchanged" in output
    assert Commune.objects.get(code="06280").pk == pk
    assert Commune.objects.get(code="06280").name == "Xã B"


def test_codes_that_excel_turned_into_numbers_get_their_leading_zeros_back(db, tmp_path):
    wb = Workbook()
    wb.active.append(HEADER)
    wb.active.append([20, "Tỉnh Lạng Sơn", 178, "Thành phố Lạng Sơn", 5971, "Phường A", "Phường"])
    wb.active.append([2, "Tỉnh Hà Giang", 24, "Huyện X", 688, "Xã B", "Xã"])
    path = tmp_path / "units.xlsx"
    wb.save(path)

    run(str(path))

    assert Commune.objects.get(name="Phường A").code == "05971"
    assert Commune.objects.get(name="Xã B").code == "00688"
    assert District.objects.get(name="Huyện X").code == "024"
    assert Province.objects.get(name="Tỉnh Hà Giang").code == "02"


def test_bad_rows_are_listed_by_number_and_nothing_is_imported(db, tmp_path):
    path = write_csv(
        tmp_path,
        [
            [20, "Tỉnh Lạng Sơn", 188, "Huyện Lộc Bình", "06280", "Xã Tốt", "Xã"],
            [20, "Tỉnh Lạng Sơn", 188, "Huyện Lộc Bình", "06A81", "Xã Hỏng", "Xã"],
            [20, "Tỉnh Lạng Sơn", 188, "Huyện Lộc Bình", "06283", "", "Xã"],
            [20, "Tỉnh Lạng Sơn", 188, "Huyện Lộc Bình", "06286", "Xã C", "Làng"],
            [20, "Tỉnh Lạng Sơn", 188, "Huyện Lộc Bình", "06280", "Xã Trùng", "Xã"],
        ],
    )

    with pytest.raises(CommandError) as error:
        run(path)

    message = str(error.value)
    assert "nothing was imported" in message
    for row in (3, 4, 5, 6):
        assert f"Dòng {row}:" in message
    assert "Dòng 2:" not in message
    assert "06280" in message  # the duplicate names the code and the first row
    assert Commune.objects.count() == District.objects.count() == Province.objects.count() == 0


def test_a_file_with_the_wrong_header_is_refused(db, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("code,name\n06280,Xã A\n", encoding="utf-8")

    with pytest.raises(CommandError, match="Mã TP"):
        run(str(path))
    assert Commune.objects.count() == 0
