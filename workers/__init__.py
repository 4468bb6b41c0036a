"""Background work: feed polling, push fan-out, transports, cron."""
