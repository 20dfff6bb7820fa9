"""The ``sklearn-ganomaly`` command's entry point: Ctrl-C is answered from the first moment.

The command line's module imports torch and the estimator, which takes a few
seconds; an interrupt during that time would otherwise end in a traceback.
This module imports nothing heavy itself and reports such an interrupt as the
command line reports any other: one line, exit status 130.
"""

import sys

__all__ = ["main"]


def main():
    """Run ``sklearn-ganomaly``; returns its exit status."""
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        print("sklearn-ganomaly: interrupted; no output was written", file=sys.stderr)
        return 130
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
