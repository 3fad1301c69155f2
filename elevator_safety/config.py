"""Default configuration.

Only defaults live here. Secrets and site-specific values come from
``instance/config.py`` or ``ELEVATOR_SAFETY_*`` environment variables, and the
database from ``DATABASE_URL`` (or ``ELEVATOR_SAFETY_DATABASE_URL``).
"""

from __future__ import annotations

#: The placeholder key; production refuses to start with it.
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - the known placeholder, refused in production

SECRET_KEY = DEFAULT_SECRET_KEY
SQLALCHEMY_TRACK_MODIFICATIONS = False
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
#: PostgreSQL's JIT compilation of expensive statements (elevator_safety/db.py).
#: Off: compiling the evaluation's statement costs more than running it.
DATABASE_JIT = False

#: Interface language: Chinese by default, English on request.
BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
#: Time zone used for "today" and for display when a site has none of its own.
TIMEZONE = "Asia/Shanghai"

#: Secure cookies: None means on in production (behind HTTPS), off in debug and tests.
#: ``make run`` serves plain HTTP on localhost and sets it to false.
COOKIE_SECURE: bool | None = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 12 * 3600

WTF_CSRF_TIME_LIMIT = None  # a patrol form may stay open on a phone for a long time

#: Flask-Limiter: memory storage unless REDIS_URL is set (see create_app).
RATELIMIT_STORAGE_URI = "memory://"
#: Stated here because the limiter is one object shared by every app of the process:
#: an app that turned it off (browser tests) must not leave it off for the next.
RATELIMIT_ENABLED = True
RATELIMIT_HEADERS_ENABLED = False
#: Login attempts allowed per account and per client address.
LOGIN_LIMIT_PER_ACCOUNT = "5 per minute;20 per hour"
LOGIN_LIMIT_PER_IP = "20 per minute;200 per hour"

#: A signer's password, checked with scrypt for a signature, is remembered this long
#: (seconds) by the process for their next signatures (auth/recheck.py); 0: never.
SIGNING_RECHECK_SECONDS = 600

#: Password every demo user shares (trainers hand it out).
DEMO_PASSWORD = "demo12345"  # noqa: S105 - documented demo credential, not a secret

#: Rows per page in long lists.
PAGE_SIZE = 25
#: Largest CSV accepted by the import page, in bytes.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
#: Where uploads wait for the import's confirmation (None: instance/imports).
IMPORT_FOLDER: str | None = None
#: Largest request (a patrol with several photos), in bytes.
MAX_CONTENT_LENGTH = 64 * 1024 * 1024
#: Largest evidence photo, in bytes; larger ones get 413 and a readable message.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
#: Where evidence photos are stored (None: instance/uploads).
UPLOAD_FOLDER: str | None = None
#: Days an invitation link stays valid.
INVITE_VALID_DAYS = 7
#: Contracts ending within this many days are flagged as expiring.
CONTRACT_EXPIRY_WARNING_DAYS = 30

#: Longest gap between confirmed maintenance visits of each level, in days
#: (TSG T5002-2017; levels are cumulative: a quarterly visit is also a half-monthly one).
MAINTENANCE_INTERVAL_DAYS = {"half_monthly": 15, "quarterly": 92, "semi_annual": 183, "annual": 365}
#: Technicians who must be present at a maintenance visit.
MAINTENANCE_MIN_TECHNICIANS = 2

#: Limits of patrol readings (min, max) as decimal strings; None is an open end.
PATROL_LIMITS = {"machine_room_temperature": ("5", "40"), "machine_room_humidity": (None, "85")}
#: Folder of patrol checklist files (None: elevator_safety/data/checklists).
PATROL_CHECKLIST_FOLDER: str | None = None
#: Rescue hotline printed on QR labels and the public page.
RESCUE_HOTLINE = "96333"

# --- faults, rectifications and duty registers (D3, D4, D6-D11) ---------------------

