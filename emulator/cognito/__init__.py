"""Cognito user pools as the workshop needs them, over moto's Cognito.

* `patches`: where moto is too lax or too shared (its signing key, issuer, auth flows,
  client updates), patched in this process only, checked against moto at startup;
* `discovery`: each pool's issuer, OpenID discovery document and JWKS;
* the hosted UI and OAuth 2.0 server (moto has none), laid out like authlib's example
  server: `grants` (the protocol, over moto's pools), `routes` (the pages), `template`.
"""
