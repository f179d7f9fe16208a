from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from assessments.models import Commune, District, Province, Role, User, Village
from criteria.models import CriteriaSet, Region

PASSWORD = "pw-for-tests-1"
_codes = itertools.count(10000)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with no cached dashboard."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Accounts made by tests hash with MD5: PBKDF2 costs about half a second a hash here.
    Tests of hashing itself set PASSWORD_HASHERS back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Templates resolve {% static %} without a collectstatic run."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def make_user(
    username: str = "officer",
    *,
    perms: tuple[str, ...] = (),
    reviews_whole_province: bool = True,
    **fields,
) -> User:
    """An account; a province reviewer is assigned the whole province unless told otherwise."""
    user = User.objects.create_user(username=username, password=PASSWORD, **fields)
    if user.role == Role.PROVINCE_REVIEWER and user.province_id and reviews_whole_province:
        from assessments.models import ReviewAssignment

        ReviewAssignment.objects.create(reviewer=user, province_id=user.province_id)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def make_province(code: str = "20", name: str = "Tỉnh Lạng Sơn") -> Province:
    region, _ = Region.objects.get_or_create(
        code="trung-du-mien-nui-phia-bac", defaults={"name": "Trung du và miền núi phía Bắc"}
    )
    return Province.objects.get_or_create(code=code, defaults={"name": name, "region": region})[0]


def make_district(province: Province, code: str, name: str) -> District:
    return District.objects.create(province=province, code=code, name=name, kind="huyen")


def make_commune(district: District, name: str | None = None, **fields) -> Commune:
    code = fields.pop("code", None) or f"{next(_codes) % 100000:05d}"
    return Commune.objects.create(
        province=district.province,
        district=district,
        code=code,
        name=name or f"Xã {code}",
        kind=fields.pop("kind", Commune.Kind.RURAL),
        **fields,
    )


def make_village(commune: Commune, name: str, **fields) -> Village:
    return Village.objects.create(commune=commune, name=name, **fields)


@pytest.fixture
def province(db) -> Province:
    return make_province()


@pytest.fixture
def loc_binh(province) -> District:
    return make_district(province, "188", "Huyện Lộc Bình")


@pytest.fixture
def cao_loc(province) -> District:
    return make_district(province, "183", "Huyện Cao Lộc")


@pytest.fixture
def commune(loc_binh) -> Commune:
    return make_commune(loc_binh, "Xã Hữu Khánh", code="06280")


@pytest.fixture
def other_commune(cao_loc) -> Commune:
    return make_commune(cao_loc, "Xã Hòa Cư", code="06070")


@pytest.fixture
def user(province) -> User:
    """A province reviewer: sees the whole province, changes no unit."""
    return make_user("officer", role=Role.PROVINCE_REVIEWER, province=province)


@pytest.fixture
def manager(province) -> User:
    """A province administrator: may change criteria sets, units and accounts."""
    return make_user("manager", role=Role.PROVINCE_ADMIN, province=province)


@pytest.fixture
def district_officer(province, loc_binh) -> User:
    return make_user(
        "huyen-locbinh", role=Role.DISTRICT_OFFICER, province=province, district=loc_binh
    )


@pytest.fixture
def other_district_officer(province, cao_loc) -> User:
    return make_user(
        "huyen-caoloc", role=Role.DISTRICT_OFFICER, province=province, district=cao_loc
    )


@pytest.fixture
def viewer(province) -> User:
    return make_user("xem-tinh", role=Role.VIEWER, province=province)


@pytest.fixture
def district_viewer(province, loc_binh) -> User:
    return make_user("xem-huyen", role=Role.VIEWER, province=province, district=loc_binh)


@pytest.fixture
def commune_officer(province, commune) -> User:
    return make_user(
        "xa-huukhanh",
        role=Role.COMMUNE_OFFICER,
        province=province,
        district=commune.district,
        commune=commune,
    )


@pytest.fixture
def shipped_sets(db) -> dict[str, CriteriaSet]:
    call_command("load_criteria", verbosity=0)
    return {cs.code: cs for cs in CriteriaSet.objects.all()}


