/// Helpers for Swift functions exposed to Lua: argument access and the `nil, "error"` convention.
extension Array where Element == LuaValue {
    /// The argument at `index` (0-based), or nil when absent.
    func at(_ index: Int) -> LuaValue { index < count ? self[index] : .nil_ }

    func string(_ index: Int, _ function: String) throws(LuaHostError) -> String {
        guard let text = at(index).string else {
            throw LuaHostError("\(function): argument \(index + 1) must be a string")
        }
        return text
    }
}

enum HostResult {
    /// SPEC section 5: an I/O function that fails returns nil and the error text.
    static func failure(_ message: String) -> [LuaValue] { [.nil_, .string(message)] }
    static let ok: [LuaValue] = [.boolean(true)]
}
