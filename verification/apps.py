from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = "Phone verification"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks.
        from verification import checks, metrics  # noqa: F401
        from verification.sms import checks as sms_checks  # noqa: F401

        metrics.declare_labels()
