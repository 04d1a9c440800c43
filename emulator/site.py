"""Where this emulator process is reachable: set once after binding, before serving.

Tokens, discovery documents and callback URLs embed it, as AWS embeds its host names.
"""

base_url = ""
