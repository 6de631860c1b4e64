-- wftest's own `wippy.test:test`: BDD suites (describe/it/it_skip, the spec/context aliases),
-- lifecycle hooks, assertions and test.mock. Every case outcome goes to the host's `report` as plain
-- values the moment it is known, so a runner sees each `it` even when the test raises at the end.
-- Hooks and bodies run under pcall, which may yield: a case can start workflows and wait for them.
local host = ...
local report, open_module = host.report, host.module
local wippy_type, raw_error, raw_pcall, raw_tostring = type, error, pcall, tostring
local raw_getmetatable, raw_rawget = getmetatable, rawget
local str_match, str_find, str_gsub = string.match, string.find, string.gsub
local tbl_concat, tbl_sort, tbl_unpack = table.concat, table.sort, table.unpack
local globals = _G

local M = {}

-- The global `type` calls Wippy objects (tables with a `__wippy` metatable) userdata; here they are tables.
local function raw_type(v)
    local t = wippy_type(v)
    if t == "userdata" and raw_pcall(raw_rawget, v, 1) then return "table" end
    return t
end

---------------------------------------------------------------------------------------------------
-- Rendering values in messages: stable text (no addresses), short tables.
local render

local function render_key(k)
    if raw_type(k) == "string" and str_match(k, "^[%a_][%w_]*$") then return k end
    return "[" .. render(k, 3) .. "]"
end

local function key_order(a, b)
    local ta, tb = raw_type(a), raw_type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return false
end

