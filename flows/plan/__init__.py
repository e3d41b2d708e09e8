"""The begeleidingsplan voor samenwerking: estimate, goals per phase, progress, review, ending."""
