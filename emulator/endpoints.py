"""Where the local backend answers, for its clients as well as itself.

Free of moto, flask and werkzeug: `helpers.backend` imports it in the notebook's kernel.
"""

HOST = "127.0.0.1"  # never any other interface: the backend holds credentials
HEALTH_PATH = "/_emulator/health"
STATS_PATH = "/_emulator/stats"
SERVICE_NAME = "agentcore-workshop-emulator"  # what the health page answers with
HOSTED_UI_PREFIX = "/_cognito"
TRACE_PATH = "/_emulator/trace"  # ?session=<runtime session id>: the hops of its consent flow
# Who takes part in a consent flow, as its trace names them (`helpers.calls` draws them).
BROWSER, RUNTIME, AGENT, IDENTITY, COGNITO = "Browser", "Runtime", "Agent", "Identity", "Cognito"
