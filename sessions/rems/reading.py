"""Reads of REMS forms that several pages share, with their access checks."""

from datetime import date

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.kernel.paging import COUNT_CAP, capped_count

from ..models import DosingSession
from ..selectors import get_session_for_user
from .planning import RemsDue, due_rows, overdue, pending_sessions


def get_rems_session_for_user(user: User, pk: int) -> DosingSession:
    """A REMS session of a patient the staff user may see; 404 otherwise (patients never see REMS forms)."""
    if user.role not in STAFF_ROLES:
        raise Http404("No such session.")
    session = get_session_for_user(user, pk)
    if not session.protocol.requires_rems:
        raise Http404("No REMS form for this session.")
    return session


def rems_forms_due(user: User, *, limit: int | None = None, today: date | None = None) -> list[RemsDue]:
    """REMS forms still to submit (not started, draft or signed), oldest first; for the pending page and home pages."""
    if user.role not in STAFF_ROLES:
        return []
    return due_rows(pending_sessions(user), limit=limit, today=today or timezone.localdate())


def rems_forms_pending(user: User) -> QuerySet[DosingSession]:
    """The sessions whose REMS form is still to submit, oldest first, for paging (`due_rows` makes a page's rows)."""
    if user.role not in STAFF_ROLES:
        return DosingSession.objects.none()
    return pending_sessions(user)


def rems_forms_overdue_count(user: User, *, today: date) -> int:
    """How many of them are past their deadline, counted by the database (up to the paging cap)."""
    return capped_count(rems_forms_pending(user).filter(overdue(today)), COUNT_CAP)


def rems_due_rows(sessions, *, today: date) -> list[RemsDue]:
    return due_rows(sessions, limit=None, today=today)
