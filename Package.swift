// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "nimbus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nimbus", targets: ["nimbus"]),
        .executable(name: "nimbus-test-runtime", targets: ["NimbusTestRuntime"]),
        .library(name: "NimbusRuntimeClient", targets: ["NimbusRuntimeClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64.git", from: "1.2.0"),
    ],
    targets: [
        // Domain vocabulary: names, ARNs, configuration, validation, limits, runtimes. No I/O.
        .target(
            name: "NimbusCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // SQLite metadata (GRDB), content-addressed code packages (zip), log store.
        .target(
            name: "NimbusStore",
            dependencies: [
                "NimbusCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The service edge's signature layer: AWS Signature Version 4 verification (header and presigned forms,
        // aws-chunked payloads with chunk signatures and trailing checksums) and signing. Pure; no HTTP.
        .target(
            name: "NimbusSigV4",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The service edge's wire formats: CBOR (smithy-rpc-v2-cbor), XML (rest-xml, query responses) and the query
        // protocol's form encoding, as values. Pure; no HTTP.
        .target(
            name: "NimbusProtocols",
            dependencies: ["NimbusCore"],
            swiftSettings: swiftSettings
        ),
        // HTTP triggers' wire formats, shared by function URLs and API Gateway HTTP APIs: payload format 2.0 and 1.0
        // events, response mapping, the front doors' own errors and CORS. Pure; no HTTP server.
        .target(
            name: "NimbusHTTPEvents",
            dependencies: [
                "NimbusCore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ],
            swiftSettings: swiftSettings
        ),
        // EventBridge's event-pattern language: parsing with AWS's errors and matching, shared by Lambda's FilterCriteria
        // and EventBridge rules. Pure.
        .target(
            name: "NimbusEventPatterns",
            dependencies: ["NimbusCore"],
            swiftSettings: swiftSettings
        ),
        // The Lambda Runtime API (2018-06-01), one loopback listener per execution environment.
        .target(
            name: "NimbusRuntimeAPI",
            dependencies: [
                "NimbusCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Thin C shims over posix_spawn and pidfd_open (glibc's _np spawn actions need _GNU_SOURCE).
        .target(name: "CNimbusSys"),
        // Sandbox drivers: how an execution environment's process tree is started, measured and destroyed.
        .target(
            name: "NimbusSandbox",
            dependencies: [
                "NimbusCore", "CNimbusSys",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("Runtimes/python/nimbus_runtime.py"), .embedInCode("Runtimes/node/nimbus_runtime.js")],
            swiftSettings: swiftSettings
        ),
        // The durable asynchronous-invocation queue (SQLite), its retry policy and dispatcher service.
        .target(
            name: "NimbusQueue",
            dependencies: [
                "NimbusCore", "NimbusStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The invoker: warm pools of execution environments per function version.
        .target(
            name: "NimbusInvoker",
            dependencies: [
                "NimbusCore", "NimbusSandbox", "NimbusRuntimeAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The service edge: one HTTP listener for every service; routing (SigV4 scope, X-Amz-Target, rpc-v2 path,
        // Host), SigV4 authentication and credentials, the protocols' encodings and error shapes, and the listeners
        // inside sandboxes. Services declare operations on ServiceRequest/ServiceResponse and never see HTTP.
        .target(
            name: "NimbusEdge",
            dependencies: [
                "NimbusCore", "NimbusSigV4", "NimbusProtocols",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Lambda service: the frontend's operations (control plane, Invoke, versions, aliases, concurrency, event
        // invoke configs), the function registry and the async dispatcher's handler.
        .target(
            name: "NimbusLambda",
            dependencies: [
                "NimbusCore", "NimbusStore", "NimbusInvoker", "NimbusSandbox", "NimbusQueue", "NimbusEdge", "NimbusHTTPEvents",
                "NimbusEventSources", "NimbusEventPatterns", "NimbusSQS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // CloudWatch Logs (the subset reading Lambda's logs needs).
        .target(name: "NimbusLogs", dependencies: ["NimbusCore", "NimbusStore", "NimbusEdge"], swiftSettings: swiftSettings),
        // STS: GetCallerIdentity for every key the edge accepts.
        .target(name: "NimbusSTS", dependencies: ["NimbusCore", "NimbusEdge"], swiftSettings: swiftSettings),
        // API Gateway HTTP APIs (apigatewayv2): the control plane and the invoke endpoint
        // (`<api-id>.execute-api.localhost`), which hands requests to functions through FunctionInvoking.
        .target(
            name: "NimbusAPIGateway",
            dependencies: [
                "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusInvoker", "NimbusHTTPEvents",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Amazon SQS (json 1.0, `AmazonSQS.*`): queues and messages durable in the embedded database, and the
        // in-process API Lambda's destinations and event source mappings use instead of HTTP.
        .target(
            name: "NimbusSQS",
            dependencies: [
                "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusProtocols",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Amazon S3 (rest-xml): buckets and objects streamed to files under the data directory, their metadata in the
        // embedded database (ObjectStore), multipart uploads, tagging, and bucket notifications delivered to Lambda's
        // durable async queue and to SQS from an outbox committed with the object.
        .target(
            name: "NimbusS3",
            dependencies: [
                "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusProtocols", "NimbusSigV4", "NimbusInvoker", "NimbusSQS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ],
            swiftSettings: swiftSettings
        ),
        // Schedule expressions: rate(), AWS's six-field cron() and at(), next firing times in IANA time zones with AWS's
        // daylight-saving rules. The one calculator of EventBridge rules and EventBridge Scheduler. Pure.
        .target(name: "NimbusSchedules", swiftSettings: swiftSettings),
        // Amazon EventBridge (json 1.1, `AWSEvents.*`): event buses, rules (patterns and schedules), targets with input
        // transformation, PutEvents; matched events and firings go to Lambda's durable async queue.
        .target(
            name: "NimbusEvents",
            dependencies: [
                "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusInvoker", "NimbusSQS", "NimbusEventPatterns",
                "NimbusSchedules",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // EventBridge Scheduler (rest-json): schedules and schedule groups, fired on time into Lambda's durable async
        // queue.
        .target(
            name: "NimbusScheduler",
            dependencies: [
                "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusInvoker", "NimbusSQS", "NimbusSchedules",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Lambda's pollers: one per enabled event source mapping (SQS queues so far), invoking within the function's
        // free concurrency.
        .target(
            name: "NimbusEventSources",
            dependencies: [
                "NimbusCore", "NimbusInvoker", "NimbusSQS", "NimbusEventPatterns",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ],
            swiftSettings: swiftSettings
        ),
        // Composition root for `nimbus serve` and the integration tests.
        .target(
            name: "NimbusServer",
            dependencies: [
                "NimbusCore", "NimbusStore", "NimbusInvoker", "NimbusSandbox", "NimbusRuntimeAPI",
                "NimbusEdge", "NimbusLambda", "NimbusLogs", "NimbusSTS", "NimbusQueue", "NimbusAPIGateway", "NimbusEventSources", "NimbusSQS", "NimbusS3",
                "NimbusEvents", "NimbusScheduler",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `nimbus` command line: serve, deploy, invoke, logs, list, delete, bench.
        .target(
            name: "NimbusCLI",
            dependencies: [
                "NimbusCore", "NimbusServer", "NimbusSandbox", "NimbusInvoker", "NimbusQueue", "NimbusStore", "NimbusEdge",
                "NimbusSigV4", "NimbusSQS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "nimbus",
            dependencies: ["NimbusCLI"],
            swiftSettings: swiftSettings
        ),
        // A dependency-free Lambda runtime client (Runtime API over raw sockets) for compiled custom runtimes.
        .target(name: "NimbusRuntimeClient", swiftSettings: swiftSettings),
        // A `provided` runtime used by tests and the benchmark; behaviours are chosen by the handler name.
        .executableTarget(
            name: "NimbusTestRuntime",
            dependencies: ["NimbusRuntimeClient"],
            swiftSettings: swiftSettings,
            // Self-contained, like a real provided.al2023 bootstrap: it must run inside a sandbox that shows only
            // /usr and /lib, not the Swift toolchain.
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "-s"])]
        ),
        .testTarget(
            name: "NimbusCoreTests",
            dependencies: [
                "NimbusCore", "NimbusStore", "NimbusRuntimeAPI", "NimbusInvoker", "NimbusQueue",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusSigV4Tests",
            dependencies: ["NimbusSigV4"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusProtocolsTests",
            dependencies: ["NimbusProtocols", "NimbusCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusHTTPEventsTests",
            dependencies: ["NimbusHTTPEvents", "NimbusCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusEventPatternsTests",
            dependencies: ["NimbusEventPatterns", "NimbusCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusAPIGatewayTests",
            dependencies: [
                "NimbusAPIGateway", "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusInvoker", "NimbusHTTPEvents",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusSQSTests",
            dependencies: [
                "NimbusSQS", "NimbusCore", "NimbusStore", "NimbusEdge",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusSchedulesTests",
            dependencies: ["NimbusSchedules"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusEventsTests",
            dependencies: [
                "NimbusEvents", "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusInvoker", "NimbusSchedules",
                "NimbusEventPatterns",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusSchedulerTests",
            dependencies: [
                "NimbusScheduler", "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusInvoker", "NimbusSchedules",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusS3Tests",
            dependencies: [
                "NimbusS3", "NimbusCore", "NimbusStore", "NimbusEdge", "NimbusProtocols", "NimbusSigV4",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusEventSourcesTests",
            dependencies: [
                "NimbusEventSources", "NimbusCore", "NimbusInvoker", "NimbusSQS",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusEdgeTests",
            dependencies: ["NimbusEdge", "NimbusCore", "NimbusSigV4"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NimbusIntegrationTests",
            dependencies: [
                "NimbusCore", "NimbusServer", "NimbusCLI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
