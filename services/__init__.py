"""One package per service; each declares its ServiceSpec as SPEC."""
