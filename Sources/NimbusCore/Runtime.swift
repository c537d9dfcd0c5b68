/// The runtime identifiers of the Lambda API and what Nimbus does with each.
public enum RuntimeCatalog {
    /// Every value of the `Runtime` enum in the service model (botocore 1.43), in AWS's error-message order for the
    /// ones it still lists as creatable.
    public static let enumValueSetMessage =
        "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]"

    /// Runtimes AWS no longer accepts on create or update.
    public static let deprecated: Set<String> = [
        "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
        "nodejs4.3-edge", "java8", "java8.al2", "java11", "python2.7", "python3.6", "python3.7", "python3.8",
        "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "go1.x", "ruby2.5", "ruby2.7",
    ]

    /// Runtimes AWS accepts. `provided` is deprecated on AWS but Nimbus keeps accepting it (see docs/decisions).
    public static let accepted: Set<String> = [
        "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
        "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x",
        "provided", "provided.al2", "provided.al2023",
        "java17", "java21", "java25", "ruby3.2", "ruby3.3", "ruby3.4", "ruby4.0", "dotnet8", "dotnet10",
    ]

    /// How Nimbus launches a runtime family.
    public enum Family: String, Sendable {
        case python
        case node
        case provided
        /// Valid on AWS, but Nimbus has no launcher for it.
        case unsupported
    }

    public static func family(of runtime: String) -> Family {
        if runtime.hasPrefix("python3.") { return .python }
        if runtime.hasPrefix("nodejs") { return .node }
        if runtime == "provided" || runtime.hasPrefix("provided.") { return .provided }
        return .unsupported
    }

    /// `python3.12` → `3.12`; `nodejs20.x` → `20`.
    public static func languageVersion(of runtime: String) -> String? {
        switch self.family(of: runtime) {
        case .python: String(runtime.dropFirst("python".count))
        case .node: String(runtime.dropFirst("nodejs".count).dropLast(2))
        default: nil
        }
    }
}
