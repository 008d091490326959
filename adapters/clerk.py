"""Clerk session tokens (RS256 JWTs) verified with the instance's public key or JWKS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt

LEEWAY_SECONDS = 5


class InvalidToken(Exception):
    pass


class ClerkVerifier:
    """Only RS256 is accepted, so `alg: none` and HS256 signed with the public key fail."""

    def __init__(
        self,
        jwks: str | None = None,
        public_key: str | None = None,
        issuer: str | None = None,
        authorized_parties: list[str] | None = None,
    ) -> None:
        if not jwks and not public_key:
            raise ValueError("ClerkVerifier needs a JWKS (file or URL) or a PEM public key")
        self.issuer = issuer
        self.authorized_parties = authorized_parties or []
        self.public_key = _read(public_key) if public_key else None
        self.jwks_client: jwt.PyJWKClient | None = None
        self.jwks: jwt.PyJWKSet | None = None
        if jwks and jwks.startswith(("http://", "https://")):
            self.jwks_client = jwt.PyJWKClient(jwks, cache_keys=True, timeout=5)
        elif jwks:
            self.jwks = jwt.PyJWKSet.from_json(_read(jwks))

    def _key(self, token: str) -> Any:
        if self.public_key:
            return self.public_key
        try:
            if self.jwks_client is not None:
                return self.jwks_client.get_signing_key_from_jwt(token).key
            if self.jwks is None:
                raise InvalidToken("no key set is configured")
            kid = jwt.get_unverified_header(token).get("kid")
            matching = [k for k in self.jwks.keys if k.key_id == kid] or (
                self.jwks.keys if kid is None and len(self.jwks.keys) == 1 else []
            )
        except jwt.PyJWTError as e:
            raise InvalidToken(f"no key for this token: {e}") from None
        if not matching:
            raise InvalidToken("no key in the key set matches the token's kid")
        return matching[0].key

    def workspace_for(self, token: str) -> str:
        """The organization (workspace) a valid token names."""
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub"], "verify_iss": self.issuer is not None},
            )
        except jwt.PyJWTError as e:
            raise InvalidToken(f"the session token is not valid: {e}") from None
        azp = claims.get("azp")
        # As Clerk's own SDKs do: a token without azp (made by a trusted backend) passes.
        if self.authorized_parties and azp is not None and azp not in self.authorized_parties:
            raise InvalidToken("the token's authorized party is not allowed")
        o = claims.get("o")  # version 2 tokens: {"o": {"id": …}}
        org = claims.get("org_id") or (o.get("id") if isinstance(o, dict) else None)
        if not isinstance(org, str) or not org:
            raise InvalidToken("the session token names no organization")
        return org


def _read(value: str) -> str:
    """A PEM/JSON value given inline, or the path of a file holding it."""
    if value.lstrip().startswith(("-----BEGIN", "{")):
        return value
    return Path(value).read_text()
