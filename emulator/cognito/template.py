"""The classic hosted UI's sign-in page (ManagedLoginVersion 1, Cognito's default).

Its form posts what Cognito's does (``_csrf``, ``username``, ``password``,
``cognitoAsfData``) to ``/login`` with the authorize request's query, and uses Cognito's
element ids, so code and browsers written against the real page work here unchanged.
"""

LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Signin</title>
<style>body{font-family:sans-serif;max-width:22em;margin:4em auto}
input{width:100%;margin:.3em 0 1em} .error{color:#b00}</style></head>
<body><h2>Sign in with your username and password</h2>
<p class="note">Local backend: a stand-in for the Amazon Cognito hosted UI.</p>
{% if error %}<p id="loginErrorMessage" class="error">{{ error }}</p>{% endif %}
<form name="cognitoSignInForm" method="post" action="{{ action }}">
<input type="hidden" name="_csrf" value="{{ csrf }}">
<input type="hidden" name="cognitoAsfData" value="">
<label for="signInFormUsername">Username</label>
<input id="signInFormUsername" name="username" type="text" autocomplete="username" required>
<label for="signInFormPassword">Password</label>
<input id="signInFormPassword" name="password" type="password" autocomplete="current-password"
 required>
<input name="signInSubmitButton" type="submit" value="Sign in">
</form></body></html>"""
