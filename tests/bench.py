"""`make bench`: page timings on a production-configured copy with a realistic number of patients.

Seeds a scratch database (SQLite under .run/ unless BENCH_DATABASE_URL names another) with the demo
clinic and BENCH_PATIENTS patients, then times the busiest pages through the full middleware stack.
Prints the median and the 95th percentile per page; asserts nothing.
"""

import os
import secrets
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "50000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))


def configure():
    (ROOT / ".run").mkdir(exist_ok=True)
    default_url = f"sqlite:///{ROOT / '.run' / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or default_url
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(64)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["STATIC_ROOT"] = str(ROOT / ".run" / "bench-static")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kap_clinic.settings"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed():
    from django.core.management import call_command

    from patients.models import Patient

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("seed_demo", "--allow-production", stdout=open(os.devnull, "w"))
    missing = PATIENTS - Patient.objects.count()
    if missing > 0:
        from kap_clinic.kernel.accounts.models import User

        clinician = User.objects.get(username="clinician")
        rows = [
            Patient(
                mrn=f"KAP-{90_000_000 + i}",
                given_name=f"Given{i}",
                family_name=f"Family{i % 9973}",
                date_of_birth=date(1950, 1, 1) + timedelta(days=i % 20000),
                primary_clinician=clinician if i % 3 == 0 else None,
            )
            for i in range(missing)
        ]
        Patient.objects.bulk_create(rows, batch_size=2000)


def signed_in_client(username):
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kap_clinic.kernel.accounts.models import User

    client = Client(HTTP_X_FORWARDED_PROTO="https")
    user = User.objects.get(username=username)
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def timed(label, call):
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (label, response.status_code)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{label:<40} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms")


def main():
    configure()
    seed()
    from patients.models import Patient

    print(f"{Patient.objects.count()} patients, {ROUNDS} rounds per page")
    intake = signed_in_client("intake")
    clinician = signed_in_client("clinician")
    admin = signed_in_client("admin")
    some = Patient.objects.filter(primary_clinician__username="clinician").order_by("pk")[100]
    timed("intake home", lambda: intake.get("/"))
    timed("patient list, page 1", lambda: intake.get("/patients/"))
    timed("patient list, page 500", lambda: intake.get("/patients/?page=500"))
    timed("search by MRN", lambda: intake.post("/patients/", {"q": some.mrn}))
    timed("search by family name", lambda: intake.post("/patients/", {"q": some.family_name}))
    timed("clinician home", lambda: clinician.get("/"))
    timed("chart view (audited)", lambda: clinician.get(f"/patients/{some.pk}/"))
    timed("audit log", lambda: admin.get("/audit/"))


if __name__ == "__main__":
    main()
