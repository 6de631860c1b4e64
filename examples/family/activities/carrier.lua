local function print_label(order: {id: string, address: string}): {id: string}
    return {id = "lbl-" .. order.id}
end

local function hand_over(label_id: string): {tracking: string}
    return {tracking = "TRK-" .. label_id}
end

local function submit_manifest(manifest: {batch: string}): {id: string}
    return {id = "man-" .. manifest.batch}
end

return {print_label = print_label, hand_over = hand_over, submit_manifest = submit_manifest}
