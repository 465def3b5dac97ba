# Custodia production image: gunicorn + WhiteNoise for the web, the same image for Celery.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CUSTODIA_VAR_DIR=/app/var \
    MEDIA_ROOT=/data/media

# gettext compiles the translations at build time; Pango and a font let WeasyPrint render PDF reports.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# collectstatic needs settings, not the production secret: a throwaway key is enough here.
RUN useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin custodia \
    && mkdir -p /app/var /data/media \
    && if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
         for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check-format -o "${po%.po}.mo" "$po"; done; \
       fi \
    && DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdefghijklmnop \
       ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput -v0 \
    && chown -R custodia /app/var /data

USER custodia
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
