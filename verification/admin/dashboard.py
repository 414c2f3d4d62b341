"""The dashboard in admin: charts of sends, checks, conversion, budget and delivery for the last hour, day or week.

It is the changelist of the `Dashboard` proxy model, so any admin site the app is registered on routes it
(/admin/verification/dashboard/) and lists it on its index; staff who may view phone verifications see it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.formats import number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from verification import bot_challenge
from verification.admin import charts, figures
from verification.countries import region_name
from verification.models import Dashboard, Flow, PhoneVerification, PumpingPause, VerificationEvent
from verification.vias import Via

Kind = VerificationEvent.Kind


@dataclass(frozen=True)
class Chart:
    """A chart and the sentence a screen reader (or anyone) reads in its place."""

    title: str
    svg: SafeString
    summary: str


@dataclass(frozen=True)
class InForce:
    """A count of what is in force now, with the admin list that shows it (None if this user may not see it)."""

    title: str
    count: int
    url: str | None


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    def get_urls(self):
        view = self.admin_site.admin_view(self.dashboard_view)
        return [path("", view, name=f"{self.opts.app_label}_{self.opts.model_name}_changelist")]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        """Let in staff who may view (or change) phone verifications."""
        opts = PhoneVerification._meta
        return any(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("view", "change")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = figures.WINDOWS.get(request.GET.get("window", ""), figures.WINDOWS[figures.DEFAULT_WINDOW])
        data = figures.figures(window, timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Dashboard"),
            "subtitle": window.label,
            "windows": figures.WINDOWS.values(),
            "window": window,
            "figures": data,
            "series": series_charts(data),
            "conversion": conversion_charts(data),
            "flows": flow_chart(data),
            "budget": budget_chart(data),
            "delivery": delivery_chart(data),
            "provider_times": provider_times(data.delivery),
            "ways": [(Via(way.via).label if way.via in Via.values else way.via, way) for way in data.ways],
            "bot_challenges": bot_challenge_chart(data),
            "providers": provider_rows(data.providers),
            "now": [
                InForce(_("Numbers locked now"), data.locked, self._list_url(request, PhoneVerification, "locked")),
                InForce(_("Pumping pauses in force"), data.pauses, self._list_url(request, PumpingPause, "paused")),
            ],
        }
        return TemplateResponse(request, "verification/admin/dashboard.html", context)

    def _list_url(self, request: HttpRequest, model, in_force_parameter: str) -> str | None:
        model_admin = self.admin_site._registry.get(model)
        if model_admin is None or not model_admin.has_view_permission(request):
            return None
        opts = model._meta
        changelist = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
        return f"{changelist}?{in_force_parameter}=yes"


SERIES_TITLES = {
    Kind.SENT: gettext_lazy("Codes sent"),
    Kind.VERIFIED: gettext_lazy("Numbers verified"),
    Kind.SEND_FAILED: gettext_lazy("Failed sends"),
    Kind.RATE_LIMITED: gettext_lazy("Sends refused by a limit"),
}
#: Series an operator wants to stay near zero: drawn in the warning colour.
WARNING_SERIES = {Kind.SEND_FAILED, Kind.RATE_LIMITED}
OUTCOME_LABELS = {
    **{status.value: status.label for status in figures.OUTCOMES},
    figures.UNKNOWN: gettext_lazy("no receipt"),
}


def _time(moment, window: figures.Window) -> str:
    local = timezone.localtime(moment)
    return format_date(local, "D H:i" if window.step >= figures.WINDOWS["7d"].step else "H:i")


def series_charts(data: figures.Figures) -> list[Chart]:
    """Return one column chart per series of events over the window's buckets."""
    last = len(data.buckets) - 1
    ticks = [(i, _time(data.buckets[i], data.window)) for i in (0, last // 2, last)]
    result = []
    for kind, counts in data.series.items():
        title = str(SERIES_TITLES[kind])
        total, peak = sum(counts), max(counts)
        if total:
            busiest = counts.index(peak)
            summary = _("%(total)s in total; the most, %(peak)s, from %(start)s to %(end)s.") % {
                "total": total,
                "peak": peak,
                "start": _time(data.buckets[busiest], data.window),
                "end": _time(data.buckets[busiest] + data.window.step, data.window),
            }
        else:
            summary = _("None in this window.")
        css_class = "otp-warning" if kind in WARNING_SERIES else ""
        result.append(Chart(title, charts.columns(counts, ticks, title, css_class), summary))
    return result


def _percent(share: float) -> str:
    return f"{share:.0%}"


def conversion_charts(data: figures.Figures) -> list[Chart]:
    """Return verified ÷ sent by region and by the number ranges with the most sends, paused ranges flagged."""
    groups = [
        (_("Conversion by region"), data.regions, lambda key: region_name(key)),
        (_("Conversion by number range"), data.ranges, lambda key: f"{key}…"),
    ]
    result = []
    for title, rows, name in groups:
        if not rows:
            result.append(Chart(title, SafeString(""), _("No code sent in this window.")))
            continue
        bars, parts = [], []
        for row in rows:
            value = f"{_percent(row.rate)} · {row.verified}/{row.sent}"
            words = {"name": name(row.key), "rate": _percent(row.rate), "verified": row.verified, "sent": row.sent}
            if row.paused:
                value = _("%(value)s, paused") % {"value": value}
                parts.append(_("%(name)s (paused): %(rate)s, %(verified)s verified of %(sent)s sent") % words)
            else:
                parts.append(_("%(name)s: %(rate)s, %(verified)s verified of %(sent)s sent") % words)
            bars.append(charts.Bar(name(row.key), row.rate, value, flagged=row.paused))
        result.append(Chart(title, charts.bars(bars, title), "; ".join(parts) + "."))
    return result


def flow_chart(data: figures.Figures) -> Chart:
    """Return codes sent and verified in each flow: verification, sign-in, second factor."""
    title = _("By flow")
    labels = dict(Flow.choices)
    bars, parts = [], []
    for row in data.flows:
        words = {"name": labels[row.key], "rate": _percent(row.rate), "verified": row.verified, "sent": row.sent}
        bars.append(charts.Bar(str(labels[row.key]), row.rate, f"{_percent(row.rate)} · {row.verified}/{row.sent}"))
        parts.append(_("%(name)s: %(rate)s, %(verified)s verified of %(sent)s sent") % words)
    return Chart(title, charts.bars(bars, title), "; ".join(parts) + ".")


def budget_chart(data: figures.Figures) -> Chart:
    """Return the SMS budget's sends used and left, one bar per rate of OTP_SEND_BUDGET."""
    title = _("SMS budget")
    if not data.budget:
        return Chart(title, SafeString(""), _("No site-wide budget: OTP_SEND_BUDGET is empty."))
    bars, parts = [], []
    for rate, used in data.budget:
        left = max(rate.limit - used, 0)
        bars.append(charts.Bar(str(rate), used / rate.limit, f"{used}/{rate.limit}", flagged=not left))
        parts.append(_("%(rate)s: %(used)s used, %(left)s left") % {"rate": str(rate), "used": used, "left": left})
    return Chart(title, charts.bars(bars, title), "; ".join(parts) + ".")


def delivery_chart(data: figures.Figures) -> Chart:
    """Return what the delivery receipts said of the window's messages."""
    title = _("Delivery")
    delivery = data.delivery
    if not delivery.total:
        return Chart(title, SafeString(""), _("No SMS sent in this window."))
    bars = [
        charts.Bar(str(OUTCOME_LABELS[outcome]), n / delivery.total, f"{n} · {_percent(n / delivery.total)}")
        for outcome, n in delivery.outcomes.items()
    ]
    summary = _(
        "Of %(total)s SMS sent: %(delivered)s delivered, %(undelivered)s undelivered, %(failed)s failed, "
        "%(unknown)s with no receipt yet."
    ) % {"total": delivery.total, **{key: n for key, n in delivery.outcomes.items()}}
    return Chart(title, charts.bars(bars, title), summary)


BOT_CHALLENGE_LABELS = {
    "passed": gettext_lazy("passed"),
    "failed": gettext_lazy("failed"),
    "unreachable": gettext_lazy("provider unreachable"),
}


def bot_challenge_chart(data: figures.Figures) -> Chart | None:
    """Return the sends that needed a bot challenge in the window (by whole hours) and how they ended.

    None (no chart) while the challenge is off and none was asked in the window.
    """
    title = _("Bot challenge")
    counts = data.bot_challenges or {}
    asked = sum(counts.values())
    if not asked and bot_challenge.provider() is None:
        return None
    if not asked:
        return Chart(title, SafeString(""), _("No send needed a bot challenge in this window."))
    bars = [
        charts.Bar(
            str(label),
            counts.get(key, 0) / asked,
            f"{counts.get(key, 0)} · {_percent(counts.get(key, 0) / asked)}",
            flagged=key == "unreachable" and counts.get(key, 0) > 0,
        )
        for key, label in BOT_CHALLENGE_LABELS.items()
    ]
    summary = _(
        "%(asked)s sends needed a bot challenge: %(passed)s passed, %(failed)s failed, "
        "%(unreachable)s found the provider unreachable."
    ) % {"asked": asked, **{key: counts.get(key, 0) for key in BOT_CHALLENGE_LABELS}}
    return Chart(title, charts.bars(bars, title), summary)


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else number_format(round(seconds * 1000), force_grouping=True)


def provider_rows(providers: list[figures.ProviderFigures]) -> list[list[str]]:
    """Return the per-provider table's cells: provider, sent, failed, delivered share, p50 and p95 ms, failovers."""
    rows = []
    for p in providers:
        share = p.delivered_share
        rows.append(
            [
                p.provider,
                number_format(p.sent, force_grouping=True),
                number_format(p.failed, force_grouping=True),
                "–" if share is None else f"{number_format(round(share * 100))} %",
                _ms(p.median),
                _ms(p.p95),
                number_format(p.failovers, force_grouping=True),
            ]
        )
    return rows


def provider_times(delivery: figures.Delivery) -> str:
    """Return the provider's answer time at the median and the 95th percentile, in words."""
    if delivery.median is None:
        return _("No answer time measured in this window.")
    text = _("The SMS provider answered in %(median)s ms (median), %(p95)s ms at the 95th percentile.") % {
        "median": number_format(round(delivery.median * 1000), force_grouping=True),
        "p95": number_format(round(delivery.p95 * 1000), force_grouping=True),
    }
    if delivery.timed >= figures.SAMPLE:
        text += " " + _("Measured on the latest %(count)s SMS of the window.") % {
            "count": number_format(delivery.timed, force_grouping=True)
        }
    return text
