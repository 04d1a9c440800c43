"""Troubleshooting, reproduced: the failures learners hit with the quickstart, caused on purpose.

Each case has two functions: one provokes the failure against what notebooks 01 to 07 built
and returns what really came back (the AWS error code and message, or the SDK's own
exception), the other applies the fix and returns what happens then. Both return an
`Attempt`, which displays itself. Whatever a case changes (a return URL added or moved)
it puts back before it returns, so the workshop is left as 05 and 06 configured it.

Two cases need someone the workshop does not have: a colleague who has never consented,
and a second app client with a secret (as a web app has). `prepare` creates both,
recorded in the ledger, and `tidy_up` deletes them again.
"""

import asyncio
import contextlib
import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import StringIO
from typing import Any

import boto3
import jwt
from bedrock_agentcore.identity.auth import requires_access_token
from bedrock_agentcore.runtime import BedrockAgentCoreContext
from botocore.exceptions import ClientError

from helpers import cognito, consent, resources, runtime, settings, workload_identity
from helpers.backend import Backend
from helpers.cognito import CognitoSetup, Pool
from helpers.credential_provider import CredentialProvider, recorded_credential_provider
from helpers.display import Shown, Table, mask, shown, table, utc
from helpers.errors import WorkshopError, explain
from helpers.state import Kind, WorkshopState

SCOPES = ["openid"]  # what agent/agent.py asks for
USER_FEDERATION = "USER_FEDERATION"
SDK_WAIT = 3.0  # seconds the caller waits for the agent's tool (the SDK would poll 10 min)
AFTER_THE_LOG = 1.0  # … and once the URL went to the log, how much longer it still waits
SHORT_SESSION_ID = "my-session-1234"
COLLEAGUE, WEB_CLIENT = "troubleshooting_colleague", "troubleshooting_web_client"
SYMPTOM, FIX, NOT_PROVOKED = "symptom", "fix", "not provoked"
INVOKE = "InvokeAgentRuntime"
COMPLETE = "CompleteResourceTokenAuth"
PROMPT = {"prompt": "Check the external service"}
GET_TOKEN = "GetResourceOauth2Token"
# How botocore words a ClientError: the agent's ``error`` field holds it as the tool caught it.
CLIENT_ERROR = re.compile(r"An error occurred \((\w+)\) when calling the (\w+) operation: (.+)")
# An authorization URL in printed text (the agent's log, or what the tool handed back here).
AUTHORIZATION_URL = re.compile(r"https?://\S+/identities/oauth2/authorize\?request_uri=\S+")

NO_USER = "Workload access token has not been set"
URL_IN_LOG = "Authorization URL only in the log"
EXPIRED = "Expired bearer token"
SECRET_HASH = "SECRET_HASH missing"
NO_RETURN_URL = "No return URL on the workload identity"
WRONG_WORKLOAD = "Return URL on the wrong workload identity"
NO_CALLBACK_URL = "Agent deployed without CALLBACK_URL"
REMINTED = "Binding with a re-minted JWT"
ID_TOKEN = "ID token instead of an access token"
OTHER_CLIENT = "App client not in allowedClients"
SHORT_SESSION = "Session id under 33 characters"
FIXES = {
    NO_USER: "Let the request name a user (a bearer token, or on SigV4 the "
    "X-Amzn-Bedrock-AgentCore-Runtime-User-Id header), and keep its context in the tool",
    URL_IN_LOG: "on_auth_url hands the URL to the answer instead of print()",
    EXPIRED: "Get a new token (sign in again, or REFRESH_TOKEN_AUTH)",
    SECRET_HASH: "Send SECRET_HASH = Base64(HMAC-SHA256(client secret, username + client id))",
    NO_RETURN_URL: "Register the return URL on the workload identity (UpdateWorkloadIdentity)",
    WRONG_WORKLOAD: "Register it on the runtime's own workload identity (named after the runtime)",
    NO_CALLBACK_URL: "Deploy with CALLBACK_URL: the agent passes it as callback_url",
    REMINTED: "Bind with the very bearer token that called the agent",
    ID_TOKEN: "Send the access token",
    OTHER_CLIENT: "Sign in through a client in allowedClients (or add the client there)",
    SHORT_SESSION: "Use a session id of 33 characters or more (a UUID has 36)",
}


