"""Integrations with the libraries Django projects already log people in with.

`allauth` (django-allauth's AccountAdapter) and `two_factor` (django-two-factor-auth's Gateway) are imported only by
a project that names them in its settings; nothing else in the app imports either library.
"""
