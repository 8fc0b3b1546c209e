/// A hook script (SPEC section 9) as a workflow: the script defines `on_event()`, which reads the
/// global `event`; one task calls it. `false` (with an optional message) or an error fails the hook.
public enum HookScript {
    public static func workflowSource(_ script: String) -> String {
        script + """

            task("on_event"):command(function()
              if type(on_event) ~= "function" then error("the hook script defines no on_event() function", 0) end
              local ok, message = on_event()
              if ok == false then error(message or "on_event() returned false", 0) end
              return true, message
            end):build()

            """
    }
}