@dataclass(frozen=True, repr=False)
class Attempt(Shown):
    """One try at a case: what was called and what came back (``code`` None: no error).

    ``as_described`` says whether the try shows what the case is about: the failure for
    a symptom, success for a fix.
    """

    case: str = shown("Case")
    step: str = shown("Step")
    operation: str = shown("Operation")
    code: str | None = shown("Error code")
    message: str = shown("What came back")
    as_described: bool
    log: str | None = dataclasses.field(default=None, metadata={"label": "The agent's log"})


def _failure(case: str, operation: str, code: str | None, message: str) -> Attempt:
    return Attempt(case, SYMPTOM, operation, code, message, code is not None)


def _fix(case: str, operation: str, code: str | None, message: str) -> Attempt:
    return Attempt(case, FIX, operation, code, message, code is None)


def _attempt(
    make: Callable[..., Attempt], case: str, operation: str, action: Callable[[], str]
) -> Attempt:
    """Run ``action``; what it returned, or the AWS error it raised, as an `Attempt`."""
    try:
        result = action()
    except ClientError as error:
        answer = error.response.get("Error", {})
        return make(case, operation, answer.get("Code", "Error"), answer.get("Message", ""))
    return make(case, operation, None, result)


@dataclass(frozen=True)
class Setting:
    """What the cases work with: the workshop's resources, and you."""

    backend: Backend
    pools: CognitoSetup
    provider: CredentialProvider
    agent: runtime.Runtime
    workload: str  # 05's standalone workload identity
    binding_url: str  # the return URL the agent was deployed with (06)
    bearer: str  # your access token, as in 07
    colleague: Pool  # a user of the runtime pool who has never consented
    web_client: Pool  # you, through a second app client that has a secret


def prepare(
    backend: Backend, state: WorkshopState, pools: CognitoSetup, agent: runtime.Runtime
) -> Setting:
    """The workshop's resources, a colleague and a second app client (both in the ledger)."""
    standalone = state.get("workload_identity")
    if standalone is None:
        raise WorkshopError("The workshop has no workload identity yet: run 05_workload_identity.")
    return Setting(
        backend=backend,
        pools=pools,
        provider=recorded_credential_provider(backend, state),
        agent=agent,
        workload=standalone["name"],
        binding_url=workload_identity.session_binding_url(state),
        bearer=cognito.bearer_token(backend, pools.runtime),
        colleague=_colleague(backend, state, pools.runtime),
        web_client=_web_client(backend, state, pools.runtime),
    )


def borrowed(setting: Setting) -> Table:
    """What the cases use besides 01 to 07's resources (the secret masked)."""
    return table(
        {
            "Colleague (a runtime pool user)": setting.colleague.username,
            "Second app client of the runtime pool": setting.web_client.client_id,
            "Its client secret": setting.web_client.client_secret,
            "05's workload identity": setting.workload,
            "The runtime's workload identity": setting.agent.workload_identity,
            "Return URL (the session-binding page)": setting.binding_url,
        }
    )


def return_urls_as_configured(setting: Setting) -> bool:
    """Are the return URLs as 05 and 06 left them (none on 05's, the page's on the runtime's)?"""
    standalone, own = (
        workload_identity.get_workload_identity(setting.backend, name).return_urls
        for name in (setting.workload, setting.agent.workload_identity)
    )
    return setting.binding_url not in standalone and setting.binding_url in own


def _colleague(backend: Backend, state: WorkshopState, pool: Pool) -> Pool:
    """A second user of the runtime pool: nobody has consented for them yet."""
    return cognito.ensure_user(backend, state, COLLEAGUE, pool, f"colleague{state.suffix}")


