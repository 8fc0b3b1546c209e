/// The dashboard's stylesheet and script, served from the binary (no build step, nothing fetched).
/// The script only adds: times in the browser's zone, the live log, a periodic refresh of lists.
enum DashboardAssets {
    static func response(_ name: String) -> ControlResponse {
        let (type, text): (String, String)
        switch name {
        case "dashboard.css": (type, text) = ("text/css; charset=utf-8", css)
        case "dashboard.js": (type, text) = ("text/javascript; charset=utf-8", script)
        default: return .failure(404, "not_found", "no asset \(name)")
        }
        var response = ControlResponse(status: 200, body: Array(text.utf8), contentType: type)
        response.headers = [("Cache-Control", "max-age=300"), ("X-Content-Type-Options", "nosniff")]
        return response
    }

    static let css = """
    :root{--bg:#fbfbfa;--fg:#1d1d1b;--dim:#6b6b66;--line:#dddcd6;--good:#1a7f37;--bad:#b42318;--busy:#0b62c4;--wait:#8a6100;--off:#57534e;--gone:#78716c}
    *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
    header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.2rem;background:#23221f;color:#fff;flex-wrap:wrap}
    header a{color:#e7e5e0;text-decoration:none}.brand{font-weight:700;font-size:1.1rem}nav{display:flex;gap:1rem;flex-wrap:wrap}
    nav a[aria-current]{color:#fff;border-bottom:2px solid #f5c04a}.who{margin-left:auto;display:flex;gap:.6rem;align-items:center}
    main{padding:1rem 1.2rem;max-width:1400px}h1{font-size:1.35rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
    table{border-collapse:collapse;width:100%;margin:.3rem 0}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
    th{font-size:.75rem;letter-spacing:.04em;color:var(--dim)}a{color:#0b5cad}.dim,.note{color:var(--dim)}.error,.problem{color:var(--bad)}
    .st{display:inline-block;padding:0 .45rem;border-radius:1rem;border:1px solid currentColor;font-size:.8rem;white-space:nowrap}
    .st-good{color:var(--good)}.st-bad{color:var(--bad);font-weight:600}.st-busy{color:var(--busy)}.st-wait{color:var(--wait)}.st-off{color:var(--off)}.st-gone{color:var(--gone)}
    .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:1rem}.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.2rem 1rem .8rem}
    .actions form,td.actions form{display:inline}button{font:inherit;padding:.15rem .6rem;border:1px solid #a8a29e;border-radius:4px;background:#fff;cursor:pointer}
    .filters{display:flex;gap:.8rem;flex-wrap:wrap;align-items:end;margin-bottom:.6rem}.filters input,.filters select{display:block;font:inherit}
    pre{background:#1f1f1c;color:#ecebe6;padding:.7rem;border-radius:6px;overflow:auto;max-height:70vh;font:12.5px/1.4 ui-monospace,monospace}
    pre .line{display:block}pre time{color:#a8a29e}pre .tag{color:#f5c04a}pre .error{color:#ff8a80}pre .warn{color:#ffd166}
    pre i{display:inline-block;min-width:3em;color:#78716c;font-style:normal;text-align:right;margin-right:.8em;user-select:none}
    .diff .added{background:#12351f;display:block}.diff .removed{background:#4a1714;display:block}.diff .kept,.source span{display:block}
    svg.dag{background:#fff;border:1px solid var(--line);border-radius:6px;max-width:100%}svg.dag line{stroke:#a8a29e;stroke-width:1.5}
    svg.dag rect{fill:#fff;stroke:currentColor;stroke-width:2}svg.dag .st-bad rect{stroke-dasharray:6 3}svg.dag .st-busy rect{stroke-width:3}
    svg.dag text{fill:var(--fg);font-size:13px}svg.dag .sub{fill:currentColor;font-size:11px}svg.dag g{color:var(--gone)}
    svg.dag g.st-good{color:var(--good)}svg.dag g.st-bad{color:var(--bad)}svg.dag g.st-busy{color:var(--busy)}svg.dag g.st-wait{color:var(--wait)}
    .login{max-width:28rem;display:grid;gap:.7rem}.login input{width:100%;font:inherit;padding:.3rem}dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
    dl.facts dd{margin:0}tr.shown{background:#f3efe3}
    """

    static let script = """
    "use strict";
    const csrf = document.body.dataset.csrf;
    function localTimes(root) {
      for (const el of root.querySelectorAll("time[datetime]")) {
        const when = new Date(el.dateTime);
        if (!isNaN(when)) { el.title = el.dateTime; el.textContent = when.toLocaleString(); }
      }
    }
    localTimes(document);
    const log = document.getElementById("log");
    if (log && log.dataset.live) {
      const source = new EventSource(`/runs/${log.dataset.run}/live?after=${log.dataset.after}`);
      source.onmessage = (message) => {
        const line = JSON.parse(message.data);
        const row = document.createElement("span");
        row.className = "line " + line.level;
        const time = document.createElement("time");
        time.dateTime = line.time;
        row.append(time, " ");
        if (line.tag) { const tag = document.createElement("span"); tag.className = "tag"; tag.textContent = `[${line.tag}]`; row.append(tag, " "); }
        row.append(line.text);
        localTimes(row);
        const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.append(row);
        if (atEnd) log.scrollTop = log.scrollHeight;
      };
      source.addEventListener("end", () => { source.close(); setTimeout(() => location.reload(), 500); });
    }
    // Lists refresh themselves while the tab is visible; a form being typed in is left alone.
    if (["/", "/schedules", "/runs", "/agents"].includes(location.pathname)) {
      setInterval(async () => {
        if (document.hidden || document.activeElement?.form) return;
        const answer = await fetch(location.href, { credentials: "same-origin" });
        if (!answer.ok) return;
        const page = new DOMParser().parseFromString(await answer.text(), "text/html");
        const main = page.getElementById("main");
        if (main) { document.getElementById("main").replaceWith(main); localTimes(main); }
      }, 15000);
    }
    window.slothd = { csrf };
    """
}
