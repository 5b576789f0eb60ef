"""Service-manager templates (systemd units, a launchd agent), shipped as package data."""