def _web_client(backend: Backend, state: WorkshopState, pool: Pool) -> Pool:
    """A second app client of the runtime pool, with a secret; the runtime does not allow it."""
    if state.get(WEB_CLIENT) is None:
        with explain("Creating a second app client of the runtime pool"):
            created = backend.client("cognito-idp").create_user_pool_client(
                UserPoolId=pool.pool_id,
                ClientName=f"WebClient-{state.suffix}",
                GenerateSecret=True,
                ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            )["UserPoolClient"]
        state.record(
            WEB_CLIENT,
            Kind.USER_POOL_CLIENT,
            id=created["ClientId"],
            pool_id=pool.pool_id,
            secret=created["ClientSecret"],
        )
    entry = state.get(WEB_CLIENT)
    return dataclasses.replace(pool, client_id=entry["id"], client_secret=entry["secret"])


def tidy_up(backend: Backend, state: WorkshopState) -> Table:
    """Delete the colleague and the second app client, and forget them."""
    rows = []
    for key in (WEB_CLIENT, COLLEAGUE):
        entry = state.get(key)
        if entry is None:
            continue
        handling = resources.KINDS[Kind(entry["kind"])]
        try:
            handling.delete(backend, entry)
        except ClientError as error:
            if not resources.is_gone(error):
                raise WorkshopError(
                    f"Deleting the {handling.describe(entry)} failed: {error}"
                ) from error
        state.forget(key)
        rows.append({"Deleted": handling.describe(entry)})
    return table(rows or [{"Deleted": "(nothing: already tidy)"}])


# Return URLs: where 05 and 06 put them, and where a case moves them for a while


def _place_return_url(setting: Setting, *, standalone: bool, on_the_runtime: bool) -> None:
    """The session-binding URL on (or off) each of the two workload identities."""
    for name, wanted in (
        (setting.workload, standalone),
        (setting.agent.workload_identity, on_the_runtime),
    ):
        current = workload_identity.get_workload_identity(setting.backend, name).return_urls
        if (setting.binding_url in current) != wanted:
            change = {"add" if wanted else "remove": (setting.binding_url,)}
            workload_identity.set_return_urls(setting.backend, name, **change)


@contextlib.contextmanager
def _return_url(
    setting: Setting, *, standalone: bool, on_the_runtime: bool = True
) -> Iterator[None]:
    """The return URL placed as a case needs it; afterwards as 05 and 06 left it.

    05 left its standalone workload identity without return URLs; 06 put the
    session-binding URL on the runtime's own.
    """
    _place_return_url(setting, standalone=standalone, on_the_runtime=on_the_runtime)
    try:
        yield
    finally:
        _place_return_url(setting, standalone=False, on_the_runtime=True)


# AgentCore Identity, called as the agent calls it


def _workload_access_token(setting: Setting, bearer: str | None = None) -> str:
    """A WAT for 05's workload identity and your user: the runtime's own cannot be minted here."""
    return workload_identity.workload_access_token(
        setting.backend, setting.workload, bearer or setting.bearer
    )


def _get_token(setting: Setting, wat: str, **options: Any) -> dict[str, Any]:
    return setting.backend.client("bedrock-agentcore").get_resource_oauth2_token(
        workloadIdentityToken=wat,
        resourceCredentialProviderName=setting.provider.name,
        scopes=SCOPES,
        oauth2Flow=USER_FEDERATION,
        **options,
    )


def _outcome(answer: dict[str, Any]) -> str:
    """What GetResourceOauth2Token answered, without the token itself."""
    if "accessToken" in answer:
        return f"an access token {mask(answer['accessToken'])}"
    return f"an authorization URL: {answer['authorizationUrl']}"


def _complete(setting: Setting, session_uri: str, bearer: str) -> None:
    setting.backend.client("bedrock-agentcore").complete_resource_token_auth(
        sessionUri=session_uri, userIdentifier={"userToken": bearer}
    )


