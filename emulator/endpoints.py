"""Where the local backend answers, for its clients as well as itself.

Free of moto, flask and werkzeug: `helpers.backend` imports it in the notebook's kernel.
"""

HOST = "127.0.0.1"  # never any other interface: the backend holds credentials
HEALTH_PATH = "/_emulator/health"
STATS_PATH = "/_emulator/stats"
SERVICE_NAME = "agentcore-workshop-emulator"  # what the health page answers with
HOSTED_UI_PREFIX = "/_cognito"
