"""Custodia settings, all driven by environment variables (see the table in README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CUSTODIA_VAR_DIR", str(BASE_DIR / "var"))).resolve()
TESTING = "pytest" in sys.modules or env_bool("CUSTODIA_TESTING", False)

DEBUG = env_bool("DEBUG", False)
# Production hardening applies unless running locally in DEBUG or under the test suite.
PRODUCTION = not DEBUG and not TESTING
if not PRODUCTION:
    # A development-only key; production must supply SECRET_KEY or SECRET_KEY_FILE.
    SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-custodia-key-do-not-use-in-production-0123456789")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "access",
    "trail",
    "registry",
    "lineage",
    "audits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "trail.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "access.context_processors.principal",
            ],
        },
    },
]

# Database: SQLite in VAR_DIR is the embedded default; production sets DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'custodia.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not memory) test database, so a real Celery worker process can share it.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test_custodia.sqlite3")}
    # IMMEDIATE: a transaction takes the write lock when it begins and waits (up to the timeout)
    # for it. Django's default (deferred) starts as a reader and upgrading later fails at once
    # with "database is locked" when another writer committed in between — the busy timeout does
    # not apply to that upgrade — which is what concurrent lineage producers hit.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous user object
GUARDIAN_RAISE_403 = False
GUARDIAN_MONKEY_PATCH_USER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "access:login"
LOGIN_REDIRECT_URL = "registry:dashboard"
LOGOUT_REDIRECT_URL = "access:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
if not PRODUCTION:
    # Outside production, WhiteNoise serves from the app directories (its finders) but still
    # warns on every request when collectstatic's directory does not exist.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", PRODUCTION)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Request size limits: JSON and form bodies; dataset files have their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 5 * 1024 * 1024, minimum=1024)
DATASET_UPLOAD_MAX_BYTES = env_int("DATASET_UPLOAD_MAX_BYTES", 512 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# One OpenLineage event (after gzip decompression) or one batch of them.
LINEAGE_MAX_EVENT_BYTES = env_int("LINEAGE_MAX_EVENT_BYTES", 5 * 1024 * 1024, minimum=1024)
LINEAGE_MAX_BATCH_BYTES = env_int("LINEAGE_MAX_BATCH_BYTES", 50 * 1024 * 1024, minimum=1024)
LINEAGE_MAX_BATCH_EVENTS = env_int("LINEAGE_MAX_BATCH_EVENTS", 1000, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # DRF's own JSON and form parsers skip Django's DATA_UPLOAD_MAX_MEMORY_SIZE check; these keep it.
    "DEFAULT_PARSER_CLASSES": [
        "access.api.parsers.JSONParser",
        "access.api.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "access.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "access.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Custodia API",
    "DESCRIPTION": "Governance, audit and lineage registry for ML and LLM systems.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI assets come from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for a choice set used by several fields (stage, from_stage, to_stage…).
    "ENUM_NAME_OVERRIDES": {
        "ModelStageEnum": "registry.choices.ModelStage",
        "FindingStatusEnum": "audits.choices.FindingStatus",
        "CheckKindEnum": "audits.choices.CheckKind",
        "SeverityEnum": "audits.choices.Severity",
        "ImpactEnum": "audits.choices.Impact",
        "ReportKindEnum": "audits.choices.ReportKind",
        "ReportLanguageEnum": "audits.choices.ReportLanguage",
        "RunStateEnum": "audits.choices.RunState",
    },
}

# Celery. The embedded default is kombu's filesystem transport: a real worker, no server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / ("broker-test" if TESTING else "broker")
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange bindings (broadcasts, purge); kombu's default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True  # tasks record their outcome in our own tables
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "verify-audit-trail-daily": {
        "task": "trail.tasks.verify_audit_trail",
        "schedule": env_int("AUDIT_VERIFY_INTERVAL_SECONDS", 24 * 3600, minimum=60),
    },
    "reap-stale-check-runs": {
        "task": "audits.tasks.reap_stale_runs",
        "schedule": env_int("CHECK_REAP_INTERVAL_SECONDS", 60, minimum=1),
    },
    "run-scheduled-checks": {"task": "audits.tasks.run_scheduled_checks", "schedule": 3600},
    "sync-mlflow-servers": {
        "task": "registry.tasks.sync_mlflow_servers",
        "schedule": env_int("MLFLOW_SYNC_INTERVAL_SECONDS", 3600, minimum=60),
    },
}
# Checks: a running check writes a heartbeat every CHECK_HEARTBEAT_SECONDS; one silent for
# CHECK_STALE_SECONDS is taken as lost (its worker died) and queued again, at most CHECK_MAX_ATTEMPTS times.
CHECK_HEARTBEAT_SECONDS = env_int("CHECK_HEARTBEAT_SECONDS", 5, minimum=1)
CHECK_STALE_SECONDS = env_int("CHECK_STALE_SECONDS", 60, minimum=2)
CHECK_MAX_ATTEMPTS = env_int("CHECK_MAX_ATTEMPTS", 3, minimum=1)
# Text files larger than this are scanned in parts of about this size, by any free worker (bytes).
CHECK_PART_BYTES = env_int("CHECK_PART_BYTES", 32 * 1024 * 1024, minimum=1024)
# A part of a split check still queued after this long is queued again (its message may have been lost).
CHECK_PART_REQUEUE_SECONDS = env_int("CHECK_PART_REQUEUE_SECONDS", 600, minimum=10)
# Uploaded predictions or evaluation files larger than this are refused (bytes).
CHECK_UPLOAD_MAX_BYTES = env_int("CHECK_UPLOAD_MAX_BYTES", 2 * 1024**3, minimum=1024)
# The memorisation check's extraction test calls a model version's OpenAI-compatible serving endpoint.
MEMORISATION_ENDPOINT_API_KEY = env_str("MEMORISATION_ENDPOINT_API_KEY", "")
MEMORISATION_ENDPOINT_TIMEOUT = env_int("MEMORISATION_ENDPOINT_TIMEOUT", 60, minimum=1)
# A report still "running" after this long lost its worker; the reaper fails it so it can be generated again.
REPORT_STALE_SECONDS = env_int("REPORT_STALE_SECONDS", 900, minimum=60)

# MLflow integration (registry/mlflow/). A sync of an unreachable server is tried again after
# MLFLOW_SYNC_RETRY_SECONDS (doubling), MLFLOW_SYNC_MAX_ATTEMPTS times in all; each HTTP call waits
# at most MLFLOW_SYNC_HTTP_TIMEOUT seconds and is retried MLFLOW_SYNC_HTTP_RETRIES times. A sync
# still "running" after MLFLOW_SYNC_STALE_SECONDS is taken as lost (its worker died). A server whose
# credentials come from a secret file names a file in MLFLOW_SECRETS_DIR.
MLFLOW_SYNC_MAX_ATTEMPTS = env_int("MLFLOW_SYNC_MAX_ATTEMPTS", 3, minimum=1)
MLFLOW_SYNC_RETRY_SECONDS = env_int("MLFLOW_SYNC_RETRY_SECONDS", 60, minimum=1)
MLFLOW_SYNC_HTTP_TIMEOUT = env_int("MLFLOW_SYNC_HTTP_TIMEOUT", 30, minimum=1)
MLFLOW_SYNC_HTTP_RETRIES = env_int("MLFLOW_SYNC_HTTP_RETRIES", 2, minimum=0)
MLFLOW_SYNC_STALE_SECONDS = env_int("MLFLOW_SYNC_STALE_SECONDS", 3600, minimum=60)
MLFLOW_SECRETS_DIR = Path(env_str("MLFLOW_SECRETS_DIR", "/run/secrets"))

# Production hardening (all pass `manage.py check --deploy` when DEBUG is off).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading HSTS is a site owner's opt-in that takes months to undo, so it is off by default and
# its deploy-check reminder (W021) is silenced unless the operator turned preloading on.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

if TESTING:
    # Tests create many users; the production hasher would dominate their run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every glyph table it subsets (INFO) and repeated SVG ids of identical charts (WARNING).
        "fontTools": {"level": "WARNING"},
        "weasyprint": {"level": "ERROR"},
    },
}
