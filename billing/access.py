"""Whose billing a user may open and work on: the one place billing's pages ask.

- Staff open the billing pages (authorizations, coverage, the ledger) of the patients they may see; another
  patient's, or anything of theirs (an invoice, an estimate, a policy, an authorization), is 404, revealing nothing.
- Only the front office (`roles.WORKING_ROLES`) changes anything: other staff get 403, asked before the record is
  looked up, so a refusal says nothing of whether it exists.
- A patient in the portal sees their own account only, and only what is theirs in it.

The pages gate by role with the decorators below (they also send the signed-out to sign in); the lookups here check
again, so a page that changes billing cannot load its patient without the front-office role. Reading a record is
recorded by the page that shows it (`record_chart_view`), not here: a form that is saved shows nothing.
"""

from django.core.exceptions import PermissionDenied

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import STAFF_ROLES, Role
from patients.models import Patient
from patients.selectors import get_patient_for_user, get_patient_of_portal_user

from .coverage_selectors import get_policy_for_user, get_work_item_for_user
from .ledger.selectors import get_estimate_for_user, get_invoice_for_user
from .ledger_models import GoodFaithEstimate, Invoice
from .models import InsurancePolicy, PreauthWorkItem, PriorAuthorization
from .roles import WORKING_ROLES
from .selectors import get_authorization_for_user

staff_page = role_required(*STAFF_ROLES)  # any staff member may look
working_page = role_required(*WORKING_ROLES)  # the front office changes things
portal_page = role_required(Role.PATIENT)  # the patient's own pages


def can_work(request) -> bool:
    """Whether the signed-in user does billing's front-office work (pages offer the buttons on it)."""
    return request.user.has_role(*WORKING_ROLES)


def in_portal(request) -> bool:
    """Whether the page is being shown to the patient in the portal (shared pages link back there)."""
    return request.user.role == Role.PATIENT


def _require_work(request) -> None:
    if not can_work(request):
        raise PermissionDenied


def billing_patient(request, pk: int) -> Patient:
    """The patient whose billing a staff member opens; 404 for one they may not see."""
    return get_patient_for_user(request.user, pk)


def working_patient(request, pk: int) -> Patient:
    """The patient whose billing the front office works on: 403 for other roles, then 404 as `billing_patient`."""
    _require_work(request)
    return get_patient_for_user(request.user, pk)


def portal_patient(request) -> Patient:
    """The signed-in patient's own record; 404 when the account has none."""
    return get_patient_of_portal_user(request.user)


# ---- A patient's billing records, found through the patient: someone else's is 404 ----------------------
# With work=True the user must be front office too (403 first, as for `working_patient`).


def _of_patient(request, get_for_user, pk: int, work: bool):
    if work:
        _require_work(request)
    return get_for_user(request.user, pk)


def billing_authorization(request, pk: int, *, work: bool = False) -> PriorAuthorization:
    return _of_patient(request, get_authorization_for_user, pk, work)


def billing_policy(request, pk: int, *, work: bool = False) -> InsurancePolicy:
    return _of_patient(request, get_policy_for_user, pk, work)


def billing_work_item(request, pk: int, *, work: bool = False) -> PreauthWorkItem:
    return _of_patient(request, get_work_item_for_user, pk, work)


def billing_invoice(request, pk: int, *, work: bool = False) -> Invoice:
    """An invoice of a patient the staff member may see, or the portal patient's own."""
    return _of_patient(request, get_invoice_for_user, pk, work)


def billing_estimate(request, pk: int) -> GoodFaithEstimate:
    """A good-faith estimate of a patient the staff member may see, or the portal patient's own."""
    return _of_patient(request, get_estimate_for_user, pk, False)
