"""The app's admin: one module per model admin, each registered on import."""

from verification.admin import phone_verification, pumping_pause, sent_message, verification_event  # noqa: F401
