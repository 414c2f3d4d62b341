"""The app's admin: one module per model admin, each registered on import."""

from verification.admin import (  # noqa: F401
    dashboard,
    phone_verification,
    pumping_pause,
    sent_message,
    sign_in_number,
    verification_event,
    verified_phone,
)
