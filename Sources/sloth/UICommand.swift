import ArgumentParser
import Control
import Foundation

/// `sloth ui`: where the dashboard is; `--token` makes a login token for it (printed once).
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Print the web dashboard's URL; with --token, create a login token for it.",
        discussion: "slothd serves the dashboard when started with --http-listen HOST:PORT (or http_listen in its config file).")
    @Flag(help: "Create a login token (shown once; slothd keeps only its hash).") var token = false
    @Option(help: "The user the token logs in (audit rows name it).") var user = ProcessInfo.processInfo.environment["USER"] ?? "admin"
    @Flag(help: "List the login tokens (never their text).") var listTokens = false
    @Option(help: ArgumentHelp("Revoke the login token with this ID.", valueName: "ID")) var revokeToken: String?
    @OptionGroup var connection: WorkflowCommand.Connection

    func run() throws {
        if listTokens { return try list() }
        if let revokeToken {
            let revoked: ControlAPI.LoginToken = try daemonCall { () throws(ControlClient.Error) in
                try connection.client.delete("/login-tokens/\(revokeToken)", as: ControlAPI.LoginToken.self)
            }
            return print("revoked login token \(revoked.id) of \(revoked.user)")
        }
        let status: ControlAPI.Status = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/status") }
        guard let url = status.dashboard_url else {
            FileHandle.standardError.write(Data("sloth: slothd serves no dashboard: start it with --http-listen 127.0.0.1:8080 (or http_listen in its config)\n".utf8))
            throw ExitCode(1)
        }
        guard token else { return print(url) }
        let created: ControlAPI.LoginToken = try daemonCall { () throws(ControlClient.Error) in
            try connection.client.post("/login-tokens", ControlAPI.CreateLoginToken(user: user))
        }
        switch connection.output {
        case .json:
            var shown = created
            shown.token = created.token
            print(try JSONOutput.encode(shown))
        case .text:
            print(url)
            print(created.token ?? "")
            FileHandle.standardError.write(Data("login token \(created.id) for \(user): shown once; paste it on \(url)login\n".utf8))
        }
    }

    private func list() throws {
        let tokens: [ControlAPI.LoginToken] = try daemonCall { () throws(ControlClient.Error) in try connection.client.get("/login-tokens") }
        switch connection.output {
        case .json: print(try JSONOutput.encode(tokens))
        case .text:
            print(TextTable.render([["ID", "USER", "CREATED", "LAST USED", "REVOKED"]] + tokens.map {
                [String($0.id), $0.user, $0.created_at, $0.last_used_at ?? "never", $0.revoked_at ?? "-"]
            }), terminator: "")
        }
    }
}
