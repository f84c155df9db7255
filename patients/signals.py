"""What the patients app tells the apps above it, which it does not know."""

from django.dispatch import Signal

# Sent, inside the saving transaction, when a patient's contact details or contact consents changed (`patient=`).
contact_details_changed = Signal()
