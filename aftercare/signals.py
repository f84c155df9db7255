"""What aftercare announces to the apps above it, connected in composition (kap_clinic/homes/receivers.py).

- `integration_session_completed(sender=IntegrationSession, session=)`: an integration session was held and its notes
  written; sent in the completing transaction (billing charges it).
"""

from django.dispatch import Signal

integration_session_completed = Signal()
