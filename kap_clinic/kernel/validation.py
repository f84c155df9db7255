"""Plausible input, in one place: text lengths, date windows, and a guard against NUL characters.

Every form of the project mixes in `BoundedInput`, which gives each free-text field a length cap and each date
field a plausible window unless the form set a narrower one; `tests/test_input_fuzz.py` posts generated junk to
every form and `tests/test_input_bounds.py` checks that no form is left without the mixin. `RejectBadInputMiddleware`
answers 400 with a plain message for a NUL character anywhere in the address, query string or posted data, and for
a single value too long for any field of the clinic, before any view (or search) sees it.
"""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.http import UnreadablePostError
from django.shortcuts import render
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# ---- Free text ---------------------------------------------------------------------------------------------------

NAME_MAX = 200  # a single line: a name, a reason, a short answer
NOTE_MAX = 10_000  # a multi-line note, justification or amendment (about three typed pages)
PASSWORD_MAX = 1_000  # long enough for any password manager, short enough not to be a hashing workload
INTEGER_MAX = 2**31 - 1
# Nothing the clinic stores is longer than this; anything longer is refused before a view sees it.
REQUEST_VALUE_MAX = 50_000

# ---- Dates -------------------------------------------------------------------------------------------------------

EARLIEST_DATE = date(1900, 1, 1)  # no date the clinic records (a birth included) is earlier
LATEST_DATE = date(2100, 12, 31)  # nor later: far from the year 9999, where date arithmetic overflows
EARLIEST_CLINIC_DATE = date(2000, 1, 1)  # no booking, authorization or lot of the clinic's is older
MAX_AGE_YEARS = 120


