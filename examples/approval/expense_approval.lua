local funcs = require("funcs")
local time = require("time")

type Expense = {
    id: string,
    amount: number,
    requester: string,
    approvers: {string},
    deadline: string?,
}

local function is_approver(expense: Expense, who: string?): boolean
    for _, name in ipairs(expense.approvers) do
        if name == who then
            return true
        end
    end
    return false
end

local function main(input: any)
    local expense = Expense(input)
    funcs.call("app:notify", {to = expense.approvers, text = "please review expense " .. expense.id})

    local approve = process.listen("approve")
    local reject = process.listen("reject")
    -- One deadline for the whole wait: ignored signals do not extend it.
    local deadline = time.after(expense.deadline or "24h")

    while true do
        local r = channel.select{approve:case_receive(), reject:case_receive(), deadline:case_receive()}
        if r.channel == deadline then
            funcs.call("app:notify", {to = {expense.requester}, text = "expense " .. expense.id .. " expired"})
            return {status = "expired"}
        end
        local decision = r.value
        -- Only the listed approvers decide; anyone else's signal is ignored.
        if type(decision) == "table" and is_approver(expense, decision.by) then
            local status = r.channel == approve and "approved" or "rejected"
            funcs.call("app:notify", {to = {expense.requester}, text = "expense " .. expense.id .. " " .. status})
            return {status = status, by = decision.by, reason = decision.reason}
        end
    end
end

return {main = main}
