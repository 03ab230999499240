"""How each kind of model runs one stage. Each module has `IN_PROCESS`, `describe(task, ctx)`
(the text of cmd.txt) and `run(task, ctx) -> exit code`."""
