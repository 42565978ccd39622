"""A tiny OpenID Connect provider on 127.0.0.1, for testing st.login without a real one.

It does what Microsoft Entra ID does for the authorisation-code flow, minus the login form:

- ``/.well-known/openid-configuration``: discovery document (issuer, endpoints, RS256, S256 PKCE);
- ``/authorize``: checks client_id, redirect_uri, response_type and scope, then redirects straight
  back to redirect_uri with a one-time code and the caller's ``state``, as if the configured test
  user had signed in (``provider.user``: change it between tests);
- ``/token``: exchanges the code (client secret by HTTP Basic or form post, redirect_uri and the
  PKCE verifier checked) for an RS256 id_token carrying the ``nonce`` from /authorize, plus an
  access_token;
- ``/jwks``: the public half of a key generated at start;
- ``/userinfo``: the user's claims for a Bearer access token;
- ``/logout``: an end_session_endpoint, which redirects to post_logout_redirect_uri (Entra has one,
  so st.logout goes through it).

Every request is recorded in ``provider.requests`` and every refusal in ``provider.errors`` so a
failing test can say what the client got wrong. Standard library only, plus joserfc (installed
with Authlib, which Streamlit's st.login needs anyway).

    with OIDCProvider(email="sam@force.example", name="Sam Steering") as provider:
        provider.metadata_url  # -> server_metadata_url in secrets.toml
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

from joserfc import jwt
from joserfc.jwk import RSAKey

CODE_LIFETIME_S = 120
TOKEN_LIFETIME_S = 3600


@dataclass
class Grant:
    """What /authorize promised, to be redeemed once at /token."""

    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    claims: dict[str, Any]
    issued: float = field(default_factory=time.time)


class OIDCError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status, self.error, self.description = status, error, description


class OIDCProvider:
    """Serves the endpoints above from a daemon thread; use as a context manager or
    call start() and stop()."""

    def __init__(self, email: str = "sam@force.example", name: str = "Sam Steering", *,
                 client_id: str = "o2r-dashboard-test", client_secret: str | None = None,
                 host: str = "127.0.0.1", port: int = 0, end_session: bool = True) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.end_session = end_session
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8),
                                                         "use": "sig", "alg": "RS256"})
        self.user: dict[str, Any] = {}
        self.set_user(email, name)
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, params)
        self.errors: list[str] = []
        self.issued_id_tokens: list[dict[str, Any]] = []  # claims of every id_token issued
        self._grants: dict[str, Grant] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- configuration -----------------------------------------------------------------

    def set_user(self, email: str | None, name: str | None = None, **extra: Any) -> None:
        """The person the next /authorize signs in (extra claims go into the id_token)."""
        subject = hashlib.sha256((email or name or "anonymous").encode()).hexdigest()[:32]
        claims: dict[str, Any] = {"sub": subject, **extra}
        if email is not None:
            claims["email"] = email
            claims["preferred_username"] = email
        if name is not None:
            claims["name"] = name
        self.user = claims

    @property
    def issuer(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "email",
                                 "preferred_username"],
        }
        if self.end_session:
            document["end_session_endpoint"] = f"{self.issuer}/logout"
        return document

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def paths(self) -> list[str]:
        """The paths requested so far, in order (handy in assertion messages)."""
        return [path for _, path, _ in self.requests]

    # --- life cycle --------------------------------------------------------------------

    def start(self) -> OIDCProvider:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="oidc-mock", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OIDCProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- endpoints ---------------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> str:
        """The URL to redirect the browser to."""
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id:
            raise OIDCError(400, "unauthorized_client", f"unknown client_id "
                            f"{params.get('client_id')!r}")
        parsed = urlparse(redirect_uri)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise OIDCError(400, "invalid_request", f"bad redirect_uri {redirect_uri!r}")
        if params.get("response_type") != "code":
            raise OIDCError(400, "unsupported_response_type",
                            f"response_type {params.get('response_type')!r}")
        if "openid" not in params.get("scope", "").split():
            raise OIDCError(400, "invalid_scope", f"scope {params.get('scope')!r} lacks openid")
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method not in ("S256", "plain", None):
            raise OIDCError(400, "invalid_request", f"code_challenge_method {method!r}")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = Grant(self.client_id, redirect_uri, params.get("nonce"),
                                       params.get("code_challenge"), method, dict(self.user))
        answer = {"code": code}
        if "state" in params:
            answer["state"] = params["state"]
        return _add_query(redirect_uri, answer)

    def token(self, params: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            raise OIDCError(401, "invalid_client", "wrong client_id or client_secret")
        if params.get("grant_type") != "authorization_code":
            raise OIDCError(400, "unsupported_grant_type", repr(params.get("grant_type")))
        with self._lock:
            grant = self._grants.pop(params.get("code", ""), None)
        if grant is None or time.time() - grant.issued > CODE_LIFETIME_S:
            raise OIDCError(400, "invalid_grant", "unknown, used or expired code")
        if params.get("redirect_uri") != grant.redirect_uri:
            raise OIDCError(400, "invalid_grant", f"redirect_uri {params.get('redirect_uri')!r}"
                            f" is not the one sent to /authorize ({grant.redirect_uri!r})")
        if grant.code_challenge:
            verifier = params.get("code_verifier") or ""
            expected = verifier if grant.code_challenge_method == "plain" else (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=").decode())
            if not verifier or expected != grant.code_challenge:
                raise OIDCError(400, "invalid_grant", "PKCE code_verifier does not match")
        now = int(time.time())
        claims = {**grant.claims, "iss": self.issuer, "aud": self.client_id, "iat": now,
                  "nbf": now, "exp": now + TOKEN_LIFETIME_S}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}, claims,
                              self.key)
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[access_token] = dict(grant.claims)
            self.issued_id_tokens.append(claims)
        return {"access_token": access_token, "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_S, "scope": "openid profile email",
                "id_token": id_token}

    def userinfo(self, authorization: str | None) -> dict[str, Any]:
        token = (authorization or "").partition(" ")[2] if (
            authorization or "").lower().startswith("bearer ") else ""
        with self._lock:
            claims = self._access_tokens.get(token)
        if claims is None:
            raise OIDCError(401, "invalid_token", "unknown access token")
        return claims

    def logout(self, params: dict[str, str]) -> str | None:
        target = params.get("post_logout_redirect_uri")
        if target and "state" in params:
            target = _add_query(target, {"state": params["state"]})
        return target


def _add_query(url: str, params: dict[str, str]) -> str:
    parts = urlparse(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunparse(parts._replace(query=query))


def _handler_for(provider: OIDCProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.handle_request("GET", {k: v[-1] for k, v in
                                        parse_qs(urlparse(self.path).query).items()})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = {k: v[-1] for k, v in parse_qs(body).items()}
            self.handle_request("POST", params)

        def handle_request(self, method: str, params: dict[str, str]) -> None:
            path = urlparse(self.path).path
            provider.requests.append((method, path, params))
            authorization = self.headers.get("Authorization")
            try:
                if path == "/.well-known/openid-configuration" and method == "GET":
                    self.send_json(200, provider.metadata())
                elif path == "/jwks" and method == "GET":
                    self.send_json(200, provider.jwks())
                elif path == "/authorize" and method == "GET":
                    self.redirect(provider.authorize(params))
                elif path == "/token" and method == "POST":
                    self.send_json(200, provider.token(params, authorization),
                                   {"Cache-Control": "no-store", "Pragma": "no-cache"})
                elif path == "/userinfo" and method in ("GET", "POST"):
                    self.send_json(200, provider.userinfo(authorization))
                elif path == "/logout" and method == "GET" and provider.end_session:
                    target = provider.logout(params)
                    if target:
                        self.redirect(target)
                    else:
                        self.send_json(200, {"signed_out": True})
                else:
                    raise OIDCError(404, "not_found", f"{method} {path}")
            except OIDCError as exc:
                provider.errors.append(f"{method} {path}: {exc}")
                self.send_json(exc.status, {"error": exc.error,
                                            "error_description": exc.description})

        def redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def send_json(self, status: int, body: dict[str, Any],
                      headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
