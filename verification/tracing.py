"""Traces with OpenTelemetry: Django's request spans and the app's own, off unless a host turns them on.

`span("otp.send.claim", region=...)` is what the app's code calls: a no-op (no import of OpenTelemetry) until
`start()` has run in the process. The standalone site calls `start_from_environment()` in each gunicorn worker
after fork (gunicorn.conf.py, post_fork), which starts tracing only when OpenTelemetry's own environment
variables name an exporter (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and the
exporters' own variables apply as documented by OpenTelemetry). The packages are the `otel` extra.

Attributes never carry a phone number or a code: only a number's region and range (as the pumping brake and
the dashboard name them), outcomes and provider names. Exceptions are not recorded as events (a provider's
error text may quote the number): a failed span has status ERROR and the exception's type.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)

#: The app's tracer once tracing has started in this process; None: every span is a no-op.
_tracer: Any = None
_instrumentor: Any = None
#: The log record factory in place before tracing started.
_record_factory: Any = None

#: Environment variables that name where spans go: any of them set turns tracing on.
EXPORTER_VARIABLES = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


class Span:
    """One of the app's spans, or nothing when tracing is off: attributes can be added as they become known."""

    __slots__ = ("_span",)

    def __init__(self, span: Any = None) -> None:
        self._span = span

    def set(self, **attributes: object) -> None:
        """Add attributes (None values are left out)."""
        if self._span is not None:
            self._span.set_attributes(_clean(attributes))


_OFF = Span()


def is_on() -> bool:
    """Return whether this process records traces."""
    return _tracer is not None


@contextlib.contextmanager
def span(name: str, **attributes: object) -> Iterator[Span]:
    """Run the block inside a span named `name` (a child of the current one) with `attributes`; a no-op when off."""
    if _tracer is None:
        yield _OFF
        return
    with _tracer.start_as_current_span(
        name, attributes=_clean(attributes), record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield Span(current)
        except BaseException as exc:
            from opentelemetry.trace import Status, StatusCode

            # The type only: an exception's text may quote a number (a provider's "invalid 'To' number ...").
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def provider_span(provider: str, **attributes: object):
    """Return the span of one call to an SMS provider (one per provider a failover chain tries)."""
    return span("otp.sms.provider", provider=provider, **attributes)


def provider_name(backend: object) -> str:
    """Return a backend's short provider name: its `provider` attribute, else its module's name (twilio, console)."""
    name = getattr(backend, "provider", "")
    if name:
        return str(name)
    module = backend if isinstance(backend, str) else type(backend).__module__
    parts = module.split(".")
    # "verification.sms.backends.twilio.SmsBackend" (a dotted path) or "verification.sms.backends.twilio".
    return parts[-2] if len(parts) > 1 and parts[-1] == "SmsBackend" else parts[-1]


def current_ids() -> tuple[str, str] | None:
    """Return the current trace and span ids (hex), for log lines, or None when off or outside a span."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def wanted(environ: dict[str, str] | None = None) -> bool:
    """Return whether OpenTelemetry's environment variables ask for traces."""
    environ = os.environ if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters == "none":
        return False
    return any(environ.get(name, "").strip() for name in EXPORTER_VARIABLES)


def start_from_environment() -> bool:
    """Start tracing if OpenTelemetry's environment variables ask for it; return whether it started.

    Called once per process, after fork (each gunicorn worker has its own exporter thread).
    """
    if not wanted():
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logger.error("tracing asked for (OTEL_* variables) but OpenTelemetry is not installed: pip install '.[otel]'")
        return False
    # Resource.create() reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; TracerProvider, OTEL_TRACES_SAMPLER.
    provider = TracerProvider(resource=Resource.create({"service.name": _service_name()}))
    for exporter in _exporters():
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    start(provider)
    return True


def start(tracer_provider: Any) -> None:
    """Trace Django's requests and the app's spans with `tracer_provider` (an SDK TracerProvider) in this process."""
    global _tracer, _instrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    stop()
    _instrumentor = DjangoInstrumentor()
    # Inserts its middleware into settings.MIDDLEWARE: handlers built from now on trace each request.
    _instrumentor.instrument(tracer_provider=tracer_provider)
    _tracer = tracer_provider.get_tracer("verification")
    _stamp_log_records()


def stop() -> None:
    """Stop tracing in this process (spans become no-ops again; Django's middleware is taken out)."""
    global _tracer, _instrumentor, _record_factory
    if _instrumentor is not None:
        _instrumentor.uninstrument()
    if _record_factory is not None:
        logging.setLogRecordFactory(_record_factory)
    _tracer = _instrumentor = _record_factory = None


def _stamp_log_records() -> None:
    """Give every log record made inside a span its `trace_id` and `span_id`: the JSON lines carry them."""
    global _record_factory
    _record_factory = previous = logging.getLogRecordFactory()

    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        ids = current_ids()
        if ids:
            record.trace_id, record.span_id = ids
        return record

    logging.setLogRecordFactory(make_record)


def _service_name() -> str:
    return os.environ.get("OTEL_SERVICE_NAME", "").strip() or "otp-verification"


def _exporters() -> list[Any]:
    """Return the span exporters OTEL_TRACES_EXPORTER names (default otlp): otlp (HTTP/protobuf, or gRPC when
    OTEL_EXPORTER_OTLP_PROTOCOL says so and its package is installed), console, or any exporter package's name."""
    from importlib.metadata import entry_points

    names = [name.strip() for name in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if name.strip()]
    exporters = []
    for name in names:
        if name == "otlp":
            protocol = os.environ.get(
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            )
            name = "otlp_proto_grpc" if protocol == "grpc" else "otlp_proto_http"
        found = entry_points(group="opentelemetry_traces_exporter", name=name)
        if not found:
            logger.error("tracing: no span exporter named %r is installed", name)
            continue
        exporters.append(next(iter(found)).load()())
    return exporters


def _clean(attributes: dict[str, object]) -> dict[str, object]:
    """Return attributes OpenTelemetry accepts: None left out, enums by value, other objects as text."""
    cleaned = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        if not isinstance(value, str | bool | int | float):
            value = str(value)
        cleaned[key] = value
    return cleaned
