"""`make bench`: a load benchmark of the clinic's pages on PostgreSQL, served as in production.

For each clinic size in BENCH_PATIENTS (default "1000,10000") it:

1. builds (once; a later run reuses it) a database of that size next to BENCH_DATABASE_URL's: the demo clinic
   (`seed_demo`) grown with `seed_bench --patients N` (about 10 dosing sessions, 7 check-ins, 25 reminders and
   18 audit entries per patient, in bulk inserts);
2. serves it with gunicorn (2 workers, DEBUG off, production settings, loopback), with a one-line page beside the
   real ones (BENCH_BARE_VIEW);
3. drives each page and the one-line page alternately with `wrk -t2 -c20 -d10s` (BENCH_SECONDS changes the 10),
   signed in as the role the page is for;
4. times the PDFs (the REMS form; the treatment summary of a 100-session course and the clinic outcomes over the
   whole clinic, each against WeasyPrint printing a plain table of the same rows, the ratios printed), the cadence
   engine planning 10,000 inductions, and the reminder, authorization and check-in sweeps.

It prints one table per clinic size and the growth from the smallest to the largest, and writes `.run/bench.json`
(a list of rows: {"page", "patients", "rps", "p50_ms", "p95_ms", "p99_ms", "bare_rps", "ratio"} per page and size,
{"page", "patients", "seconds"} for the PDFs and sweeps). It asserts nothing. It installs nothing: without `wrk`
it says how to get it and times only the PDFs and sweeps.

Child processes: `python -m tests.bench prepare|timings` run inside a configured Django for one database.
`python -m tests.bench pdfs` times the PDFs alone against the database the environment names (DATABASE_URL), e.g. a
scratch clinic seeded with `seed_demo` and `seed_bench`; it adds the 100-session patient there if missing.
"""

import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / ".run"
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
GUNICORN = str(Path(PY).with_name("gunicorn"))
DEFAULT_URL = "postgres://kap:kap@127.0.0.1:5432/kap_bench"
SIZES = [int(n) for n in os.environ.get("BENCH_PATIENTS", "1000,10000").replace(" ", "").split(",") if n]
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
THREADS, CONNECTIONS, WORKERS = 2, 20, 2
SECRET = os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(64)
CSRF = "b" * 32  # an unmasked CSRF secret, sent as the cookie and as the form's token


# --- The parent: databases, gunicorn, wrk, the report ---------------------------------------------------------------


def database_url(patients: int) -> str:
    """One database per clinic size, named after BENCH_DATABASE_URL's: kap_bench_1000, kap_bench_10000..."""
    base = urlparse(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL)
    return urlunparse(base._replace(path=f"{base.path.rstrip('/')}_{patients}"))


def ensure_database(url: str) -> bool:
    """Create the database when it is missing (the role needs CREATEDB, or create it beforehand)."""
    import psycopg2  # the parent process runs without Django; only this step talks to the server directly

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    try:
        conn = psycopg2.connect(urlunparse(parts._replace(path="/postgres")))
    except psycopg2.Error as exc:
        print(f"Cannot reach PostgreSQL at {parts.hostname}:{parts.port}: {exc}".strip())
        return False
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            try:
                cur.execute(f'CREATE DATABASE "{name}"')
            except psycopg2.Error as exc:
                print(f"Cannot create database {name} ({exc.pgerror or exc}).")
                print(f"Create it as a superuser: createdb -O {parts.username} {name}")
                return False
    conn.close()
    return True


