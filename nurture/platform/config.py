"""Configuration read from environment variables, with defaults for the embedded setup.

Every setting has a ``NURTURE_`` environment variable. The defaults give a working system on
a fresh machine: a SQLite database and a local outbox inside the instance folder, the bundled
campaigns and templates, and a secret key generated once and kept in the instance folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.platform.i18n import normalise_locale
from nurture.platform.policies import (
    DomainLimit,
    SlaPolicy,
    parse_accept_within,
    parse_account_score_method,
    parse_domain_limits,
    parse_escalate,
    parse_remind_at,
    parse_warmup_schedule,
)
from nurture.platform.smtp_url import SmtpUrlError, parse_smtp_url, redact_url
from nurture.platform.units import parse_clock, parse_duration, parse_size, parse_weekdays

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class WindowDefault:
    """The send window used when a campaign does not name its own."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(9, 0)
    end: time = time(17, 0)


@dataclass(frozen=True)
class FrequencyCapDefault:
    """At most ``max_emails`` campaign emails to one lead within ``per``, across campaigns."""

    max_emails: int = 3
    per: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Settings:
    """Everything the core needs to know about its environment."""

    instance_path: Path
    database_url: str
    secret_key: str
    public_url: str = "http://localhost:5000"
    smtp_url: str | None = None
    # The From of every email; without a display name, emails show the company name.
    mail_from: str = "nurture@localhost"
    # The brand (the settings' brand page overrides each one it sets). Shown in every email
    # footer (CAN-SPAM and most laws want the sender's name and postal address). Empty by
    # default: an example address would pass the footer check and go out under another
    # company's name, so campaign validation fails until the real ones are set.
    company_name: str = ""
    postal_address: str = ""
    # "#rrggbb" for buttons, links and headings of emails and pages (None: the app's own).
    brand_colour: str | None = None
    # A logo image for email headers, when none is uploaded on the brand page.
    logo_url: str | None = None
    campaigns_path: Path = PROJECT_ROOT / "campaigns" / "examples"
    templates_path: Path = PROJECT_ROOT / "templates"
    # The behavioural scoring model (docs/scoring.md).
    scoring_file: Path = PROJECT_ROOT / "campaigns" / "scoring.yaml"
    # Fit grading (the ideal customer profile) and the MQL definition (docs/qualification.md).
    icp_file: Path = PROJECT_ROOT / "campaigns" / "icp.yaml"
    readiness_file: Path = PROJECT_ROOT / "campaigns" / "readiness.yaml"
    # The team's own custom event types (docs/events.md); without the file, any custom.NAME.
    events_file: Path = PROJECT_ROOT / "campaigns" / "events.yaml"
    default_timezone: str = "UTC"
    # The language of emails and pages for a person whose locale is not known (a BCP 47
    # tag; docs/web.md#translations).
    default_locale: str = "en"
    send_window: WindowDefault = field(default_factory=WindowDefault)
    frequency_cap: FrequencyCapDefault = field(default_factory=FrequencyCapDefault)
    # Messages per second across this worker; 0 means no limit.
    smtp_rate_limit: float = 0.0
    smtp_pool_size: int = 1
    smtp_max_attempts: int = 6
    # Soft bounces (full mailbox, expired, ...) a lead may collect before it is suppressed.
    soft_bounce_limit: int = 3
    tick_seconds: float = 5.0
    batch_size: int = 500
    # Rows per transaction of a lead import (the command's and the web app's jobs). Much of
    # an import batch's cost is per batch, not per row (the touched accounts' roll-up, the
    # per-batch queries, the commit), so imports take bigger batches than the sender; a
    # batch holds SQLite's write lock for its whole transaction (about a second on the
    # benchmark's machine, longer under load), which a busy SQLite site can shorten.
    import_batch_size: int = 2000
    # Messages whose outcomes are recorded together, as soon as the mail server has
    # answered them: a worker killed mid-batch sends again at most twice this many.
    outcome_group: int = 20
    # A claimed message whose worker died is sent again after this long.
    send_lease: timedelta = timedelta(minutes=10)
    # Tracking: how hit IPs are stored (truncate | hash | full | none), and the marketer's
    # site domains, whose links get the visitor identity parameter (default: the From domain).
    ip_privacy: str = "truncate"
    site_domains: tuple[str, ...] = ()
    # Reverse proxies in front of `nurture serve` whose X-Forwarded-For/-Proto headers are
    # believed (0: none, the headers are ignored, as anyone can send them).
    trusted_proxies: int = 0
    # `nurture serve` logs one in this many answered tracking hits (1: each, 0: none).
    tracking_log_every: int = 100
    # Privacy (docs/privacy.md). The pepper keys the suppression list; unset, it is
    # generated into the instance folder (from_env) or derived from the secret key.
    privacy_pepper: str | None = None
    double_opt_in: bool = False
    # How much of the consenting IP to keep: "full", "truncated" (/24, /48) or "none".
    consent_ip: str = "truncated"
    # Raw tracking data (IP, user agent) older than this is purged; None keeps it forever.
    tracking_retention: timedelta | None = timedelta(days=395)
    # DKIM (docs/deliverability.md): a PEM RSA private key file and the selector whose DNS
    # TXT record holds its public key; the signing domain defaults to the From domain.
    dkim_key_file: Path | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    # Sending policy (docs/sending.md): hours when no campaign email goes out, in the lead's
    # timezone; per-recipient-domain throttles; a warm-up cap for a new sending domain.
    quiet_hours: tuple[time, time] | None = None
    domain_throttle: tuple[DomainLimit, ...] = ()
    warmup_start: date | None = None
    warmup_schedule: tuple[int, ...] | None = None
    # The sales team: reps, assignment rules, reject reasons (docs/handoff.md).
    sales_team_file: Path = PROJECT_ROOT / "campaigns" / "sales-team.yaml"
    # Marketing costs per month, source and campaign (docs/costs.md).
    costs_file: Path = PROJECT_ROOT / "campaigns" / "costs.yaml"
    # Signed outgoing webhooks for handoff events (docs/handoff.md#webhooks): where to POST,
    # the HMAC key receivers verify with, and how hard to try.
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = None
    webhook_max_attempts: int = 8
    webhook_timeout: float = 10.0
    # Delivered and failed webhook deliveries (their bodies hold the lead's contact data)
    # are deleted this long after they were created; None keeps them.
    webhook_retention: timedelta | None = timedelta(days=30)
    # How an account's engagement score aggregates its people's: sum, max or topN (top3).
    account_score: str = "top3"
    # The handoff SLA (docs/handoff.md#sla); None: no deadline, no reminder, no escalation.
    sla: SlaPolicy | None = field(default_factory=SlaPolicy)
    # The web app's sign-in (docs/web.md): failed attempts allowed per client address and
    # account (flask-limiter's notation), and where the counters live (memory:// is per
    # process; redis://host:6379 shares them between gunicorn processes and hosts).
    login_rate_limit: str = "10 per minute;50 per hour"
    ratelimit_storage_url: str = "memory://"
    # The largest lead file the web app's import accepts (docs/web/import.md).
    import_max_size: int = 50 * 1024 * 1024
    # The largest JSON API request body (docs/api.md#limits); the bulk lead and bounce
    # endpoints take more, as documented there.
    api_max_body: int = 1024 * 1024
    # What one render of an email template may do (docs/templates.md#limits): characters
    # produced, steps (loop turns, calls, filters), and processor seconds. Templates are
    # edited and previewed in the web app: a runaway one must fail, not stall a process.
    render_max_chars: int = 2_000_000
    render_max_steps: int = 1_000_000
    render_max_cpu: float = 1.0
    # Demo and test instances only (docs/tracking.md#simulated-time): the instance keeps the
    # time of the last `nurture tick --now`, and tracking hits, API events and hit processing
    # run on that simulated clock, so what a tester clicks is judged against simulated sends.
    simulated_time: bool = False

    def __post_init__(self) -> None:
        # Production is an instance that mails real people (an SMTP server is configured):
        # their hits must keep the real time, or scores, machine flags and reports lie.
        if self.simulated_time and self.smtp_url:
            raise ConfigError(
                "NURTURE_SIMULATED_TIME=1 is refused in production mode (NURTURE_SMTP_URL is "
                "set, so real people get the mail): simulated time is for demo and test "
                "instances on the local outbox"
            )

    @property
    def suppression_pepper(self) -> str:
        """The key that turns addresses into suppression-list hashes."""
        if self.privacy_pepper:
            return self.privacy_pepper
        return hmac.new(
            self.secret_key.encode(), b"nurture.suppression", hashlib.sha256
        ).hexdigest()

    @property
    def outbox_enabled(self) -> bool:
        """True when no SMTP server is configured and mail goes to the local outbox."""
        return not self.smtp_url

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some settings changed (tests, CLI options)."""
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, instance_path: Path | None = None
    ) -> Settings:
        """Build settings from ``NURTURE_*`` variables; unset ones take their defaults."""
        env = os.environ if env is None else env
        instance = Path(
            env.get("NURTURE_INSTANCE_PATH") or instance_path or PROJECT_ROOT / "instance"
        ).resolve()
        database_url = env.get("NURTURE_DATABASE_URL") or f"sqlite:///{instance / 'nurture.db'}"
        secret_key = env.get("NURTURE_SECRET_KEY") or _instance_secret(instance)
        values: dict[str, Any] = {
            "instance_path": instance,
            "database_url": database_url,
            "secret_key": secret_key,
            # Its own file, not derived from the secret key: rotating the secret must not
            # silently empty the suppression list.
            "privacy_pepper": env.get("NURTURE_PRIVACY_PEPPER")
            or _instance_secret(instance, "privacy_pepper"),
        }
        simple: dict[str, tuple[str, Callable[[str], object]]] = {
            "NURTURE_PUBLIC_URL": ("public_url", lambda v: v.rstrip("/")),
            "NURTURE_SMTP_URL": ("smtp_url", _smtp_url),
            "NURTURE_MAIL_FROM": ("mail_from", str),
            "NURTURE_COMPANY_NAME": ("company_name", str),
            "NURTURE_POSTAL_ADDRESS": ("postal_address", str),
            "NURTURE_BRAND_COLOUR": ("brand_colour", parse_brand_colour),
            "NURTURE_LOGO_URL": ("logo_url", _logo_url),
            "NURTURE_SALES_TEAM_FILE": ("sales_team_file", lambda v: Path(v).resolve()),
            "NURTURE_COSTS_FILE": ("costs_file", lambda v: Path(v).resolve()),
            "NURTURE_CAMPAIGNS_PATH": ("campaigns_path", lambda v: Path(v).resolve()),
            "NURTURE_TEMPLATES_PATH": ("templates_path", lambda v: Path(v).resolve()),
            "NURTURE_SCORING_FILE": ("scoring_file", lambda v: Path(v).resolve()),
            "NURTURE_ICP_FILE": ("icp_file", lambda v: Path(v).resolve()),
            "NURTURE_READINESS_FILE": ("readiness_file", lambda v: Path(v).resolve()),
            "NURTURE_EVENTS_FILE": ("events_file", lambda v: Path(v).resolve()),
            "NURTURE_DEFAULT_TIMEZONE": ("default_timezone", _timezone),
            "NURTURE_LOCALE": ("default_locale", _locale),
            "NURTURE_SMTP_RATE_LIMIT": ("smtp_rate_limit", float),
            "NURTURE_SMTP_POOL_SIZE": ("smtp_pool_size", int),
            "NURTURE_SMTP_MAX_ATTEMPTS": ("smtp_max_attempts", int),
            "NURTURE_TICK_SECONDS": ("tick_seconds", float),
            "NURTURE_BATCH_SIZE": ("batch_size", int),
            "NURTURE_IMPORT_BATCH_SIZE": ("import_batch_size", _positive_int),
            "NURTURE_OUTCOME_GROUP": ("outcome_group", _positive_int),
            "NURTURE_SEND_LEASE": ("send_lease", parse_duration),
            "NURTURE_SOFT_BOUNCE_LIMIT": ("soft_bounce_limit", _positive_int),
            "NURTURE_SEND_WINDOW": ("send_window", parse_window),
            "NURTURE_FREQUENCY_CAP": ("frequency_cap", parse_frequency_cap),
            "NURTURE_IP_PRIVACY": ("ip_privacy", _ip_privacy),
            "NURTURE_SITE_DOMAINS": ("site_domains", _domains),
            "NURTURE_TRUSTED_PROXIES": ("trusted_proxies", _non_negative_int),
            "NURTURE_TRACKING_LOG_EVERY": ("tracking_log_every", _non_negative_int),
            "NURTURE_DOUBLE_OPT_IN": ("double_opt_in", parse_flag),
            "NURTURE_CONSENT_IP": ("consent_ip", parse_consent_ip),
            "NURTURE_TRACKING_RETENTION": ("tracking_retention", parse_retention),
            "NURTURE_DKIM_KEY_FILE": ("dkim_key_file", lambda v: Path(v).expanduser()),
            "NURTURE_DKIM_SELECTOR": ("dkim_selector", str.strip),
            "NURTURE_DKIM_DOMAIN": ("dkim_domain", lambda v: v.strip().lower().rstrip(".")),
            "NURTURE_QUIET_HOURS": ("quiet_hours", parse_quiet_hours),
            "NURTURE_DOMAIN_THROTTLE": ("domain_throttle", parse_domain_limits),
            "NURTURE_WARMUP_START": ("warmup_start", date.fromisoformat),
            "NURTURE_WARMUP_SCHEDULE": ("warmup_schedule", parse_warmup_schedule),
            "NURTURE_ACCOUNT_SCORE": ("account_score", parse_account_score_method),
            "NURTURE_WEBHOOK_URLS": ("webhook_urls", _webhook_urls),
            "NURTURE_WEBHOOK_SECRET": ("webhook_secret", str.strip),
            "NURTURE_WEBHOOK_MAX_ATTEMPTS": ("webhook_max_attempts", _positive_int),
            "NURTURE_WEBHOOK_TIMEOUT": ("webhook_timeout", _seconds),
            "NURTURE_WEBHOOK_RETENTION": ("webhook_retention", parse_retention),
            "NURTURE_LOGIN_RATE_LIMIT": ("login_rate_limit", str.strip),
            "NURTURE_RATELIMIT_STORAGE_URL": ("ratelimit_storage_url", str.strip),
            "NURTURE_IMPORT_MAX_SIZE": ("import_max_size", parse_size),
            "NURTURE_API_MAX_BODY": ("api_max_body", parse_size),
            "NURTURE_RENDER_MAX_CHARS": ("render_max_chars", _positive_int),
            "NURTURE_RENDER_MAX_STEPS": ("render_max_steps", _positive_int),
            "NURTURE_RENDER_MAX_CPU": ("render_max_cpu", _positive_seconds),
            "NURTURE_SIMULATED_TIME": ("simulated_time", parse_flag),
        }
        for variable, (name, convert) in simple.items():
            raw = env.get(variable)
            if raw in (None, ""):
                continue
            try:
                values[name] = convert(raw)
            except (ValueError, TypeError) as exc:
                # A URL's password never reaches a terminal or a log.
                raise ConfigError(f"{variable}={redact_url(raw)!r}: {exc}") from exc
        values["sla"] = _sla_from_env(env)
        if values.get("webhook_urls") and not values.get("webhook_secret"):
            # Receivers need the key to verify signatures: generated once, kept beside the
            # database (mode 0600) for the operator to hand over.
            values["webhook_secret"] = _instance_secret(instance, "webhook_secret")
        return cls(**values)


def parse_window(text: str) -> WindowDefault:
    """Parse ``mon-fri 09:00-17:00`` (days, then hours) into a window."""
    parts = text.split()
    if len(parts) != 2 or "-" not in parts[1]:
        raise ValueError("use DAYS HH:MM-HH:MM, e.g. 'mon-fri 09:00-17:00'")
    start, end = parts[1].split("-", 1)
    window = WindowDefault(parse_weekdays(parts[0]), parse_clock(start), parse_clock(end))
    if window.start >= window.end:
        raise ValueError("the window must end after it starts")
    return window


def parse_frequency_cap(text: str) -> FrequencyCapDefault:
    """Parse ``3/7d`` (at most three campaign emails in any seven days)."""
    count, _, per = text.partition("/")
    if not per or not count.strip().isdigit():
        raise ValueError("use COUNT/DURATION, e.g. 3/7d")
    return FrequencyCapDefault(int(count), parse_duration(per))


def parse_brand_colour(text: str) -> str:
    """``#rrggbb`` (lower case) from ``rrggbb`` or ``#RRGGBB``."""
    match = _COLOUR.fullmatch(text.strip())
    if match is None:
        raise ValueError("use a colour like #0b4f6c (a # and six hexadecimal digits)")
    return "#" + match.group(1).lower()


