local function make(image: string): {url: string}
    return {url = "https://cdn.example/thumbs/" .. image}
end

return {make = make}
