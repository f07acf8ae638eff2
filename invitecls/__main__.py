"""``python -m invitecls``: the command line."""

from invitecls._cli import main

raise SystemExit(main())
