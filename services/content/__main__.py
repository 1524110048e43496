"""python -m services.content: serve the content service."""

from services.content import SPEC
from services.content.api import build
from services.content.settings import ContentSettings
from shared.server import main

main(SPEC, ContentSettings, build)
