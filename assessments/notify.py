"""E-mail to the people concerned: the steps of the review workflow, and a daily reminder.

Who gets what:

- sent to the district → the district officers of the commune;
- submitted or forwarded to the province → the province reviewers assigned to the commune (or to
  the whole province);
- returned → the commune's officers (its commune officer and, where the commune has a district,
  the district officers) and whoever submitted it, with the reason and the per-indicator notes;
- approved → the commune's officers;
- every day (`manage.py daily`) → each officer: periods closing soon, assessments not started,
  returns not yet answered.

Who is "the commune's officer" or "the reviewer of the commune" is decided by
`workflow.actors`, the same answer that lets them act. Nobody is told about their own step, and
nobody without an e-mail address, inactive, or who turned that kind off
(`User.muted_notifications`, the "Notifications" page) gets anything.

Messages of a step go out after its transaction commits, and a failure to send is logged, never
raised: the step is saved whether or not the mail server answers.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core import mail
from django.db import models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from criteria.models import CriteriaSet

from .models import (
    Assessment,
    AssessmentPeriod,
    Commune,
    State,
    Transition,
    User,
)
from .workflow import OFFICERS, Action, Actor, actors, can, creatable_communes

logger = logging.getLogger(__name__)


class Kind(models.TextChoices):
    """The kinds of e-mail; each person may turn any of them off."""

    SUBMITTED = "submitted", _("An assessment is sent to me for review")
    RETURNED = "returned", _("An assessment I enter is returned, with the reviewer's notes")
    APPROVED = "approved", _("An assessment I enter is approved")
    DAILY = (
        "daily",
        _("Daily reminder: closing periods, assessments not started, unanswered returns"),
    )


# The workflow steps that send a message, and its kind.
STEP_KINDS = {
    Action.SUBMIT: Kind.SUBMITTED,
    Action.FORWARD: Kind.SUBMITTED,
    Action.RETURN: Kind.RETURNED,
    Action.APPROVE: Kind.APPROVED,
}


# ---------------------------------------------------------------- who


def _people_of(commune: Commune, wanted: frozenset[str], candidates) -> list[User]:
    """Of some candidate accounts, those who are one of the `wanted` actors for the commune."""
    return [
        user
        for user in candidates.filter(is_active=True, is_superuser=False)
        if actors(user, commune) & wanted
    ]


def officers_of(commune: Commune) -> list[User]:
    """Those who enter and submit for the commune: its commune officer, its district's officers."""
    scope = Q(commune=commune)
    if commune.district_id is not None:
        scope |= Q(district_id=commune.district_id)
    return _people_of(commune, OFFICERS, User.objects.filter(scope))


def district_officers_of(commune: Commune) -> list[User]:
    if commune.district_id is None:
        return []
    candidates = User.objects.filter(district_id=commune.district_id)
    return _people_of(commune, frozenset({Actor.DISTRICT_OFFICER}), candidates)


def reviewers_of(commune: Commune) -> list[User]:
    """The province reviewers assigned to the commune or to its whole province."""
    candidates = (
        User.objects.filter(review_assignments__province_id=commune.province_id)
        .filter(
            Q(review_assignments__commune__isnull=True) | Q(review_assignments__commune=commune)
        )
        .distinct()
    )
    return _people_of(commune, frozenset({Actor.REVIEWER}), candidates)


def _reachable(people: list[User], kind: str, *, actor_id: int | None = None) -> list[User]:
    """Each person once, leaving out the one who acted, those without an address, the inactive
    and those who turned this kind off."""
    chosen: dict[int, User] = {}
    for person in people:
        if (
            person.pk != actor_id
            and person.is_active
            and person.email
            and kind not in (person.muted_notifications or [])
        ):
            chosen[person.pk] = person
    return sorted(chosen.values(), key=lambda person: person.username)


def step_recipients(transition: Transition) -> list[User]:
    """Who is told about a workflow step (see the module's docstring)."""
    kind = STEP_KINDS.get(transition.action)
    if kind is None:
        return []
    commune = transition.assessment.commune
    if kind == Kind.SUBMITTED:
        if transition.to_state == State.DISTRICT_REVIEW:
            people = district_officers_of(commune)
        else:
            people = reviewers_of(commune)
    elif kind == Kind.RETURNED:
        people = officers_of(commune)
        submission = (
            transition.assessment.transitions.filter(action=Action.SUBMIT, pk__lt=transition.pk)
            .select_related("actor")
            .order_by("-pk")
            .first()
        )
        if submission is not None:
            people.append(submission.actor)
    else:
        people = officers_of(commune)
    return _reachable(people, kind, actor_id=transition.actor_id)


# ---------------------------------------------------------------- what


def site_url(path: str) -> str:
    """An address to put in an e-mail: SITE_URL (https://ntm.example.gov.vn) and the path."""
    return f"{getattr(settings, 'SITE_URL', '')}{path}"


