import NimbusCore

/// PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget.
extension EventsService {
    /// AWS's quota: five targets per rule.
    static let maximumTargetsPerRule = 5

    func putTargets(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let list = try input.list("Targets")
        var constraints = Constraints()
        constraints.required(list, at: "targets")
        if let list {
            if list.isEmpty { constraints.add("[]", at: "targets", "must have length greater than or equal to 1") }
            if list.count > 100 { constraints.add("[…]", at: "targets", "must have length less than or equal to 100") }
        }
        var targets: [TargetDefinition] = []
        for (index, item) in (list ?? []).enumerated() {
            guard let object = item.objectValue else {
                throw EventsError.serialization("Targets must be a list of structures.")
            }
            if let target = try Self.target(Input(object: object), at: "targets.\(index + 1).member", &constraints) {
                targets.append(target)
            }
        }
        let (name, bus) = try self.ruleReference(input, namespace, nameMember: "Rule")
        try constraints.check()

        // Semantic checks, in AWS's words, per target.
        var failed: [JSONValue] = []
        var accepted: [TargetDefinition] = []
        for target in targets {
            let given = [target.input != nil, target.inputPath != nil, target.transformer != nil].filter { $0 }.count
            if given > 1 {
                throw EventsError.validation(
                    "Only one of Input, InputPath, or InputTransformer must be provided for target \(target.id)."
                )
            }
            if let input = target.input, JSONValue.parse(Array(input.utf8)) == nil {
                throw EventsError.validation("Input for target \(target.id) is not valid JSON text.")
            }
            if let transformer = target.transformer {
                let declared = Set(transformer.pathsMap?.keys.map { $0 } ?? []).union(InputTemplate.predefined)
                if let undefined = InputTemplate.placeholders(transformer.template).first(where: {
                    !declared.contains($0)
                }) {
                    throw EventsError.validation(
                        "InputTemplate for target \(target.id) contains invalid placeholder \(undefined)."
                    )
                }
            }
            guard Names.isARN(target.arn) else {
                throw EventsError.validation(
                    "Parameter \(target.arn) is not valid. Reason: Provided Arn is not in correct format."
                )
            }
            if let dlq = target.deadLetterARN, !AccountContext.isQueueARN(dlq) {
                throw EventsError.validation(
                    "Parameter \(dlq) is not valid. Reason: Provided Arn is not in correct format."
                )
            }
            guard Names.targetKind(target.arn) != nil else {
                failed.append([
                    "TargetId": .string(target.id), "ErrorCode": "ValidationException",
                    "ErrorMessage": .string(
                        "Nimbus delivers to Lambda functions and SQS queues; \(target.arn) is neither."
                    ),
                ])
                continue
            }
            accepted.append(target)
        }

        try await self.control.run {
            guard var rule = self.catalog.rule(namespace, bus: bus, name) else {
                throw EventsError.ruleNotFound(name, bus: bus)
            }
            var merged = rule.definition.targets
            for target in accepted {
                if let index = merged.firstIndex(where: { $0.id == target.id }) {
                    merged[index] = target
                } else {
                    merged.append(target)
                }
            }
            guard merged.count <= Self.maximumTargetsPerRule else { throw EventsError.limitExceeded }
            guard !accepted.isEmpty else { return }
            rule.definition.targets = merged
            try await self.save(rule)
        }
        return ["FailedEntryCount": .number(Double(failed.count)), "FailedEntries": .array(failed)]
    }

