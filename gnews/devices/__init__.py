"""Citizens' phones: registered installs of the G-News app, their subscriptions and secrets."""
