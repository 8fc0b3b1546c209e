/// Checks a workflow file before the catalog stores it.
public enum WorkflowCheck {
    /// The Lua syntax error in `source` (`file:line: message`), or nil when it compiles.
    public static func syntaxError(in source: String, file: String) -> String? {
        do {
            try LuaState(memoryLimit: 64 << 20).load(source, chunkName: file, asGlobal: "__check")
            return nil
        } catch {
            return ChunkName(path: file).expand("\(error)")
        }
    }
}
