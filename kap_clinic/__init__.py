"""KAP Clinic: the project package.

Bottom to top (docs/architecture.md): ``kap_clinic.kernel`` (sign-in, audit, clinic settings, outbox),
``kap_clinic.rules`` (pure clinical rules, standard library only), the domain apps at the top level
(patients, screening, sessions, aftercare, billing), and ``kap_clinic.homes`` composing them into pages.
This file stays empty of imports so that the rules load without Django or Celery.
"""
