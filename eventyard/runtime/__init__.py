"""Runtime services shared by every AWS service: the clock and the durable timers."""
