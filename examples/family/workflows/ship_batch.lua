local workflow = require("workflow")

type Order = {id: string, address: string}

local function main(batch: {id: string, orders: {Order}})
    -- process.spawn's second argument is the task queue the child runs on, taken as it is: this
    -- worker's own queue.
    local queue = workflow.info().task_queue
    local events = process.events()

    local order_of = {} -- child PID -> order id
    for _, order in ipairs(batch.orders) do
        local pid, err = process
            .with_options({["temporal.workflow.id"] = "parcel-" .. order.id})
            :spawn_monitored("app:ship_parcel", queue, order)
        if err then
            return nil, err
        end
        order_of[pid] = order.id
    end

    -- Each child reports once, with an EXIT event, in the order they finish.
    local outcomes = {}
    while next(order_of) do
        local event = events:receive()
        if event.kind == process.event.EXIT then
            local id = order_of[event.from]
            order_of[event.from] = nil
            local err = event.result.error
            outcomes[id] = err and {kind = err:kind(), message = err:message()} or event.result.value
        end
    end

    local shipped, failed = {}, {}
    for _, order in ipairs(batch.orders) do
        local outcome = outcomes[order.id]
        if outcome.tracking then
            table.insert(shipped, {order = order.id, tracking = outcome.tracking})
        else
            table.insert(failed, {order = order.id, kind = outcome.kind, message = outcome.message})
        end
    end

    -- A synchronous child: its error comes back as the second value, like an activity's.
    local manifest, err = workflow.exec("app:close_manifest", {batch = batch.id, parcels = shipped})
    if err then
        return nil, err
    end
    return {manifest = manifest.id, shipped = shipped, failed = failed}
end

return {main = main}
