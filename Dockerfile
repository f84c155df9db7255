# Production image for the site, the Celery worker and Celery beat (docker-compose.yml runs all three).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Libraries WeasyPrint loads at run time to render PDFs, and fonts for them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libffi8 \
        fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them (no dev extras), at the locked versions.
COPY pyproject.toml requirements.lock ./
RUN pip install -c requirements.lock .

COPY . .

# The code stays owned by root; the app user writes only collected static files, beat's schedule and private
# uploads (scanned consent forms, PRIVATE_MEDIA_ROOT, a volume in docker-compose.yml).
RUN useradd --system --create-home --home-dir /home/app --uid 10001 app \
    && mkdir -p /app/staticfiles /app/private_media \
    && chown app:app /app/staticfiles /app/private_media

USER app

EXPOSE 8000

CMD ["gunicorn", "kap_clinic.wsgi:application", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
