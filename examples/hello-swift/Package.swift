// swift-tools-version:6.2
import PackageDescription

// A compiled custom-runtime (`provided.al2023`) function: the executable is the package's `bootstrap`.
let package = Package(
    name: "hello-swift",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hello-swift", targets: ["HelloSwift"])
    ],
    dependencies: [
        // Nimbus itself, for the dependency-free NimbusRuntimeClient library.
        .package(name: "nimbus", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "HelloSwift",
            dependencies: [.product(name: "NimbusRuntimeClient", package: "nimbus")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        )
    ]
)
