"""systemd unit templates, shipped as package data for `daemonctl install-service`."""
