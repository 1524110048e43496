"""python -m services.payments: serve the payments service."""

from services.payments import SPEC
from services.payments.api import build
from services.payments.settings import PaymentsSettings
from shared.server import main

main(SPEC, PaymentsSettings, build)
