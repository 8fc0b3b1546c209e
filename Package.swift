// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "slothd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slothd", targets: ["slothd"]),
        .executable(name: "sloth", targets: ["sloth"]),
        .executable(name: "slothbench", targets: ["slothbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Thin shims over the Debian -dev packages; pkg-config must be installed.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // libcurl's headers only: the library is loaded on first use (Sources/CCurl/loader.c).
        .target(name: "CCurl"),
        // fork/exec with PR_SET_PDEATHSIG, which posix_spawn cannot do (Sources/CProcess/cprocess.c).
        .target(name: "CProcess"),

        .target(name: "Scheduler"),
        .target(name: "Catalog", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Runner", dependencies: [
            "CLua", "CProcess", "Catalog", "Control",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: [
            .embedInCode("Lua/runtime.lua"), .embedInCode("Lua/scheduler.lua"), .embedInCode("Lua/dsl.lua"),
            .embedInCode("Lua/executor.lua"), .embedInCode("Lua/modules.lua"), .embedInCode("Lua/infra_test.lua"),
            .embedInCode("Lua/exec.lua"), .embedInCode("Lua/http.lua"), .embedInCode("Lua/goroutine.lua"), .embedInCode("Lua/goroutine_sync.lua"),
            .embedInCode("Lua/cli.lua"), .embedInCode("Lua/system.lua"), .embedInCode("Lua/git.lua"), .embedInCode("Lua/cloud.lua"),
            .embedInCode("Lua/validate.lua"), .embedInCode("Lua/database.lua"), .embedInCode("Lua/monitor.lua"),
            .embedInCode("Lua/notify.lua"), .embedInCode("Lua/reliability.lua"),
        ]),
        .target(name: "Control", dependencies: ["CCurl", "Catalog"]),
        // Generated from Proto/agent.proto by scripts/gen-proto (committed; CI never regenerates it).
        .target(name: "AgentWire", dependencies: [
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Agents (SPEC section 8): the master's hub, the agent's loop, the choice of an agent.
        .target(name: "Agents", dependencies: [
            "AgentWire", "Catalog", "Runner", "Scheduler",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        ]),
        // The daemon's logic: schedule service, worker pool, hooks, control routes; tests import it.
        .target(name: "SlothdCore", dependencies: [
            "Scheduler", "Catalog", "Runner", "Control", "Agents",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Mustache", package: "swift-mustache"),
        ]),
        // The composition root: @main, configuration, wiring, systemd.
        .executableTarget(name: "slothd", dependencies: [
            "SlothdCore", "Agents", "Scheduler", "Catalog", "Runner", "Control", "CSystemd",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .executableTarget(name: "sloth", dependencies: [
            "Scheduler", "Catalog", "Runner", "Control",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "slothbench", dependencies: [
            "Scheduler", "Runner", "Catalog", "Control", "TestSupport", "AgentWire",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "TestSupport", dependencies: ["Scheduler"], path: "Tests/TestSupport"),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Catalog", "TestSupport"]),
        .testTarget(name: "AgentsTests", dependencies: ["Agents", "AgentWire", "Runner", "Catalog"]),
        .testTarget(name: "ControlTests", dependencies: ["Control", "TestSupport"]),
        .testTarget(name: "slothdTests", dependencies: ["slothd", "SlothdCore", "Scheduler", "Catalog", "Runner", "TestSupport", .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "EndToEndTests", dependencies: ["sloth", "slothd", "Control", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")], exclude: ["Golden"]),
    ]
)
