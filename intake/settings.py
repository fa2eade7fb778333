"""One typed, frozen settings object, read from the environment in one place (DESIGN 7)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from intake.errors import ConfigError

SECRET_BYTES = 32
_SUPPORTED_DATABASES = ("sqlite", "postgresql")
_REDIS_SCHEMES = ("redis", "rediss", "unix")
_SMTP_SCHEMES = ("smtp", "smtps")
_MAIL_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_ONION_V3_HOST = re.compile(r"[a-z2-7]{56}\.onion")


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about its surroundings.

    Secrets are bytes; ``repr`` hides them so a settings object can be logged or shown in a
    traceback without leaking a key.
    """

    database_url: str
    instance_path: Path
    secret_key: bytes = field(repr=False)
    pepper: bytes = field(repr=False)
    redis_url: str | None = None
    courier_key: bytes | None = field(default=None, repr=False)
    public_url: str = "http://127.0.0.1:5000"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_api_base: str | None = None
    fast_kdf: bool = False
    rate_limits: bool = True
    # Every route not limited more tightly by its view, per client (the rotating address tag)
    # and per route: far above what a person clicks, low enough to stop a flood.
    page_limits: str = "120 per minute;1000 per hour"
    leave_url: str = "https://www.bing.com/"
    testing: bool = False
    # Buyers' daily digest: smtp://host:port (STARTTLS when offered) or smtps://user:pass@host
    # (TLS). None: digests are recorded as failed attempts and retried.
    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str = "alerts@intake.invalid"
    webhook_timeout: float = 5.0  # seconds for a buyer's webhook endpoint to answer
    # Buyers' webhooks may reach only public addresses unless this is set (local testing).
    webhook_allow_private: bool = False
    # The onion service's address (http://<56 characters>.onion), shown on the start page.
    onion_url: str | None = None
    # Peppers retired by `intake secrets rotate pepper`: used only to keep matching the
    # opt-outs (STOP) recorded under them, never to make a new tag (ops/secrets-rotation.md).
    retired_peppers: tuple[bytes, ...] = field(default=(), repr=False)
    # A sealed number is deleted after this many days without a message on its report.
    contact_retention_days: int = 180
    # WhatsApp lets a business write freely only within 24 hours of the worker's last
    # message; after that only a template Meta approved. Language code -> the Content SID
    # (HX...) of our notice "there is news about your report; reply to read it"
    # (ops/whatsapp.md). Empty: a reply that missed the window stays undelivered.
    whatsapp_templates: tuple[tuple[str, str], ...] = ()

    def whatsapp_template(self, language: str) -> str | None:
        """The notice's Content SID in ``language``, else in English, else None."""
        templates = dict(self.whatsapp_templates)
        return templates.get(language) or templates.get("en")

    @property
    def embedded(self) -> bool:
        """True when running on the SQLite default (no external services)."""
        return self.database_url.startswith("sqlite")

    @property
    def database_kind(self) -> str:
        return make_url(self.database_url).get_backend_name()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``environ`` (``os.environ`` by default).

        In the embedded default, missing secrets are created once under the instance folder
        with 0600 permissions and reused on the next start.
        """
        env = os.environ if environ is None else environ
        instance = prepare_instance(Path(env.get("INTAKE_INSTANCE") or "instance").resolve())
        database_url = validate_database_url(
            env.get("INTAKE_DATABASE_URL") or f"sqlite:///{instance / 'intake.sqlite3'}"
        )
        redis_url = validate_redis_url(env.get("INTAKE_REDIS_URL") or None)
        return cls(
            database_url=database_url,
            instance_path=instance,
            secret_key=_secret(env, "INTAKE_SECRET_KEY", instance),
            pepper=_secret(env, "INTAKE_PEPPER", instance),
            courier_key=_courier_key(env, instance, embedded_jobs=redis_url is None),
            redis_url=redis_url,
            public_url=validate_public_url(env.get("INTAKE_PUBLIC_URL") or "http://127.0.0.1:5000"),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or _local_twilio_token(
                instance, embedded=redis_url is None and "INTAKE_DATABASE_URL" not in env),
            twilio_api_base=env.get("INTAKE_TWILIO_API_BASE") or None,
            leave_url=env.get("INTAKE_LEAVE_URL") or "https://www.bing.com/",
            smtp_url=validate_smtp_url(env.get("INTAKE_SMTP_URL") or None),
            mail_from=validate_mail_from(env.get("INTAKE_MAIL_FROM") or "alerts@intake.invalid"),
            webhook_allow_private=(env.get("INTAKE_WEBHOOK_ALLOW_PRIVATE") or "").lower()
            in ("1", "true", "yes"),
            onion_url=validate_onion_url(env.get("INTAKE_ONION_URL") or None),
            retired_peppers=_retired_peppers(env, instance),
            contact_retention_days=_positive_days(env, "INTAKE_CONTACT_RETENTION_DAYS", 180),
            whatsapp_templates=parse_whatsapp_templates(
                env.get("INTAKE_WHATSAPP_TEMPLATES") or ""),
        )


def validate_database_url(raw: str) -> str:
    """Return ``raw`` if it names a supported database, else raise a one-line ConfigError.

    The URL itself is never echoed: it may carry a password.
    """
    try:
        url: URL = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(
            "INTAKE_DATABASE_URL is not a valid database URL; expected for example "
            "postgresql+psycopg://user@host:5432/intake or sqlite:////path/to/intake.sqlite3"
        ) from None
    backend = url.get_backend_name()
    if backend not in _SUPPORTED_DATABASES:
        raise ConfigError(
            f"INTAKE_DATABASE_URL names an unsupported database ({backend!r}); "
            "use postgresql+psycopg://... or sqlite:///..."
        )
    if backend == "postgresql" and url.get_driver_name() not in ("psycopg", "postgresql"):
        raise ConfigError(
            "INTAKE_DATABASE_URL must use the psycopg (3) driver: postgresql+psycopg://..."
        )
    if backend == "postgresql" and url.get_driver_name() == "postgresql":
        raw = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return raw


def validate_redis_url(raw: str | None) -> str | None:
    """A Redis URL whose port and database number are numbers: redis-py quietly uses
    database 0 for ``/notanumber``, which may be another service's."""
    if raw is None:
        return None
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    problem = scheme not in _REDIS_SCHEMES
    if not problem:
        parsed = urlsplit(raw)
        try:
            parsed.port  # noqa: B018 - parsing it is the check
        except ValueError:
            problem = True
        db_path = parsed.path.strip("/") if scheme != "unix" else ""
        db_query = parse_qs(parsed.query).get("db", [])
        problem = problem or not all(db.isdigit() and db.isascii()
                                     for db in [db_path, *db_query] if db)
    if problem:
        raise ConfigError(
            "INTAKE_REDIS_URL is not a Redis URL; expected for example redis://127.0.0.1:6379/0"
        )
    return raw


