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
    ],
    targets: [
        // Thin shims over the Debian -dev packages; pkg-config must be installed.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(name: "Scheduler"),
        .target(name: "Catalog"),
        .target(name: "Runner", dependencies: ["CLua", "CCurl", "Catalog"]),
        .target(name: "Control", dependencies: ["CCurl"]),
        .executableTarget(name: "slothd", dependencies: [
            "Scheduler", "Catalog", "Runner", "Control", "CSystemd",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sloth", dependencies: [
            "Scheduler", "Catalog", "Runner", "Control",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "slothbench", dependencies: [
            "Scheduler",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog"]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner"]),
        .testTarget(name: "ControlTests", dependencies: ["Control"]),
        .testTarget(name: "slothdTests", dependencies: ["slothd"]),
        .testTarget(name: "EndToEndTests", dependencies: ["sloth"]),
    ]
)
