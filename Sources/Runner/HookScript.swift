/// A hook script (SPEC section 9) as a workflow named after the hook: the script defines `on_event()`,
/// which reads the global `event`, or returns `{ execute = function(event) ... end }` (Sloth Runner's
/// form); one task calls it. `false` (with an optional message) or an error fails the hook. The script
/// runs as a function body, so it may `return`; what it returns is checked at its top level, so
/// `sloth hook add` (which loads it in the sandbox) refuses a script with no handler. The wrapper keeps
/// its line numbers (its first names sit on line 1) and its own workflow, whatever the script defines.
public enum HookScript {
    public static func workflowSource(_ script: String, hook: String) -> String {
        "local __hook_task, __hook_type, __hook_error, __hook_workflow = task, type, error, workflow; local __hook_returned = (function(...) "
            + LuaState.withoutShebang(script) + """

            end)()
            local __hook_handler = on_event
            if __hook_type(__hook_returned) == "table" then __hook_handler = __hook_returned.execute or __hook_returned.on_event or __hook_handler
            elseif __hook_type(__hook_returned) == "function" then __hook_handler = __hook_returned
            elseif __hook_returned ~= nil then
              __hook_error("the hook script returned a " .. __hook_type(__hook_returned) .. ": return { execute = function(event) ... end } or define on_event()", 0)
            end
            if __hook_type(__hook_handler) ~= "function" then
              __hook_error("the hook script defines no on_event() function and returns no { execute = function(event) ... end }", 0)
            end
            local __hook_run = __hook_task("on_event"):command(function()
              local ok, message = __hook_handler(event)
              if ok == false then __hook_error(message or "on_event() returned false", 0) end
              return true, message
            end):build()
            __hook_workflow.define("\(hook)", { tasks = { __hook_run } })

            """
    }
}
