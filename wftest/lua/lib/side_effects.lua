-- The Lua half of every side-effecting function: `check(...)` (Python) answers "ok", args... (issue
-- the side effect with those args), "fail", err (return nil, err) or "raise", message (raise at the
-- caller's line; `finish` runs as a tail call, so level 2 is the user's frame).
local side_effect = ...
local raise = error
local function finish(name, verdict, ...)
    if verdict == "ok" then return side_effect(name, ...) end
    if verdict == "fail" then return nil, (...) end
    raise((...), 2)
end
return function(name, check)
    return function(...)
        return finish(name, check(...))
    end
end
