"""Development tooling: runs the SAM application on this machine against moto. Never deployed."""
