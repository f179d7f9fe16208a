"""No hostile request gets a server error: every URL pattern, every parameter its pages know,
every role, GET and POST.

The URL patterns are walked from config.urls, so a new page is attacked as soon as it exists (and
this test asks for its path arguments). The parameters are those the pages themselves show: the
fields of every form and the query keys of every link, found by reading each page as each role.
Then, as each role, each parameter gets hostile values (tests.hostile.HOSTILE_VALUES: not an
integer, ², ٣, NUL, huge numbers, over-long text) with the others left as the page would send
them, one request with every parameter hostile at once, a POST whose body claims to be UTF-16,
and damaged workbooks for every file field. The choice of values is random with a fixed seed and
the number of requests is bounded, so the walk takes the same path on every run.
"""

from __future__ import annotations

import datetime
import random
import time
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import PathConverter, StringConverter

from assessments import services
from assessments.models import CommuneGroupAssignment, Evidence, User
from criteria.models import Indicator
from criteria.services import copy_as_new_version
from tests import hostile
from tests.conftest import POSTAL_ALL, indicator, make_commune, make_period

pytestmark = pytest.mark.django_db

SEED = 20250711
PER_PARAMETER = 6  # single-parameter requests per page, role and method (the rest: all at once)
ADMIN_PER_PARAMETER = 2  # the same in Django's admin, whose pages are many and alike
SLOW = 5.0  # CPU seconds: more is a failure too (a tiny file must not hold a worker)
# What a name in a path may be when someone types the address (no "/": the pattern stops there).
HOSTILE_NAMES = ("..", ".", "\x00", "x" * 300, "²", "%2e%2e", "..\\..\\settings.py")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# ---------------------------------------------------------------- the world the pages show


@pytest.fixture
def world(
    settings,
    tmp_path,
    province,
    loc_binh,
    other_commune,
    villages,
    ntm_set,
    grouped_set,
    period,
    manager,
    user,
    district_officer,
    commune_officer,
    viewer,
):
    """One of everything a page can show, and one account of each role."""
    settings.MEDIA_ROOT = tmp_path / "media"
    commune = commune_officer.commune
    superuser = User.objects.create_superuser("quoc-gia", password="pw-for-tests-1")
    draft = copy_as_new_version(criteria_set=ntm_set)
    make_period(
        province,
        [grouped_set],
        name="Năm 2026",
        year=2026,
        reference_date=datetime.date(2026, 1, 1),
    )
    CommuneGroupAssignment.objects.create(commune=commune, set_code="nhom-thu", group_code="nhom-1")
    assessment = services.create_assessment(
        user=district_officer, commune=commune, criteria_set=ntm_set, period=period
    )
    postal = indicator(ntm_set, "8.1")
    services.save_entry(
        user=district_officer,
        assessment=assessment,
        indicator=postal,
        entry=services.Entry(inputs=POSTAL_ALL, note="Bưu điện văn hóa xã"),
        seen_version=None,
    )
    services.add_evidence(
        user=district_officer,
        assessment=assessment,
        indicator=postal,
        upload=SimpleUploadedFile("bien-ban.pdf", PDF),
        content_type="application/pdf",
        doc_number="12/BC-UBND",
    )
    second = make_commune(loc_binh, "Xã Tú Mịch")
    services.create_assessment(
        user=district_officer, commune=second, criteria_set=ntm_set, period=period
    )
    roles = {
        "anonymous": None,
        "viewer": viewer,
        "commune officer": commune_officer,
        "district officer": district_officer,
        "province reviewer": user,
        "province admin": manager,
        "superuser": superuser,
    }
    return {
        "roles": roles,
        "district": loc_binh,
        "commune": commune,
        "village": villages[0],
        "assessment": assessment,
        "indicator": postal,
        "evidence": Evidence.objects.get(),
        "period": period,
        "set": ntm_set,
        "grouped_set": grouped_set,
        "draft": draft,
        "account": commune_officer,
    }


