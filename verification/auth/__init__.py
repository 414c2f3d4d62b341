"""Signing in with a phone: the sign-in number (`numbers`), passwordless sign-in and the second factor (`views`),
remember-this-browser (`remember`), and the pending login between the password and the code (`pending`)."""