def django_env(url: str, port: int | None = None) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "STATIC_ROOT": str(RUN / "bench-static"),
        "BENCH_BARE_VIEW": "1",
        "DJANGO_SETTINGS_MODULE": "kap_clinic.settings",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_RUNTIME_ROLE", "REDIS_URL", "KAP_REQUIRE_SERVICES", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]  # the production cache (Redis) instead of local memory
    if port:
        env.update(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(WORKERS))
        env["GUNICORN_ACCESS_LOG"] = str(RUN / "bench-access.log")
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def child(env: dict, command: str) -> dict:
    out = subprocess.run(
        [PY, "-m", "tests.bench", command], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    log = open(RUN / "bench-gunicorn.log", "ab")
    proc = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
    for _ in range(300):
        try:
            probe(port, {"path": "/bench/bare/"}, "")
            return proc
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer; see .run/bench-gunicorn.log")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def headers_for(cookie: str, port: int) -> dict:
    return {
        "Cookie": f"{cookie}; csrftoken={CSRF}" if cookie else f"csrftoken={CSRF}",
        "X-Forwarded-Proto": "https",
        "Origin": f"https://127.0.0.1:{port}",
        "Referer": f"https://127.0.0.1:{port}/",
    }


def probe(port: int, page: dict, cookie: str) -> int:
    """The page's status for one request, to tell a fast page from a fast error."""
    body = page.get("body")
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"http://127.0.0.1:{port}{page['path']}",
        data=body.encode() if body else None,
        headers={**headers_for(cookie, port), "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        return urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({})).open(request, timeout=60).status
    except urllib.error.HTTPError as exc:
        return exc.code


LUA = """
{setup}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def wrk(port: int, path: str, cookie: str, body: str | None = None) -> dict:
    setup = ""
    if body:
        setup = (
            f'wrk.method = "POST"\nwrk.body = "{body}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"'
        )
    script = RUN / "bench-wrk.lua"
    script.write_text(LUA.format(setup=setup))
    args = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
    ]
    for name, value in headers_for(cookie, port).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        return {"rps": 0.0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "errors": -1}
    requests, duration, p50, p95, p99, status_errors, socket_errors = (int(x) for x in line.split()[1:])
    return {
        "rps": round(requests / (duration / 1e6), 1),
        "p50_ms": round(p50 / 1000, 1),
        "p95_ms": round(p95 / 1000, 1),
        "p99_ms": round(p99 / 1000, 1),
        "errors": status_errors + socket_errors,
    }


def load_pages(patients: int, targets: dict, port: int) -> list[dict]:
    # The one-line page without a session: the whole middleware stack, but no session, user or device to read.
    # Printed once per size beside the signed-in one-line page each real page is compared with.
    anonymous = wrk(port, "/bench/bare/", "")
    rows = [{"page": "one-line page, signed out", "patients": patients, **anonymous, "bare_rps": anonymous["rps"]}]
    rows[0]["ratio"] = None  # the comparison itself, not a page compared with it
    print(f"  {'one-line page, signed out':<28} {anonymous['rps']:8.1f} req/s  p95 {anonymous['p95_ms'] or 0:7.1f} ms")
    for page in targets["pages"]:
        cookie = targets["cookies"][page["role"]]
        status = probe(port, page, cookie)
        bare = wrk(port, "/bench/bare/", cookie)
        result = wrk(port, page["path"], cookie, page.get("body"))
        ratio = round(result["rps"] / bare["rps"], 4) if bare["rps"] else None
        row = {"page": page["name"], "patients": patients, **result, "bare_rps": bare["rps"], "ratio": ratio}
        if status != 200:
            row["status"] = status
        rows.append(row)
        note = f"  (answered {status})" if status != 200 else ""
        print(
            f"  {page['name']:<28} {result['rps']:8.1f} req/s  p50 {result['p50_ms'] or 0:7.1f}  "
            f"p95 {result['p95_ms'] or 0:7.1f}  p99 {result['p99_ms'] or 0:7.1f} ms  "
            f"bare {bare['rps']:7.1f}  1/{(1 / ratio) if ratio else 0:.0f}{note}",
            flush=True,
        )
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def growth(rows: list[dict]) -> None:
    small, large = min(SIZES), max(SIZES)
    if small == large:
        return
    by = {(r["page"], r["patients"]): r for r in rows}
    print(f"\nGrowth from {small} to {large} patients (time per request, large / small):")
    for (page, patients), row in by.items():
        if patients != small or (page, large) not in by:
            continue
        other = by[(page, large)]
        if "rps" in row and row["rps"] and other["rps"]:
            print(f"  {page:<40} {row['rps'] / other['rps']:5.2f}x")
        elif "seconds" in row and row["seconds"]:
            print(f"  {page:<40} {other['seconds'] / row['seconds']:5.2f}x")


def markdown(rows: list[dict]) -> str:
    """The README's table: per page, req/s and p95 at each size, the ratio to the one-line page, the growth."""
    sizes = sorted({r["patients"] for r in rows})
    small, large = sizes[0], sizes[-1]
    by = {(r["page"], r["patients"]): r for r in rows}
    pages = list(dict.fromkeys(r["page"] for r in rows))
    head = ["page", *(f"req/s at {n}" for n in sizes), f"p95 ms at {large}", f"bare req/s at {large}"]
    head += [f"ratio at {large}", f"growth {small}→{large}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for page in pages:
        cells = [by.get((page, n)) for n in sizes]
        last, first = cells[-1], cells[0]
        if last is None:
            continue
        if "seconds" in last:
            grow = f"{last['seconds'] / first['seconds']:.2f}×" if first and first.get("seconds") else ""
            values = [f"{c['seconds']:.3f} s" if c else "" for c in cells]
            lines.append("| " + " | ".join([page, *values, "", "", "", grow]) + " |")
            continue
        grow = f"{first['rps'] / last['rps']:.2f}×" if first and first["rps"] and last["rps"] else ""
        ratio = f"1/{1 / last['ratio']:.0f}" if last.get("ratio") else ""
        values = [f"{c['rps']:.1f}" if c else "" for c in cells]
        lines.append(
            "| " + " | ".join([page, *values, f"{last['p95_ms']}", f"{last['bare_rps']:.0f}", ratio, grow]) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    RUN.mkdir(exist_ok=True)
    have_wrk = shutil.which("wrk") is not None
    if not have_wrk:
        print("wrk is not installed, so pages are not load-tested (PDFs and sweeps still are).")
        print("Install it with your package manager, e.g. `sudo apt-get install -y wrk` or `brew install wrk`.")
    print(f"Machine: {machine()}")
    rows: list[dict] = []
    for patients in SIZES:
        url = database_url(patients)
        if not ensure_database(url):
            continue
        print(f"\n== {patients} patients ({urlparse(url).path.lstrip('/')}) ==", flush=True)
        env = django_env(url)
        started = time.monotonic()
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        subprocess.run(
            [PY, "manage.py", "seed_demo", "--allow-production"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        manage(env, "seed_bench", "--patients", str(patients))
        print(f"  database ready in {time.monotonic() - started:.0f} s", flush=True)
        if have_wrk:
            port = free_port()
            env = django_env(url, port)
            targets = child(env, "prepare")
            server = start_gunicorn(env, port)
            try:
                rows += load_pages(patients, targets, port)
            finally:
                server.terminate()
                server.wait(timeout=30)
        timed = child(django_env(url), "timings")["rows"]
        for row in timed:
            rows.append({**row, "patients": patients})
            print(f"  {row['page']:<40} {row['seconds']:8.3f} s", flush=True)
        for ratio in against_plain(timed):
            print(f"  {ratio}", flush=True)
    growth(rows)
    (RUN / "bench.json").write_text(json.dumps(rows, indent=1) + "\n")
    print(f"\nWrote {RUN / 'bench.json'} ({len(rows)} rows). Machine: {machine()}\n")
    if rows:
        print(markdown(rows))


# --- The children: inside Django, for one database -------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def session_cookie(username: str) -> str:
    from django.conf import settings
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
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def prepare() -> dict:
    """Signed-in cookies per role and the pages to load, with the records they show."""
    from django.urls import reverse
    from django.utils import timezone

    from patients.models import Patient
    from sessions.models import TreatmentPlan

    mine = Patient.objects.filter(mrn__startswith="KB", primary_clinician__username="clinician").order_by("pk")
    chart = mine[mine.count() // 2] if mine.exists() else Patient.objects.order_by("pk").first()
    plan = TreatmentPlan.objects.filter(patient=chart).order_by("pk").first()
    today = timezone.localdate().isoformat()
    pages = [
        ("clinician home", "clinician", "/"),
        ("intake home", "intake", "/"),
        ("admin home", "admin", "/"),
        ("portal home", "patient", "/"),
        ("portal schedule", "patient", "/treatment/my-schedule/"),
        ("day schedule", "intake", f"/treatment/schedule/?day={today}"),
        ("week schedule", "intake", f"/treatment/schedule/?day={today}&span=week"),
        ("patient chart", "clinician", f"/patients/{chart.pk}/"),
        ("treatment plan", "clinician", f"/treatment/plan/{plan.pk}/" if plan else "/"),
        ("aftercare page", "clinician", f"/aftercare/patient/{chart.pk}/"),
        # A family-name start that fills a page of 25 at every size (the bench names run Family0 to Family4998),
        # and one patient looked up by "family, given".
        ("patient search", "intake", "/patients/", f"q=Family1&csrfmiddlewaretoken={CSRF}"),
        (
            "patient lookup",
            "intake",
            "/patients/",
            f"q={chart.family_name}%2C+{chart.given_name}&csrfmiddlewaretoken={CSRF}",
        ),
        ("reminders list", "intake", "/reminders/"),
        ("audit log", "admin", "/audit/"),
        ("audit log by patient", "admin", f"/audit/?patient={chart.mrn}"),
        ("patient billing", "intake", reverse("billing:patient_billing", kwargs={"patient_pk": chart.pk})),
        ("pre-authorization work", "intake", reverse("billing:preauth_work")),
    ]
    return {
        "cookies": {role: session_cookie(role) for role in ("clinician", "intake", "admin", "patient")},
        "pages": [
            {"name": name, "role": role, "path": path, **({"body": extra[0]} if extra else {})}
            for name, role, path, *extra in pages
        ],
    }


def _rems_pdf():
    from django.db import transaction

    from sessions.models import DosingSession, RemsMonitoringForm
    from sessions.rems.pdf import rems_form_pdf

    form = RemsMonitoringForm.objects.order_by("pk").first()
    if form is not None:
        return lambda: rems_form_pdf(form)
    session = DosingSession.objects.filter(protocol__requires_rems=True).order_by("pk").first()
    if session is None:
        return None

    def render():
        # No form on file yet: a filled one for a Spravato session, rendered, then undone.
        with transaction.atomic():
            patient = session.patient
            blank = RemsMonitoringForm.objects.create(
                session=session,
                patient_first_name=patient.given_name,
                patient_last_name=patient.family_name,
                patient_date_of_birth=patient.date_of_birth,
                is_first_treatment=False,
                created_by=session.clinician,
            )
            rems_form_pdf(blank)
            transaction.set_rollback(True)

    return render


LONG_COURSE_MRN = "KL-0000100"  # not "KB": seed_bench counts its own patients by that prefix
LONG_COURSE_SESSIONS = 100


def long_course_patient():
    """A patient with 100 dosing sessions a week apart (dose, vitals, MOAA/S and CADSS each), a PHQ-9 every four
    weeks, with a clinician and room of their own, added to the bench database once (a later run reuses it)."""
    from datetime import date, datetime, time, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from aftercare.models import CheckIn, CheckInResponse
    from kap_clinic.kernel.accounts.models import User
    from kap_clinic.kernel.accounts.roles import Role
    from patients.models import Patient
    from sessions.models import (
        DoseAdministration,
        DosingSession,
        Enrollment,
        Protocol,
        Room,
        ScaleScore,
        TreatmentPlan,
        VitalSign,
    )

    found = Patient.objects.filter(mrn=LONG_COURSE_MRN).first()
    if found is not None:
        return found
    with transaction.atomic():
        clinician, _ = User.objects.get_or_create(
            username="bench-long-course",
            defaults={"role": Role.CLINICIAN, "first_name": "Bench", "last_name": "Long Course"},
        )
        room, _ = Room.objects.get_or_create(name="Bench room long course")
        protocol = Protocol.objects.filter(requires_rems=False, is_active=True).order_by("pk").first()
        patient = Patient(
            given_name="Long",
            family_name="Course",
            family_name_key="course",
            date_of_birth=date(1970, 1, 1),
            primary_clinician=clinician,
            status="maintenance",
        )
        patient.mrn = LONG_COURSE_MRN
        Patient.objects.bulk_create([patient])  # the MRN is the bench's own, not the registry's next one
        patient = Patient.objects.get(mrn=LONG_COURSE_MRN)
        enrollment = Enrollment.objects.create(
            patient=patient, enrolled_by=clinician, override_justification="Bench clinic"
        )
        tz = ZoneInfo(settings.TIME_ZONE)
        first_day = timezone.localdate() - timedelta(weeks=LONG_COURSE_SESSIONS + 1)
        plan = TreatmentPlan.objects.create(
            patient=patient,
            enrollment=enrollment,
            protocol=protocol,
            planned_dose=protocol.default_dose,
            first_day=first_day,
            created_by=clinician,
        )
        sessions = []
        for n in range(LONG_COURSE_SESSIONS):
            starts = datetime.combine(first_day + timedelta(weeks=n), time(17, 0), tz)  # after every bench slot
            sessions.append(
                DosingSession(
                    plan=plan,
                    patient=patient,
                    protocol=protocol,
                    sequence=n + 1,
                    phase="induction" if n < 6 else "maintenance",
                    planned_dose=plan.planned_dose,
                    room=room,
                    clinician=clinician,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=110),
                    dose_window_ends_at=starts + timedelta(hours=24),
                    status=DosingSession.Status.COMPLETED,
                )
            )
        sessions = DosingSession.objects.bulk_create(sessions)
        doses, vitals, scores, checkins = [], [], [], []
        for n, session in enumerate(sessions):
            at = session.starts_at + timedelta(minutes=10)
            doses.append(
                DoseAdministration(
                    session=session,
                    dose_mg_given=Decimal("35.0"),
                    dose_mg_per_kg=Decimal("0.5"),
                    dosed_at=at,
                    dosed_by=clinician,
                )
            )
            for minutes, sbp in ((0, 122), (20, 138 + n % 9), (40, 126)):
                vitals.append(
                    VitalSign(
                        session=session,
                        taken_at=at + timedelta(minutes=minutes),
                        minutes_from_dose=minutes,
                        sbp=sbp,
                        dbp=80,
                        hr=70 + minutes // 10,
                        spo2=98,
                        recorded_by=clinician,
                    )
                )
            for scale, score, minutes in (("moaas", 3 + n % 2, 20), ("cadss", 10 + n % 15, 30)):
                scores.append(
                    ScaleScore(
                        session=session,
                        scale=scale,
                        score=score,
                        taken_at=at + timedelta(minutes=minutes),
                        minutes_from_dose=minutes,
                        recorded_by=clinician,
                    )
                )
            if n % 4 == 3:
                opens = session.starts_at + timedelta(days=2)
                checkins.append(
                    CheckIn(
                        patient=patient,
                        instruments=["phq9"],
                        opens_at=opens,
                        due_at=opens + timedelta(days=2),
                        closes_at=opens + timedelta(days=4),
                        status=CheckIn.Status.COMPLETED,
                        completed_at=opens + timedelta(hours=5),
                        created_by=clinician,
                    )
                )
        DoseAdministration.objects.bulk_create(doses)
        VitalSign.objects.bulk_create(vitals)
        ScaleScore.objects.bulk_create(scores)
        checkins = CheckIn.objects.bulk_create(checkins)
        CheckInResponse.objects.bulk_create(
            CheckInResponse(checkin=checkin, code="phq9", answers=[], total=max(3, 18 - n), band="")
            for n, checkin in enumerate(checkins)
        )
    return patient


def _summary_pdf():
    from kap_clinic.reports.kinds import KINDS

    patient = long_course_patient()
    return lambda: KINDS["patient_summary"].render({"patient": patient.pk, "format": "pdf"}, "pdf")


def _whole_clinic() -> dict | None:
    """The outcomes report's parameters for the whole clinic: from its first dosing session to its last."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from sessions.models import DosingSession

    span = DosingSession.objects.aggregate(first=Min("starts_at"), last=Max("starts_at"))
    if span["first"] is None:
        return None
    return {
        "format": "pdf",
        "start": timezone.localdate(span["first"]).isoformat(),
        "end": timezone.localdate(span["last"]).isoformat(),
    }


def _outcomes_pdf():
    from kap_clinic.reports.kinds import KINDS

    params = _whole_clinic()
    if params is None:
        return None
    return lambda: KINDS["outcomes"].render(params, "pdf")


def _outcomes_plain_pdf():
    """WeasyPrint printing the clinic outcomes' rows, the very cells, as one plain table (no titles or notes between
    tables): what the outcomes PDF is measured against."""
    from types import SimpleNamespace

    from kap_clinic.reports.kinds import KINDS, render_document
    from kap_clinic.reports.tables import Table

    params = _whole_clinic()
    if params is None:
        return None
    kind = KINDS["outcomes"]
    report = kind.build(**kind._arguments(params))  # computed once, outside the timing: only the printing is compared
    width = max(len(table.headers) for table in report.tables)
    rows = [[*row, *[""] * (width - len(row))] for table in report.tables for row in table.rows]
    context = {
        "report_title": "Plain table",
        "period": "all dates",
        "report": SimpleNamespace(tables=[Table("Rows", [f"Column {n + 1}" for n in range(width)], rows)]),
    }
    return lambda: render_document("reports/pdf/tables.html", context)


def _plain_table_pdf():
    """WeasyPrint printing one plain table of as many rows as the long-course summary has sessions, with the same
    print stylesheet and fonts: what the summary's own PDF is measured against."""
    from types import SimpleNamespace

    from kap_clinic.reports.kinds import render_document
    from kap_clinic.reports.tables import Table

    headers = ["Date", "Status", "Dose", "Blood pressure", "Heart rate", "SpO2", "MOAA/S", "CADSS", "Adverse events"]
    rows = [
        [f"2026-01-{1 + n % 28:02}", "Completed", "35.0 mg (0.5 mg/kg)", "122–146/80", "70–74", "98", "lowest 3",
         "peak 17", ""]
        for n in range(LONG_COURSE_SESSIONS)
    ]  # fmt: skip
    context = {
        "report_title": "Plain table",
        "period": "all dates",
        "report": SimpleNamespace(tables=[Table("Rows", headers, rows)]),
    }
    return lambda: render_document("reports/pdf/tables.html", context)


SUMMARY_LABEL = f"PDF: treatment summary, {LONG_COURSE_SESSIONS} sessions"
PLAIN_LABEL = f"PDF: plain table, {LONG_COURSE_SESSIONS} rows"
OUTCOMES_LABEL = "PDF: clinic outcomes, whole clinic"
OUTCOMES_PLAIN_LABEL = "PDF: plain table, the outcomes' rows"

# PDFs timed by the bench: (label, a function returning the call to time, or None when there is nothing to render).
PDFS = [
    ("PDF: Spravato REMS monitoring form", _rems_pdf),
    (SUMMARY_LABEL, _summary_pdf),
    (PLAIN_LABEL, _plain_table_pdf),
    (OUTCOMES_LABEL, _outcomes_pdf),
    (OUTCOMES_PLAIN_LABEL, _outcomes_plain_pdf),
]

# Each report PDF against WeasyPrint printing a plain table of the same rows (the aim: within 2×).
AGAINST_PLAIN = [
    (SUMMARY_LABEL, PLAIN_LABEL, f"treatment summary / plain table of {LONG_COURSE_SESSIONS} rows"),
    (OUTCOMES_LABEL, OUTCOMES_PLAIN_LABEL, "clinic outcomes / plain table of its rows"),
]


def against_plain(rows: list[dict]) -> list[str]:
    """Each report PDF's time over the plain table's of the same rows (the aim: within 2×)."""
    times = {row["page"]: row.get("seconds") for row in rows}
    lines = []
    for report, plain, label in AGAINST_PLAIN:
        if times.get(report) and times.get(plain):
            lines.append(f"{label}: {times[report] / times[plain]:.2f}× (aim: within 2×)")
    return lines


def _rolled_back(call):
    """Run a sweep in a transaction that is then undone, so the clinic stays as seeded for the next run."""
    from django.db import transaction

    def run():
        with transaction.atomic():
            call()
            transaction.set_rollback(True)

    return run


def _reminder_sweep():
    from kap_clinic.kernel.notifications import delivery

    def sweep():
        delivery.reminders_settle_stale()
        delivery.reminders_release()

    return _rolled_back(sweep)


def _authorization_sweep():
    from django.utils import timezone

    from billing.models import PriorAuthorization
    from billing.sweep import SWEEP_BATCH, authorizations_check

    def sweep():
        # What the daily task and the batches it queues do, in one process.
        today = timezone.localdate()
        ids = list(
            PriorAuthorization.objects.filter(status=PriorAuthorization.Status.APPROVED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), SWEEP_BATCH):
            authorizations_check(ids=ids[start : start + SWEEP_BATCH], today=today)

    return _rolled_back(sweep)


def _checkin_sweep():
    from aftercare.services import overdue_checkin_ids

    return _rolled_back(overdue_checkin_ids)


def _cadence():
    from datetime import timedelta

    from django.utils import timezone

    from kap_clinic.kernel.accounts.models import User
    from kap_clinic.rules import cadence
    from sessions.models import Protocol
    from sessions.scheduling.planning import clinic_calendar

    rule = Protocol.objects.filter(is_active=True).order_by("pk").first().cadence_rule()
    calendar = clinic_calendar(clinician=User.objects.get(username="clinician"))
    today = timezone.localdate()

    def plan_all():
        for n in range(10_000):
            cadence.plan_series(rule, today + timedelta(days=n % 365), calendar)

    return plan_all


SWEEPS = [
    ("cadence: 10,000 inductions planned", _cadence),
    ("sweep: reminders due", _reminder_sweep),
    ("sweep: prior authorizations", _authorization_sweep),
    ("sweep: overdue check-ins", _checkin_sweep),
]


def timings(which=None) -> dict:
    rows = []
    for label, make in PDFS + SWEEPS if which is None else which:
        call = make()
        if call is None:
            continue
        call()  # warm: templates, fonts, query plans
        started = time.perf_counter()
        call()
        rows.append({"page": label, "seconds": round(time.perf_counter() - started, 4)})
    return {"rows": rows}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in {"prepare", "timings"}:
        setup_django()
        result = prepare() if sys.argv[1] == "prepare" else timings()
        print(json.dumps(result))
    elif len(sys.argv) > 1 and sys.argv[1] == "pdfs":
        os.environ.update(django_env(os.environ.get("DATABASE_URL") or DEFAULT_URL))  # DEBUG off, as in `timings`
        setup_django()
        timed = timings(PDFS)["rows"]
        for row in timed:
            print(f"{row['page']:<40} {row['seconds']:8.3f} s")
        for ratio in against_plain(timed):
            print(ratio)
    else:
        main()
