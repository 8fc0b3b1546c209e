import Foundation

/// The host primitives the Lua runtime is written against (`__sloth`, hidden from workflow code):
/// the clocks, the hook deadline, operations and their completions, the log and the task board.
enum RuntimeHost {
    /// What a sandboxed state's command or HTTP request gets instead of running (`WorkflowCheck`).
    static let notRunWhileChecking = "not run: slothd is checking the file (its top level runs, its commands and requests do not)"

    static func functions(lua: LuaState, operations: RunOperations, processes: ProcessLedger, log: RunLog, cwd: String,
                          lockOwner: String, chunkName: ChunkName, tasks: TaskBoard,
                          sandboxed: Bool = false) -> [String: LuaState.HostFunction] {
        if sandboxed {
            var functions = functions(lua: lua, operations: operations, processes: processes, log: log, cwd: cwd,
                                      lockOwner: lockOwner, chunkName: chunkName, tasks: tasks)
            // The failure results a command or a request may give anyway, so top-level code that checks them still loads.
            functions["exec_start"] = { _ in
                [.integer(operations.start { finish in
                    finish(LuaTable.record(["success": .boolean(false), "stdout": .string(""), "stderr": .string(notRunWhileChecking),
                                            "exit_code": .integer(-1), "error": .string(notRunWhileChecking)]))
                    return nil
                })]
            }
            for name in ["http_start", "db_start", "mail_start"] {
                functions[name] = { _ in
                    [.integer(operations.start { finish in
                        finish(LuaTable.record(["error": .string(notRunWhileChecking)]))
                        return nil
                    })]
                }
            }
            return functions
        }
        let databases = DatabaseConnections()
        return [
            "now": { _ in [.integer(LuaState.monotonicMillis())] },
            "wall_now": { _ in [.integer(Int64(Date().timeIntervalSince1970 * 1000))] },
            "set_deadline": { [unowned lua] args in
                lua.setDeadline(monotonicMillis: args.at(0).int ?? 0)
                return []
            },
            "wait": { args in
                log.flush()
                let done = operations.wait(timeoutMillis: args.at(0).int ?? -1)
                return [.table(LuaTable(array: done.map { LuaTable.record(["id": .integer($0.id), "result": $0.result]) }))]
            },
            "cancel": { args in
                if let id = args.at(0).int { operations.cancel(id) }
                return []
            },
            "exec_start": { args throws(LuaHostError) in
                let process = try ProcessOperation(spec: args.at(0))
                return [.integer(operations.start { finish in process.start(groups: processes, log: log, finish: finish) })]
            },
            "http_start": { args in
                let spec = args.at(0)
                return [.integer(operations.start { finish in
                    HTTPOperation.start(spec: spec, finish: finish)
                    return nil
                })]
            },
            "db_start": { args in
                let spec = args.at(0)
                return [.integer(operations.start { finish in
                    databases.start(spec: spec, finish: finish)
                    return nil
                })]
            },
            "mail_start": { args in
                let spec = args.at(0)
                return [.integer(operations.start { finish in
                    MailOperation.start(spec: spec, finish: finish)
                    return nil
                })]
            },
            "regex_match": { args in RegexMatch.first(in: args.at(0).string ?? "", pattern: args.at(1).string ?? "") },
            "template_render": { args in TemplateRendering.render(args.at(0).string ?? "", values: args.at(1)) },
            "metric": { args throws(LuaHostError) in try MetricsHost.call(args) },
            "log": { args in
                let level = RunLog.Level(rawValue: args.at(0).string ?? "info") ?? .info
                log.write(level: level, task: args.at(1).string, message: chunkName.expand(args.at(2).string ?? ""),
                          fields: args.at(3).table)
                return []
            },
            "glob": { args in
                let directory = args.at(1).string ?? cwd
                let patterns = (args.at(0).table?.array ?? []).compactMap(\.string)
                return [.table(LuaTable(array: Artifacts.matching(patterns, in: directory).map(LuaValue.string)))]
            },
            "environ": { _ in
                let visible = ProcessInfo.processInfo.environment.filter { !ProcessOperation.supervisorVariables.contains($0.key) }
                return [.table(LuaTable(fields: visible.mapValues(LuaValue.string)))]
            },
            "cwd": { _ in [.string(cwd)] },
            "tasks_planned": { args in
                tasks.planned((args.at(0).table?.array ?? []).compactMap(\.string))
                return []
            },
            "task_update": { args in
                tasks.update(args.at(0))
                return []
            },
            "lock_owner": { _ in [.string(lockOwner)] },
        ]
    }
}
