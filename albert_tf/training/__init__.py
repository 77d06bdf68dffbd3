"""Optimizers, schedules, callbacks and the run folder that training writes."""