def path_arguments(world) -> dict[str, dict]:
    """The path arguments of every named URL: the world's objects."""
    draft_indicator = Indicator.objects.filter(criterion__criteria_set=world["draft"]).first()
    draft_criterion = draft_indicator.criterion
    district, commune, assessment = world["district"], world["commune"], world["assessment"]
    return {
        "assessments:district": {"pk": district.pk},
        "assessments:commune": {"pk": commune.pk},
        "assessments:commune_edit": {"pk": commune.pk},
        "assessments:village_add": {"pk": commune.pk},
        "assessments:commune_group_edit": {"pk": commune.pk, "set_pk": world["grouped_set"].pk},
        "assessments:village_edit": {"pk": world["village"].pk},
        "assessments:user_edit": {"pk": world["account"].pk},
        "assessments:user_password": {"pk": world["account"].pk},
        "assessments:period_toggle": {"pk": world["period"].pk},
        "assessments:approve_district": {"pk": district.pk},
        "assessments:indicator_save": {"pk": assessment.pk, "indicator_pk": world["indicator"].pk},
        "assessments:evidence_download": {"pk": world["evidence"].pk},
        "assessments:evidence_remove": {"pk": world["evidence"].pk},
        "assessments:excel_template": {"pk": district.pk},
        "assessments:excel_upload": {"pk": district.pk},
        "assessments:excel_apply": {"pk": district.pk},
        "criteria:indicator_add": {"pk": draft_criterion.pk},
        "criteria:indicator_edit": {"pk": draft_indicator.pk},
        "criteria:indicator_delete": {"pk": draft_indicator.pk},
        "criteria:set_copy_into_province": {"pk": world["set"].pk},
        "reports:district": {"pk": district.pk},
        "reports:district_export": {"pk": district.pk},
        "reports:scorecard": {"pk": assessment.pk},
        **{
            f"assessments:{name}": {"pk": assessment.pk}
            for name in ("assessment", "submit", "forward", "approve", "return", "reopen")
            + ("copy_previous",)
        },
        **{
            f"criteria:{name}": {"pk": world["draft"].pk}
            for name in ("set_detail", "set_export", "set_copy", "set_activate")
        },
    }


def admin_arguments(name: str, keys: set[str]) -> dict | None:
    """The path arguments of an admin URL, from its name (admin:<app>_<model>_<view>)."""
    if keys == {"app_label"}:
        return {"app_label": "assessments"}
    if keys == {"content_type_id", "object_id"}:
        user = User.objects.first()
        return {"content_type_id": ContentType.objects.get_for_model(User).pk, "object_id": user.pk}
    if keys == {"id"}:  # the admin's password page of an account
        return {"id": User.objects.order_by("pk").first().pk}
    if keys == {"object_id"}:
        app_label, _sep, rest = name.removeprefix("admin:").partition("_")
        model_name = rest.rsplit("_", 1)[0]
        model = apps.get_model(app_label, model_name)
        first = model._default_manager.order_by("pk").first()
        return {"object_id": first.pk if first else 1}
    return None


