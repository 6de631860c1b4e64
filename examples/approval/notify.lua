local function notify(message: {to: {string}, text: string}): {sent: integer}
    return {sent = #message.to}
end

return {notify = notify}
