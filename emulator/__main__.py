"""Command line: ``python -m emulator serve --port N``."""

import argparse
import gc

from emulator.cognito.patches import IncompatibleMoto
from emulator.endpoints import HOST
from emulator.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the local backend in the foreground")
    serve_cmd.add_argument("--port", type=int, default=0, help=f"port on {HOST} (0: any free)")
    serve_cmd.add_argument(
        "--parent", type=int, help="stop when this process (the one that started us) is gone"
    )
    serve_cmd.add_argument(
        "--preload", action="store_true", help="import what agents need now, not at a deploy"
    )
    args = parser.parse_args()
    try:
        serve(args.port, args.parent, args.preload)
    except IncompatibleMoto as error:
        raise SystemExit(f"The local backend cannot start: {error}") from error
    finally:
        # Stopped, the process only has to exit: frozen, its objects are not garbage
        # collected once more on the way out (a quarter of a second of CPU).
        gc.freeze()


if __name__ == "__main__":
    main()
