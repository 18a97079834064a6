"""What accounts tells the apps above it, without importing them (docs/architecture.md)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by User.save when a saved person's coarse home cell may have changed (argument: user).
# committees keeps its memberships' copy of the cell in step (committees.models.follow_home).
home_cell_moved = Signal()