def validate_public_url(raw: str) -> str:
    """``http(s)://host[:port]``, without a trailing slash: Twilio signatures and links
    are made from it."""
    url = raw.strip().rstrip("/")
    try:
        parsed = urlsplit(url)
        port_ok = parsed.port != 0
    except ValueError:
        parsed, port_ok = None, False
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname \
            or not port_ok:
        raise ConfigError(
            "INTAKE_PUBLIC_URL must be the address people reach the service at, for example "
            "https://intake.example.org"
        )
    return url


def validate_smtp_url(raw: str | None) -> str | None:
    """``smtp://host:port`` or ``smtps://user:pass@host:465``; the URL is never echoed (it
    may carry a password)."""
    if raw is None:
        return None
    try:
        parsed = urlsplit(raw)
        port_ok = parsed.port != 0
    except ValueError:  # "[" without "]", or a port that is not a number
        parsed, port_ok = urlsplit(""), False
    if parsed.scheme not in _SMTP_SCHEMES or not parsed.hostname or not port_ok:
        raise ConfigError(
            "INTAKE_SMTP_URL is not an SMTP URL; expected for example smtp://127.0.0.1:25 or "
            "smtps://user:password@mail.example.org:465"
        )
    return raw


def validate_mail_from(raw: str) -> str:
    address = raw.strip()
    if not _MAIL_ADDRESS.fullmatch(address):
        raise ConfigError("INTAKE_MAIL_FROM is not an e-mail address (name@example.org)")
    return address


