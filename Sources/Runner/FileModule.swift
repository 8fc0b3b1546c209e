import Foundation

/// `fs` and `file`: files and directories. Failures return `nil, "error text"`; paths may start with `~/`.
enum FileModule {
    static func functions() -> [String: LuaState.HostFunction] {
        let functions: [String: LuaState.HostFunction] = [
            "read": { args throws(LuaHostError) in
                let path = try expand(args.string(0, "fs.read"))
                guard let data = FileManager.default.contents(atPath: path) else { return HostResult.failure("cannot read \(path)") }
                return [.string(String(decoding: data, as: UTF8.self))]
            },
            "write": { args throws(LuaHostError) in
                let append = args.at(2)["append"].isTruthy
                return try write(args.string(0, "fs.write"), args.at(1).string ?? "", append: append, mode: args.at(2)["mode"])
            },
            "append": { args throws(LuaHostError) in
                try write(args.string(0, "fs.append"), args.at(1).string ?? "", append: true, mode: .nil_)
            },
            "exists": { args throws(LuaHostError) in
                [.boolean(FileManager.default.fileExists(atPath: expand(try args.string(0, "fs.exists"))))]
            },
            "is_dir": { args throws(LuaHostError) in [.boolean(isDirectory(expand(try args.string(0, "fs.is_dir"))))] },
            "is_file": { args throws(LuaHostError) in
                let path = expand(try args.string(0, "fs.is_file"))
                return [.boolean(FileManager.default.fileExists(atPath: path) && !isDirectory(path))]
            },
            "mkdir": { args throws(LuaHostError) in
                let path = expand(try args.string(0, "fs.mkdir"))
                return attempt { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
            },
            "rm": { args throws(LuaHostError) in
                let path = expand(try args.string(0, "fs.rm"))
                if !FileManager.default.fileExists(atPath: path) && args.at(1)["force"].isTruthy { return HostResult.ok }
                return attempt { try FileManager.default.removeItem(atPath: path) }
            },
            "ls": { args throws(LuaHostError) in
                let path = expand(try args.string(0, "fs.ls"))
                do {
                    let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                    return [.table(LuaTable(array: names.map(LuaValue.string)))]
                } catch {
                    return HostResult.failure("cannot list \(path): \(reason(error))")
                }
            },
            "copy": { args throws(LuaHostError) in
                let from = expand(try args.string(0, "fs.copy")), to = expand(try args.string(1, "fs.copy"))
                return attempt {
                    if FileManager.default.fileExists(atPath: to) { try FileManager.default.removeItem(atPath: to) }
                    try FileManager.default.copyItem(atPath: from, toPath: to)
                    if let mode = permissions(args.at(2)["mode"]) { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: to) }
                }
            },
            "move": { args throws(LuaHostError) in
                let from = expand(try args.string(0, "fs.move")), to = expand(try args.string(1, "fs.move"))
                return attempt { try FileManager.default.moveItem(atPath: from, toPath: to) }
            },
            "stat": { args throws(LuaHostError) in
                let path = expand(try args.string(0, "fs.stat"))
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
                    return HostResult.failure("cannot stat \(path): no such file or directory")
                }
                let mode = (attributes[.posixPermissions] as? Int) ?? 0
                let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                return [LuaTable.record([
                    "size": .integer(Int64((attributes[.size] as? Int) ?? 0)), "mode": .string(String(format: "%04o", mode)),
                    "mtime": .integer(Int64(modified)), "is_dir": .boolean(isDirectory(path)),
                    "is_file": .boolean(!isDirectory(path)),
                ])]
            },
            "chmod": { args throws(LuaHostError) in
                let path = expand(try args.string(0, "fs.chmod"))
                guard let mode = permissions(args.at(1)) else { throw LuaHostError("fs.chmod: mode must be like \"0755\" or 493") }
                return attempt { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path) }
            },
            "symlink": { args throws(LuaHostError) in
                let target = expand(try args.string(0, "fs.symlink")), link = expand(try args.string(1, "fs.symlink"))
                return attempt { try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target) }
            },
            "tmpname": { _ in [.string(FileManager.default.temporaryDirectory.appendingPathComponent("sloth-\(UUID().uuidString)").path)] },
            "tmpdir": { _ in
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("sloth-\(UUID().uuidString)").path
                return attempt { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }.first == .boolean(true)
                    ? [.string(path)] : HostResult.failure("cannot create a temporary directory")
            },
            "lineinfile": { args throws(LuaHostError) in
                let path = expand(try args.string(0, "fs.lineinfile")), line = try args.string(1, "fs.lineinfile")
                let existing = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
                guard existing != nil || args.at(2)["create"].isTruthy else { return HostResult.failure("cannot read \(path)") }
                let text = existing ?? ""
                if text.split(separator: "\n", omittingEmptySubsequences: false).contains(Substring(line)) { return [.boolean(false)] }
                let joined = text.isEmpty || text.hasSuffix("\n") ? text + line + "\n" : text + "\n" + line + "\n"
                let result = attempt { try Data(joined.utf8).write(to: URL(fileURLWithPath: path)) }
                return result.first == .boolean(true) ? [.boolean(true)] : result
            },
            "size": { args throws(LuaHostError) in
                let path = expand(try args.string(0, "fs.size"))
                return size(of: path).map { [.integer(Int64($0))] } ?? HostResult.failure("cannot stat \(path)")
            },
            "basename": { args throws(LuaHostError) in [.string((try args.string(0, "fs.basename") as NSString).lastPathComponent)] },
            "dirname": { args throws(LuaHostError) in [.string((try args.string(0, "fs.dirname") as NSString).deletingLastPathComponent)] },
        ]
        var all = functions
        for (alias, name) in ["read_file": "read", "write_file": "write", "remove": "rm", "delete": "rm", "list": "ls",
                              "mv": "move", "cp": "copy", "create": "write"] {
            all[alias] = functions[name]
        }
        return all
    }

    /// `file.create(path, {content=..., mode=...})` passes its content in the options table.
    static func write(_ rawPath: String, _ content: String, append: Bool, mode: LuaValue) -> [LuaValue] {
        let path = expand(rawPath)
        return attempt {
            if append, let handle = FileHandle(forWritingAtPath: path) {
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(content.utf8))
            } else {
                try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            }
            if let mode = permissions(mode) { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path) }
        }
    }

    static func size(of path: String) -> Int? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return attributes?[.size] as? Int
    }

    static func expand(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return (ProcessInfo.processInfo.environment["HOME"] ?? "") + path.dropFirst()
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// "0755", "755" or a number.
    static func permissions(_ value: LuaValue) -> Int? {
        switch value {
        case .string(let text): Int(text, radix: 8)
        case .integer(let number): Int(number)
        default: nil
        }
    }

    static func attempt(_ body: () throws -> Void) -> [LuaValue] {
        do {
            try body()
            return HostResult.ok
        } catch {
            return HostResult.failure(reason(error))
        }
    }

    static func reason(_ error: Error) -> String {
        (error as NSError).localizedDescription
    }
}
