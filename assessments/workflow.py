"""The review workflow, declared once: its states, its actions, and who may take each action.

Everything that asks "may this person do this to this assessment?" reads the table below: the
services before they write, the views before they show a button or accept a POST, the worklists
and bulk approval when they pick rows, and the admin. Nobody checks a role anywhere else.

Who is an *actor* for an assessment depends on the person's role and on the assessment's
commune (scope):

- the commune officer of that commune;
- the district officer of its district — only communes that have a district, that is units in
  force before the reform of 01/07/2025 ("districts keep today's flow for their periods");
- a province reviewer (the Sở KH&CN) assigned to that commune or to the whole province;
- the province administrator of its province (creates assessments only).

A superuser (the national operator) counts as every actor.

The flows:

- with a district (2021–2025): commune officer enters and sends to the district → the district
  verifies and forwards to the province (or returns) → the province reviewer approves or
  returns. A district officer may also enter and submit straight to the province.
- without a district (from 01/07/2025): the commune officer enters and submits straight to the
  province's appraisal → the reviewer approves or returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Assessment, AssessmentPeriod, Commune, ReviewAssignment, Role, State, User


class WorkflowError(Exception):
    """The step is not allowed now; the message says why, in the user's language."""


class Action:
    CREATE = "create"
    ENTER = "enter"
    SUBMIT = "submit"
    FORWARD = "forward"
    RETURN = "return"
    APPROVE = "approve"
    REOPEN = "reopen"

    labels = {
        CREATE: gettext_lazy("Create the assessment"),
        ENTER: gettext_lazy("Enter results and evidence"),
        SUBMIT: gettext_lazy("Submit"),
        FORWARD: gettext_lazy("Send to the province"),
        RETURN: gettext_lazy("Return with a reason"),
        APPROVE: gettext_lazy("Approve"),
        REOPEN: gettext_lazy("Reopen"),
    }


class Actor:
    COMMUNE_OFFICER = "commune_officer"
    DISTRICT_OFFICER = "district_officer"
    REVIEWER = "province_reviewer"
    PROVINCE_ADMIN = "province_admin"


@dataclass(frozen=True)
class Rule:
    """In `state`, these actors may take `action`; the assessment then goes to `to_state`
    (None: it stays where it is). `when` names an extra condition, checked by `_holds`."""

    state: str
    action: str
    actors: frozenset[str]
    to_state: str | None = None
    when: str = ""


OFFICERS = frozenset({Actor.COMMUNE_OFFICER, Actor.DISTRICT_OFFICER})
REVIEWERS = frozenset({Actor.REVIEWER})
DISTRICT = frozenset({Actor.DISTRICT_OFFICER})

# The whole workflow. A commune officer's submission goes to the district where the commune has
# one, else straight to the province: see `_submission_target`.
RULES: tuple[Rule, ...] = (
    Rule(State.DRAFT, Action.ENTER, OFFICERS, when="accepts_entry"),
    Rule(State.DRAFT, Action.SUBMIT, OFFICERS, State.SUBMITTED),
    Rule(State.RETURNED, Action.ENTER, OFFICERS, when="accepts_entry"),
    Rule(State.RETURNED, Action.SUBMIT, OFFICERS, State.SUBMITTED),
    Rule(State.DISTRICT_REVIEW, Action.FORWARD, DISTRICT, State.SUBMITTED),
    Rule(State.DISTRICT_REVIEW, Action.RETURN, DISTRICT, State.RETURNED),
    Rule(State.SUBMITTED, Action.APPROVE, REVIEWERS, State.APPROVED),
    Rule(State.SUBMITTED, Action.RETURN, REVIEWERS, State.RETURNED),
    Rule(State.APPROVED, Action.REOPEN, REVIEWERS, State.RETURNED),
    # After the period closes, a reviewer may open any unapproved assessment for late entry.
    Rule(State.DRAFT, Action.REOPEN, REVIEWERS, State.RETURNED, when="period_closed"),
    Rule(State.RETURNED, Action.REOPEN, REVIEWERS, State.RETURNED, when="period_closed"),
    Rule(State.DISTRICT_REVIEW, Action.REOPEN, REVIEWERS, State.RETURNED, when="period_closed"),
    Rule(State.SUBMITTED, Action.REOPEN, REVIEWERS, State.RETURNED, when="period_closed"),
)

