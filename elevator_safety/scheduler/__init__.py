"""The scheduler process: periodic evaluation, the evening patrol check, the morning digest."""
