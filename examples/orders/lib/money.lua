-- Amounts are kept in cents so that sums stay exact.
type Cents = integer

local money = {}

function money.to_cents(amount: number): Cents
    return math.tointeger(math.floor(amount * 100 + 0.5)) :: Cents
end

function money.format(cents: Cents): string
    return string.format("%d.%02d", cents // 100, cents % 100)
end

return money