    /// One `Target` of PutTargets, its constraints checked; nil when required members are missing.
    static func target(_ input: Input, at path: String, _ constraints: inout Constraints) throws -> TargetDefinition? {
        let id = try input.string("Id")
        let arn = try input.string("Arn")
        let roleARN = try input.string("RoleArn")
        let text = try input.string("Input")
        let inputPath = try input.string("InputPath")
        constraints.required(id, at: "\(path).id")
        constraints.name(id, at: "\(path).id")
        constraints.required(arn, at: "\(path).arn")
        constraints.length(arn, at: "\(path).arn", min: 1, max: 1600)
        constraints.length(roleARN, at: "\(path).roleArn", min: 1, max: 1600)
        constraints.length(text, at: "\(path).input", max: 8192)
        constraints.length(inputPath, at: "\(path).inputPath", max: 256)
        var transformer: TargetDefinition.Transformer?
        if let object = try input.structure("InputTransformer") {
            let template = try object.string("InputTemplate")
            let map = try object.stringMap("InputPathsMap")
            let at = "\(path).inputTransformer"
            constraints.required(template, at: "\(at).inputTemplate")
            constraints.length(template, at: "\(at).inputTemplate", min: 1, max: 8192)
            if let map {
                if map.count > 100 {
                    constraints.add("{…}", at: "\(at).inputPathsMap", "must have length less than or equal to 100")
                }
                for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                    constraints.pattern(key, at: "\(at).inputPathsMap", Constraints.pathKeyPattern, Names.isPathKeyText)
                    constraints.length(key, at: "\(at).inputPathsMap", min: 1, max: 256)
                    constraints.length(value, at: "\(at).inputPathsMap", max: 256)
                }
            }
            if let template { transformer = TargetDefinition.Transformer(pathsMap: map, template: template) }
        }
        var retry: TargetDefinition.Retry?
        if let object = try input.structure("RetryPolicy") {
            let attempts = try object.integer("MaximumRetryAttempts")
            let age = try object.integer("MaximumEventAgeInSeconds")
            constraints.range(attempts, at: "\(path).retryPolicy.maximumRetryAttempts", min: 0, max: 185)
            constraints.range(age, at: "\(path).retryPolicy.maximumEventAgeInSeconds", min: 60, max: 86_400)
            retry = TargetDefinition.Retry(maximumRetryAttempts: attempts, maximumEventAgeInSeconds: age)
        }
        var deadLetterARN: String?
        if let object = try input.structure("DeadLetterConfig") {
            deadLetterARN = try object.string("Arn")
            constraints.length(deadLetterARN, at: "\(path).deadLetterConfig.arn", min: 1, max: 1600)
        }
        let groupID = try input.structure("SqsParameters")?.string("MessageGroupId")
        guard let id, let arn else { return nil }
        return TargetDefinition(
            id: id,
            arn: arn,
            roleARN: roleARN,
            input: text,
            inputPath: inputPath,
            transformer: transformer,
            retry: retry,
            deadLetterARN: deadLetterARN,
            messageGroupID: groupID
        )
    }

    func removeTargets(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        _ = try input.bool("Force")
        let ids = try input.strings("Ids")
        var constraints = Constraints()
        constraints.required(ids, at: "ids")
        if let ids {
            if ids.isEmpty { constraints.add("[]", at: "ids", "must have length greater than or equal to 1") }
            if ids.count > 100 { constraints.add("[…]", at: "ids", "must have length less than or equal to 100") }
            for (index, id) in ids.enumerated() { constraints.name(id, at: "ids.\(index + 1).member") }
        }
        let (name, bus) = try self.ruleReference(input, namespace, nameMember: "Rule")
        try constraints.check()
        try await self.control.run {
            guard var rule = self.catalog.rule(namespace, bus: bus, name) else {
                throw EventsError.ruleNotFound(name, bus: bus)
            }
            let remaining = rule.definition.targets.filter { !(ids ?? []).contains($0.id) }
            guard remaining.count != rule.definition.targets.count else { return }
            rule.definition.targets = remaining
            try await self.save(rule)
        }
        return ["FailedEntryCount": 0, "FailedEntries": []]
    }

    func listTargetsByRule(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let token = try input.string("NextToken")
        let limit = try input.integer("Limit")
        var constraints = Constraints()
        constraints.length(token, at: "nextToken", min: 1, max: 2048)
        constraints.range(limit, at: "limit", min: 1, max: 100)
        try constraints.check()
        let rule = try self.existingRule(input, namespace, nameMember: "Rule")
        // Targets keep the order they were added in; the token is an index.
        let targets = rule.definition.targets
        var start = 0
        if let token {
            guard let index = Int(token), index >= 0 else {
                throw EventsError.validation("The NextToken provided is not valid.")
            }
            start = min(index, targets.count)
        }
        let end = min(targets.count, start + (limit ?? Paging.defaultLimit))
        var result: [String: JSONValue] = ["Targets": .array(targets[start..<end].map(\.json))]
        if end < targets.count { result["NextToken"] = .string(String(end)) }
        return .object(result)
    }

    func listRuleNamesByTarget(_ input: Input, _ namespace: AccountContext) async throws -> JSONValue {
        let arn = try input.string("TargetArn")
        let busText = try input.string("EventBusName")
        let token = try input.string("NextToken")
        let limit = try input.integer("Limit")
        var constraints = Constraints()
        constraints.required(arn, at: "targetArn")
        constraints.length(arn, at: "targetArn", min: 1, max: 1600)
        Self.checkBus(busText, at: "eventBusName", &constraints)
        constraints.length(token, at: "nextToken", min: 1, max: 2048)
        constraints.range(limit, at: "limit", min: 1, max: 100)
        try constraints.check()
        let bus = try self.busName(busText, namespace)
        let names = self.catalog.rules(namespace, bus: bus).filter { rule in
            rule.definition.targets.contains { $0.arn == arn }
        }.map(\.name)
        let (page, next) = try Paging.page(names, key: { $0 }, token: token, limit: limit)
        var result: [String: JSONValue] = ["RuleNames": .array(page.map { .string($0) })]
        if let next { result["NextToken"] = .string(next) }
        return .object(result)
    }
}
