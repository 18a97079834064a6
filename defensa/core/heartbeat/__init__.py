"""Background processes say they are alive (label `heartbeat`): `Beating(kind)` in a process,
`Heartbeat` rows read by the health check and the metrics (defensa/ops)."""
