-- The `workflow` module: version, attrs, info, exec.
local api, P, host, common = ...
local hc, KIND, invalid, check_target = common.hc, common.KIND, common.invalid, common.check_target
local raw_type, tbl_pack = type, table.pack

local workflow = {}
function workflow.version(change_id, min, max)
    if raw_type(change_id) ~= "string" or change_id == "" then return nil, invalid("change_id must be a non-empty string") end
    if raw_type(min) ~= "number" or raw_type(max) ~= "number" then return nil, invalid("min and max must be numbers") end
    if min > max then return nil, invalid("min must not be greater than max") end
    local v, err = hc({kind = KIND.version, change_id = change_id, min = math.tointeger(min) or min,
                       max = math.tointeger(max) or max})
    if v == nil then return nil, err end
    return v + 0.0, nil
end
function workflow.attrs(spec)
    if raw_type(spec) ~= "table" then return nil, invalid("attrs expects a table {search = ..., memo = ...}") end
    if spec.search == nil and spec.memo == nil then return nil, invalid("attrs needs search or memo") end
    if spec.search ~= nil and raw_type(spec.search) ~= "table" then return nil, invalid("search must be a table") end
    if spec.memo ~= nil and raw_type(spec.memo) ~= "table" then return nil, invalid("memo must be a table") end
    return hc({kind = KIND.attrs, search = spec.search, memo = spec.memo})
end
function workflow.info() return host.info(), nil end
function workflow.history_length() return host.info().history_length, nil end
function workflow.history_size() return host.info().history_size, nil end
-- a synchronous child workflow on the parent's task queue.
function workflow.exec(id, ...)
    local bad = check_target(id)
    if bad then return nil, invalid(bad) end
    return hc({kind = KIND.child_exec, target = id, args = tbl_pack(...), no_empty_input = true})
end

return workflow
