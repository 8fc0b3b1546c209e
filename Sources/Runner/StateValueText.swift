/// How `sloth state` reads and shows values: text that parses as JSON is JSON, anything else a string;
/// strings print bare, everything else as JSON.
public enum StateValueText {
    /// The stored (canonical JSON) form of a value typed on the command line.
    public static func json(fromArgument text: String) -> String {
        if let value = try? LuaJSON.decode(text) { return LuaJSON.encode(value) }
        return LuaJSON.encode(.string(text))
    }

    public static func display(json: String) -> String {
        guard let value = try? LuaJSON.decode(json) else { return json }
        if case .string(let text) = value { return text }
        return LuaJSON.encode(value)
    }
}
