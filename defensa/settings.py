"""Defensa settings, read from environment variables (see docs/configuration.md).

The defaults run on one machine with SQLite and no configuration at all.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from defensa.core import languages
from defensa.core.env import env_bool, env_int, env_list, env_secret, env_str
from defensa.core.object_store import s3_media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DEFENSA_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    # One machine, no configuration: keep a generated key beside the data.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
DEMO = env_bool("DEFENSA_DEMO", False)
HTTPS = env_bool("DEFENSA_HTTPS", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
NETWORK_NAME = env_str("DEFENSA_NETWORK_NAME", "Defensa")
HOTLINE_NUMBER = env_str("DEFENSA_HOTLINE_NUMBER", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "defensa.core",
    "defensa.core.crypto",
    "defensa.core.heartbeat",
    "defensa.audit",
    "defensa.imports",
    "defensa.accounts",
    "defensa.committees",
    "defensa.people",
    "defensa.pages",
    "defensa.notify",
    "defensa.incidents",
    "defensa.reports",
    "defensa.subscribers",
    "defensa.dispatch",
    "defensa.broadcasts",
    "defensa.evidence",
    "defensa.record",
    "defensa.voice",
    "defensa.cases",
    "defensa.accompaniment",
    "defensa.organising",
    "defensa.pledges",
    "defensa.votes",
    "defensa.funds",
    "defensa.events",
    "defensa.trees",
    "defensa.ops",
    "defensa.demo",
]

MIDDLEWARE = [
    "defensa.core.middleware.ScrubRequestMetadataMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "defensa.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the two below: they tell the person why they were signed out or redirected.
    "django.contrib.messages.middleware.MessageMiddleware",
    "defensa.accounts.middleware.SignInLanguageMiddleware",
    "defensa.accounts.middleware.SessionLimitsMiddleware",
    "defensa.accounts.middleware.RequireStrongFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so its process_exception sees a view's PasswordBusy first: a 503 "try again".
    "defensa.accounts.middleware.PasswordBusyMiddleware",
]

ROOT_URLCONF = "defensa.urls"
WSGI_APPLICATION = "defensa.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "defensa.core.context_processors.site",
            ],
        },
    },
]

# Database: SQLite in WAL mode by default; PostgreSQL via DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL")
# SQLite: NORMAL (WAL) keeps every acknowledged write through a crash of the process, not
# always through a power cut or kernel crash; FULL syncs the WAL at each commit (docs/install.md).
SQLITE_SYNCHRONOUS = env_str("DEFENSA_SQLITE_SYNCHRONOUS", "NORMAL").upper()
if SQLITE_SYNCHRONOUS not in ("NORMAL", "FULL"):
    raise ImproperlyConfigured("DEFENSA_SQLITE_SYNCHRONOUS must be NORMAL or FULL")
# PostgreSQL: each thread keeps its own connection for a minute (CONN_MAX_AGE), unless
# DEFENSA_DB_POOL_SIZE is set: then the threads of one process share Django's psycopg pool of
# at most that many connections, each handed back at the end of a request (docs/operations.md,
# "Capacity"). Many web machines times their threads can outgrow PostgreSQL's max_connections.
DB_POOL_SIZE = env_int("DEFENSA_DB_POOL_SIZE", 0, minimum=0)
DB_POOL_TIMEOUT = env_int("DEFENSA_DB_POOL_TIMEOUT_SECONDS", 10, minimum=1)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0 if DB_POOL_SIZE else 60)
    }
    # PostgreSQL's JIT compiles any query its planner costs high, 50-100 ms each time on the
    # reference machine: more than most of Defensa's queries take to run at a million
    # members (docs/performance.md, "A million members"). Off unless asked for.
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and not env_bool(
        "DEFENSA_POSTGRES_JIT", False
    ):
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (options.get("options", "") + " -c jit=off").strip()
    if DB_POOL_SIZE and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_SIZE,
            "timeout": DB_POOL_TIMEOUT,  # a thread waits this long for a free connection
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "defensa.core.sqlite",  # Django's, with short waits for the write lock
            "NAME": DATA_DIR / "defensa.sqlite3",
            # Each gunicorn thread keeps its connection across requests: opening one (file,
            # pragmas, schema) and closing the last one (a WAL checkpoint) cost more CPU than
            # a public report's whole write. docs/performance.md, "Intake".
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    f"PRAGMA journal_mode=WAL; PRAGMA synchronous={SQLITE_SYNCHRONOUS}; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "urgent", "bulk"],
    }
}

# Delivery engine (notify). See docs/channels.md. A transport turns on when its settings are set.
# Console: writes messages to the log instead of sending them; development and demo only.
NOTIFY_CONSOLE = env_bool("NOTIFY_CONSOLE", DEBUG or DEMO)
NOTIFY_CONSOLE_RATE = env_str("NOTIFY_CONSOLE_RATE", "")
# Email over SMTP: on when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "defensa@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_RATE = env_str("EMAIL_RATE", "")  # e.g. "10/s"; empty: no limit
# SMS through a Twilio-compatible API: on when the account, token and number are set.
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
TWILIO_API_BASE = env_str("TWILIO_API_BASE", "https://api.twilio.com")
TWILIO_RATE = env_str("TWILIO_RATE", "1/s")  # a US long code; a short code ~100/s
TWILIO_TIMEOUT = env_int("TWILIO_TIMEOUT", 15, minimum=1)
# Our public address as the provider sees it (webhook signatures are computed over it).
TWILIO_WEBHOOK_BASE_URL = env_str("TWILIO_WEBHOOK_BASE_URL")
# SMS through a self-hosted HTTP gateway (an Android phone's SIM): on when the URL is set.
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL")
SMS_GATEWAY_USERNAME = env_str("SMS_GATEWAY_USERNAME")
SMS_GATEWAY_PASSWORD = env_secret("SMS_GATEWAY_PASSWORD")
SMS_GATEWAY_RATE = env_str("SMS_GATEWAY_RATE", "1/6s")  # carriers flag a SIM sending in bulk
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 15, minimum=1)
SMS_GATEWAY_WEBHOOK_TOKEN = env_secret("SMS_GATEWAY_WEBHOOK_TOKEN")  # in the webhook's path
SMS_GATEWAY_SIGNING_KEY = env_secret("SMS_GATEWAY_SIGNING_KEY")  # the gateway's HMAC key
# Signal through a signal-cli JSON-RPC daemon: on when the daemon URL and account are set.
SIGNAL_RPC_URL = env_str("SIGNAL_RPC_URL")
SIGNAL_ACCOUNT = env_str("SIGNAL_ACCOUNT")
SIGNAL_RATE = env_str("SIGNAL_RATE", "1/3s")  # Signal challenges fast senders with captchas
SIGNAL_TIMEOUT = env_int("SIGNAL_TIMEOUT", 30, minimum=1)
# Which transports may carry each channel, first enabled wins.
NOTIFY_CHANNELS = {
    "email": ["email", "console"],
    "sms": ["twilio", "gateway", "console"],
    "signal": ["signal"],
}
NOTIFY_WORKER_THREADS = env_int("NOTIFY_WORKER_THREADS", 16, minimum=1)
NOTIFY_POLL_SECONDS = 0.25
NOTIFY_CLAIM_BATCH = env_int("NOTIFY_CLAIM_BATCH", 100, minimum=1)
NOTIFY_LEASE_SECONDS = env_int("NOTIFY_LEASE_SECONDS", 120, minimum=1)
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 8, minimum=1)
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 10, minimum=1)
NOTIFY_RETRY_MAX_SECONDS = env_int("NOTIFY_RETRY_MAX_SECONDS", 900, minimum=1)
# Slots this much wider than the provider's rate absorb timing jitter (3%: 30 ms per second).
NOTIFY_RATE_MARGIN = env_int("NOTIFY_RATE_MARGIN_PERCENT", 3, minimum=0) / 100

# Web Push (device notifications): on when the VAPID private key is set (docs/channels.md).
INSTALLED_APPS.append("defensa.notify.transports.webpush")
NOTIFY_CHANNELS["push"] = ["webpush"]
WEBPUSH_VAPID_PRIVATE_KEY = env_secret("WEBPUSH_VAPID_PRIVATE_KEY")  # manage.py webpush_keys
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT")  # empty: mailto:DEFAULT_FROM_EMAIL
WEBPUSH_TTL = env_int("WEBPUSH_TTL", 4 * 3600, minimum=0)  # seconds a push service keeps it
WEBPUSH_RATE = env_str("WEBPUSH_RATE", "50/s")
WEBPUSH_TIMEOUT = env_int("WEBPUSH_TIMEOUT", 10, minimum=1)
WEBPUSH_ALLOWED_HOSTS = env_list(
    "WEBPUSH_ALLOWED_HOSTS",
    [
        "fcm.googleapis.com",  # Chrome, Edge on Android, Samsung Internet, Opera
        "android.googleapis.com",  # older Chrome subscriptions
        "push.services.mozilla.com",  # Firefox
        "push.apple.com",  # Safari on macOS, iPhone and iPad (home-screen apps)
        "notify.windows.com",  # Edge on Windows
    ],
)
# Templates whose notifications show only a neutral line on the lock screen ("*": all).
WEBPUSH_GENERIC_TEMPLATES = env_list("WEBPUSH_GENERIC_TEMPLATES", [])

# Verification dispatch (docs/rapid-response.md): committees may override these per committee.
SITE_URL = env_str("DEFENSA_SITE_URL", "http://localhost:8000")  # for links in alerts
DISPATCH_OFFER_SIZE = env_int("DEFENSA_DISPATCH_OFFER_SIZE", 3, minimum=1)
DISPATCH_ACCEPT_TARGET = env_int("DEFENSA_DISPATCH_ACCEPT_TARGET", 1, minimum=1)
DISPATCH_ESCALATE_MINUTES = env_int("DEFENSA_DISPATCH_ESCALATE_MINUTES", 5, minimum=1)
DISPATCH_LINK_HOURS = env_int("DEFENSA_DISPATCH_LINK_HOURS", 4, minimum=1)
# The operator's own geocoder (self-hosted Nominatim or Pelias), for place suggestions on an
# incident's place page. Empty: places are given by hand and no request leaves the server.
GEOCODER_URL = env_str("DEFENSA_GEOCODER_URL", "").strip()
GEOCODER_KIND = env_str("DEFENSA_GEOCODER_KIND", "nominatim").strip().lower()
if GEOCODER_KIND not in ("nominatim", "pelias"):
    raise ImproperlyConfigured("DEFENSA_GEOCODER_KIND is nominatim or pelias.")
if GEOCODER_URL and not GEOCODER_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("DEFENSA_GEOCODER_URL starts with http:// or https://.")
GEOCODER_TIMEOUT_SECONDS = env_int("DEFENSA_GEOCODER_TIMEOUT_SECONDS", 3, minimum=1)
# An open incident no report could place alerts its committee's dispatchers after this long.
UNPLACED_ALERT_MINUTES = env_int("DEFENSA_UNPLACED_ALERT_MINUTES", 10, minimum=1)
# Phone trees (docs/phone-trees.md): a captain who has not confirmed their group this long
# after a cascade starts is escalated (their people go to the next captain).
TREES_ESCALATE_MINUTES = env_int("DEFENSA_TREE_ESCALATE_MINUTES", 15, minimum=1)

# Accounts and passwords (security properties 8-11).
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "pages:home"
# Argon2id behind a per-process cap: at most PASSWORD_CHECKS_AT_ONCE hashes at once (each
# ~100 MB and every core for a moment), as many waiting up to PASSWORD_CHECK_WAIT_SECONDS, and
# on average PASSWORD_CHECKS_PER_SECOND; beyond that a 503 "try again" (accounts/hashers.py).
PASSWORD_HASHERS = [
    "defensa.accounts.hashers.ThrottledArgon2PasswordHasher",
]
PASSWORD_CHECKS_AT_ONCE = env_int("DEFENSA_PASSWORD_CHECKS_AT_ONCE", 1, minimum=1)
PASSWORD_CHECK_WAIT_SECONDS = env_int("DEFENSA_PASSWORD_CHECK_WAIT_SECONDS", 5, minimum=1)
PASSWORD_CHECKS_PER_SECOND = env_int("DEFENSA_PASSWORD_CHECKS_PER_SECOND", 2, minimum=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOCKOUT_THRESHOLD = env_int("DEFENSA_LOCKOUT_THRESHOLD", 5, minimum=1)
LOCKOUT_MINUTES = env_int("DEFENSA_LOCKOUT_MINUTES", 15, minimum=1)
INVITATION_DAYS = env_int("DEFENSA_INVITATION_DAYS", 7, minimum=1)
# Account recovery (docs/accounts.md): the link two coordinators' approval makes, and how
# long an unanswered request waits before it lapses.
RECOVERY_LINK_HOURS = env_int("DEFENSA_RECOVERY_LINK_HOURS", 24, minimum=1)
RECOVERY_REQUEST_DAYS = env_int("DEFENSA_RECOVERY_REQUEST_DAYS", 7, minimum=1)
# The shift roster (docs/shifts.md): the on-duty switch turns itself off after this many
# hours unless renewed; shift reminders go this many minutes before a shift starts.
ON_DUTY_HOURS = env_int("DEFENSA_ON_DUTY_HOURS", 8, minimum=1)
SHIFT_REMINDER_MINUTES = env_int("DEFENSA_SHIFT_REMINDER_MINUTES", 60, minimum=5)
# Opening sealed or masked values record by record is how a bulk copy would look (property
# 7): one quota for every kind (defensa/audit/reveals.py), counted in different records.
PHONE_REVEALS_PER_HOUR = env_int("DEFENSA_PHONE_REVEALS_PER_HOUR", 30, minimum=1)
WEBAUTHN_RP_ID = env_str("DEFENSA_WEBAUTHN_RP_ID", "localhost")
WEBAUTHN_ORIGINS = env_list(
    "DEFENSA_WEBAUTHN_ORIGINS", ["http://localhost:8000", "http://127.0.0.1:8000"]
)

# Sessions: idle and absolute timeouts (property 11).
SESSION_IDLE_MINUTES = env_int("DEFENSA_SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_ABSOLUTE_HOURS = env_int("DEFENSA_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True

# HTTPS deployment (property 12). Off for `make run` on loopback.
SECURE_SSL_REDIRECT = HTTPS
# A load balancer may poll the health check over plain HTTP; it says only yes or no.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 63072000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DEFENSA_BEHIND_PROXY", False) else None
)
# Addresses or networks of our own reverse proxies (comma-separated, e.g. 127.0.0.1,::1). Only
# from these is X-Forwarded-For believed, and then only its right-most address that is not one
# of them (defensa/core/middleware.py). Default: none, the connection's peer is the source.
TRUSTED_PROXIES = env_list("DEFENSA_TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"DEFENSA_TRUSTED_PROXIES: {_proxy!r} is not an address or a network"
        ) from _exc
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin", not "no-referrer": with no-referrer, browsers send `Origin: null` on form
# POSTs and Django's CSRF check refuses every form. Nothing is sent to other sites.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Languages: the ten of defensa/core/languages.py (the one list), chosen by the browser
# (Accept-Language) on a first visit, switchable on every page. Tagalog and Haitian Creole,
# which Django's LANG_INFO lacks, are added to it by the core app's ready().
LANGUAGE_CODE = "en"
# US Spanish numbers ($0.83) over Django's Spanish formats: defensa/core/formats/es.
FORMAT_MODULE_PATH = ["defensa.core.formats"]
LANGUAGES = languages.settings_languages()
LANGUAGES_BIDI = [lang.code for lang in languages.ALL if lang.rtl]
# Each app keeps its own locale/ folder; defensa/locale holds only Django's own messages
# retold in the one form of address our Spanish uses (tú), and comes first.
LOCALE_PATHS: list[Path] = [BASE_DIR / "defensa" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("DEFENSA_TIME_ZONE", "America/Los_Angeles")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at start-up when it is missing
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Photos, videos and voicemail audio (defensa.core.media): this machine's disk, or an
    # S3-compatible object store that several web and worker machines share.
    "media": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # MEDIA_ROOT
}
S3_BUCKET = env_str("DEFENSA_S3_BUCKET")
# The store's address and account, shared by the files' bucket and the backups' bucket.
_S3_STORE = {
    "endpoint_url": env_str("DEFENSA_S3_ENDPOINT_URL"),
    "access_key": env_secret("DEFENSA_S3_ACCESS_KEY_ID"),
    "secret_key": env_secret("DEFENSA_S3_SECRET_ACCESS_KEY"),
    "region": env_str("DEFENSA_S3_REGION"),
    "addressing_style": env_str("DEFENSA_S3_ADDRESSING_STYLE", "path"),
    "timeout_s": env_int("DEFENSA_S3_TIMEOUT_SECONDS", 10, minimum=1),
}
if S3_BUCKET:
    STORAGES["media"] = s3_media_storage(
        bucket=S3_BUCKET, prefix=env_str("DEFENSA_S3_PREFIX"), **_S3_STORE
    )
# Backups (`manage.py backup --to-object-store`): a bucket of their own, so a backup never
# holds the backups before it; the same store address and account as the files. Each backup
# is age-encrypted to the operators' keys before it leaves this machine, as on disk.
S3_BACKUP_BUCKET = env_str("DEFENSA_S3_BACKUP_BUCKET")
if S3_BACKUP_BUCKET:
    STORAGES["backups"] = s3_media_storage(
        bucket=S3_BACKUP_BUCKET, prefix=env_str("DEFENSA_S3_BACKUP_PREFIX"), **_S3_STORE
    )
# Seal each file before it leaves the web process: on by default with an object store (it
# is someone's disk); set to 0 only for a store on the network's own machines.
MEDIA_ENCRYPT = env_bool("DEFENSA_S3_ENCRYPT", True) if S3_BUCKET else False
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400

# Errors and logs never carry request metadata or sensitive fields (properties 2 and 21).
DEFAULT_EXCEPTION_REPORTER_FILTER = "defensa.core.logging.SafeExceptionReporterFilter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "defensa.core.logging.ScrubFilter"}},
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["scrub"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        # The request loggers would attach the request (with its metadata) to records.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
ADMINS: list[tuple[str, str]] = []

# Rapid response: grouping reports into incidents (defensa/incidents/grouping.py,
# docs/rapid-response.md). Distances in metres, times in minutes.
GROUPING_BASE_M = env_int("DEFENSA_GROUPING_BASE_M", 150, minimum=10)
GROUPING_UNCERTAINTY_FACTOR = env_int("DEFENSA_GROUPING_UNCERTAINTY_FACTOR", 2, minimum=1)
GROUPING_GAP_MINUTES = env_int("DEFENSA_GROUPING_GAP_MINUTES", 45, minimum=1)
GROUPING_MAX_SPAN_MINUTES = env_int("DEFENSA_GROUPING_MAX_SPAN_MINUTES", 240, minimum=1)
ZIP_PRECISION_M = env_int("DEFENSA_ZIP_PRECISION_M", 2500, minimum=100)
# Public report form: reports accepted from one source per window, counted only in each
# worker's memory (defensa/reports/flood.py); photos per report.
REPORT_FLOOD_LIMIT = env_int("DEFENSA_REPORT_FLOOD_LIMIT", 10, minimum=1)
REPORT_FLOOD_WINDOW_MINUTES = env_int("DEFENSA_REPORT_FLOOD_WINDOW_MINUTES", 10, minimum=1)
# Texts from one phone within this many minutes of its last one add to the same report.
SMS_THREAD_MINUTES = env_int("DEFENSA_SMS_THREAD_MINUTES", 30, minimum=1)
REPORT_MAX_PHOTOS = env_int("DEFENSA_REPORT_MAX_PHOTOS", 3, minimum=0)
# Decoding photos (defensa/core/imaging.py, docs/performance.md "Hostile uploads"): the most
# pixels decoded from one photo (a JPEG up to 4x this is decoded at half size; anything more is
# refused as too large), and how many photos one web process decodes at once; as many
# requests may wait this many seconds for a turn, any more are told to send again.
PHOTO_MAX_MEGAPIXELS = env_int("DEFENSA_PHOTO_MAX_MEGAPIXELS", 25, minimum=1)
IMAGE_DECODE_SLOTS = env_int("DEFENSA_IMAGE_DECODE_SLOTS", 1, minimum=1)
IMAGE_DECODE_WAIT_SECONDS = env_int("DEFENSA_IMAGE_DECODE_WAIT_SECONDS", 10, minimum=1)

# Broadcasts (defensa/broadcasts, docs/broadcasts.md).
# Price of one SMS segment, in dollars, for the cost shown before sending (email is free).
BROADCAST_SMS_SEGMENT_PRICE = env_str("BROADCAST_SMS_SEGMENT_PRICE", "0.0083")
# From this many people on, a second coordinator must approve a broadcast.
BROADCAST_APPROVAL_THRESHOLD = env_int("BROADCAST_APPROVAL_THRESHOLD", 500, minimum=1)
BROADCAST_BATCH_SIZE = env_int("BROADCAST_BATCH_SIZE", 1000, minimum=1)
# An enqueuer silent this long is taken as dead; resume_broadcasts (or a coordinator) restarts it.
BROADCAST_STALL_SECONDS = env_int("BROADCAST_STALL_SECONDS", 60, minimum=5)
# Evidence (defensa/evidence, docs/rapid-response.md): video is stripped of its metadata by
# ffmpeg (ffprobe from the same folder); an empty or missing ffmpeg refuses video, photos
# still work. Verified incidents stay on the public page (defensa/record) this many days.
FFMPEG_PATH = env_str("DEFENSA_FFMPEG", "ffmpeg")
VIDEO_MAX_MB = env_int("DEFENSA_VIDEO_MAX_MB", 50, minimum=1)
VIDEO_MAX_SECONDS = env_int("DEFENSA_VIDEO_MAX_SECONDS", 120, minimum=1)
PUBLIC_VERIFIED_DAYS = env_int("DEFENSA_PUBLIC_VERIFIED_DAYS", 7, minimum=1)
# Voice hotline (docs/channels.md, "Voice hotline"): Twilio-compatible voice webhooks on the
# same account and signing token as SMS. Numbers map to committees in voice.Hotline rows.
VOICE_MENU_TIMEOUT = env_int("DEFENSA_VOICE_MENU_TIMEOUT", 6, minimum=1)
VOICE_RING_SECONDS = env_int("DEFENSA_VOICE_RING_SECONDS", 20, minimum=5)
VOICE_SCREEN_CALLS = env_bool("DEFENSA_VOICE_SCREEN_CALLS", True)
VOICE_FALLBACK_NUMBERS = env_list("DEFENSA_VOICE_FALLBACK_NUMBERS", [])
VOICE_MAX_MESSAGE_SECONDS = env_int("DEFENSA_VOICE_MAX_MESSAGE_SECONDS", 120, minimum=10)
VOICE_RETENTION_DAYS = env_int("DEFENSA_VOICE_RETENTION_DAYS", 30, minimum=1)
VOICE_DELETE_FROM_PROVIDER = env_bool("DEFENSA_VOICE_DELETE_FROM_PROVIDER", True)
VOICE_TTS_VOICE = env_str("DEFENSA_VOICE_TTS_VOICE", "alice")
# Maps (docs/configuration.md, defensa/core/maps.py): an operator-run tile server. Empty: no
# map anywhere, no map script loaded, neighbourhood names only. The CSP then lets exactly the
# tile server's origin in, and only on the pages that show a map.
MAP_TILE_URL = env_str("DEFENSA_MAP_TILE_URL", "").strip()
MAP_TILE_ATTRIBUTION = env_str("DEFENSA_MAP_TILE_ATTRIBUTION", "").strip()
MAP_CENTER = env_str("DEFENSA_MAP_CENTER", "34.05,-118.24").strip()
MAP_ZOOM = env_int("DEFENSA_MAP_ZOOM", 11, minimum=1)
# Envelope encryption (defensa/core/crypto, docs/security-operations.md): comma-separated
# ID:KEY master keys, the first one current. Without one, a development key is generated into
# the data dir; a production setup (HTTPS, or a host other than loopback) refuses to start.
MASTER_KEYS = env_secret("DEFENSA_MASTER_KEYS")
# Where the master keys were read from (check --deploy refuses a file inside DATA_DIR).
MASTER_KEYS_SOURCE = env_str("DEFENSA_MASTER_KEYS_FILE")
MASTER_KEY_DEV_FILE = DATA_DIR / "dev_master_key"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}
if (
    not MASTER_KEYS
    and not (DEBUG or DEMO)
    and (HTTPS or any(host not in _LOOPBACK for host in ALLOWED_HOSTS))
):
    raise ImproperlyConfigured(
        "DEFENSA_MASTER_KEYS (or DEFENSA_MASTER_KEYS_FILE) must be set in production: "
        "see docs/security-operations.md"
    )
# Signed checkpoints of the audit chain (defensa/audit/checkpoints.py): an append-only file
# outside the database. Another disk or a mount only this server appends to is better still.
AUDIT_CHECKPOINT_FILE = Path(
    env_str("DEFENSA_AUDIT_CHECKPOINT_FILE", str(DATA_DIR / "audit-checkpoints.log"))
)
# age public keys (age1...) that `manage.py backup` encrypts to; their private keys stay off
# this server.
BACKUP_RECIPIENTS = env_list("DEFENSA_BACKUP_RECIPIENTS", [])

# Cases and emergency plans (defensa/cases, docs/cases.md).
CASES_CONSULTATION_HOURS = env_int("DEFENSA_CASES_CONSULTATION_HOURS", 48, minimum=1)
PLAN_CANCEL_MINUTES = env_int("DEFENSA_PLAN_CANCEL_MINUTES", 15, minimum=1)
# A member may set off their own plan this many times an hour (dispatchers are not limited).
PLAN_SELF_TRIGGERS_PER_HOUR = env_int("DEFENSA_PLAN_SELF_TRIGGERS_PER_HOUR", 3, minimum=1)

# Court and ICE check-in accompaniment (defensa/accompaniment, docs/accompaniment.md).
ACCOMPANIMENT_AUTO_CONFIRM = env_bool("DEFENSA_ACCOMPANIMENT_AUTO_CONFIRM", False)
ACCOMPANIMENT_GRACE_MINUTES = env_int("DEFENSA_ACCOMPANIMENT_GRACE_MINUTES", 60, minimum=1)
ACCOMPANIMENT_LINK_HOURS_AFTER = env_int("DEFENSA_ACCOMPANIMENT_LINK_HOURS_AFTER", 12, minimum=1)
# The check-in link takes "I'm here" and outcomes only from this long before the start.
ACCOMPANIMENT_CHECKIN_OPENS_MINUTES = env_int(
    "DEFENSA_ACCOMPANIMENT_CHECKIN_OPENS_MINUTES", 120, minimum=1
)

# Operations (defensa/ops, docs/operations.md): /healthz answers 503 when a check fails;
# /metrics (Prometheus) answers only to `Authorization: Bearer <DEFENSA_METRICS_TOKEN>`.
METRICS_TOKEN = env_secret("DEFENSA_METRICS_TOKEN")
HEALTH_WORKER_SILENCE_SECONDS = env_int("DEFENSA_HEALTH_WORKER_SILENCE_SECONDS", 60, minimum=1)
HEALTH_URGENT_LATE_SECONDS = env_int("DEFENSA_HEALTH_URGENT_LATE_SECONDS", 120, minimum=1)
HEALTH_MIN_FREE_MB = env_int("DEFENSA_HEALTH_MIN_FREE_MB", 500, minimum=0)
