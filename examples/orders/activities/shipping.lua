local function ship(request: {order_id: string}): {tracking_number: string}
    return {tracking_number = "TRK-" .. request.order_id}
end

return {ship = ship}
