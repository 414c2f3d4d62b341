"""A host's own allauth adapter, built on the app's as README says one may: only the wording changes."""

from verification.contrib.allauth import AccountAdapter


class HostAdapter(AccountAdapter):
    def verification_code_text(self, code: str, **kwargs) -> str:
        return f"Acme login: {code}"
