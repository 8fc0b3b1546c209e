import Runner
import Testing

@Suite("The Lua bridge: protected calls only, errors come back located")
struct LuaBridgeTests {
    @Test("a Swift host function's result reaches Lua and back")
    func hostFunctionResult() throws {
        let lua = try LuaState()
        lua.register(global: "add") { arguments throws(LuaHostError) in
            guard case .integer(let a) = arguments.first, case .integer(let b) = arguments.last else {
                throw LuaHostError("add: expected two integers")
            }
            return [.integer(a + b), .string("sum")]
        }
        #expect(try lua.run("local n, word = add(40, 2)\nreturn n, word .. '!'", chunkName: "sum.sloth") == [.integer(42), .string("sum!")])
    }

    @Test("a Swift host function's error surfaces as a Swift error at the calling file and line")
    func hostFunctionErrorIsLocated() throws {
        let lua = try LuaState()
        lua.register(global: "fail") { _ throws(LuaHostError) in throw LuaHostError("disk on fire") }
        let source = "local x = 1\n\nfail()\n"
        #expect {
            try lua.run(source, chunkName: "deploy.sloth")
        } throws: { error in
            guard case .runtime(let at, let message, let traceback) = error as? LuaError else { return false }
            return at.file == "deploy.sloth" && at.line == 3 && message == "disk on fire" && traceback.contains("stack traceback")
        }
    }

    @Test("Lua can catch a host function's error with pcall and go on")
    func hostErrorIsCatchableInLua() throws {
        let lua = try LuaState()
        lua.register(global: "fail") { _ throws(LuaHostError) in throw LuaHostError("nope") }
        #expect(try lua.run("local ok, err = pcall(function()\n  fail()\nend)\nreturn ok, err", chunkName: "c.sloth") == [.boolean(false), .string("c.sloth:2: nope")])
    }

    @Test("a syntax error names the file and line")
    func syntaxErrorIsLocated() throws {
        let lua = try LuaState()
        #expect(throws: LuaError.syntax(.init(file: "bad.sloth", line: 2), message: "unexpected symbol near '+'")) {
            try lua.run("local a = 1\nreturn +", chunkName: "bad.sloth")
        }
    }

    @Test("a runaway allocation hits the memory limit instead of the host")
    func memoryLimit() throws {
        let lua = try LuaState(memoryLimit: 4 << 20)
        #expect(throws: LuaError.memoryLimit) {
            try lua.run("local t = {} for i = 1, 1e8 do t[i] = i end", chunkName: "big.sloth")
        }
        #expect(try lua.run("return 'still usable'", chunkName: "after.sloth") == [.string("still usable")])
    }
}
