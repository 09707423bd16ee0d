"""The thin HTTP API: starts case workflows and forwards agents' actions to them."""