def _consented_session(setting: Setting) -> str:
    """A consent flow started for your bearer token and signed in: the session to bind."""
    started = _get_token(
        setting,
        _workload_access_token(setting),
        resourceOauth2ReturnUrl=setting.binding_url,
        forceAuthentication=True,
    )
    trip = consent.sign_in_headlessly(
        started["authorizationUrl"],
        setting.pools.identity,
        stop_at=setting.binding_url,
        calls=setting.backend.calls,
    )
    session = consent.session_in(trip.final_url)
    if session is None:
        raise WorkshopError(f"The sign-in ended at {trip.final_url}, which names no session.")
    return session


# The SDK, run in this kernel as AgentCore Runtime runs the agent's tool


@dataclass(frozen=True)
class ToolRun:
    """What the agent's tool gave its caller, and what it printed (the agent's log)."""

    answer: str | None
    log: str


@contextlib.contextmanager
def _like_the_agents_process(backend: Backend) -> Iterator[StringIO]:
    """This kernel, for a block, as the agent's process on AgentCore Runtime.

    The SDK makes its boto3 clients from the environment and boto3's default session:
    both point at the backend (so its calls are recorded with the notebook's), and
    DOCKER_CONTAINER is set, as AgentCore Runtime sets it. What is printed goes to the
    yielded buffer, as the agent's prints go to its log.
    """
    wanted = {**backend.environ(), settings.AGENT_IN_A_CONTAINER: "1"}
    saved = {name: os.environ.get(name) for name in wanted}
    default_session, log = boto3.DEFAULT_SESSION, StringIO()
    os.environ.update(wanted)
    boto3.DEFAULT_SESSION = backend.session
    try:
        with contextlib.redirect_stdout(log):
            yield log
    finally:
        boto3.DEFAULT_SESSION = default_session
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def _request(setting: Setting, wat: str | None, printing: bool, force: bool) -> str | None:
    """One request to agent/agent.py's tool: the token, the URL, or None if neither came.

    ``wat`` is what AgentCore Runtime puts in the request's context (None: nothing);
    ``printing`` is the quickstart's first ``on_auth_url``, a print, instead of 07's agent,
    which hands the URL back to the caller.
    """
    if wat is not None:
        BedrockAgentCoreContext.set_workload_access_token(wat)
    url, printed = (asyncio.get_running_loop().create_future() for _ in range(2))

    def on_auth_url(link: str) -> None:
        if printing:
            print(f"Please open this URL to authorize: {link}")
        told = printed if printing else url  # the log, or the caller
        if not told.done():
            told.set_result(link)

    @requires_access_token(
        provider_name=setting.provider.name,
        scopes=SCOPES,
        auth_flow=USER_FEDERATION,
        on_auth_url=on_auth_url,
        callback_url=setting.binding_url,
        force_authentication=force,
    )
    async def get_identity_token(*, access_token: str) -> str:
        return access_token

    token = asyncio.ensure_future(get_identity_token())
    done, _ = await asyncio.wait(
        {token, url, printed}, timeout=SDK_WAIT, return_when="FIRST_COMPLETED"
    )
    if printed in done:  # the URL is in the log, and the caller still has nothing
        done, _ = await asyncio.wait({token}, timeout=AFTER_THE_LOG)
    if token in done:
        return f"an access token {mask(token.result())}"
    token.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await token
    return f"an authorization URL: {url.result()}" if url in done else None


def _run_tool(
    setting: Setting, wat: str | None, *, printing: bool = False, force: bool = False
) -> ToolRun:
    """The tool in a thread of its own, with its own event loop (the kernel runs one)."""
    with _like_the_agents_process(setting.backend) as log, ThreadPoolExecutor(1) as thread:
        answer = thread.submit(asyncio.run, _request(setting, wat, printing, force)).result()
    return ToolRun(answer, log.getvalue())


# The runtime, called over HTTPS as its users call it


