"""What sessions announce to the apps above them, which connect in their `AppConfig.ready()`.

- `session_status_changed(sender=DosingSession, session=, from_status=, to_status=)`: a dosing session was checked
  in, its check-in undone, cancelled, marked a no-show, dosed or completed; sent in the changing transaction (billing
  counts the units of the patient's prior authorizations again: a session uses a unit once the patient has arrived;
  it charges a completed session's codes, and a late cancellation's or a no-show's fee, once). A cancelled session
  says who cancelled in `session.cancelled_by` (the patient or the clinic): only the patient's late cancellation is
  charged.
"""

from django.dispatch import Signal

session_status_changed = Signal()
