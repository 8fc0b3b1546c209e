// swift-tools-version:6.2
// libFuzzer harnesses for slothd's parsers. A package of its own, so the fuzzer's sanitizer build never
// touches the main tree's .build; run it through scripts/fuzz (not part of CI).
import PackageDescription

let package = Package(
    name: "slothd-fuzz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fuzz-json", targets: ["FuzzJSON"]),
        .executable(name: "fuzz-control", targets: ["FuzzControl"]),
    ],
    dependencies: [
        // Same package and version as the daemon (../Package.resolved).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        // JSONParser.swift and LuaValue.swift here are symlinks to ../Sources/Runner: the real code, no copy.
        .executableTarget(name: "FuzzJSON"),
        // NIO's HTTP/1 server pipeline plus slothd's URI -> path/query mapping and endpoint matching
        // (Sources/FuzzControl/ControlRequest.swift is a symlink to ../Sources/slothd/ControlRequest.swift).
        .executableTarget(name: "FuzzControl", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
    ]
)
