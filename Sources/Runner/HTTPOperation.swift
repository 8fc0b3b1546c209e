import Control
import Foundation

/// An HTTP request for Lua code, on its own thread (libcurl blocks); the response, or `{error = "..."}`.
enum HTTPOperation {
    static func start(spec: LuaValue, finish: @escaping @Sendable (LuaValue) -> Void) {
        let request = HTTPClient.Request(
            method: spec["method"].string ?? "GET", url: spec["url"].string ?? "",
            headers: (spec["headers"].table?.fields ?? [:]).compactMapValues(\.string),
            body: spec["body"].string.map { Array($0.utf8) }, followRedirects: spec["follow"].bool ?? true)
        var configured = HTTPClient()
        configured.timeoutMillis = Int(spec["timeout_ms"].int ?? 30_000)
        let client = configured
        let destination = spec["destination"].string
        Thread.detachNewThread {
            let started = Date()
            do {
                let response = try client.send(request)
                if let destination, (200..<300).contains(response.status) {
                    try Data(response.body).write(to: URL(fileURLWithPath: destination))
                }
                finish(LuaTable.record([
                    "status_code": .integer(Int64(response.status)),
                    "body": .string(destination == nil ? response.text : ""),
                    "headers": .table(LuaTable(fields: response.headers.mapValues(LuaValue.string))),
                    "time_ms": .integer(Int64(Date().timeIntervalSince(started) * 1000)),
                ]))
            } catch {
                finish(LuaTable.record(["error": .string("\(error)")]))
            }
        }
    }
}

/// `notify.email`: one message to an SMTP server, on its own thread; `true` or `{error = "..."}`.
enum MailOperation {
    static func start(spec: LuaValue, finish: @escaping @Sendable (LuaValue) -> Void) {
        let mail = HTTPClient.Mail(
            url: spec["url"].string ?? "", from: spec["from"].string ?? "",
            recipients: (spec["to"].table?.array ?? []).compactMap(\.string), message: Array((spec["message"].string ?? "").utf8),
            username: spec["username"].string, password: spec["password"].string)
        var client = HTTPClient()
        client.timeoutMillis = Int(spec["timeout_ms"].int ?? 30_000)
        let configured = client
        Thread.detachNewThread {
            do {
                try configured.sendMail(mail)
                finish(.boolean(true))
            } catch {
                finish(LuaTable.record(["error": .string("\(error)")]))
            }
        }
    }
}