def url_patterns(resolver=None, namespace: str = ""):
    """(name, pattern) of every URL pattern reachable from config.urls."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}{pattern.name}" if pattern.name else None), pattern


def pattern_keys(pattern: URLPattern) -> set[str]:
    return set(pattern.pattern.regex.groupindex)


def text_keys(pattern: URLPattern) -> set[str]:
    """The path arguments that take any text (str and path converters)."""
    converters = getattr(pattern.pattern, "converters", {})
    return {k for k, c in converters.items() if isinstance(c, StringConverter | PathConverter)}


def targets(world) -> tuple[list[tuple[str, str]], list[str]]:
    """(view name, path) for every URL pattern, and the patterns this test cannot build."""
    known = path_arguments(world)
    found, unknown = [], []
    for name, pattern in url_patterns():
        keys = pattern_keys(pattern)
        if name is None:  # the admin's catch-all: any path under it
            found.append(("admin:catch_all", "/quan-tri/khong-co-trang-nay/"))
            continue
        if not keys:
            found.append((name, reverse(name)))
        elif name in known and set(known[name]) == keys:
            found.append((name, reverse(name, kwargs=known[name])))
        elif name.startswith("admin:") and (kwargs := admin_arguments(name, keys)):
            found.append((name, reverse(name, kwargs=kwargs)))
        elif keys <= text_keys(pattern):  # a name, not an id: any text is a test
            found.append((name, reverse(name, kwargs=dict.fromkeys(keys, "khong-co"))))
        else:
            unknown.append(name)
    # the admin last: its deletions change the world the other pages show
    found.sort(key=lambda target: target[0].startswith("admin:"))
    return found, unknown


# ---------------------------------------------------------------- what the pages know


class PageReader(HTMLParser):
    """The forms (action, method, fields with the values the page would send) and the links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _fields(self) -> dict:
        if self._form is None:  # a field outside any form still names a parameter
            self._form = {"action": "", "method": "get", "fields": {}, "files": set(), "loose": 1}
            self.forms.append(self._form)
        return self._form

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
                "files": set(),
            }
            self.forms.append(self._form)
        elif tag in ("input", "button") and attrs.get("name"):
            form, name = self._fields(), attrs["name"]
            kind = (attrs.get("type") or "text").lower()
            if kind == "file":
                form["files"].add(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs or name not in form["fields"]:
                    form["fields"][name] = attrs.get("value") or "on"
            elif tag == "input" or kind == "submit":
                form["fields"].setdefault(name, attrs.get("value") or "")
        elif tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
            self._fields()["fields"].setdefault(self._select, "")
        elif tag == "option" and self._select:
            fields = self._fields()["fields"]
            if "selected" in attrs or not fields[self._select]:
                fields[self._select] = attrs.get("value") or ""
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = attrs["name"]
            self._fields()["fields"][self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._fields()["fields"][self._textarea] += data


def view_of(url: str, base: str) -> tuple[str, str] | None:
    """(view name, path) of a link or form action on the page at `base`, if it is ours."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path or base
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name or "admin:catch_all", path


class Knowledge:
    """The parameters each page knows: GET ones by view, POST ones (and files) by path."""

    def __init__(self):
        self.get: dict[str, dict[str, str]] = defaultdict(dict)
        self.post: dict[str, dict[str, str]] = defaultdict(dict)
        self.files: dict[str, set[str]] = defaultdict(set)
        self.post_views: dict[str, str] = {}

    def read(self, path: str, html: str) -> None:
        page = PageReader()
        page.feed(html)
        for link in page.links:
            found = view_of(link, path)
            if found:
                for key, value in parse_qsl(urlsplit(link).query, keep_blank_values=True):
                    self.get[found[0]].setdefault(key, value)
        for form in page.forms:
            found = view_of(form["action"], path)
            if not found:
                continue
            view, action = found
            fields = {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}
            if form["method"] == "post":
                self.post_views[action] = view
                for key, value in fields.items():
                    self.post[action].setdefault(key, value)
                self.files[action] |= form["files"]
            else:
                for key, value in fields.items():
                    self.get[view].setdefault(key, value)


# ---------------------------------------------------------------- the attack


class Attack:
    def __init__(self, world):
        self.world = world
        self.rng = random.Random(SEED)
        self.failures: list[str] = []
        self.count = 0
        self.files = damaged_files()

    def hostile(self) -> str:
        return self.rng.choice(hostile.HOSTILE_VALUES)

    def login(self, client: Client, account) -> None:
        if account is not None:
            client.force_login(account)
        else:
            client.logout()

    def send(self, client, account, role, method, path, data=None, **extra):
        self.count += 1
        started = time.process_time()  # not the clock: other work may share the machine
        response = self.request(client, method, path, data, extra)
        took = time.process_time() - started
        if account is not None and logged_out(response, account):  # by a logout or a password
            self.login(client, account)
            response = self.request(client, method, path, data, extra)
        if response.status_code >= 500 or took > SLOW:
            error = getattr(response, "exc_info", None)
            reason = repr(error[1])[:300] if error else ""
            what = f"{response.status_code}" if response.status_code >= 500 else f"{took:.1f} s"
            self.failures.append(f"{what} {role} {method.upper()} {path} {shown(data)} {reason}")
        return response

    @staticmethod
    def request(client, method, path, data, extra):
        if method == "get":
            return client.get(path, data or {}, **extra)
        return client.post(path, data if data is not None else {}, **extra)

    def page(self, role, account, knowledge: Knowledge, targets) -> None:
        """Read every page as this role and learn the parameters it shows."""
        client = Client(raise_request_exception=False)
        self.login(client, account)
        query = {"period": self.world["period"].pk, "set": self.world["set"].pk}
        for view, path in targets:
            if view.startswith("admin:") and not (account and account.is_staff):
                continue  # the admin's login page, whatever the path
            response = self.send(client, account, role, "get", path, query)
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                knowledge.read(path, response.content.decode())

    def attack(self, role, account, knowledge: Knowledge, targets) -> None:
        """Every parameter of every page, hostile, as this role."""
        client = Client(raise_request_exception=False)
        self.login(client, account)
        staff = account is not None and account.is_staff
        forms = [(v, p) for p, v in knowledge.post_views.items() if (v, p) not in targets]
        if not staff:  # every admin page sends them to the admin's login: a few say so
            admin = [target for target in targets if target[0].startswith("admin:")]
            kept = self.rng.sample(admin, min(len(admin), 10))
            targets = [t for t in targets if not t[0].startswith("admin:") or t in kept]
            forms = [(v, p) for v, p in forms if not v.startswith("admin:")]
        in_admin = [t for t in targets if t[0].startswith("admin:")]
        posts = [t for t in targets if t not in in_admin] + forms + in_admin  # the admin last
        for view, path in targets:
            self.vary(client, account, role, "get", path, knowledge.get.get(view, {}), view)
            self.overflowing_path(client, account, role, view, path)
        for view, path in posts:
            defaults = dict(knowledge.post.get(path, {}))
            if not self.vary(client, account, role, "post", path, defaults, view):
                continue
            body, content_type = self.foreign_body(defaults)  # the client encodes it so
            self.send(client, account, role, "post", path, body, content_type=content_type)
            for name in sorted(knowledge.files.get(path, ())):
                for label in self.rng.sample(sorted(self.files), 2):
                    data = {**defaults, name: SimpleUploadedFile(label, self.files[label])}
                    self.send(client, account, role, "post", path, data)

    def vary(self, client, account, role, method, path, defaults: dict, view: str) -> bool:
        """One request with every parameter hostile; then, if the page let the role in, one
        for each of a few parameters with the others as the page would send them."""
        everything = {
            name: [self.hostile() for _ in range(self.rng.choice((1, 2)))] for name in defaults
        }
        for name in ("period", "set", "district", "commune", "pk", "id", "q"):
            everything.setdefault(name, self.hostile())
        response = self.send(client, account, role, method, path, everything)
        if refused(response):
            return False
        names = sorted(defaults)
        self.rng.shuffle(names)
        for name in names[: ADMIN_PER_PARAMETER if view.startswith("admin:") else PER_PARAMETER]:
            self.send(client, account, role, method, path, {**defaults, name: self.hostile()})
        return True

    def foreign_body(self, defaults: dict) -> tuple[str, str]:
        """(body, content type) of the form in UTF-16, URL-encoded or as multipart data."""
        fields = {k: v or "1" for k, v in defaults.items()} or {"a": "1"}
        if self.rng.random() < 0.5:
            return urlencode(fields), "application/x-www-form-urlencoded; charset=utf-16"
        body = "".join(
            f'--b\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        )
        return body + "--b--\r\n", "multipart/form-data; boundary=b; charset=utf-16"

    def overflowing_path(self, client, account, role, view, path) -> None:
        """The same page with each number in its path made too large for any integer column,
        and each name in it hostile."""
        match = resolve(path)
        if not match.kwargs or view.startswith("admin:"):
            return
        kwargs = {
            key: self.rng.choice(HOSTILE_NAMES) if isinstance(value, str) else "9" * 25
            for key, value in match.kwargs.items()
        }
        self.send(client, account, role, "get", reverse(view, kwargs=kwargs))


def logged_out(response, account) -> bool:
    """Whether the page sent a logged-in account to log in: an earlier request logged it out."""
    location = response.get("Location", "") if response.status_code == 302 else ""
    logins = (reverse("login"), reverse("admin:login")) if account.is_staff else (reverse("login"),)
    return location.startswith(logins)


def refused(response) -> bool:
    """Whether the role was kept out of the page (so varying its parameters reaches nothing)."""
    if response.status_code in (403, 404, 405):
        return True
    location = response.get("Location", "") if response.status_code == 302 else ""
    return location.startswith((reverse("login"), reverse("admin:login")))


def shown(data) -> object:
    """Request data as a failure lists it: long values cut."""
    if not isinstance(data, dict):
        return data if data is None else f"{str(data)[:60]}…"
    return {k: v if len(str(v)) < 60 else f"{str(v)[:20]}…({len(str(v))})" for k, v in data.items()}


def damaged_files() -> dict[str, bytes]:
    """Uploads that are not what they claim: each a reason for a 500 in the first versions."""
    table = hostile.workbook_bytes({"Xã": [["Mã xã", "Tên xã", "8.1"], ["06280", "x", 5]]})
    return {
        "text-in-number.xlsx": hostile.text_in_number_cell(table, "Xã", "C2"),
        "bad-shared-string.xlsx": hostile.bad_shared_string(table, "Xã", "B2"),
        "huge-exponent.xlsx": hostile.huge_exponent(table, "Xã", "C2"),
        "far-row.xlsx": hostile.far_row(table, "Xã"),
        "not-a-workbook.xlsx": b"PK\x03\x04" + b"\x00" * 64,
        "empty.csv": b"",
        "utf-16.csv": "Mã PX,Phường Xã\n06280,Xã Hữu Khánh\n".encode("utf-16"),
        "nul.csv": b"M\xc3\xa3 PX\n06280\x00\n",
    }


def test_no_hostile_request_gets_a_server_error(world):
    found, unknown = targets(world)
    assert unknown == [], f"give the path arguments of {unknown} in path_arguments()"
    knowledge = Knowledge()
    attack = Attack(world)
    roles = world["roles"]
    for role, account in roles.items():
        attack.page(role, account, knowledge, found)
    assert knowledge.post, "the pages showed no form at all: the walk read nothing"
    for role, account in roles.items():
        attack.attack(role, account, knowledge, found)

    assert attack.failures == [], (
        f"{len(attack.failures)} of {attack.count} requests failed:\n"
        + "\n".join(attack.failures[:40])
    )
