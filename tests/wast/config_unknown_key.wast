;;! multi_memory = true
;;! no_such_setting = true
(module)