# Who may create an assessment for a commune (there is no state yet).
CREATORS = frozenset({Actor.COMMUNE_OFFICER, Actor.DISTRICT_OFFICER, Actor.PROVINCE_ADMIN})


# ---------------------------------------------------------------- who is who


class ReviewScope:
    """The communes a province reviewer appraises, read once per user object."""

    def __init__(self, user: User):
        self.user = user

    @cached_property
    def _assignments(self) -> tuple[bool, frozenset[int]]:
        rows = ReviewAssignment.objects.filter(
            reviewer=self.user, province_id=self.user.province_id
        ).values_list("commune_id", flat=True)
        ids = set(rows)
        return None in ids, frozenset(i for i in ids if i is not None)

    @property
    def whole_province(self) -> bool:
        return self._assignments[0]

    def covers(self, commune: Commune) -> bool:
        whole, ids = self._assignments
        return commune.province_id == self.user.province_id and (whole or commune.pk in ids)

    def as_q(self, path: str = "") -> Q:
        """The reviewer's communes as a filter on the commune at `path` ("commune__" …)."""
        whole, ids = self._assignments
        if whole:
            return Q(**{f"{path}province_id": self.user.province_id})
        return Q(**{f"{path}pk__in": ids, f"{path}province_id": self.user.province_id})


def review_scope(user: User) -> ReviewScope:
    scope = getattr(user, "_review_scope", None)
    if scope is None:
        scope = user._review_scope = ReviewScope(user)
    return scope


def actors(user: User, commune: Commune) -> frozenset[str]:
    """What the user is in relation to this commune."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset({Actor.COMMUNE_OFFICER, Actor.DISTRICT_OFFICER, Actor.REVIEWER})
    if user.role == Role.COMMUNE_OFFICER and user.commune_id == commune.pk:
        return frozenset({Actor.COMMUNE_OFFICER})
    if (
        user.role == Role.DISTRICT_OFFICER
        and commune.district_id is not None
        and commune.district_id == user.district_id
    ):
        return frozenset({Actor.DISTRICT_OFFICER})
    if user.role == Role.PROVINCE_REVIEWER and review_scope(user).covers(commune):
        return frozenset({Actor.REVIEWER})
    if user.role == Role.PROVINCE_ADMIN and commune.province_id == user.province_id:
        return frozenset({Actor.PROVINCE_ADMIN})
    return frozenset()


# ---------------------------------------------------------------- the questions everyone asks


def _holds(rule: Rule, assessment: Assessment) -> bool:
    if rule.when == "accepts_entry":
        return assessment.accepts_entry
    if rule.when == "period_closed":
        return not assessment.period.is_open
    return True


def rules_for(user: User, assessment: Assessment) -> list[Rule]:
    """The rules the user may apply to the assessment now."""
    mine = actors(user, assessment.commune)
    return [
        rule
        for rule in RULES
        if rule.state == assessment.state and rule.actors & mine and _holds(rule, assessment)
    ]


def allowed_actions(user: User, assessment: Assessment) -> frozenset[str]:
    """Every action the user may take on the assessment now."""
    return frozenset(rule.action for rule in rules_for(user, assessment))


def takes_part_in(user: User, assessment: Assessment, action: str) -> bool:
    """Whether the user is one of the actors of `action` for this assessment in some state.

    Views answer 403 to everyone else; those who take part get the reason in words when the
    assessment's state does not allow the action now."""
    mine = actors(user, assessment.commune)
    return any(rule.action == action and rule.actors & mine for rule in RULES)


def can(user: User, assessment: Assessment, action: str) -> bool:
    return action in allowed_actions(user, assessment)


REFUSALS = {
    Action.ENTER: gettext_lazy("You cannot change this assessment now."),
    Action.SUBMIT: gettext_lazy("You cannot submit this assessment now."),
    Action.FORWARD: gettext_lazy("Only the district can forward a commune's self-assessment."),
    Action.RETURN: gettext_lazy("This assessment cannot be returned by you now."),
    Action.APPROVE: gettext_lazy("Only a province reviewer assigned to this commune can approve."),
    Action.REOPEN: gettext_lazy(
        "Only a province reviewer assigned to this commune reopens an approved assessment, "
        "or one in a closed period."
    ),
}


