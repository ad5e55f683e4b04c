"""Yiwang settings: one module, everything from environment variables.

Every variable is documented in .env.example. The defaults run the demo city on an
embedded SQLite database under ./var with no other service.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


VAR_DIR = Path(env_str("YIWANG_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = env_bool("YIWANG_DEBUG", False)
# The demo key is only for the embedded demo; production sets YIWANG_SECRET_KEY.
SECRET_KEY = env_str("YIWANG_SECRET_KEY", "yiwang-demo-only-insecure-key-change-me")
ALLOWED_HOSTS = env_list("YIWANG_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("YIWANG_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "yiwang.core",
    "yiwang.registry",
    "yiwang.exchange",
    "yiwang.cases",
    "yiwang.hotline",
    "yiwang.rules",
    "yiwang.certs",
    "yiwang.services",
    "yiwang.benefits",
    "yiwang.relapse",
    "yiwang.enrollment",
    "yiwang.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.web.context_processors.shell",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
# SQLite (WAL) by default; DATABASE_URL=postgres://user@host:5432/name switches to PostgreSQL.
SQLITE_PATH = VAR_DIR / "yiwang.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    # The platform's backends: Django's, with work run just before COMMIT (yiwang/core/db.py)
    # and, for SQLite, writers queued in arrival order (yiwang/core/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = {
        "django.db.backends.sqlite3": "yiwang.core.sqlite",
        "django.db.backends.postgresql": "yiwang.core.postgresql",
    }.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
    if DATABASES["default"]["ENGINE"] == "yiwang.core.postgresql" and env_bool("YIWANG_PG_PREPARED", True):
        # Parameters bound by the server and statements prepared after five uses on a
        # connection: ~20 % less CPU per 秒批 submission in the client and in PostgreSQL
        # (bench/services.py). Set YIWANG_PG_PREPARED=0 behind a pooler in transaction mode
        # (pgbouncer), which cannot keep a connection's prepared statements.
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": 5}
        )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite cannot create its file in a missing folder
    DATABASES = {
        "default": {
            # Django's SQLite backend, with write transactions queued in arrival order and work
            # run just before COMMIT.
            "ENGINE": "yiwang.core.sqlite",
            "NAME": SQLITE_PATH,
            # Tests use a file too (not shared-cache memory), so they run in WAL mode as production does.
            # One per process, so two test runs in one checkout do not share a file.
            "TEST": {"NAME": str(VAR_DIR / f"test-yiwang-{os.getpid()}.sqlite3")},
            "OPTIONS": {
                # IMMEDIATE: a write transaction takes the lock at BEGIN, so two writers queue
                # instead of failing with "database is locked" half-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA cache_size=-65536;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:workbench"
LOGOUT_REDIRECT_URL = "web:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if env_bool("YIWANG_FAST_PASSWORD_HASHER", False):
    # Tests and the seeded demo: hashing thousands of demo passwords with PBKDF2 is slow.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Language and time ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "web" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: served by the platform itself (no CDN) --------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("YIWANG_STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env_str("YIWANG_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Yiwang -----------------------------------------------------------------------------
YIWANG_CITY_CODE = env_str("YIWANG_CITY_CODE", "3603")
YIWANG_SEED = env_int("YIWANG_SEED", 20261123)
YIWANG_DEMO_PERSONS = env_int("YIWANG_DEMO_PERSONS", 10000)
YIWANG_DEMO_PASSWORD = env_str("YIWANG_DEMO_PASSWORD", "yiwang-demo")
# Audit chain hash: "sm3" (GB/T 32905, from OpenSSL via hashlib, gmssl where OpenSSL lacks it)
YIWANG_AUDIT_HASH = env_str("YIWANG_AUDIT_HASH", "sm3")
# HMAC key of the audit chain; empty = derived from SECRET_KEY.
YIWANG_AUDIT_KEY = env_str("YIWANG_AUDIT_KEY", "")
# Master key the departments' e-seal private keys are encrypted with at rest (certs engine);
# empty = derived from SECRET_KEY, for development only. Changing it makes stored keys unusable.
YIWANG_SEAL_KEY = env_str("YIWANG_SEAL_KEY", "")
# The 12345 centre's department code (tickets wait there for dispatch) and the routing
# confidence above which tickets are dispatched without a person (empty: the threshold the
# trained model chose for 97% precision).
HOTLINE_CENTRE = env_str("YIWANG_HOTLINE_CENTRE", "RX12345")
HOTLINE_AUTO_THRESHOLD = (
    float(env_str("YIWANG_HOTLINE_AUTO_THRESHOLD")) if env_str("YIWANG_HOTLINE_AUTO_THRESHOLD") else None
)
# The jurisdiction_id Open311 clients send (/open311/v2/); the city code is accepted too.
# Web filings per phone number per 24 hours (abuse limit; the phone line and the API have none).
HOTLINE_WEB_DAILY_LIMIT = env_int("YIWANG_HOTLINE_WEB_DAILY_LIMIT", 5)
HOTLINE_OPEN311_JURISDICTION = env_str("YIWANG_OPEN311_JURISDICTION", "pingxiang.gov.cn")

# The notification service's delivery backend: "console" (log), "file" (JSON lines in
# NOTICE_DIR) or "module.path:callable" (a city's SMS gateway); see yiwang/cases/notices.py.
NOTICE_BACKEND = env_str("YIWANG_NOTICE_BACKEND", "console")
NOTICE_DIR = env_str("YIWANG_NOTICE_DIR", str(VAR_DIR / "notices"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask": {"()": "yiwang.core.masking.MaskingLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask"]}},
    "root": {"handlers": ["console"], "level": env_str("YIWANG_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("YIWANG_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
