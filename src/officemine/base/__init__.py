"""The base every other part stands on: errors, file writing, settings files, JSON values,
closed choices, statistics, the words catalogue, chart style. It imports nothing else of
officemine."""
