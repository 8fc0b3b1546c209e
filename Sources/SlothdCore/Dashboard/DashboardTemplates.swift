import Mustache

/// The dashboard's pages as Mustache templates (swift-mustache), served from the binary. Each page's
/// template renders its body; `frame` wraps it with the navigation. Values are HTML-escaped; only
/// `frame`'s `body` (already rendered) is inserted raw.
enum DashboardTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in sources {
            // The templates are constants of this file: one that does not parse is a bug caught by the tests.
            try! library.register(text, named: name)
        }
        return library
    }()

    /// The view as dictionaries and arrays, made once: swift-mustache reads a struct's fields through a
    /// new Mirror at every lookup (and every level of the context it searches), a millisecond a table row.
    static func render(_ template: String, _ view: Any) -> String {
        library.render(tree(view) ?? [String: Any](), withTemplate: template) ?? ""
    }

    /// Structs become `[String: Any]`, collections `[Any]`; strings, numbers and booleans stay as they
    /// are. A nil field is `Absent`, not left out: a name missing from a row is looked up in the rows'
    /// parents, and a succeeded task would show its run's error.
    static func tree(_ value: Any) -> Any? {
        switch value {
        case is String, is Bool, is Int, is Int64, is Double: return value
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional: return mirror.children.first.flatMap { tree($0.value) }
        case .collection, .set: return mirror.children.compactMap { tree($0.value) }
        case .struct, .class:
            var fields: [String: Any] = [:]
            for child in mirror.children {
                if let label = child.label { fields[label] = tree(child.value) ?? Absent() }
            }
            return fields
        default: return value
        }
    }

    /// A field without a value: renders as nothing, is false in a section, and ends the lookup.
    struct Absent: MustacheCustomRenderable {
        var renderText: String { "" }
        var isNull: Bool { true }
    }

    private static let badge = #"<span class="st st-{{cls}}" title="{{text}}">{{symbol}} {{text}}</span>"#
    private static let stamp = #"<time datetime="{{iso}}" title="{{text}}">{{text}}</time>"#

    static let sources: [String: String] = [
        "frame": """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · slothd</title><link rel="stylesheet" href="/assets/dashboard.css"><script src="/assets/dashboard.js" defer></script>
        </head><body data-csrf="{{csrf}}"><header><a class="brand" href="/">slothd</a><nav>
        {{#nav}}<a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a>{{/nav}}</nav>
        {{#user}}<form method="post" action="/logout" class="who"><span>{{user}}</span><input type="hidden" name="csrf" value="{{csrf}}"><button>Log out</button></form>{{/user}}
        </header><main id="main"><h1>{{title}}</h1>{{{body}}}</main></body></html>
        """,
        "login": """
        <form method="post" action="/login" class="login"><p>Paste a login token (<code>sloth ui --token</code> makes one).</p>
        {{#message}}<p class="problem" role="alert">{{message}}</p>{{/message}}
        <label>Token <input type="password" name="token" autocomplete="current-password" autofocus required></label><button>Log in</button></form>
        """,
        "problem": #"<p class="problem" role="alert">{{message}}</p><p><a href="/">Overview</a></p>"#,
        "overview": """
        <section class="cards">
        <div class="card"><h2>Scheduler</h2><p>{{#scheduler}}\(badge){{/scheduler}}</p>{{#note}}<p class="note">{{note}}</p>{{/note}}
        <form method="post" action="/scheduler/{{toggle}}"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="back" value="/">
        <button>{{toggleLabel}}</button></form></div>
        <div class="card"><h2>Queue</h2><p><b>{{queued}}</b> queued of {{capacity}} · <b>{{busy}}</b> of {{workers}} workers busy</p>
        <ul>{{#running}}<li><a href="/runs/{{id}}">#{{id}} {{workflow}}</a> since {{#started}}\(stamp){{/started}}</li>{{/running}}</ul></div>
        <div class="card"><h2>Agents</h2>{{^agents}}<p>No agents.</p>{{/agents}}<ul>{{#agents}}<li>{{#state}}\(badge){{/state}} <a href="/runs?agent={{name}}">{{name}}</a></li>{{/agents}}</ul></div>
        </section>
        <h2>Next fires</h2>{{^next}}<p>Nothing is scheduled.</p>{{/next}}
        <table>{{#next}}<tr><td>{{#at}}\(stamp){{/at}}</td><td>{{left}}</td><td><a href="/schedules/{{schedule}}">{{schedule}}</a></td><td>{{workflow}}</td><td class="dim">{{tz}}</td></tr>{{/next}}</table>
        <h2>Last failures</h2>{{^failures}}<p>No failed runs.</p>{{/failures}}
        <table>{{#failures}}<tr><td><a href="/runs/{{id}}">#{{id}}</a></td><td>{{#state}}\(badge){{/state}}</td><td>{{workflow}}</td><td>{{schedule}}</td><td>{{#ended}}\(stamp){{/ended}}</td><td class="error">{{error}}</td></tr>{{/failures}}</table>
        """,
        "schedules": """
        <table class="list"><thead><tr><th>NEXT</th><th>LEFT</th><th>LAST</th><th>PASSED</th><th>SCHEDULE</th><th>WORKFLOW</th><th>RESULT</th><th>STATE</th><th></th></tr></thead><tbody>
        {{#rows}}<tr><td>{{#next}}\(stamp){{/next}}</td><td>{{left}}</td><td>{{#last}}\(stamp){{/last}}</td><td>{{passed}}</td>
        <td><a href="/schedules/{{name}}">{{name}}</a><div class="dim">{{cron}} · {{tz}}</div></td><td>{{workflow}}</td><td>{{#result}}\(badge){{/result}}</td><td>{{#state}}\(badge){{/state}}</td>
        <td class="actions">{{> schedule-actions}}</td></tr>{{/rows}}
        </tbody></table>{{^rows}}<p>No schedules (<code>sloth scheduler add</code>).</p>{{/rows}}{{#more}}<p><a rel="next" href="{{more}}">More schedules →</a></p>{{/more}}
        """,
        "schedule-actions": """
        <form method="post" action="/schedules/{{name}}/{{toggle}}"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="back" value="{{back}}"><button>{{toggleLabel}}</button></form>
        <form method="post" action="/schedules/{{name}}/trigger"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="back" value="{{back}}"><button>Trigger</button></form>
        """,
        "schedule": """
        {{#row}}<p>{{#state}}\(badge){{/state}} <code>{{cron}}</code> in <b>{{tz}}</b> runs <a href="/workflows/{{workflow}}">{{workflow}}</a>{{#stack}} in stack <a href="/stacks/{{stack}}">{{stack}}</a>{{/stack}}</p>
        <div class="actions">{{> schedule-actions}}</div>{{/row}}
        {{#description}}<p>{{description}}</p>{{/description}}{{#note}}<p class="note">Paused: {{note}}</p>{{/note}}
        <dl class="facts">{{#facts}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/facts}}</dl>
        <h2>Next 10 fires ({{tz}})</h2><table>{{#fires}}<tr><td>{{#at}}\(stamp){{/at}}</td><td>{{left}}</td><td class="note">{{note}}</td></tr>{{/fires}}</table>
        <h2>Last runs</h2>{{> run-table}}
        """,
        "run-table": """
        <table class="list"><thead><tr><th>RUN</th><th>STATE</th><th>WORKFLOW</th><th>SCHEDULE</th><th>STACK</th><th>TRIGGER</th><th>STARTED</th><th>DURATION</th></tr></thead><tbody>
        {{#runs}}<tr><td><a href="/runs/{{id}}">#{{id}}</a></td><td>{{#state}}\(badge){{/state}}</td><td>{{workflow}}</td><td>{{schedule}}</td><td>{{stack}}</td><td>{{trigger}}</td>
        <td>{{#started}}\(stamp){{/started}}</td><td>{{duration}}</td></tr>{{/runs}}</tbody></table>{{^runs}}<p>No runs.</p>{{/runs}}
        """,
        "runs": """
        <form method="get" action="/runs" class="filters">
        <label>Workflow <input name="workflow" value="{{filter.workflow}}"></label><label>Schedule <input name="schedule" value="{{filter.schedule}}"></label>
        <label>State <select name="state"><option value="">any</option>{{#states}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/states}}</select></label>
        <label>Stack <input name="stack" value="{{filter.stack}}"></label><label>Agent <input name="agent" value="{{filter.agent}}"></label><button>Filter</button></form>
        {{> run-table}}{{#older}}<p><a rel="next" href="{{older}}">Older runs →</a></p>{{/older}}
        """,
        "run": """
        <p>{{#state}}\(badge){{/state}} <a href="/workflows/{{workflow}}">{{workflow}}</a>{{#version}} v{{version}}{{/version}} · {{trigger}}
        {{#schedule}} · schedule <a href="/schedules/{{schedule}}">{{schedule}}</a>{{/schedule}}{{#stack}} · stack <a href="/stacks/{{stack}}">{{stack}}</a>{{/stack}}</p>
        <p>Queued {{#queued}}\(stamp){{/queued}}{{#started}} · started \(stamp){{/started}}{{#ended}} · ended \(stamp){{/ended}}{{#duration}} · took {{duration}}{{/duration}}</p>
        {{#error}}<p class="error">{{error}}</p>{{/error}}
        {{#cancellable}}<form method="post" action="/runs/{{id}}/cancel"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="back" value="/runs/{{id}}"><button>Cancel run</button></form>{{/cancellable}}
        <h2>Tasks</h2><svg class="dag" width="{{dag.width}}" height="{{dag.height}}" role="img" aria-label="task graph">
        {{#dag.edges}}<line x1="{{x1}}" y1="{{y1}}" x2="{{x2}}" y2="{{y2}}"/>{{/dag.edges}}
        {{#dag.nodes}}<g class="node st-{{cls}}" data-task="{{name}}" data-state="{{text}}"><rect x="{{x}}" y="{{y}}" width="180" height="46" rx="6"/>
        <text x="{{tx}}" y="{{ty}}">{{name}}</text><text class="sub" x="{{tx}}" y="{{sy}}">{{symbol}} {{text}} {{duration}}</text></g>{{/dag.nodes}}</svg>
        <table class="list"><thead><tr><th>TASK</th><th>STATE</th><th>DURATION</th><th>ATTEMPTS</th><th>EXIT</th><th>AGENT</th><th>ERROR</th></tr></thead><tbody>
        {{#tasks}}<tr><td>{{name}}</td><td>{{#state}}\(badge){{/state}}</td><td>{{duration}}</td><td>{{attempts}}</td><td>{{exit}}</td><td>{{agent}}</td><td class="error">{{error}}</td></tr>{{/tasks}}</tbody></table>
        <h2>Log</h2><pre id="log" data-run="{{id}}" data-after="{{after}}"{{#live}} data-live="1"{{/live}}>{{#lines}}<span class="line {{level}}">{{#at}}\(stamp){{/at}} {{#tag}}<span class="tag">[{{tag}}]</span> {{/tag}}{{text}}</span>{{/lines}}</pre>{{#truncated}}<p class="note">Only the first lines are shown; <code>sloth runs logs {{id}}</code> prints them all.</p>{{/truncated}}
        """,
        "workflows": """
        <table class="list"><thead><tr><th>WORKFLOW</th><th>VERSION</th><th>STATE</th><th>UPDATED</th><th>RUNS</th><th>DESCRIPTION</th></tr></thead><tbody>
        {{#rows}}<tr><td><a href="/workflows/{{name}}">{{name}}</a></td><td>v{{version}}</td><td>{{#state}}\(badge){{/state}}</td><td>{{#updated}}\(stamp){{/updated}}</td>
        <td><a href="/runs?workflow={{name}}">{{usage}}</a></td><td>{{description}}</td></tr>{{/rows}}</tbody></table>{{^rows}}<p>No workflows (<code>sloth workflow add</code>).</p>{{/rows}}
        """,
        "workflow": """
        <p>{{#state}}\(badge){{/state}} {{description}} · <a href="/runs?workflow={{name}}">its runs</a></p>
        <h2>Versions</h2><table class="list"><thead><tr><th>VERSION</th><th>SHA-256</th><th>FILE</th><th>STORED</th><th></th></tr></thead><tbody>
        {{#versions}}<tr{{#shown}} class="shown"{{/shown}}><td><a href="?version={{version}}">v{{version}}</a></td><td><code>{{sha}}</code></td><td>{{file}}</td><td>{{#created}}\(stamp){{/created}}</td>
        <td>{{#previous}}<a href="?from={{previous}}&amp;to={{version}}">diff with v{{previous}}</a>{{/previous}}</td></tr>{{/versions}}</tbody></table>
        {{#diff}}<h2>v{{from}} → v{{to}}</h2><pre class="diff">{{#lines}}<span class="{{kind}}"><i>{{old}}</i><i>{{new}}</i>{{mark}} {{text}}</span>
        {{/lines}}</pre>{{/diff}}{{#tooLarge}}<p class="note">These versions are too long to compare here.</p>{{/tooLarge}}
        {{#source}}<h2>Source of v{{version}}</h2><pre class="source">{{#lines}}<span><i>{{number}}</i>{{text}}</span>
        {{/lines}}</pre>{{/source}}
        """,
        "agents": """
        <table class="list"><thead><tr><th>AGENT</th><th>STATE</th><th>ADDRESS</th><th>RUNNING</th><th>LAST SEEN</th><th>VERSION</th><th>TAGS</th></tr></thead><tbody>
        {{#rows}}<tr><td><a href="/runs?agent={{name}}">{{name}}</a></td><td>{{#state}}\(badge){{/state}}</td><td>{{address}}</td><td>{{running}}</td><td>{{#seen}}\(stamp){{/seen}}</td><td>{{version}}</td><td>{{tags}}</td></tr>{{/rows}}
        </tbody></table>{{^rows}}<p>No agent has registered (<code>sloth agent token create</code>, then <code>slothd agent</code> on the other host).</p>{{/rows}}
        """,
        "stacks": """
        <table class="list"><thead><tr><th>STACK</th><th>STATE</th><th>RUNS</th><th>SECRETS</th><th>LAST RUN</th><th>DESCRIPTION</th></tr></thead><tbody>
        {{#rows}}<tr><td><a href="/stacks/{{name}}">{{name}}</a></td><td>{{#state}}\(badge){{/state}}</td><td>{{runs}}</td><td>{{secrets}}</td><td>{{#last}}\(badge){{/last}}</td><td>{{description}}</td></tr>{{/rows}}
        </tbody></table>{{^rows}}<p>No stacks (<code>sloth stack new</code>).</p>{{/rows}}
        """,
        "stack": """
        <p>{{#state}}\(badge){{/state}} {{description}} · <a href="/runs?stack={{name}}">its runs</a></p>
        <h2>Values</h2><table class="list">{{#values}}<tr><td><code>{{key}}</code></td><td><code>{{value}}</code></td></tr>{{/values}}</table>{{^values}}<p>No values.</p>{{/values}}
        <h2>Secrets</h2><p class="dim">Names only: values never leave the daemon here.</p><ul>{{#secrets}}<li><code>{{name}}</code> (updated {{#updated}}\(stamp){{/updated}})</li>{{/secrets}}</ul>{{^secrets}}<p>No secrets.</p>{{/secrets}}
        <h2>Last runs</h2>{{> run-table}}
        """,
        "events": """
        <form method="get" action="/events" class="filters"><label>Type <input name="type" value="{{type}}" placeholder="run.failed"></label><button>Filter</button></form>
        <table class="list"><thead><tr><th>EVENT</th><th>TYPE</th><th>AT</th><th>RUN</th><th>STACK</th></tr></thead><tbody>
        {{#rows}}<tr><td><a href="/events/{{id}}">#{{id}}</a></td><td>{{type}}</td><td>{{#at}}\(stamp){{/at}}</td><td>{{#run}}<a href="/runs/{{run}}">#{{run}}</a>{{/run}}</td><td>{{stack}}</td></tr>{{/rows}}
        </tbody></table>{{^rows}}<p>No events.</p>{{/rows}}
        """,
        "event": """
        <p><b>{{type}}</b> at {{#at}}\(stamp){{/at}}{{#run}} · run <a href="/runs/{{run}}">#{{run}}</a>{{/run}}{{#stack}} · stack <a href="/stacks/{{stack}}">{{stack}}</a>{{/stack}}</p>
        <pre>{{data}}</pre><h2>Hook executions</h2>
        <table class="list"><thead><tr><th>HOOK</th><th>RESULT</th><th>AT</th><th>DURATION</th><th>ERROR</th></tr></thead><tbody>
        {{#executions}}<tr><td>{{hook}}</td><td>{{#state}}\(badge){{/state}}</td><td>{{#at}}\(stamp){{/at}}</td><td>{{duration}}</td><td class="error">{{error}}</td></tr>{{/executions}}
        </tbody></table>{{^executions}}<p>No hook ran for this event.</p>{{/executions}}
        """,
    ]
}
