/// A value crossing between Lua and Swift. Functions and userdata do not cross; they arrive as `nil_`.
public indirect enum LuaValue: Equatable, Sendable {
    /// Tables nested deeper than this do not cross between Lua and Swift (nor come out of JSON or YAML):
    /// the crossing is an error, and Swift never recurses without bound.
    public static let maxNesting = 200

    /// Values one crossing may hold in all: tables shared many times over would otherwise multiply.
    public static let maxValues = 1_000_000

    public struct TooDeep: Error, CustomStringConvertible {
        let tooMany: Bool
        public init(tooMany: Bool = false) { self.tooMany = tooMany }
        public var description: String {
            tooMany ? "holds more than \(LuaValue.maxValues) values (tables shared over and over count each time)"
                : "nested deeper than \(LuaValue.maxNesting) levels (or a table that contains itself)"
        }
    }

    case nil_
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case table(LuaTable)

    public var string: String? {
        switch self {
        case .string(let text): text
        case .integer(let number): String(number)
        case .number(let number): String(number)
        default: nil
        }
    }

    public var int: Int64? {
        switch self {
        case .integer(let number): number
        case .number(let number) where number.rounded() == number && abs(number) < 9e18: Int64(number)
        case .string(let text): Int64(text)
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let number): Double(number)
        case .number(let number): number
        case .string(let text): Double(text)
        default: nil
        }
    }

    public var bool: Bool? {
        if case .boolean(let flag) = self { return flag }
        return nil
    }

    /// Lua truthiness: everything but nil and false.
    public var isTruthy: Bool {
        switch self {
        case .nil_, .boolean(false): false
        default: true
        }
    }

    public var table: LuaTable? {
        if case .table(let table) = self { return table }
        return nil
    }

    public subscript(_ key: String) -> LuaValue {
        table?.fields[key] ?? .nil_
    }
}

/// A Lua table: its sequence part (keys 1...n) and its other keys, as strings.
public struct LuaTable: Equatable, Sendable {
    public var array: [LuaValue]
    public var fields: [String: LuaValue]

    public init(array: [LuaValue] = [], fields: [String: LuaValue] = [:]) {
        self.array = array
        self.fields = fields
    }

    public static func record(_ fields: [String: LuaValue]) -> LuaValue { .table(LuaTable(fields: fields)) }
    public static func list(_ array: [LuaValue]) -> LuaValue { .table(LuaTable(array: array)) }
}
