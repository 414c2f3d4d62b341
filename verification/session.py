"""What the flow keeps in the browser's session: one entry name each, shared by the views and what hosts call."""

#: The number being verified in this browser.
SESSION_PHONE = "verification_phone"
#: The id of the send this browser asked for; only this browser may use that code.
SESSION_CHALLENGE = "verification_challenge"
#: The number this browser last verified.
SESSION_VERIFIED_PHONE = "verification_verified_phone"
#: Where the host wants the browser back once the number is verified (the `next` the flow started with).
SESSION_NEXT = "verification_next"
