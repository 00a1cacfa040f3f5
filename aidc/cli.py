"""`aidc`: the command line. Each command lives in aidc/commands/<name>.py with
`register(subparsers)`; bad input anywhere becomes exit code 2 with every problem listed."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

from components.catalog import CatalogError
from components.spec import SpecError

from . import __version__
from .errors import UserError

COMMANDS = ("plan", "policy", "cost", "diff", "export", "job", "size", "verify")
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: exit 2, as ours
        self.print_usage(sys.stderr)
        raise UserError(message)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command's module is imported (each pulls in its own
    heavy dependencies: the Kubernetes client, the Pulumi providers, ...)."""
    parser = _Parser(prog="aidc", description="Build, judge and verify AI datacenters on Pulumi.")
    parser.add_argument("--version", action="version", version=f"aidc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        if only is None or name == only:
            importlib.import_module(f"aidc.commands.{name}").register(sub)
    return parser


def _report(err: SpecError | UserError, as_json: bool) -> None:
    problems = err.problems
    if as_json:
        print(json.dumps({"error": str(err) if isinstance(err, UserError) else "invalid stack configuration",
                          "problems": [{"file": p.file, "path": p.path, "message": p.message} for p in problems]},
                         indent=2), file=sys.stderr)
        return
    if isinstance(err, UserError):
        print(f"aidc: {err}", file=sys.stderr)
    else:
        print(f"aidc: invalid stack configuration ({len(problems)} problem{'s' * (len(problems) != 1)}):",
              file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    try:
        first = next((a for a in argv if not a.startswith("-")), None)
        args = build_parser(first if first in COMMANDS else None).parse_args(argv)
        return int(args.run(args) or 0)
    except (SpecError, UserError) as err:
        _report(err, as_json)
        return EXIT_BAD_INPUT
    except CatalogError as err:
        print(f"aidc: the data shipped with aidc is inconsistent (a bug): {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (`| head`) went away: not an error of ours. Silence the flush at exit.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0


if __name__ == "__main__":
    sys.exit(main())
