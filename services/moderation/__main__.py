"""python -m services.moderation: serve the moderation service."""

from services.moderation import SPEC
from services.moderation.api import build
from services.moderation.settings import ModerationSettings
from shared.server import main

main(SPEC, ModerationSettings, build)
