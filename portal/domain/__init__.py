"""Pure domain rules: money, dates, stages, interest, schedules, allocation, state machines."""
