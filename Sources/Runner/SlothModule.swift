import Catalog
import Crypto
import Foundation

/// `sloth.workflow.*`: the catalog from inside a workflow (the same database slothd serves).
/// `add` is idempotent: it reports `{changed, message}`.
enum SlothModule {
    /// - Parameter sandboxed: for `WorkflowCheck`'s state: `add` adds nothing (checking what it names would
    ///   check again, without end for a file that adds itself).
    static func workflowFunctions(_ database: CatalogDatabase, sandboxed: Bool = false) -> [String: LuaState.HostFunction] {
        let store = WorkflowStore(database: database)
        let audit = AuditStore(database: database)
        func name(_ args: [LuaValue]) -> String? { args.at(0).string ?? args.at(0)["name"].string }
        func info(_ workflow: WorkflowStore.Workflow) -> LuaValue {
            var fields: [String: LuaValue] = [
                "name": .string(workflow.name), "version": .integer(Int64(workflow.version)), "active": .boolean(workflow.active),
                "tags": .table(LuaTable(array: workflow.tags.map(LuaValue.string))), "usage_count": .integer(Int64(workflow.usageCount)),
            ]
            if let description = workflow.description { fields["description"] = .string(description) }
            if let file = workflow.filePath { fields["file"] = .string(file) }
            return .table(LuaTable(fields: fields))
        }
        func change(_ action: String, _ body: @escaping (String) throws -> Void) -> LuaState.HostFunction {
            { args in
                guard let target = name(args) else { return HostResult.failure("sloth.workflow.\(action): a name is required") }
                do {
                    try body(target)
                    try? audit.record(uid: getuid(), action: "workflow.\(action)", object: target, detail: "from a workflow")
                    return HostResult.ok
                } catch {
                    return HostResult.failure("\(error)")
                }
            }
        }
        return [
            "add": { args in
                if sandboxed { return [LuaTable.record(["changed": .boolean(false), "message": .string(RuntimeHost.notRunWhileChecking)])] }
                let spec = args.at(0)
                guard let target = spec["name"].string else { return HostResult.failure("sloth.workflow.add: a name is required") }
                let file = spec["file"].string
                guard let content = spec["content"].string ?? file.flatMap({ FileManager.default.contents(atPath: $0) })
                    .map({ String(decoding: $0, as: UTF8.self) }) else {
                    return HostResult.failure("sloth.workflow.add: cannot read \(file ?? "the workflow file")")
                }
                let current = try? store.get(target, content: false)
                let checked: WorkflowCheck.Checked
                do {
                    checked = try WorkflowCheck.check(content, file: file ?? target, workflow: spec["workflow"].string, storedEntry: current?.entry,
                                                      cacheDirectory: WorkflowCheck.cacheDirectory(of: database))
                } catch {
                    return HostResult.failure("sloth.workflow.add: \(error)")
                }
                do {
                    let (workflow, saved) = try store.save(.init(name: target, content: content, filePath: file, description: spec["description"].string,
                                                                 tags: (spec["tags"].table?.array ?? []).compactMap(\.string),
                                                                 active: spec["active"].bool ?? true, entry: checked.entry))
                    let message = switch saved {
                    case .added: "added workflow \(target)"
                    case .updated: "updated \(target) to version \(workflow.version)"
                    case .unchanged: "\(target) is up to date"
                    }
                    let changed = saved != .unchanged
                    if changed { try? audit.record(uid: getuid(), action: "workflow.add", object: target, detail: "from a workflow") }
                    return [LuaTable.record(["changed": .boolean(changed), "message": .string(message)])]
                } catch {
                    return HostResult.failure("\(error)")
                }
            },
            "list": { _ in
                do { return [.table(LuaTable(array: try store.list().map(info)))] } catch { return HostResult.failure("\(error)") }
            },
            "get": { args in
                guard let target = name(args) else { return HostResult.failure("sloth.workflow.get: a name is required") }
                do { return [info(try store.get(target, content: false))] } catch { return HostResult.failure("\(error)") }
            },
            "remove": change("remove") { try store.remove($0) },
            "activate": change("activate") { _ = try store.setActive($0, true) },
            "deactivate": change("deactivate") { _ = try store.setActive($0, false) },
        ]
    }

    /// `sloth.stack.list()`, `get({name})`, `delete({name})` (modules reference): stacks from inside a
    /// workflow. `status` is the state of the stack's last run, or "new".
    static func stackFunctions(_ database: CatalogDatabase) -> [String: LuaState.HostFunction] {
        let store = StackStore(database: database)
        func name(_ args: [LuaValue]) -> String? { args.at(0).string ?? args.at(0)["name"].string }
        func info(_ stack: StackStore.Stack) -> LuaValue {
            var fields: [String: LuaValue] = [
                "name": .string(stack.name), "status": .string(stack.lastState ?? "new"), "runs": .integer(Int64(stack.runs)),
                "active": .boolean(stack.active),
                "values": .table(LuaTable(fields: stack.values.mapValues { (try? LuaJSON.decode($0)) ?? .nil_ })),
            ]
            if let description = stack.description { fields["description"] = .string(description) }
            return .table(LuaTable(fields: fields))
        }
        return [
            "list": { _ in
                do { return [.table(LuaTable(array: try store.list().map(info)))] } catch { return HostResult.failure("\(error)") }
            },
            "get": { args in
                guard let target = name(args) else { return HostResult.failure("sloth.stack.get: a name is required") }
                do { return [info(try store.get(target))] } catch { return HostResult.failure("\(error)") }
            },
            "delete": { args in
                guard let target = name(args) else { return HostResult.failure("sloth.stack.delete: a name is required") }
                do {
                    try store.delete(target, force: false)
                    return HostResult.ok
                } catch {
                    return HostResult.failure("\(error)")
                }
            },
        ]
    }
}
