-- What the Lua halves of the world-served modules (sql, store, http) share: mistakes are raised at the
-- line of the app code that called in, Wippy errors carry that line, and methods check their receiver
-- and string arguments as Wippy's do.
local api = ...
local getmetatable, error, type, tostring = getmetatable, error, type, tostring
local new_error, where = api.new_error, api.where

local M = {}

-- "file:line" of the app code that called into the module, or nil.
function M.position()
    local file, line = where(1)
    if file then return file .. ":" .. line end
    return nil
end

-- Raise at the first user frame (the line that called into the module).
function M.raise(message)
    local at = M.position()
    error(at and (at .. ": " .. message) or message, 0)
end

-- A Wippy error value that names the calling line.
function M.err(kind, message, retryable)
    local e = new_error(kind, message, retryable, nil)
    e._file, e._line = where(1)
    return e
end

function M.check_self(self, mt, method)
    if getmetatable(self) ~= mt then
        M.raise(("bad argument #1 to '%s' (%s expected, got %s); call it as a method (obj:%s(...))"):format(
            method, mt.__name, type(self), method))
    end
    return self
end

function M.check_string(v, n, method)
    local t = type(v)
    if t == "number" then return tostring(v) end
    if t ~= "string" then M.raise(("bad argument #%d to '%s' (string expected, got %s)"):format(n, method, t)) end
    return v
end

return M
