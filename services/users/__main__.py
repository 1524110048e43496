"""python -m services.users: serve the users service."""

from services.users import SPEC
from services.users.api import build
from services.users.settings import UsersSettings
from shared.server import main

main(SPEC, UsersSettings, build)