@pytest.fixture
def ntm_set(shipped_sets) -> CriteriaSet:
    return shipped_sets["xa-ntm-2021-2025"]


@pytest.fixture
def lang_son(db) -> Province:
    """The shipped Lạng Sơn list of 01/03/2025, imported as `make run` does."""
    call_command("load_criteria", verbosity=0)
    call_command("import_units", "--region", "trung-du-mien-nui-phia-bac", verbosity=0)
    return Province.objects.get(code="20")


def make_period(province, sets, *, name="Năm 2025", year=2025, is_open=True, reference_date=None):
    import datetime

    from assessments.models import AssessmentPeriod

    period = AssessmentPeriod.objects.create(
        province=province,
        name=name,
        year=year,
        reference_date=reference_date or datetime.date(year, 1, 1),
        opens_on=datetime.date(year, 1, 1),
        closes_on=datetime.date(year, 12, 31),
        is_open=is_open,
    )
    period.criteria_sets.set(sets)
    return period


@pytest.fixture
def period(province, ntm_set):
    return make_period(province, [ntm_set])


@pytest.fixture
def villages(commune) -> list[Village]:
    return [make_village(commune, name) for name in ("Bản Chắt", "Nà Mạ", "Pò Lọi")]


@pytest.fixture
def assessment(commune, ntm_set, period, district_officer, villages):
    from assessments.services import create_assessment

    return create_assessment(
        user=district_officer, commune=commune, criteria_set=ntm_set, period=period
    )


def indicator(criteria_set: CriteriaSet, code: str):
    from assessments.services import indicators_of

    return next(i for i in indicators_of(criteria_set) if i.code == code)


POSTAL_ALL = {"conditions": {str(n): True for n in range(1, 7)}}


GROUP_TARGETS = {"nhom-1": "90", "nhom-2": "80", "nhom-3": "60"}


@pytest.fixture
def grouped_set(db) -> CriteriaSet:
    """An active 2026–2030-style set: targets by the three commune groups, one share indicator."""
    from criteria.specs import normalize_spec, save_spec

    spec = normalize_spec(
        {
            "code": "nhom-thu",
            "name": "Bộ thử theo nhóm xã",
            "kind": "commune_ntm",
            "year_from": 2026,
            "year_to": 2030,
            "target_basis": "commune_group",
            "status": "active",
            "commune_groups": [
                {"code": code, "name": f"Nhóm {code[-1]}"} for code in GROUP_TARGETS
            ],
            "groups": [
                {
                    "number": "I",
                    "name": "Nhóm tiêu chí",
                    "criteria": [
                        {
                            "number": 7,
                            "name": "Khoa học công nghệ và chuyển đổi số",
                            "indicators": [
                                {
                                    "code": "7.1",
                                    "content": "Tỷ lệ hồ sơ xử lý trực tuyến",
                                    "value_type": "percentage",
                                    "targets": [
                                        {"commune_group": code, "threshold": value, "text": ""}
                                        for code, value in GROUP_TARGETS.items()
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    return save_spec(spec)[0]


def make_list_file(rows, *, header=("Mã PX", "Phường Xã"), kind: str = "csv"):
    """An uploaded list of communes (CSV or XLSX) with a header row, as a province sends one."""
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    if kind == "xlsx":
        workbook = Workbook()
        for row in [header, *rows]:
            workbook.active.append(list(row))
        buffer = io.BytesIO()
        workbook.save(buffer)
        return SimpleUploadedFile("danh-sach.xlsx", buffer.getvalue())
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    return SimpleUploadedFile("danh-sach.csv", text.getvalue().encode("utf-8"), "text/csv")


@pytest.fixture
def operator(db) -> User:
    """The national operator: a superuser, who alone changes national criteria sets."""
    return User.objects.create_superuser("quoc-gia", password=PASSWORD)


def province_copy(criteria_set: CriteriaSet, manager: User) -> CriteriaSet:
    """The province's own draft copy of a national set, made by its administrator."""
    from criteria.services import copy_into_province

    return copy_into_province(criteria_set=criteria_set, user=manager)