def validate_onion_url(raw: str | None) -> str | None:
    """``http://<56-character v3 address>.onion`` (no path), or a one-line ConfigError."""
    if raw is None:
        return None
    try:
        parsed = urlsplit(raw.strip())
    except ValueError:  # "[" without "]"
        parsed = urlsplit("")
    if (parsed.scheme != "http" or not _ONION_V3_HOST.fullmatch(parsed.netloc)
            or parsed.path not in ("", "/") or parsed.query or parsed.fragment):
        raise ConfigError(
            "INTAKE_ONION_URL must be the onion service's address: http:// and a 56-character "
            "v3 name ending in .onion (from /var/lib/tor/intake/hostname)"
        )
    return f"http://{parsed.netloc}"


def prepare_instance(path: Path) -> Path:
    """Make sure the instance folder exists and is writable, or raise a ConfigError."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"INTAKE_INSTANCE points at a file, not a folder: {path}")
    if not path.exists():
        try:
            path.mkdir(mode=0o700, exist_ok=True)  # another process starting may make it too
        except FileNotFoundError:
            raise ConfigError(
                f"INTAKE_INSTANCE folder cannot be created, its parent does not exist: {path}"
            ) from None
        except PermissionError:
            raise ConfigError(
                f"INTAKE_INSTANCE folder cannot be created (permission denied): {path}"
            ) from None
    try:  # os.access says yes to root even where writes fail (read-only or immutable)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError:
        raise ConfigError(f"INTAKE_INSTANCE folder is not writable: {path}") from None
    return path


def decode_secret(value: str, *, name: str) -> bytes:
    """Decode a secret given as URL-safe base64 or hex; it must carry at least 32 bytes."""
    text = value.strip()
    decoded: bytes | None = None
    try:
        decoded = bytes.fromhex(text)
    except ValueError:
        try:
            decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            decoded = None
    if decoded is None or len(decoded) < SECRET_BYTES:
        raise ConfigError(
            f"{name} must be at least {SECRET_BYTES} random bytes, written as hex or "
            f"URL-safe base64 (for example: python3 -c 'import secrets; "
            f"print(secrets.token_urlsafe(32))')"
        )
    return decoded


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with 0600 permissions holding ``data``, whole from the moment it
    exists (another process never reads it half-written); never overwrite: FileExistsError
    if it exists."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            os.link(temporary, path)  # fails if ``path`` exists, as O_EXCL would
        except FileExistsError:
            raise
        except OSError as exc:  # a file system without hard links: not whole at once
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
    finally:
        os.unlink(temporary)


def create_once(path: Path, make: Callable[[], bytes]) -> None:
    """Create ``path`` (0600) with ``make()`` unless it exists. Processes that start
    together on a new instance (gunicorn's workers) each make one; the first to write it
    wins, and every one then reads that."""
    if path.exists():
        return
    with contextlib.suppress(FileExistsError):
        write_private_file(path, make())


def _secret(env: Mapping[str, str], name: str, instance: Path) -> bytes:
    if env.get(name):
        return decode_secret(env[name], name=name)
    file_name = env.get(f"{name}_FILE")
    if file_name:
        return _read_secret_file(Path(file_name), name=name)
    path = instance / name.lower().removeprefix("intake_")
    create_once(path, lambda: base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)))
    return _read_secret_file(path, name=name)


def _read_secret_file(path: Path, *, name: str) -> bytes:
    try:
        return decode_secret(path.read_text(encoding="ascii"), name=name)
    except OSError:
        raise ConfigError(f"{name}: cannot read the secret file {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: the secret file {path} is not text") from None


def _retired_peppers(env: Mapping[str, str], instance: Path) -> tuple[bytes, ...]:
    """``INTAKE_PEPPER_PREVIOUS``: retired peppers, comma-separated (or one per line in
    ``INTAKE_PEPPER_PREVIOUS_FILE``; embedded default: ``instance/pepper_previous``)."""
    name = "INTAKE_PEPPER_PREVIOUS"
    text = env.get(name) or ""
    if not text:
        path = Path(env[f"{name}_FILE"]) if env.get(f"{name}_FILE") else None
        if path is None and not env.get("INTAKE_PEPPER") and not env.get("INTAKE_PEPPER_FILE"):
            path = instance / "pepper_previous"
        if path is not None and path.exists():
            try:
                text = path.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError):
                raise ConfigError(f"{name}: cannot read the file {path}") from None
    items = [item for item in re.split(r"[,\s]+", text) if item]
    return tuple(decode_secret(item, name=name) for item in items)


def _positive_days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdecimal() or not 1 <= int(raw) <= 36500:  # isdigit() allows "²"
        raise ConfigError(f"{name} must be a whole number of days between 1 and 36500")
    return int(raw)


_CONTENT_SID = re.compile(r"HX[0-9a-f]{32}")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?")


def parse_whatsapp_templates(raw: str) -> tuple[tuple[str, str], ...]:
    """``en=HX...,ms=HX...`` -> ``(("en", "HX..."), ("ms", "HX..."))``
    (INTAKE_WHATSAPP_TEMPLATES); a malformed or repeated pair is a ConfigError."""
    templates: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        language, _, sid = (item.strip() for item in pair.partition("="))
        if not _LANGUAGE_CODE.fullmatch(language) or not _CONTENT_SID.fullmatch(sid):
            raise ConfigError(
                "INTAKE_WHATSAPP_TEMPLATES must read like en=HX0123...,ms=HX4567... "
                "(a language code, '=', and a Content SID of HX and 32 hex digits, per pair)")
        if language in templates:
            raise ConfigError(f"INTAKE_WHATSAPP_TEMPLATES names {language!r} twice")
        templates[language] = sid
    return tuple(templates.items())


def _local_twilio_token(instance: Path, *, embedded: bool) -> str | None:
    """On the embedded default, a local token so ``intake sms-sim`` can sign webhooks that
    ``intake serve`` accepts. Never used when TWILIO_AUTH_TOKEN is set (real Twilio)."""
    if not embedded:
        return None
    path = instance / "twilio_auth_token"
    create_once(path, lambda: secrets.token_hex(16).encode())
    return path.read_text(encoding="ascii").strip()


def _courier_key(env: Mapping[str, str], instance: Path, *, embedded_jobs: bool) -> bytes | None:
    """The courier key is a serialized private key that only the outbound sender holds.

    Production: ``INTAKE_COURIER_KEY`` is set for ``intake worker`` only; web processes read
    the public half from the database. Embedded default (no Redis): the one process also runs
    the jobs, so it creates ``instance/courier_key`` once and uses it.
    """
    name = "INTAKE_COURIER_KEY"
    value = env.get(name)
    if value:
        return _b64(value, name=name)
    file_name = env.get(f"{name}_FILE")
    path = Path(file_name) if file_name else instance / "courier_key"
    if embedded_jobs and not file_name:
        from crypto.keys import PrivateKey

        create_once(path, lambda: base64.urlsafe_b64encode(PrivateKey.generate().to_bytes()))
    if path.exists():
        try:
            return _b64(path.read_text(encoding="ascii"), name=name)
        except OSError:
            raise ConfigError(f"{name}: cannot read the key file {path}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{name}: the key file {path} is not text") from None
    return None


def _b64(value: str, *, name: str) -> bytes:
    """A courier private key in URL-safe base64; checked here, so that a mistyped key is a
    one-line error at start and not a failure in the first job that needs it."""
    from crypto.errors import CryptoError
    from crypto.keys import PrivateKey

    text = value.strip()
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        PrivateKey.from_bytes(key)
    except (binascii.Error, ValueError, CryptoError):
        raise ConfigError(f"{name} must be a courier private key in URL-safe base64 "
                          "(as `intake` writes to instance/courier_key)") from None
    return key