#: Minutes allowed from an entrapment alarm to the rescuers' arrival: sites flagged
#: as in a city (municipalities, prefecture-level cities) and the others
#: (TSG T5002-2017 art. 5).
ENTRAPMENT_ARRIVAL_MINUTES = {"city": 30, "other": 60}
#: Minutes within which a lockout's notice must be posted and the contractor notified.
LOCKOUT_NOTIFY_MINUTES = 15
#: Days after which an open lockout is flagged as long-running.
LOCKOUT_LONG_DAYS = 3
#: Hours a rectification gets by default, by severity (一般 / 重大).
RECTIFICATION_DEADLINE_HOURS = {"ordinary": 7 * 24, "serious": 24}
#: Shortest video retention, in days (D7); a check finding less opens a rectification.
VIDEO_RETENTION_DAYS = 30
#: Days between video retention checks.
VIDEO_CHECK_INTERVAL_DAYS = 30
#: Longest acceptable answer time of an emergency alarm test, in seconds (D6).
ALARM_ANSWER_SECONDS = 60
#: Days between emergency alarm tests of each elevator.
ALARM_TEST_INTERVAL_DAYS = 30
#: Days ahead the duty roster must cover without a gap.
ROSTER_HORIZON_DAYS = 7
#: Months between emergency drills: a site's own, and each contractor's.
SITE_DRILL_MONTHS = 12
CONTRACTOR_DRILL_MONTHS = 6
#: Periodic inspection (TSG T7001-2023): done up to this many months early
#: without moving the next due date; apply this many days before the due date.
INSPECTION_EARLY_MONTHS = 2
INSPECTION_APPLY_DAYS = 30
#: Certificates expiring within this many days are flagged.
CERTIFICATE_EXPIRY_WARNING_DAYS = 30
#: Public fault report: limits per client address and per elevator.
PUBLIC_REPORT_LIMIT_PER_IP = "5 per hour;20 per day"
PUBLIC_REPORT_LIMIT_PER_ELEVATOR = "30 per hour"

# --- compliance engine and scheduler --------------------------------------------------

#: Minutes between evaluations of every rule by the scheduler.
COMPLIANCE_EVALUATION_MINUTES = 15
#: A person with more new alerts than this in one evaluation gets one summary in the
#: inbox instead of one notification per alert.
ALERT_NOTIFY_INDIVIDUAL_MAX = 5
#: A periodic duty is "due soon" this many days before its limit (maintenance levels).
DUE_SOON_DAYS = 3
#: Local hour after which today's patrol not yet done is "due soon" (overdue when the day ends).
PATROL_DUE_HOUR = 12
#: Days a maintenance record may wait for the officer's confirmation.
MAINTENANCE_CONFIRM_DAYS = 2
#: A use sign valid until within this many days is "due soon".
USE_SIGN_WARNING_DAYS = 30
#: Local times of the scheduler's daily jobs (HH:MM): the evening patrol check and the
#: morning digest.
PATROL_CHECK_TIME = "20:00"
DIGEST_TIME = "07:30"
#: Seconds a late scheduler run may still start after its time (misfire grace).
SCHEDULER_MISFIRE_GRACE_SECONDS = 600
#: SMTP for the daily digest; without MAIL_SERVER the digest goes to the outbox table
#: and the log.
MAIL_SERVER: str | None = None
MAIL_PORT = 587
MAIL_USE_TLS = True
MAIL_USERNAME: str | None = None
MAIL_PASSWORD: str | None = None
MAIL_FROM = "elevator-safety@localhost"
#: The installation's public address (e.g. https://lifts.example.com): links in e-mails
#: and printed QR codes; empty means links are paths.
PUBLIC_BASE_URL = ""

# -- Documents (reports/, issue 6) --------------------------------------------------------
#: A TrueType CJK font to embed in PDFs; empty: look on the usual system paths
#: (WenQuanYi Micro Hei from Debian's fonts-wqy-microhei).
REPORT_FONT_PATH = ""
#: The installation's signing key and certificate (PEM) for PAdES signatures on every PDF;
#: empty: ``instance/signing/key.pem`` and ``cert.pem``, created on first use.
REPORT_SIGNING_KEY = ""
REPORT_SIGNING_CERT = ""
#: Where bulk exports are written and for how long they are kept.
EXPORT_DIR = ""
EXPORT_KEEP_DAYS = 7
#: Processes that render and sign an export's documents side by side (ReportLab is pure
#: Python: one process renders on one CPU); 1 renders them in the scheduler process itself.
EXPORT_PROCESSES = 2
#: A running export whose progress has not moved for this long is marked failed (its
#: worker died); the exports job checks every minute.
EXPORT_STALE_MINUTES = 15
#: Public verification: checks of a printed hash, and PDF uploads, per client address.
VERIFY_LIMIT_PER_IP = "60 per minute;1000 per day"
VERIFY_PDF_LIMIT_PER_IP = "10 per minute;100 per day"
