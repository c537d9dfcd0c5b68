// nimbus-test-runtime: a `provided` runtime for Nimbus's integration tests and benchmark.
//
// Started as a function's `bootstrap`; `_HANDLER` names the behaviour (see TestBehaviour). An unknown name is
// reported through the init error API as `Runtime.HandlerNotFound`.

import NimbusRuntimeClient

let handlerName = SystemCalls.environmentValue("_HANDLER") ?? ""
guard let behaviour = TestBehaviour(rawValue: handlerName) else {
    LambdaRuntime.reportInitError(
        type: "Runtime.HandlerNotFound",
        message: "Handler '\(handlerName)' not found in nimbus-test-runtime"
    )
}
TestFunction.initialize(behaviour)
var function = TestFunction(behaviour: behaviour)
LambdaRuntime.run { event, context in
    try function.handle(event, context)
}