def _invocation(
    make: Callable[..., Attempt], case: str, setting: Setting, bearer: str, session_id: str
) -> Attempt:
    """InvokeAgentRuntime, and what AgentCore Runtime answered (its error code, if any)."""
    answer = runtime.post(setting.backend, setting.agent.arn, bearer, session_id, PROMPT)
    if answer.status_code < 400:
        return make(case, INVOKE, None, f"HTTP {answer.status_code}: the agent answered")
    try:
        message = answer.json().get("message", answer.text)
    except ValueError:
        message = answer.text
    code = answer.headers.get("x-amzn-ErrorType") or f"HTTP {answer.status_code}"
    return make(case, INVOKE, code, f"HTTP {answer.status_code}: {message}")


def _agents_answer(case: str, step: str, answer: dict[str, Any]) -> Attempt:
    """The agent's answer: the AWS error its tool reported, or the link it gave.

    Both come from the answer's fields, as the tool caught them: the model's ``response``
    words them its own way, so it is shown only when neither is there.
    """
    if found := CLIENT_ERROR.search(answer.get("error") or ""):
        operation = f"{INVOKE} → {found[2]} (by the agent)"
        return Attempt(case, step, operation, found[1], found[3].strip(), step == SYMPTOM)
    link = consent.authorization_url_in(answer)
    message = f"an authorization URL: {link}" if link else answer.get("response", "")
    return Attempt(case, step, f"{INVOKE} → {GET_TOKEN}", None, message, step == FIX and bool(link))


# The cases


def workload_access_token_not_set(setting: Setting) -> Attempt:
    """The tool runs without the request's WAT: a SigV4 call with no user, or `agent(message)`."""
    try:
        run = _run_tool(setting, wat=None)
    except ValueError as error:  # the SDK refuses before it calls AWS
        return _failure(NO_USER, "@requires_access_token", type(error).__name__, str(error))
    return _failure(NO_USER, "@requires_access_token", None, str(run.answer))


def workload_access_token_set(setting: Setting) -> Attempt:
    """The same tool with the WAT in the request's context, as a JWT invocation gives it."""
    wat = _workload_access_token(setting)
    with _return_url(setting, standalone=True):
        return _attempt(_fix, NO_USER, GET_TOKEN, lambda: str(_run_tool(setting, wat).answer))


def url_printed(setting: Setting) -> Attempt:
    """The quickstart's printing ``on_auth_url``: the URL goes to the log, the caller waits."""
    wat = _workload_access_token(setting)
    with _return_url(setting, standalone=True):
        run = _run_tool(setting, wat, printing=True, force=True)
    answer = run.answer or (
        f"nothing, {AFTER_THE_LOG:.0f} s after the URL went to the log: the SDK keeps polling, "
        "up to 10 min"
    )
    shows = run.answer is None and AUTHORIZATION_URL.search(run.log) is not None
    return Attempt(URL_IN_LOG, SYMPTOM, GET_TOKEN, None, answer, shows, run.log.strip())


def url_in_the_answer(setting: Setting) -> Attempt:
    """07's agent: ``on_auth_url`` hands the URL back, and the tool answers with it."""
    wat = _workload_access_token(setting)
    with _return_url(setting, standalone=True):
        run = _run_tool(setting, wat, force=True)
    shows = AUTHORIZATION_URL.search(run.answer or "") is not None
    return Attempt(
        URL_IN_LOG, FIX, GET_TOKEN, None, str(run.answer), shows, run.log.strip() or None
    )


def bearer_token_lifetime(setting: Setting) -> Attempt:
    """Not provoked: an honest expired token takes an hour, and nothing here is forged."""
    expires = jwt.decode(setting.bearer, options={"verify_signature": False})["exp"]
    message = (
        f"Your bearer token is valid until {utc(expires)}. A token whose exp has passed "
        "cannot be made here without waiting for it or forging one."
    )
    return Attempt(EXPIRED, NOT_PROVOKED, INVOKE, None, message, False)