local function render_table(t, depth)
    if depth > 2 then return "{...}" end
    local parts, n = {}, #t
    for i = 1, n do parts[#parts + 1] = render(t[i], depth + 1) end
    local keys = {}
    for k in pairs(t) do
        if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    tbl_sort(keys, key_order)
    for _, k in ipairs(keys) do parts[#parts + 1] = render_key(k) .. " = " .. render(t[k], depth + 1) end
    return "{" .. tbl_concat(parts, ", ") .. "}"
end

render = function(v, depth)
    local t = raw_type(v)
    if t == "string" then return '"' .. str_gsub(v, "\n", "\\n") .. '"' end
    if t == "number" or t == "boolean" or t == "nil" then return raw_tostring(v) end
    if t == "table" then
        local mt = raw_getmetatable(v)
        local tag = raw_type(mt) == "table" and raw_rawget(mt, "__wippy") or nil
        if tag ~= nil then
            if raw_rawget(mt, "__tostring") then return tag .. "(" .. render(raw_tostring(v)) .. ")" end
            return tag
        end
        return render_table(v, depth or 1)
    end
    return t
end

---------------------------------------------------------------------------------------------------
-- Failures: assertions raise at their caller's line; messages read "<msg>: <what went wrong>".
local function fail(default, msg)
    if msg ~= nil then default = raw_tostring(msg) .. ": " .. default end
    raw_error(default, 3)
end

-- An error value as (message, file, line): string errors carry "file.lua:N: " in front, Wippy errors
-- know where they were made.
local function describe_error(e)
    local t = raw_type(e)
    if t == "string" then
        local file, line, rest = str_match(e, "^([^:\n]+%.lua):(%d+): (.*)$")
        if file then return rest, file, math.tointeger(tonumber(line)) end
        return e, nil, nil
    end
    local mt = raw_getmetatable(e)
    if t == "table" and raw_type(mt) == "table" and raw_rawget(mt, "__wippy") == "error" then
        local stack = globals.errors.call_stack(e)
        local frame = stack and stack.frames[1]
        return mt.__export(e), frame and frame.source, frame and frame.line
    end
    if e == nil then return "nil", nil, nil end
    if t == "table" and not (raw_type(mt) == "table" and mt.__tostring) then
        return "(error object is a table value)", nil, nil
    end
    return raw_tostring(e), nil, nil
end

-- The position of user code calling test.it/it_skip (5 frames up: pcall, this, add_case, it, user).
local function caller_position()
    local _, where = raw_pcall(raw_error, "", 5)
    local file, line = str_match(where or "", "^([^:\n]+%.lua):(%d+): $")
    if file == nil then return nil, nil end
    return file, math.tointeger(tonumber(line))
end

---------------------------------------------------------------------------------------------------
-- Assertions.
function M.eq(actual, expected, msg)
    if actual ~= expected then fail("expected " .. render(expected) .. ", got " .. render(actual), msg) end
end

function M.neq(actual, expected, msg)
    if actual == expected then fail("expected a value other than " .. render(expected), msg) end
end

function M.ok(val, msg)
    if not val then fail("expected a truthy value, got " .. render(val), msg) end
    return val
end

function M.fail(msg)
    raw_error(msg ~= nil and raw_tostring(msg) or "test.fail called", 2)
end

function M.is_nil(val, msg)
    if val ~= nil then fail("expected nil, got " .. render(val), msg) end
end

function M.not_nil(val, msg)
    if val == nil then fail("expected a non-nil value, got nil", msg) end
end

function M.is_true(val, msg)
    if val ~= true then fail("expected true, got " .. render(val), msg) end
end

function M.is_false(val, msg)
    if val ~= false then fail("expected false, got " .. render(val), msg) end
end

-- (the global `type`: Wippy objects such as errors are userdata, not tables)
for _, name in ipairs({"string", "number", "table", "function", "boolean"}) do
    M["is_" .. name] = function(val, msg)
        if wippy_type(val) ~= name then fail("expected a " .. name .. ", got " .. render(val), msg) end
    end
end

local function strings(a, b)
    return raw_type(a) == "string" and raw_type(b) == "string"
end

function M.contains(str, substr, msg)
    if not strings(str, substr) then
        fail("expected two strings, got " .. render(str) .. " and " .. render(substr), msg)
    end
    if not str_find(str, substr, 1, true) then
        fail("expected " .. render(str) .. " to contain " .. render(substr), msg)
    end
end

function M.matches(str, pattern, msg)
    if not strings(str, pattern) then
        fail("expected two strings, got " .. render(str) .. " and " .. render(pattern), msg)
    end
    if not str_find(str, pattern) then
        fail("expected " .. render(str) .. " to match pattern " .. render(pattern), msg)
    end
end

function M.has_key(tbl, key, msg)
    if raw_type(tbl) ~= "table" then fail("expected a table, got " .. render(tbl), msg) end
    if tbl[key] == nil then fail("expected " .. render(tbl) .. " to have key " .. render(key), msg) end
end

function M.len(val, expected, msg)
    local t = raw_type(val)
    if t ~= "table" and t ~= "string" then fail("expected a table or a string, got " .. render(val), msg) end
    if #val ~= expected then fail("expected length " .. render(expected) .. ", got " .. #val, msg) end
end

local function comparison(name, words, holds)
    M[name] = function(a, b, msg)
        if not holds(a, b) then
            fail("expected " .. render(a) .. " to be " .. words .. " " .. render(b), msg)
        end
    end
end
comparison("gt", "greater than", function(a, b) return a > b end)
comparison("gte", "greater than or equal to", function(a, b) return a >= b end)
comparison("lt", "less than", function(a, b) return a < b end)
comparison("lte", "less than or equal to", function(a, b) return a <= b end)

function M.throws(fn, msg)
    if raw_type(fn) ~= "function" then fail("expected a function, got " .. render(fn), msg) end
    local ok, err = raw_pcall(fn)
    if ok then fail("expected an error, got none", msg) end
    return err
end

function M.has_error(val, err, msg)
    if err == nil then fail("expected an error, got none", msg) end
    if val ~= nil then fail("expected nil with the error, got " .. render(val), msg) end
end

function M.no_error(val, err, msg)
    if err ~= nil then fail("expected no error, got " .. render((describe_error(err))), msg) end
end

---------------------------------------------------------------------------------------------------
-- Mocks: replace a field reached from a global or a module by a dotted path; restored after each case.
local mocks = {}  -- active mocks in the order they were made: {path, parent, key, original}

-- The table holding the field a path names, and the field's key; errors are raised at `level`.
local function mock_target(path, level)
    local parts = {}
    if raw_type(path) == "string" then
        for part in (path .. "."):gmatch("([^.]*)%.") do parts[#parts + 1] = part end
    end
    for _, part in ipairs(parts) do
        if not str_match(part, "^[%a_][%w_]*$") then parts = {} break end
    end
    if #parts == 0 then
        raw_error("test.mock: path must be dotted names like \"process.send\", got " .. render(path), level)
    end
    if #parts == 1 then return globals, parts[1] end
    local parent = globals[parts[1]]
    if parent == nil then
        local module, err = open_module(parts[1])
        if module == nil then raw_error("test.mock: cannot mock '" .. path .. "': " .. err, level) end
        parent = module
    end
    for i = 2, #parts - 1 do
        if raw_type(parent) ~= "table" then break end
        parent = parent[parts[i]]
    end
    if raw_type(parent) ~= "table" then
        local owner = tbl_concat(parts, ".", 1, #parts - 1)
        raw_error("test.mock: cannot mock '" .. path .. "': '" .. owner .. "' is not a table", level)
    end
    return parent, parts[#parts]
end

local function mock(path, replacement, level)
    local parent, key = mock_target(path, level + 1)
    local active = false
    for _, m in ipairs(mocks) do active = active or m.path == path end
    if not active then
        mocks[#mocks + 1] = {path = path, parent = parent, key = key, original = parent[key]}
    end
    parent[key] = replacement
end

function M.mock(path, replacement) mock(path, replacement, 3) end

function M.mock_process(field, replacement)
    if raw_type(field) ~= "string" then
        raw_error("test.mock_process: field must be a string, got " .. render(field), 2)
    end
    mock("process." .. field, replacement, 3)
end

-- Restores one mock; true if it was active.
function M.restore_mock(path)
    for i = #mocks, 1, -1 do
        local m = mocks[i]
        if m.path == path then
            m.parent[m.key] = m.original
            table.remove(mocks, i)
            return true
        end
    end
    return false
end

function M.restore_all_mocks()
    for i = #mocks, 1, -1 do
        local m = mocks[i]
        m.parent[m.key] = m.original
        mocks[i] = nil
    end
end

---------------------------------------------------------------------------------------------------
-- Suites: collected while the function given to run_cases runs, then run in declaration order.
local defining = nil  -- the suite being declared, or nil outside a run_cases definition

local function new_suite(name, parent)
    return {name = name, parent = parent, items = {}, before_all = {}, after_all = {}, before_each = {},
            after_each = {}}
end

local function current(what)
    if defining == nil then
        raw_error("test." .. what .. " must be called inside the function given to test.run_cases", 3)
    end
    return defining
end

local function check_named(what, name, fn)
    if raw_type(name) ~= "string" then
        raw_error("test." .. what .. ": name must be a string, got " .. render(name), 3)
    end
    if raw_type(fn) ~= "function" then
        raw_error("test." .. what .. ": expected a function, got " .. render(fn), 3)
    end
end

function M.describe(name, fn)
    local parent = current("describe")
    check_named("describe", name, fn)
    local suite = new_suite(name, parent)
    parent.items[#parent.items + 1] = {suite = suite}
    defining = suite
    local ok, err = raw_pcall(fn)
    defining = parent
    if not ok then raw_error(err, 0) end
end
M.spec = M.describe
M.context = M.describe

local function add_case(what, name, fn, skip)
    local suite = current(what)
    check_named(what, name, fn)
    local file, line = caller_position()
    suite.items[#suite.items + 1] = {case = {name = name, fn = fn, skip = skip, file = file, line = line}}
end

function M.it(name, fn) add_case("it", name, fn, false) end
function M.it_skip(name, fn) add_case("it_skip", name, fn, true) end

for _, hook in ipairs({"before_all", "after_all", "before_each", "after_each"}) do
    M[hook] = function(fn)
        local suite = current(hook)
        if raw_type(fn) ~= "function" then
            raw_error("test." .. hook .. ": expected a function, got " .. render(fn), 2)
        end
        local list = suite[hook]
        list[#list + 1] = fn
    end
end

local function has_runnable(suite)
    for _, item in ipairs(suite.items) do
        if item.case and not item.case.skip then return true end
        if item.suite and has_runnable(item.suite) then return true end
    end
    return false
end

local function path_of(suite, last)
    local names = {}
    while suite ~= nil do
        if suite.name ~= nil then names[#names + 1] = suite.name end
        suite = suite.parent
    end
    local path = {}
    for i = #names, 1, -1 do path[#path + 1] = names[i] end
    path[#path + 1] = last
    return path
end

local function run_hooks(list, label)
    for _, hook in ipairs(list) do
        local ok, err = raw_pcall(hook)
        if not ok then
            local message, file, line = describe_error(err)
            return {message = label .. ": " .. message, file = file, line = line}
        end
    end
    return nil
end

local function chain_of(suite)
    local chain = {}
    while suite ~= nil do
        table.insert(chain, 1, suite)
        suite = suite.parent
    end
    return chain
end

local function record(results, status, case, path, failure)
    results.total_tests = results.total_tests + 1
    results[status .. "_tests"] = results[status .. "_tests"] + 1
    local message, file, line = nil, nil, nil
    if failure then message, file, line = failure.message, failure.file, failure.line end
    report(status, message, case.file, case.line, file, line, tbl_unpack(path))
end

local function run_case(case, suite, results, broken)
    local path = path_of(suite, case.name)
    if case.skip then return record(results, "skipped", case, path) end
    if broken then return record(results, "failed", case, path, broken) end
    report("running", nil, case.file, case.line, nil, nil, tbl_unpack(path))
    local chain = chain_of(suite)
    local failure = nil
    for _, s in ipairs(chain) do
        failure = run_hooks(s.before_each, "before_each")
        if failure then break end
    end
    if failure == nil then
        local ok, err = raw_pcall(case.fn)
        if not ok then
            local message, file, line = describe_error(err)
            failure = {message = message, file = file, line = line}
        end
    end
    for i = #chain, 1, -1 do
        local after = run_hooks(chain[i].after_each, "after_each")
        failure = failure or after
    end
    M.restore_all_mocks()
    record(results, failure and "failed" or "passed", case, path, failure)
end

local function run_suite(suite, results, broken)
    local runnable = not broken and has_runnable(suite)
    if runnable then broken = run_hooks(suite.before_all, "before_all") end
    for _, item in ipairs(suite.items) do
        if item.case then
            run_case(item.case, suite, results, broken)
        else
            run_suite(item.suite, results, broken)
        end
    end
    if runnable then
        local failure = run_hooks(suite.after_all, "after_all")
        if failure then
            record(results, "failed", {}, path_of(suite, "after_all"), failure)
        end
    end
end

-- run_cases(define) returns the function a test calls (any options it is given are not needed here):
-- it declares the suites by calling `define`, runs every case and returns the counts
-- {total_tests, passed_tests, failed_tests, skipped_tests}.
function M.run_cases(define)
    if raw_type(define) ~= "function" then
        raw_error("test.run_cases: expected a function declaring the suites, got " .. render(define), 2)
    end
    return function()
        local root = new_suite(nil, nil)
        defining = root
        local ok, err = raw_pcall(define)
        defining = nil
        if not ok then raw_error(err, 0) end
        local results = {total_tests = 0, passed_tests = 0, failed_tests = 0, skipped_tests = 0}
        run_suite(root, results, nil)
        return results
    end
end

return M
