/// A hook script (SPEC section 9) as a workflow named after the hook: the script defines `on_event()`,
/// which reads the global `event`; one task calls it. `false` (with an optional message) or an error
/// fails the hook. The wrapper keeps the script's line numbers (its first names sit on line 1) and
/// its own workflow, whatever the script defines.
public enum HookScript {
    public static func workflowSource(_ script: String, hook: String) -> String {
        "local __hook_task, __hook_type, __hook_error, __hook_workflow = task, type, error, workflow; " + script + """

            local __hook_run = __hook_task("on_event"):command(function()
              if __hook_type(on_event) ~= "function" then __hook_error("the hook script defines no on_event() function", 0) end
              local ok, message = on_event()
              if ok == false then __hook_error(message or "on_event() returned false", 0) end
              return true, message
            end):build()
            __hook_workflow.define("\(hook)", { tasks = { __hook_run } })

            """
    }
}
