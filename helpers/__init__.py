"""What the workshop notebooks call: AWS work, workshop state and display.

Everything here talks to AWS through boto3 or plain HTTP and never asks which backend
it is on; `helpers.backend` alone knows how to reach the local emulator or AWS.
"""

from helpers.errors import WorkshopError

__all__ = ["WorkshopError"]
