"""What the flow keeps in the browser's session: one entry name each, shared by the views and what hosts call."""

#: The number being verified in this browser.
SESSION_PHONE = "verification_phone"
#: The id of the send this browser asked for; only this browser may use that code.
SESSION_CHALLENGE = "verification_challenge"
#: The number this browser last verified.
SESSION_VERIFIED_PHONE = "verification_verified_phone"
#: Where the host wants the browser back once the number is verified (the `next` the flow started with).
SESSION_NEXT = "verification_next"
#: Passwordless sign-in: the number typed, the id of its send, and where to go once logged in.
SESSION_SIGN_IN_PHONE = "verification_sign_in_phone"
SESSION_SIGN_IN_CHALLENGE = "verification_sign_in_challenge"
SESSION_SIGN_IN_NEXT = "verification_sign_in_next"
#: The second factor: the login waiting for its code (verification.auth.pending), the number the code goes to and
#: the id of its send.
SESSION_PENDING_LOGIN = "verification_pending_login"
SESSION_SECOND_FACTOR_PHONE = "verification_second_factor_phone"
SESSION_SECOND_FACTOR_CHALLENGE = "verification_second_factor_challenge"
