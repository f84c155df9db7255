#!/usr/bin/env python
import os
import secrets
import sys

# Commands that only read the code (they serve nothing and sign nothing) run without the production secret, so a
# fresh checkout can check its migrations. Everything else, `check --deploy` included, still needs SECRET_KEY, and
# a SECRET_KEY that is set but weak is refused as always.
CODE_ONLY_COMMANDS = {"makemigrations", "check"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kap_clinic.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in CODE_ONLY_COMMANDS and "--deploy" not in sys.argv and "SECRET_KEY" not in os.environ:
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(64)  # used by nothing, gone when the command ends
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
