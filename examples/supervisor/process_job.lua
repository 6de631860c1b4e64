-- The activity of a job (tests usually mock it).
local function main(input)
    return string.upper(input.text)
end

return {main = main}