def bearer_token_refreshed(setting: Setting) -> Attempt:
    """A new access token from the refresh token (no password), which the runtime lets in."""
    refresh = cognito.sign_in(setting.backend, setting.pools.runtime)["RefreshToken"]

    def refreshed() -> str:
        fresh = setting.backend.client("cognito-idp").initiate_auth(
            ClientId=setting.pools.runtime.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh},
        )["AuthenticationResult"]["AccessToken"]
        let_in = _invocation(_fix, EXPIRED, setting, fresh, runtime.new_session_id())
        if let_in.code is not None:
            raise WorkshopError(f"The runtime refused the refreshed token: {let_in.message}")
        expires = jwt.decode(fresh, options={"verify_signature": False})["exp"]
        return f"a new access token, valid until {utc(expires)}; {let_in.message}"

    return _attempt(
        _fix, EXPIRED, "InitiateAuth (REFRESH_TOKEN_AUTH), InvokeAgentRuntime", refreshed
    )


def secret_hash_missing(setting: Setting) -> Attempt:
    """InitiateAuth through a client with a secret, without SECRET_HASH."""
    pool = setting.web_client

    def sign_in() -> str:
        setting.backend.client("cognito-idp").initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": pool.username, "PASSWORD": pool.password},
        )
        return "signed in"

    return _attempt(_failure, SECRET_HASH, "InitiateAuth", sign_in)


def secret_hash_sent(setting: Setting) -> Attempt:
    """The same sign-in with SECRET_HASH, as `cognito.sign_in` computes it."""
    tokens = cognito.sign_in(setting.backend, setting.web_client)
    return _fix(SECRET_HASH, "InitiateAuth", None, f"an access token {mask(tokens['AccessToken'])}")


def _flow(setting: Setting, wat: str, **options: Any) -> Callable[[], str]:
    """GetResourceOauth2Token starting a new consent flow (the vault notwithstanding)."""
    return lambda: _outcome(_get_token(setting, wat, forceAuthentication=True, **options))


def return_url_not_registered(setting: Setting) -> Attempt:
    """A consent flow on 05's workload identity, whose list of return URLs is empty."""
    wat = _workload_access_token(setting)
    with _return_url(setting, standalone=False):
        flow = _flow(setting, wat, resourceOauth2ReturnUrl=setting.binding_url)
        return _attempt(_failure, NO_RETURN_URL, GET_TOKEN, flow)


def return_url_registered(setting: Setting) -> Attempt:
    """The same request once the return URL is on that workload identity's list."""
    wat = _workload_access_token(setting)
    with _return_url(setting, standalone=True):
        flow = _flow(setting, wat, resourceOauth2ReturnUrl=setting.binding_url)
        return _attempt(_fix, NO_RETURN_URL, GET_TOKEN, flow)


def _colleague_calls_the_agent(setting: Setting) -> Any:
    bearer = cognito.bearer_token(setting.backend, setting.colleague)
    session_id = runtime.new_session_id()
    return runtime.invoke(setting.backend, setting.agent.arn, bearer, session_id, PROMPT)


def return_url_on_the_wrong_workload_identity(setting: Setting) -> Attempt:
    """The URL on 05's workload identity instead of the runtime's; your colleague calls."""
    with _return_url(setting, standalone=True, on_the_runtime=False):
        answer = _colleague_calls_the_agent(setting)
    return _agents_answer(WRONG_WORKLOAD, SYMPTOM, answer)


def return_url_on_the_runtimes_workload_identity(setting: Setting) -> Attempt:
    """The URL where 06 put it, on the runtime's own workload identity; your colleague calls."""
    with _return_url(setting, standalone=False):
        answer = _colleague_calls_the_agent(setting)
    return _agents_answer(WRONG_WORKLOAD, FIX, answer)


def callback_url_missing(setting: Setting) -> Attempt:
    """What the SDK sends when the agent has no callback_url: no resourceOauth2ReturnUrl."""
    wat = _workload_access_token(setting)
    with _return_url(setting, standalone=True):
        return _attempt(_failure, NO_CALLBACK_URL, GET_TOKEN, _flow(setting, wat))


