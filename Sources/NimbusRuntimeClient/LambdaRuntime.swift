#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a compiled function as a Lambda custom runtime (`provided`, `provided.al2`, `provided.al2023`).
///
/// The runtime talks HTTP/1.1 to the Runtime API (2018-06-01) at `AWS_LAMBDA_RUNTIME_API` over one keep-alive
/// TCP connection, using POSIX sockets and no Foundation, so a statically linked `bootstrap` starts in a few
/// milliseconds. It owns the invocation loop: fetch an event, call the handler, post the result or the error.
/// It does not own logging (stdout and stderr go to the function's log) or the event's schema.
///
/// Failures of the platform itself (the API unreachable, `/next` answering non-2xx) are written to stderr and
/// end the process with status 1, as the official runtime clients do.
///
/// ```swift
/// import NimbusRuntimeClient
///
/// LambdaRuntime.run { event, context in
///     let name = LambdaJSON.string(forKey: "name", in: event) ?? "world"
///     return Array(#"{"message":\#(LambdaJSON.quoted("Hello, \(name)!"))}"#.utf8)
/// }
/// ```
public enum LambdaRuntime {
    /// Serves invocations forever, one at a time.
    ///
    /// For each event: `GET /runtime/invocation/next` (which long-polls with no timeout), set `_X_AMZN_TRACE_ID`,
    /// call `handler`, flush stdout, then `POST /runtime/invocation/{id}/response` with
    /// `Content-Type: application/json`, or `POST /runtime/invocation/{id}/error` when the handler throws. A
    /// thrown ``LambdaFunctionError`` sets `errorType` and `errorMessage`; any other error is reported with its
    /// type name and description. A non-2xx answer to a post (for example 413 for an oversized response) is
    /// logged to stderr and the loop goes on.
    ///
    /// - Parameter handler: turns the event bytes into the response bytes (JSON). Runs on the calling thread.
    /// - Returns: never; exits with status 1 when the Runtime API fails.
    public static func run(_ handler: (_ event: [UInt8], _ context: LambdaContext) throws -> [UInt8]) -> Never {
        var client = Self.makeClient()
        while true {
            let invocation: RuntimeAPIClient.Invocation
            do {
                invocation = try client.nextInvocation()
            } catch {
                Self.terminate("cannot get the next invocation", error)
            }
            let requestID = invocation.context.requestID
            ProcessEnvironment.set("_X_AMZN_TRACE_ID", to: invocation.context.traceID)
            let outcome = Result { try handler(invocation.event, invocation.context) }
            StandardStreams.flushAll()
            let response: HTTPResponse
            do {
                switch outcome {
                case .success(let body):
                    response = try client.postResponse(requestID: requestID, body: body)
                case .failure(let error):
                    response = try client.postError(requestID: requestID, error: LambdaFunctionError(describing: error))
                }
            } catch {
                Self.terminate("cannot post the outcome of invocation \(requestID)", error)
            }
            if !response.isSuccess {
                StandardStreams.writeError(
                    "nimbus-runtime-client: the Runtime API rejected the outcome of invocation \(requestID): "
                        + "\(response.status) \(RuntimeAPIClient.excerpt(response.body))"
                )
            }
        }
    }

    /// Reports a failed initialization through `POST /runtime/init/error`, then exits with status 1.
    ///
    /// Call it before ``run(_:)`` when the function cannot start, e.g. a missing handler or bad configuration.
    /// The Runtime API is expected to answer 202; any other outcome is written to stderr before exiting.
    ///
    /// - Parameters:
    ///   - type: the `errorType`, also sent as `Lambda-Runtime-Function-Error-Type`, e.g. `Runtime.HandlerNotFound`.
    ///   - message: the `errorMessage`.
    /// - Returns: never.
    public static func reportInitError(type: String, message: String) -> Never {
        StandardStreams.flushAll()
        var client = Self.makeClient()
        do {
            let response = try client.postInitError(LambdaFunctionError(type: type, message: message))
            if response.status != 202 {
                StandardStreams.writeError(
                    "nimbus-runtime-client: POST /runtime/init/error answered \(response.status): "
                        + RuntimeAPIClient.excerpt(response.body)
                )
            }
        } catch {
            StandardStreams.writeError("nimbus-runtime-client: cannot report the init error: \(error)")
        }
        exit(1)
    }

    private static func makeClient() -> RuntimeAPIClient {
        guard let address = ProcessEnvironment.value(of: "AWS_LAMBDA_RUNTIME_API") else {
            Self.terminate("cannot start", RuntimeClientError(.invalidEndpoint, "AWS_LAMBDA_RUNTIME_API is not set"))
        }
        do {
            let endpoint = try RuntimeAPIEndpoint(parsing: address)
            return RuntimeAPIClient(endpoint: endpoint, function: .fromEnvironment())
        } catch {
            Self.terminate("cannot start", error)
        }
    }

    private static func terminate(_ what: String, _ error: any Error) -> Never {
        StandardStreams.flushAll()
        StandardStreams.writeError("nimbus-runtime-client: \(what): \(error)")
        exit(1)
    }
}
