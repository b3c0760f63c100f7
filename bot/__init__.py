"""The process: CLI, configuration, the daemon and its chat front ends."""
