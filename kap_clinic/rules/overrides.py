"""How long a clinician's written override must be, wherever one lets something past a rule: the screening gate at
enrollment, a sign-off as eligible against the screening result, the Spravato label's dose rules when a series is
planned or a dose changed, and the dosing-day record's checks."""

MIN_JUSTIFICATION = 20
