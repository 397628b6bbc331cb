"""Crisis mode: spikes of complaints per brand, business unit or topic open incidents that change routing."""
