"""launchd agent template, shipped as package data for `daemonctl install-service`."""
