"""`python -m service.cli …`: the same as the `trainrec` command."""

from service.cli.main import main

raise SystemExit(main())