def require(user: User, assessment: Assessment, action: str) -> Rule:
    """The rule that lets the user act, or WorkflowError saying why not."""
    for rule in rules_for(user, assessment):
        if rule.action == action:
            return rule
    if action == Action.ENTER and assessment.state in (State.SUBMITTED, State.DISTRICT_REVIEW):
        raise WorkflowError(_("This assessment is waiting for review and cannot be changed now."))
    mine = actors(user, assessment.commune)
    closed = assessment.state in (State.DRAFT, State.RETURNED) and not assessment.accepts_entry
    if action == Action.ENTER and closed and mine & OFFICERS:
        raise WorkflowError(
            _("The period is closed. A province reviewer can reopen this assessment for entry.")
        )
    if action == Action.SUBMIT and assessment.state not in (State.DRAFT, State.RETURNED):
        raise WorkflowError(_("Only a draft or a returned assessment can be submitted."))
    if action == Action.APPROVE and assessment.state != State.SUBMITTED and Actor.REVIEWER in mine:
        raise WorkflowError(_("Only a submitted assessment can be approved."))
    raise WorkflowError(str(REFUSALS[action]))


def next_state(rule: Rule, user: User, assessment: Assessment) -> str:
    """Where the action takes the assessment: a commune officer's submission goes to the
    district when the commune has one, else straight to the province."""
    if (
        rule.action == Action.SUBMIT
        and Actor.DISTRICT_OFFICER not in actors(user, assessment.commune)
        and assessment.commune.district_id is not None
    ):
        return State.DISTRICT_REVIEW
    return rule.to_state or assessment.state


def submission_goes_to_district(user: User, assessment: Assessment) -> bool:
    rule = Rule(assessment.state, Action.SUBMIT, OFFICERS, State.SUBMITTED)
    return next_state(rule, user, assessment) == State.DISTRICT_REVIEW


# ---------------------------------------------------------------- creating assessments


def can_create(user: User, commune: Commune) -> bool:
    """Whether the user may start an assessment for the commune (in any open period)."""
    return bool(actors(user, commune) & CREATORS) or (user.is_authenticated and user.is_superuser)


def creatable_communes(user: User, communes):
    """Of a commune queryset, those the user may create assessments for."""
    if user.is_superuser:
        return communes
    if user.role == Role.PROVINCE_ADMIN:
        return communes.filter(province_id=user.province_id)
    if user.role == Role.DISTRICT_OFFICER and user.district_id:
        return communes.filter(district_id=user.district_id)
    if user.role == Role.COMMUNE_OFFICER and user.commune_id:
        return communes.filter(pk=user.commune_id)
    return communes.none()


def may_create_any(user: User) -> bool:
    """Whether the worklist offers creation at all."""
    return user.is_authenticated and (
        user.is_superuser
        or user.role in (Role.PROVINCE_ADMIN, Role.DISTRICT_OFFICER, Role.COMMUNE_OFFICER)
    )


def may_create_in_bulk(user: User) -> bool:
    """ "All at once": the province administrator for the province, a district for its xã."""
    return user.is_authenticated and (
        user.is_superuser or user.role in (Role.PROVINCE_ADMIN, Role.DISTRICT_OFFICER)
    )


def check_period(period: AssessmentPeriod, criteria_set) -> None:
    if not period.is_open:
        raise WorkflowError(_("The period %(period)s is closed.") % {"period": period})
    if not period.criteria_sets.filter(pk=criteria_set.pk).exists():
        raise WorkflowError(_("This set is not assessed in this period."))


# ---------------------------------------------------------------- lists


def approvable(user: User, assessments) -> list[Assessment]:
    """Of some assessments, those the user may approve now (the bulk approval's rows)."""
    return [a for a in assessments if can(user, a, Action.APPROVE)]


def reviewer_filter(user: User, path: str = "commune__") -> Q | None:
    """The assessments a reviewer appraises, as a filter; None for anyone else."""
    if user.is_superuser:
        return Q()
    if user.role != Role.PROVINCE_REVIEWER:
        return None
    return review_scope(user).as_q(path)


