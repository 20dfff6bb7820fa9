"""``python -m sklearn_ganomaly.benchmark``: the image benchmark."""

from ._command import main

raise SystemExit(main())