def _logo_url(text: str) -> str:
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # Mail clients fetch the logo themselves: only a full web address can work.
        raise ValueError("use the full https:// address of the logo image")
    return url


def parse_flag(text: str) -> bool:
    """Parse 1/0, true/false, yes/no, on/off."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("use 1 or 0")


def parse_consent_ip(text: str) -> str:
    """``full``, ``truncated`` or ``none``."""
    value = text.strip().lower()
    if value not in ("full", "truncated", "none"):
        raise ValueError("use full, truncated or none")
    return value


def parse_retention(text: str) -> timedelta | None:
    """A duration such as ``395d``, or ``forever`` (never purge)."""
    if text.strip().lower() in ("forever", "off", "0"):
        return None
    return parse_duration(text)


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """Parse ``21:00-08:00`` (may wrap midnight), or ``off``."""
    if text.strip().lower() in ("off", "none", "0"):
        return None
    start, dash, end = text.partition("-")
    if not dash:
        raise ValueError("use HH:MM-HH:MM, e.g. 21:00-08:00")
    hours = (parse_clock(start), parse_clock(end))
    if hours[0] == hours[1]:
        raise ValueError("quiet hours must start and end at different times")
    return hours


def _smtp_url(text: str) -> str:
    try:
        parse_smtp_url(text)
    except SmtpUrlError as exc:
        # The variable and the (redacted) URL are named by the caller already.
        raise ValueError(exc.reason) from None
    return text.strip()


def _ip_privacy(text: str) -> str:
    mode = text.strip().lower()
    if mode not in ("truncate", "hash", "full", "none"):
        raise ValueError("use truncate, hash, full or none")
    return mode


def _domains(text: str) -> tuple[str, ...]:
    return tuple(d.strip().lower().lstrip(".") for d in text.split(",") if d.strip())


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be a whole number of at least 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def _locale(text: str) -> str:
    # LocaleError is a ValueError: reported like every other bad setting.
    return normalise_locale(text)


def _sla_from_env(env: Mapping[str, str]) -> SlaPolicy | None:
    """The SLA policy from ``NURTURE_SLA_ACCEPT`` (``off`` disables it), ``NURTURE_SLA_REMIND``
    and ``NURTURE_SLA_ESCALATE``."""
    policy = SlaPolicy()
    parsers = {
        "NURTURE_SLA_ACCEPT": ("accept_within", parse_accept_within),
        "NURTURE_SLA_REMIND": ("remind_at", parse_remind_at),
        "NURTURE_SLA_ESCALATE": ("escalate", parse_escalate),
    }
    changes: dict[str, Any] = {}
    for variable, (name, convert) in parsers.items():
        raw = env.get(variable)
        if raw in (None, ""):
            continue
        try:
            changes[name] = convert(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{variable}={raw!r}: {exc}") from exc
    if "accept_within" in changes and changes["accept_within"] is None:
        return None
    return replace(policy, **changes)


def _seconds(text: str) -> float:
    return parse_duration(text).total_seconds()


def _positive_seconds(text: str) -> float:
    """A duration (``2s``) or a number of seconds (``0.5``), more than zero."""
    try:
        value = float(text)
    except ValueError:
        value = _seconds(text)
    if not value > 0:
        raise ValueError("must be more than 0 seconds")
    return value


def _webhook_urls(text: str) -> tuple[str, ...]:
    urls = tuple(url.strip() for url in text.split(",") if url.strip())
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{url!r} is not an http(s) URL")
    return urls


def _instance_secret(instance: Path, name: str = "secret_key") -> str:
    """Return the instance's generated secret, creating it on first use.

    A fresh install must work without configuration, yet tokens signed today must still
    verify after a restart, so the key is generated once and kept beside the database.
    """
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