# ---------------------------------------------------------------- other abilities


def may_manage_province(user: User) -> bool:
    """Periods, reviewer assignments, commune groups and flags: the province administrator."""
    return user.is_authenticated and (
        user.is_superuser or (user.role == Role.PROVINCE_ADMIN and user.province_id is not None)
    )


def may_create_period(user: User) -> bool:
    """Creates assessment periods: a province administrator, in their own province (a period
    belongs to a province, and a superuser has none to put it in)."""
    return may_manage_province(user) and user.province_id is not None


def may_edit_commune(user: User, commune: Commune) -> bool:
    """May change a commune's flags, group and villages (the commune is already in scope)."""
    if user.is_superuser or (
        user.role == Role.PROVINCE_ADMIN and commune.province_id == user.province_id
    ):
        return True
    return (
        user.role == Role.DISTRICT_OFFICER
        and commune.district_id is not None
        and commune.district_id == user.district_id
    )


def may_edit_villages(user: User, commune: Commune) -> bool:
    """Villages: as the commune's details, and the commune's own officer once it has no
    district (from 01/07/2025 nobody above the commune keeps its list)."""
    if may_edit_commune(user, commune):
        return True
    return (
        user.role == Role.COMMUNE_OFFICER
        and commune.district_id is None
        and user.commune_id == commune.pk
    )


def may_enter_for_district(user: User, district) -> bool:
    """Offline entry through the district's Excel template: the district's officer."""
    return user.is_authenticated and (
        user.is_superuser
        or (user.role == Role.DISTRICT_OFFICER and user.district_id == district.pk)
    )


# ---------------------------------------------------------------- accounts and the admin


def may_manage_accounts(user: User) -> bool:
    """Accounts are managed in the app by the province administrator (superusers use the
    admin)."""
    return (
        user.is_authenticated
        and user.is_active
        and user.role == Role.PROVINCE_ADMIN
        and user.province_id is not None
    )


def manageable_accounts(user: User):
    """The accounts a province administrator manages: their province's, neither staff nor
    superuser (those belong to the national operator, in the admin)."""
    if not may_manage_accounts(user):
        return User.objects.none()
    return User.objects.select_related("province", "district", "commune__district").filter(
        province_id=user.province_id, is_superuser=False, is_staff=False
    )


def may_change_role_and_unit(user: User, account: User) -> bool:
    """Nobody changes their own role or unit: an administrator could otherwise make themself
    a reviewer and approve."""
    return account.pk is None or account.pk != user.pk


def may_read_audit(user: User) -> bool:
    """The audit log: a province administrator reads their province's, a superuser all."""
    return (
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or may_manage_accounts(user))
    )


def may_use_admin(user: User) -> bool:
    """The Django admin is the national operator's tool: superusers only."""
    return user.is_authenticated and user.is_active and user.is_superuser


# ---------------------------------------------------------------- where each person starts


class Home:
    """The home page a person lands on: what waits for them."""

    OFFICER = "officer"  # their worklist, with counts
    REVIEWER = "reviewer"  # what waits for their appraisal
    ADMIN = "admin"  # the setup checklist
    VIEWER = "viewer"  # the province dashboard
    UNITS = "units"  # the national operator: the units
    NONE = "none"  # no role yet: the criteria sets


def home_of(user: User) -> str:
    if user.is_superuser:
        return Home.UNITS
    if user.role in (Role.COMMUNE_OFFICER, Role.DISTRICT_OFFICER):
        return Home.OFFICER
    if user.role == Role.PROVINCE_REVIEWER:
        return Home.REVIEWER
    if may_manage_province(user):
        return Home.ADMIN
    if user.role == Role.VIEWER:
        return Home.VIEWER
    return Home.NONE


def verifies_for_district(user: User) -> bool:
    """Whether the communes' self-assessments come to this person to verify (a district)."""
    return user.is_authenticated and user.role == Role.DISTRICT_OFFICER


def may_approve_in_bulk(user: User) -> bool:
    """The worklist offers ticking rows to approve them at once: province reviewers."""
    return reviewer_filter(user) is not None
