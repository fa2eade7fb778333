"""The monitor desk's triage: the queue of reports, opening one, deciding what to do with it,
replying to the worker, and entering a report on a worker's behalf."""
