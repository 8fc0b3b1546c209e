/// `--values FILE.yaml`: a YAML mapping that becomes the global `values`.
public enum ValuesFile {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws(Error) -> LuaValue {
        let value: LuaValue
        do {
            value = try LuaJSON.decodeYAML(text)
        } catch {
            throw Error(description: error.description)
        }
        switch value {
        case .nil_: return .table(LuaTable())
        case .table(let table) where table.array.isEmpty: return value
        default: throw Error(description: "expected a mapping of names to values at the top level")
        }
    }
}
