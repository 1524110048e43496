"""python -m services.social: serve the social service."""

from services.social import SPEC
from services.social.api import build
from services.social.settings import SocialSettings
from shared.server import main

main(SPEC, SocialSettings, build)
