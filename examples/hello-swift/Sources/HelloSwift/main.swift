// hello-swift: answers {"name": "Ada"} with {"message": "Hello, Ada!"} ("world" when there is no name).

import NimbusRuntimeClient

LambdaRuntime.run { event, _ in
    let name = LambdaJSON.string(forKey: "name", in: event) ?? "world"
    var response = Array(#"{"message":"#.utf8)
    LambdaJSON.appendQuoted("Hello, \(name)!", to: &response)
    response.append(UInt8(ascii: "}"))
    return response
}