def _render(kind: str, context: dict) -> tuple[str, str]:
    """The subject (one line) and the body of a message, in the site's language."""
    context = {**context, "preferences_url": site_url(reverse("assessments:notifications"))}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"assessments/email/{kind}_subject.txt", context)
        body = render_to_string(f"assessments/email/{kind}.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"


def step_message(transition: Transition) -> mail.EmailMessage | None:
    """The one message a step sends to everyone concerned, or None when nobody is."""
    kind = STEP_KINDS.get(transition.action)
    recipients = step_recipients(transition) if kind else []
    if not recipients:
        return None
    assessment = transition.assessment
    context = {
        "assessment": assessment,
        "step": transition,
        "actor": transition.actor.get_full_name() or transition.actor.username,
        "to_district": transition.to_state == State.DISTRICT_REVIEW,
        "notes": [  # (code, note), a note's further lines indented under its bullet
            (note.indicator.code, "\n  ".join(note.note.splitlines()))
            for note in transition.review_notes.select_related("indicator").order_by(
                "indicator__criterion__order", "indicator__order"
            )
        ],
        "url": site_url(reverse("assessments:assessment", args=[assessment.pk])),
    }
    subject, body = _render(kind, context)
    return mail.EmailMessage(subject, body, to=[person.email for person in recipients])


def _send_step(transition_pk: int) -> None:
    try:
        transition = Transition.objects.select_related(
            "actor",
            "assessment__commune__district",
            "assessment__period",
            "assessment__criteria_set",
        ).get(pk=transition_pk)
        message = step_message(transition)
        if message is not None:
            message.send()
    except Exception:
        logger.exception("The e-mail of workflow step %s could not be sent", transition_pk)


def after_step(transition: Transition) -> None:
    """Tell the people concerned about a step, once its transaction has committed."""
    if transition.action in STEP_KINDS:
        transaction.on_commit(partial(_send_step, transition.pk), robust=True)


# ---------------------------------------------------------------- the daily reminder


@dataclass
class Reminder:
    """What is waiting for one officer today."""

    user: User
    closing: list[tuple[AssessmentPeriod, int]] = field(default_factory=list)
    not_started: list[tuple[AssessmentPeriod, CriteriaSet, list[Commune]]] = field(
        default_factory=list
    )
    returned: list[tuple[Assessment, Transition | None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.closing or self.not_started or self.returned)


def _open_periods(province_id: int, cache: dict) -> list[AssessmentPeriod]:
    if province_id not in cache:
        cache[province_id] = list(
            AssessmentPeriod.objects.filter(province_id=province_id, is_open=True)
            .prefetch_related("criteria_sets")
            .order_by("closes_on", "pk")
        )
    return cache[province_id]


def reminder_for(
    user: User, *, today: datetime.date, days: int, periods: list[AssessmentPeriod]
) -> Reminder:
    """An officer's reminder: the open periods closing within `days` in which they still have
    something to do, the communes they may start that are not started, their returned
    assessments they may correct."""
    reminder = Reminder(user)
    unfinished: dict[int, int] = {}
    for period in periods:
        for criteria_set in period.criteria_sets.all():
            communes = creatable_communes(user, Commune.objects.current(period.reference_date))
            if not criteria_set.includes_urban_units:
                communes = communes.rural()
            missing = list(
                communes.exclude(
                    pk__in=Assessment.objects.filter(
                        period=period, criteria_set=criteria_set
                    ).values("commune_id")
                ).order_by("sort_key", "code")
            )
            if missing:
                reminder.not_started.append((period, criteria_set, missing))
                unfinished[period.pk] = unfinished.get(period.pk, 0) + len(missing)
    pending = [
        a
        for a in Assessment.objects.for_user(user).filter(
            period__in=periods, state__in=(State.DRAFT, State.RETURNED)
        )
        if can(user, a, Action.ENTER)
    ]
    for assessment in pending:
        unfinished[assessment.period_id] = unfinished.get(assessment.period_id, 0) + 1
    returned = [a for a in pending if a.state == State.RETURNED]
    steps = {}
    for step in Transition.objects.filter(
        assessment__in=returned, to_state=State.RETURNED
    ).order_by("at", "pk"):
        steps[step.assessment_id] = step  # the last one wins
    reminder.returned = [(a, steps.get(a.pk)) for a in returned]
    for period in periods:
        left = (period.closes_on - today).days
        if 0 <= left <= days and unfinished.get(period.pk):
            reminder.closing.append((period, left))
    return reminder


def daily_messages(*, days: int = 7, today: datetime.date | None = None) -> list[mail.EmailMessage]:
    """One message for each officer who has something waiting and has not turned reminders off."""
    today = today or timezone.localdate()
    officers = (
        User.objects.filter(is_active=True, is_superuser=False, province__isnull=False)
        .filter(Q(commune__isnull=False) | Q(district__isnull=False))
        .exclude(email="")
        .select_related("commune", "district")
        .order_by("username")
    )
    periods: dict[int, list[AssessmentPeriod]] = {}
    messages = []
    for officer in officers:
        if Kind.DAILY in (officer.muted_notifications or []):
            continue
        open_periods = _open_periods(officer.province_id, periods)
        if not open_periods:
            continue
        reminder = reminder_for(officer, today=today, days=days, periods=open_periods)
        if not reminder:
            continue
        context = {
            "reminder": reminder,
            "name": officer.get_full_name() or officer.username,
            "today": today,
            "worklist_url": site_url(reverse("assessments:worklist")),
            "returned": [
                (a, step, site_url(reverse("assessments:assessment", args=[a.pk])))
                for a, step in reminder.returned
            ],
        }
        subject, body = _render(Kind.DAILY, context)
        messages.append(mail.EmailMessage(subject, body, to=[officer.email]))
    return messages


def send_daily(*, days: int = 7, today: datetime.date | None = None) -> int:
    """Send the daily reminders; returns how many went out. A failed one is logged and skipped."""
    messages = daily_messages(days=days, today=today)
    if not messages:
        return 0
    connection = mail.get_connection()
    try:
        connection.open()
    except Exception:
        logger.exception("No daily reminder was sent: the mail server cannot be reached")
        return 0
    sent = 0
    try:
        for message in messages:
            message.connection = connection
            try:
                sent += message.send()
            except Exception:
                logger.exception("The daily reminder to %s could not be sent", message.to)
    finally:
        connection.close()
    return sent