def callback_url_given(setting: Setting) -> Attempt:
    """The same request with the return URL the agent's CALLBACK_URL names."""
    wat = _workload_access_token(setting)
    with _return_url(setting, standalone=True):
        flow = _flow(setting, wat, resourceOauth2ReturnUrl=setting.binding_url)
        return _attempt(_fix, NO_CALLBACK_URL, GET_TOKEN, flow)


def _bind(setting: Setting, session_uri: str, bearer: str) -> Callable[[], str]:
    """CompleteResourceTokenAuth with ``bearer``, then the poll the agent makes next."""

    def bind() -> str:
        _complete(setting, session_uri, bearer)
        answer = _get_token(
            setting,
            _workload_access_token(setting),
            sessionUri=session_uri,
            resourceOauth2ReturnUrl=setting.binding_url,
        )
        return f"bound; {GET_TOKEN} now answers with {_outcome(answer)}"

    return bind


def bound_with_a_new_token(setting: Setting) -> Attempt:
    """You consent, then the session is bound with a new token of yours (a fresh sign-in)."""
    with _return_url(setting, standalone=True):
        session_uri = _consented_session(setting)
        fresh = cognito.bearer_token(setting.backend, setting.pools.runtime)
        if fresh == setting.bearer:
            raise WorkshopError("Cognito answered the same token twice: run the cell again.")
        return _attempt(_failure, REMINTED, COMPLETE, _bind(setting, session_uri, fresh))


def bound_with_the_same_token(setting: Setting) -> Attempt:
    """The same, bound with the bearer token that started the flow."""
    with _return_url(setting, standalone=True):
        session_uri = _consented_session(setting)
        return _attempt(_fix, REMINTED, COMPLETE, _bind(setting, session_uri, setting.bearer))


def id_token_sent(setting: Setting) -> Attempt:
    id_token = cognito.sign_in(setting.backend, setting.pools.runtime)["IdToken"]
    return _invocation(_failure, ID_TOKEN, setting, id_token, runtime.new_session_id())


def access_token_sent(setting: Setting) -> Attempt:
    return _invocation(_fix, ID_TOKEN, setting, setting.bearer, runtime.new_session_id())


def token_of_another_client(setting: Setting) -> Attempt:
    """Your access token, issued to the second app client, which allowedClients lacks."""
    token = cognito.bearer_token(setting.backend, setting.web_client)
    return _invocation(_failure, OTHER_CLIENT, setting, token, runtime.new_session_id())


def token_of_the_allowed_client(setting: Setting) -> Attempt:
    return _invocation(_fix, OTHER_CLIENT, setting, setting.bearer, runtime.new_session_id())


def session_id_too_short(setting: Setting) -> Attempt:
    return _invocation(_failure, SHORT_SESSION, setting, setting.bearer, SHORT_SESSION_ID)


def session_id_long_enough(setting: Setting) -> Attempt:
    return _invocation(_fix, SHORT_SESSION, setting, setting.bearer, runtime.new_session_id())


# All of them


def _error_column(symptom: Attempt | None) -> str:
    if symptom is None:
        return "(not run)"
    if symptom.step == NOT_PROVOKED:
        return "(not provoked)"
    return symptom.code or "(no error: the URL is in the log)"


def summary(attempts: list[Attempt]) -> Table:
    """One row per case: the error it produced, the fix, and whether the fix worked."""
    rows = []
    for case, fix in FIXES.items():
        tried = {attempt.step: attempt for attempt in attempts if attempt.case == case}
        fixed = tried.get(FIX)
        rows.append(
            {
                "Case": case,
                "Error code": _error_column(tried.get(SYMPTOM) or tried.get(NOT_PROVOKED)),
                "Fix": fix,
                "Fix works": "yes" if fixed and fixed.as_described else "no",
            }
        )
    return table(rows)


def not_as_described(attempts: list[Attempt]) -> list[str]:
    """Every try that did not show its case (a symptom that did not fail, a fix that did)."""
    return [
        f"{attempt.case} ({attempt.step}): {attempt.code or ''} {attempt.message}".strip()
        for attempt in attempts
        if attempt.step != NOT_PROVOKED and not attempt.as_described
    ]
