from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = "Phone verification"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks.
        from verification import checks, metrics  # noqa: F401
        from verification.contrib import checks as contrib_checks  # noqa: F401
        from verification.sms import checks as sms_checks  # noqa: F401

        metrics.declare_labels()
        # Only a project that names the gateway (and has django-two-factor-auth) gets its signals connected.
        if contrib_checks.GATEWAY in contrib_checks.configured_gateways() and self.apps.is_installed(
            "two_factor.plugins.phonenumber"
        ):
            from verification.contrib import two_factor

            two_factor.connect_signals()
