import ArgumentParser

/// `nimbus bench`: see Benchmark.swift.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure invoke latency and throughput against a baseline.")

    func run() async throws {
        printError("The benchmark is not built yet.")
        throw ExitCode(2)
    }
}