def _day(value) -> date:
    """The calendar day of a date, or of a datetime in the clinic's time zone (as the form entered it)."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            try:
                return timezone.localtime(value).date()
            except OverflowError:  # within hours of the years 1 and 9999: its own wall-clock day will do
                pass
        return value.date()
    return value


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


@deconstructible
class DateWindow:
    """A date (or a datetime's local day) between two bounds; bounds given in years count from today.

    `earliest`/`latest` are fixed dates; `years_back`/`years_ahead` are relative to the day of validation.
    """

    def __init__(self, *, earliest=EARLIEST_DATE, latest=LATEST_DATE, years_back=None, years_ahead=None, what=""):
        self.earliest, self.latest = earliest, latest
        self.years_back, self.years_ahead, self.what = years_back, years_ahead, what

    def bounds(self) -> tuple[date, date]:
        today = timezone.localdate()
        earliest, latest = self.earliest, self.latest
        if self.years_back is not None:
            earliest = max(earliest, _years_from(today, -self.years_back))
        if self.years_ahead is not None:
            latest = min(latest, _years_from(today, self.years_ahead))
        return earliest, latest

    def __call__(self, value) -> None:
        if value is None:
            return
        earliest, latest = self.bounds()
        day = _day(value)
        if not earliest <= day <= latest:
            what = self.what or "a date"
            raise ValidationError(
                f"Enter {what} between {earliest:%d %b %Y} and {latest:%d %b %Y}.", code="implausible_date"
            )

    def __eq__(self, other):
        return isinstance(other, DateWindow) and vars(self) == vars(other)


@deconstructible
class BirthDate(DateWindow):
    """Not in the future and no more than 120 years ago."""

    def __init__(self):
        super().__init__(years_back=MAX_AGE_YEARS, years_ahead=0)

    def __call__(self, value) -> None:
        if value is None:
            return
        earliest, latest = self.bounds()
        if _day(value) > latest:
            raise ValidationError("A date of birth cannot be in the future.", code="birth_in_future")
        if _day(value) < earliest:
            raise ValidationError(
                f"A date of birth must be within the last {MAX_AGE_YEARS} years (after {earliest:%d %b %Y}).",
                code="birth_too_early",
            )


# The windows the forms use, named for what they hold.
birth_date = BirthDate()
# Bookings, plans, check-in series: from the past year (a series counted from an induction that ended
# recently) to two years ahead; further out is a typing error, not a plan.
booking_date = DateWindow(earliest=EARLIEST_CLINIC_DATE, years_back=1, years_ahead=2, what="a date")
# Prior authorizations cover at most a year or two: from five years back (an old one looked up) to two years ahead.
authorization_date = DateWindow(earliest=EARLIEST_CLINIC_DATE, years_back=5, years_ahead=2, what="a date")
AUTHORIZATION_MAX_DAYS = 3 * 366  # first to last day of one authorization
# Expiry dates of controlled-substance lots.
expiry_date = DateWindow(earliest=EARLIEST_CLINIC_DATE, what="an expiry date")
# Dates typed into addresses (a schedule day, a filter): since 2000, up to ten years ahead.
clinic_date = DateWindow(earliest=EARLIEST_CLINIC_DATE, years_ahead=10, what="a date")
# What happened at the clinic and is recorded on a form (a treatment date, a reading, a dose, a signature, an
# enrollment; the audit log's dates): since 2000 and at most a year ahead. The record's own checks keep event times
# to the session's day; this only stops a mistyped year.
recorded_date = DateWindow(earliest=EARLIEST_CLINIC_DATE, years_ahead=1, what="a date")
any_date = DateWindow()


def clock_changes_at(moment: datetime) -> bool:
    """Whether the clinic's clocks skip this wall-clock time (spring forward) or show it twice (fall back)."""
    zone = timezone.get_current_timezone()
    return moment.replace(tzinfo=zone, fold=0).utcoffset() != moment.replace(tzinfo=zone, fold=1).utcoffset()


def clock_change_message(moment: datetime) -> str:
    return f"{moment:%H:%M} on {moment:%d %b %Y} is skipped or repeated when the clocks change. Choose another time."


class ClinicDateTimeField(forms.DateTimeField):
    """A date and time on the clinic's clock; one the clocks skip or repeat is refused in the clinic's words, not in
    the name of a time zone."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if exc.code != "ambiguous_timezone":
                raise
            raise ValidationError(clock_change_message(exc.params["datetime"]), code="clock_change") from exc


def add_date_window(field: forms.Field, window: DateWindow) -> None:
    """Put `window` on a form field in place of the one it has (its date picker's range too)."""
    field.validators = [v for v in field.validators if not isinstance(v, DateWindow)] + [window]
    field.widget.attrs.pop("min", None)
    field.widget.attrs.pop("max", None)
    bound_field(field)


class BoundedInput:
    """Form mixin: every free-text field gets a length cap, every date field a plausible window, every number bounds.

    Single-line fields without a `max_length` get NAME_MAX, text areas NOTE_MAX, passwords PASSWORD_MAX; a
    `max_length` set without its validator (as `AuthenticationForm` does for the username) gets the validator.
    Date and date-time fields without a window get `recorded_date`'s; a ModelForm field takes its model field's window
    (a birth date's), or else the wider 1900–2100 one. Date pickers offer only the window (`min`/`max`).
    Put it first among the bases: `class PlanForm(BoundedInput, forms.Form)`.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bound_fields()

    def full_clean(self):
        self.bound_fields()  # fields a form's own __init__ added after this one's (the REMS form's event rows)
        super().full_clean()

    def bound_fields(self) -> None:
        is_model_form = isinstance(self, forms.ModelForm)
        for name, field in self.fields.items():
            if is_model_form:  # a window on the model field (a birth date's) is the form field's too
                model_field = next((f for f in self._meta.model._meta.concrete_fields if f.name == name), None)
                windows = [v for v in getattr(model_field, "validators", []) if isinstance(v, DateWindow)]
                if windows and not any(isinstance(v, DateWindow) for v in field.validators):
                    field.validators.extend(windows)
            bound_field(field, default_window=any_date if is_model_form else recorded_date)


def bound_field(field: forms.Field, *, default_window: DateWindow = recorded_date) -> None:
    if isinstance(field, forms.CharField):
        if field.max_length is None:
            if isinstance(field.widget, forms.PasswordInput):
                field.max_length = PASSWORD_MAX
            elif isinstance(field.widget, forms.Textarea):
                field.max_length = NOTE_MAX
            else:
                field.max_length = NAME_MAX
        if not any(isinstance(v, MaxLengthValidator) for v in field.validators):
            field.validators.append(MaxLengthValidator(field.max_length))
        if not field.widget.is_hidden:
            field.widget.attrs.setdefault("maxlength", str(field.max_length))
    elif isinstance(field, forms.DateField | forms.DateTimeField):
        windows = [v for v in field.validators if isinstance(v, DateWindow)]
        if not windows:
            field.validators.append(default_window)
            windows = [default_window]
        # The browser's date picker offers only the window (the bounds every window has in common).
        earliest = max(window.bounds()[0] for window in windows)
        latest = min(window.bounds()[1] for window in windows)
        kind = field.widget.attrs.get("type") or getattr(field.widget, "input_type", "")
        if kind == "date":
            field.widget.attrs.setdefault("min", earliest.isoformat())
            field.widget.attrs.setdefault("max", latest.isoformat())
        elif kind == "datetime-local":
            field.widget.attrs.setdefault("min", f"{earliest.isoformat()}T00:00")
            field.widget.attrs.setdefault("max", f"{latest.isoformat()}T23:59")
    elif isinstance(field, forms.IntegerField):  # decimals and floats too: Django derives them from it
        # No number the clinic stores exceeds a 32-bit integer; a bigger one would fail in PostgreSQL, not the form.
        if field.max_value is None and not any(isinstance(v, MaxValueValidator) for v in field.validators):
            field.validators.append(MaxValueValidator(INTEGER_MAX))
        if field.min_value is None and not any(isinstance(v, MinValueValidator) for v in field.validators):
            field.validators.append(MinValueValidator(-INTEGER_MAX))
    elif isinstance(field, forms.MultiValueField):
        for inner in field.fields:
            bound_field(inner, default_window=default_window)


class BoundedAdminForm(BoundedInput, forms.ModelForm):
    """The admin site's default form, bounded like every other form of the clinic."""


def bound_admin_forms(site) -> None:
    """Give every admin page (and inline) that uses Django's plain ModelForm the bounded one instead."""
    for model_admin in site._registry.values():
        if model_admin.form is forms.ModelForm:
            model_admin.form = BoundedAdminForm
        for inline in model_admin.inlines:
            if inline.form is forms.ModelForm:
                inline.form = BoundedAdminForm


# ---- Dates typed into addresses ---------------------------------------------------------------------------------


def query_date(text: str | None, *, window: DateWindow = clinic_date) -> tuple[date | None, str]:
    """A day from a query string: (the day, "") or (None, a sentence saying why it was not used).

    Missing text is (None, ""): the caller's default, without a message.
    """
    if not text:
        return None, ""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, "That address has no valid date in it."
    try:
        window(day)
    except ValidationError as exc:
        return None, exc.messages[0]
    return day, ""


# ---- Requests ---------------------------------------------------------------------------------------------------

NUL_MESSAGE = (
    "Your request contained a “null” character, which the clinic cannot store (it sometimes comes along when text "
    "is pasted from another program). Go back, retype the text and try again."
)
TOO_LONG_MESSAGE = (
    f"Something you sent is longer than the clinic accepts (at most {REQUEST_VALUE_MAX:,} characters in one field). "
    "Go back, shorten it and try again."
)


def _bad_value(values) -> str:
    for value in values:
        if "\x00" in value:
            return NUL_MESSAGE
        if len(value) > REQUEST_VALUE_MAX:
            return TOO_LONG_MESSAGE
    return ""


def bad_input_message(request) -> str:
    """Why a request is refused before any view sees it ("" when it is fine)."""
    if "\x00" in request.path or "\x00" in request.path_info:
        return NUL_MESSAGE
    problem = _bad_value(key for key in request.GET) or _bad_value(v for _, vs in request.GET.lists() for v in vs)
    if problem or request.method != "POST":
        return problem
    try:
        posted = request.POST
    except UnreadablePostError:  # the client went away; the view's own read of the body will say so
        return ""
    return _bad_value(key for key in posted) or _bad_value(v for _, vs in posted.lists() for v in vs)


class RejectBadInputMiddleware:
    """400 with a plain explanation for NUL characters or oversized values anywhere in a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        message = bad_input_message(request)
        if message:
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)
