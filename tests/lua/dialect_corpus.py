"""Typed-Lua snippets and their exact erased output (wftest.lua.dialect)."""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    name: str
    typed: str
    lua: str


CASES: tuple[Case, ...] = (
    Case(
        'local_one',
        'local a: number = 1',
        'local a         = 1',
    ),
    Case(
        'local_many',
        'local a: number, b: string? = 1, nil',
        'local a        , b          = 1, nil',
    ),
    Case(
        'local_no_value',
        'local x: number\nx = 2',
        'local x        \nx = 2',
    ),
    Case(
        'local_attrib_after',
        'local n: integer <const> = 5',
        'local n          <const> = 5',
    ),
    Case(
        'local_attrib_then_annotation',
        'local x <close>: any = nil',
        'local x <close>      = nil',
    ),
    Case(
        'local_union',
        'local v: number | string = 1',
        'local v                  = 1',
    ),
    Case(
        'local_literal_union',
        'local s: "a" | "b" | true | 1 = "a"',
        'local s                       = "a"',
    ),
    Case(
        'local_function_type',
        'local f: (number, string) -> boolean = nil',
        'local f                              = nil',
    ),
    Case(
        'local_function_type_named',
        'local cb: (err: error?, value: any) -> () = nil',
        'local cb                                  = nil',
    ),
    Case(
        'local_array_and_map',
        'local xs: {number} = {}\nlocal m: {[string]: {number}} = {}',
        'local xs           = {}\nlocal m                       = {}',
    ),
    Case(
        'local_record',
        'local p: {x: number, y?: number} = {x = 1}',
        'local p                          = {x = 1}',
    ),
    Case(
        'local_generic_instance',
        'local r: Result<User, string> = ok(u)',
        'local r                       = ok(u)',
    ),
    Case(
        'local_nested_generic_closing',
        'local r: Map<string, List<number>> = {}',
        'local r                            = {}',
    ),
    Case(
        'local_generic_then_equals',
        'local r: List<number>= {}',
        'local r              = {}',
    ),
    Case(
        'local_qualified_optional',
        'local u: models.User? = nil',
        'local u               = nil',
    ),
    Case(
        'local_validators',
        'local x: number @min(0) @max(100) = 50',
        'local x                           = 50',
    ),
    Case(
        'local_pattern',
        'local email: string @pattern("^.+@.+$") = "a@b.c"',
        'local email                             = "a@b.c"',
    ),
    Case(
        'local_union_of_validated',
        'local id: number @min(1) | string @min_len(1) = 1',
        'local id                                      = 1',
    ),
    Case(
        'local_multiline_type',
        'local cfg: {\n    host: string,\n    port: number,\n} = {host = "h", port = 1}',
        'local cfg   \n                 \n                 \n  = {host = "h", port = 1}',
    ),
    Case(
        'local_intersection',
        'local p: Named & Aged = x',
        'local p               = x',
    ),
    Case(
        'local_comment_inside_type',
        'local x: number --[[ why ]] | nil = nil',
        'local x                           = nil',
    ),
    Case(
        'local_generic_function_type',
        'local id: <T>(T) -> T = function(x) return x end',
        'local id              = function(x) return x end',
    ),
    Case(
        'local_string_and_keyword_fields',
        'local r: {["content-type"]: string, end?: number} = {}',
        'local r                                           = {}',
    ),
    Case(
        'local_function_params_return',
        'local function add(a: number, b: number): number\n    return a + b\nend',
        'local function add(a        , b        )        \n    return a + b\nend',
    ),
    Case(
        'local_function_generic',
        'local function identity<T>(x: T): T\n    return x\nend',
        'local function identity   (x   )   \n    return x\nend',
    ),
    Case(
        'generic_bound',
        'local function greet<T: HasName>(obj: T): string\n    return "Hello, " .. obj.name\nend',
        'local function greet            (obj   )        \n    return "Hello, " .. obj.name\nend',
    ),
    Case(
        'generic_two_params',
        'function pair<K, V>(k: K, v: V): {[K]: V} return {[k] = v} end',
        'function pair      (k   , v   )           return {[k] = v} end',
    ),
    Case(
        'tuple_return',
        'local function div_mod(a: number, b: number): (number, number)\n    return a // b, a % b\nend',
        'local function div_mod(a        , b        )                  \n    return a // b, a % b\nend',
    ),
    Case(
        'optional_tuple_return',
        'local function fetch(url: string): (string?, error?)\n    return nil, nil\nend',
        'local function fetch(url        )                   \n    return nil, nil\nend',
    ),
    Case(
        'variadic_param',
        'local function sum(...: number): number\n    local total: number = 0\n'
        '    for _, v in ipairs({...}) do total = total + v end\n    return total\nend',
        'local function sum(...        )        \n    local total         = 0\n'
        '    for _, v in ipairs({...}) do total = total + v end\n    return total\nend',
    ),
    Case(
        'variadic_return',
        'local function all(...): ...any return ... end',
        'local function all(...)         return ... end',
    ),
    Case(
        'never_return',
        'function fail(msg: string): never\n    error(msg)\nend',
        'function fail(msg        )       \n    error(msg)\nend',
    ),
    Case(
        'method_definition',
        'function Obj:area(scale: number): number\n    return self.w * self.h * scale\nend',
        'function Obj:area(scale        )        \n    return self.w * self.h * scale\nend',
    ),
    Case(
        'dotted_definition',
        'function M.f(a: string): boolean return a ~= "" end',
        'function M.f(a        )          return a ~= "" end',
    ),
    Case(
        'anonymous_function',
        'local double = function(x: number): number\n    return x * 2\nend',
        'local double = function(x        )        \n    return x * 2\nend',
    ),
    Case(
        'anonymous_generic',
        'local id = function<T>(x: T): T return x end',
        'local id = function   (x   )    return x end',
    ),
    Case(
        'returns_function_type',
        'local function make(): (number) -> number\n    return function(x) return x end\nend',
        'local function make()                    \n    return function(x) return x end\nend',
    ),
    Case(
        'empty_tuple_return',
        'local function noop(): () end',
        'local function noop()     end',
    ),
    Case(
        'return_type_then_parenthesised_call',
        'local function f(): number\n    (g or h)(1)\n    return 1\nend',
        'local function f()        \n    (g or h)(1)\n    return 1\nend',
    ),
    Case(
        'callback_parameter',
        'local function each(xs: {any}, fn: (any, integer) -> ()): ()\n'
        '    for i, x in ipairs(xs) do fn(x, i) end\nend',
        'local function each(xs       , fn                      )    \n'
        '    for i, x in ipairs(xs) do fn(x, i) end\nend',
    ),
    Case(
        'for_annotations',
        'for i: integer = 1, 3 do end\nfor k: string, v: number in pairs(t) do end',
        'for i          = 1, 3 do end\nfor k        , v         in pairs(t) do end',
    ),
    Case(
        'global_declarations',
        'global x: number = 1\nglobal function g(a: number): number return a end',
        'global x         = 1\nglobal function g(a        )         return a end',
    ),
    Case(
        'global_attribs_and_star',
        'global <const> *\nglobal <const> limit: integer = 10\nlocal n: number = limit',
        'global <const> *\nglobal <const> limit          = 10\nlocal n         = limit',
    ),
    Case(
        'generic_defaults_and_variadic',
        'local function f<T = string, U...>(x: T): U end',
        'local function f                  (x   )    end',
    ),
    Case(
        'cast_as',
        'local user = data as User',
        'local user = data        ',
    ),
    Case(
        'cast_double_colon',
        'local user = data :: User',
        'local user = data        ',
    ),
    Case(
        'casts_in_call',
        'print(x :: number, y as string)',
        'print(x          , y          )',
    ),
    Case(
        'cast_to_table_type',
        'local p = data as {x: number}',
        'local p = data               ',
    ),
    Case(
        'cast_in_parentheses_then_index',
        'local n = (v :: {name: string}).name',
        'local n = (v                  ).name',
    ),
    Case(
        'cast_then_label',
        'local x = y :: number\n::top::',
        'local x = y          \n::top::',
    ),
    Case(
        'non_nil_assertion',
        'local name = (user!).name',
        'local name = (user ).name',
    ),
    Case(
        'non_nil_chain',
        'local z = a!.b!:c()!',
        'local z = a .b :c() ',
    ),
    Case(
        'non_nil_then_equality',
        'if x!==y then end',
        'if x ==y then end',
    ),
    Case(
        'cast_parenthesised_before_bitwise_or',
        'local y = (x as integer) | 0xFF',
        'local y = (x           ) | 0xFF',
    ),
    Case(
        'cast_as_parenthesised_type_same_line',
        'local v = x as(number)',
        'local v = x           ',
    ),
    Case(
        'crlf_line_endings',
        "local a: number = 1\r\nlocal b: {\r\n  s: string\r\n} = {s = 'x'}\r\n",
        "local a         = 1\r\nlocal b   \r\n           \r\n  = {s = 'x'}\r\n",
    ),
    Case(
        'cast_of_call_result',
        'local n = tonumber(s) :: integer + 1',
        'local n = tonumber(s)            + 1',
    ),
    Case(
        'label_and_goto',
        'for i = 1, 3 do\n    if i == 2 then goto continue end\n    print(i)\n    ::continue::\nend',
        'for i = 1, 3 do\n    if i == 2 then goto continue end\n    print(i)\n    ::continue::\nend',
    ),
    Case(
        'expression_then_label',
        'local x = y\n::top::',
        'local x = y\n::top::',
    ),
    Case(
        'strings_and_comments',
        'local s = "local x: number" .. \'a: b\' -- local y: string\n--[[ type X = number ]] print(s)',
        'local s = "local x: number" .. \'a: b\' -- local y: string\n--[[ type X = number ]] print(s)',
    ),
    Case(
        'long_strings',
        'local t = [==[ x :: T ]] ]==] .. [[a as B]]',
        'local t = [==[ x :: T ]] ]==] .. [[a as B]]',
    ),
    Case(
        'escapes_in_strings',
        'local s = "say \\"x: T\\"" .. \'\\\'\' .. "\\z\n    as T"',
        'local s = "say \\"x: T\\"" .. \'\\\'\' .. "\\z\n    as T"',
    ),
    Case(
        'method_calls',
        'obj:method(1):other "s":third {1}',
        'obj:method(1):other "s":third {1}',
    ),
    Case(
        'type_as_identifier',
        'local type = 1\nprint(type(x), t.type)\nx.type = "a"\nlocal k = {type = "t"}\ntype "s"',
        'local type = 1\nprint(type(x), t.type)\nx.type = "a"\nlocal k = {type = "t"}\ntype "s"',
    ),
    Case(
        'type_value_then_statement',
        'local a = type\nX = 1',
        'local a = type\nX = 1',
    ),
    Case(
        'interface_and_as_identifiers',
        'local interface = {}\ninterface.x = 1\ninterface:run()\nlocal as = 2\nas = as + 1',
        'local interface = {}\ninterface.x = 1\ninterface:run()\nlocal as = 2\nas = as + 1',
    ),
    Case(
        'comparisons',
        'if a < b and c > d then f(a<b, c>d) end',
        'if a < b and c > d then f(a<b, c>d) end',
    ),
    Case(
        'not_equal',
        'while x ~= nil do x = x.next end',
        'while x ~= nil do x = x.next end',
    ),
    Case(
        'export_identifier',
        'local export = {}\nexport.type = "x"',
        'local export = {}\nexport.type = "x"',
    ),
    Case(
        'as_call_on_next_line',
        'local x = y\nas(1)',
        'local x = y\nas(1)',
    ),
    Case(
        'bitwise_and_floor_division',
        'local z = a & b | c ~ d << 1 >> 2 // 3 ~ ~e',
        'local z = a & b | c ~ d << 1 >> 2 // 3 ~ ~e',
    ),
    Case(
        'type_alias',
        'type Id = string\nlocal x = Id(y)',
        'local Id; Id = __wftype("Id", function(__t) return __t.p"string" end);\nlocal x = Id(y)',
    ),
    Case(
        'export_type_literals',
        'export type Status = "pending" | "active" | "done"',
        'local Status; Status = __wftype("Status", function(__t) return '
        '__t.union({__t.lit("pending"), __t.lit("active"), __t.lit("done")}) end);',
    ),
    Case(
        'type_record_multiline',
        'type User = {\n    name: string @min_len(1),\n    age?: integer @min(0) @max(150),\n}\nreturn User',
        'local User; User = __wftype("User", function(__t) return __t.record({{"name", '
        '__t.check(__t.p"string", {{"min_len", 1}})}, {"age", __t.check(__t.p"integer", {{"min", 0}, '
        '{"max", 150}}), true}}) end);\n\n\n\nreturn User',
    ),
    Case(
        'type_generic_tagged_union',
        'type Result<T, E> =\n    {ok: true, value: T}\n    | {ok: false, error: E}',
        'local Result; Result = __wftype("Result", function(__t, T, E) T = T or __t.p"any"; '
        'E = E or __t.p"any"; return __t.union({__t.record({{"ok", __t.lit(true)}, {"value", T}}), '
        '__t.record({{"ok", __t.lit(false)}, {"error", E}})}) end);\n\n',
    ),
    Case(
        'types_in_one_block_share_a_local',
        'type Names = {string}\ntype Scores = {[string]: number}',
        'local Names, Scores; Names = __wftype("Names", function(__t) return '
        '__t.array(__t.p"string") end);\nScores = __wftype("Scores", function(__t) return '
        '__t.map(__t.p"string", __t.p"number") end);',
    ),
    Case(
        'type_intersection_optional',
        'type Person = Named & Aged?',
        'local Person; Person = __wftype("Person", function(__t) return __t.inter({__t.ref("Named", '
        'function() return Named end), __t.opt(__t.ref("Aged", function() return Aged end))}) end);',
    ),
    Case(
        'type_function',
        'type Handler = (req: Request) -> (Response?, error?)',
        'local Handler; Handler = __wftype("Handler", function(__t) return __t.fn() end);',
    ),
    Case(
        'type_in_function_scope',
        'local function f()\n    type P = {x: number}\n    return P\nend',
        'local function f()\n    local P; P = __wftype("P", function(__t) return __t.record({{"x", '
        '__t.p"number"}}) end);\n    return P\nend',
    ),
    Case(
        'type_mutual_recursion',
        'type Expr = Num | Add\ntype Num = {n: number}\ntype Add = {l: Expr, r: Expr}',
        'local Expr, Num, Add; Expr = __wftype("Expr", function(__t) return '
        '__t.union({__t.ref("Num", function() return Num end), __t.ref("Add", function() return Add '
        'end)}) end);\nNum = __wftype("Num", function(__t) return __t.record({{"n", __t.p"number"}}) '
        'end);\nAdd = __wftype("Add", function(__t) return __t.record({{"l", __t.ref("Expr", '
        'function() return Expr end)}, {"r", __t.ref("Expr", function() return Expr end)}}) end);',
    ),
    Case(
        'interface_block',
        'interface Shape\n    area(self): number\n    name: string\n    label?: string\nend',
        'local Shape; Shape = __wftype("Shape", function(__t) return __t.interface({{"area", '
        '__t.fn()}, {"name", __t.p"string"}, {"label", __t.p"string", true}}) end);\n\n\n\n',
    ),
    Case(
        'interface_braced_generic',
        'interface Box<T> { get: (self) -> T, value: T }',
        'local Box; Box = __wftype("Box", function(__t, T) T = T or __t.p"any"; return '
        '__t.interface({{"get", __t.fn()}, {"value", T}}) end);',
    ),
    Case(
        'type_then_code_on_same_line',
        'type A = number local x = A(1)',
        'local A; A = __wftype("A", function(__t) return __t.p"number" end); local x = A(1)',
    ),
    Case(
        'type_generic_reference',
        'type Page = Result<{User}, string>',
        'local Page; Page = __wftype("Page", function(__t) return __t.ref("Result", function() '
        'return Result end, {__t.array(__t.ref("User", function() return User end)), __t.p"string"}) end);',
    ),
    Case(
        'type_negative_and_boolean_literals',
        'type Code = -1 | 0 | true',
        'local Code; Code = __wftype("Code", function(__t) return __t.union({__t.lit(-1), '
        '__t.lit(0), __t.lit(true)}) end);',
    ),
    Case(
        'type_qualified_reference',
        'type Remote = models.User',
        'local Remote; Remote = __wftype("Remote", function(__t) return __t.ref("models.User", '
        'function() return models.User end) end);',
    ),
    Case(
        'type_string_keys_and_indexer',
        'type H = {["content-type"]: string, ["x"]?: number, [string]: string}',
        'local H; H = __wftype("H", function(__t) return __t.record({{"content-type", '
        '__t.p"string"}, {"x", __t.p"number", true}}, __t.p"string", __t.p"string") end);',
    ),
    Case(
        'type_builtins',
        'type Loose = {a: any, b: unknown, c: nil, d: error?, e: table, f: never}',
        'local Loose; Loose = __wftype("Loose", function(__t) return __t.record({{"a", __t.p"any"}, '
        '{"b", __t.p"unknown"}, {"c", __t.p"nil"}, {"d", __t.opt(__t.p"error")}, {"e", '
        '__t.p"table"}, {"f", __t.p"never"}}) end);',
    ),
    Case(
        'type_with_comments',
        'type A = { -- first\n    a: number, --[[ multi\n    line ]]\n}',
        'local A; A = __wftype("A", function(__t) return __t.record({{"a", __t.p"number"}}) end);\n\n\n',
    ),
    Case(
        'type_pattern_validator_array',
        'type Emails = {string @pattern("^.+@.+$")} @max_len(10)',
        'local Emails; Emails = __wftype("Emails", function(__t) return '
        '__t.check(__t.array(__t.check(__t.p"string", {{"pattern", "^.+@.+$"}})), {{"max_len", 10}}) '
        'end);',
    ),
    Case(
        'type_declared_in_nested_blocks',
        'type A = number\ndo\n    type B = A\nend',
        'local A; A = __wftype("A", function(__t) return __t.p"number" end);\ndo\n'
        '    local B; B = __wftype("B", function(__t) return __t.ref("A", function() return A end) '
        'end);\nend',
    ),
    Case(
        'type_crlf_multiline',
        'type A = {\r\n  a: number\r\n}\r\nreturn A',
        'local A; A = __wftype("A", function(__t) return __t.record({{"a", __t.p"number"}}) end);\r\n'
        '\r\n\r\nreturn A',
    ),
    Case(
        'type_method_signature_and_string_key',
        "type Greeter = { greet(self, name: string): string, ['a b']: number }",
        'local Greeter; Greeter = __wftype("Greeter", function(__t) return __t.record({{"greet", '
        '__t.fn()}, {\'a b\', __t.p"number"}}) end);',
    ),
    Case(
        'type_leading_bar',
        'type T =\n    | "a"\n    | "b"',
        'local T; T = __wftype("T", function(__t) return __t.union({__t.lit("a"), __t.lit("b")}) end);\n\n',
    ),
)
