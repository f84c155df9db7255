"""What the patient registry announces, for the apps above it to act on without the registry knowing them."""

from django.dispatch import Signal

# A patient's email, phone or consent to be contacted changed. Sent inside the change's transaction with
# `patient`, so whatever plans messages to the patient re-plans them before it commits.
contact_details_changed = Signal()
