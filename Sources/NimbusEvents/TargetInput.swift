import NimbusCore

/// What a target receives for an event: the whole event, the constant `Input`, the part `InputPath` selects, or the
/// `InputTransformer`'s template filled in.
enum TargetInput {
    /// The payload text; nil when there is nothing to deliver (an `InputPath` that reaches nothing, a template AWS
    /// would not deliver).
    static func render(_ target: TargetDefinition, event: Event, rule: RuleState) -> String? {
        if let input = target.input { return input }
        if let path = target.inputPath {
            return JSONPath(path)?.evaluate(event.text)
        }
        if let transformer = target.transformer {
            var variables: [String: String] = [
                "aws.events.rule-arn": JSONText.quote(rule.arn),
                "aws.events.rule-name": JSONText.quote(rule.name),
                "aws.events.event.ingestion-time": JSONText.quote(Event.time(event.ingestionMillis)),
                "aws.events.event": event.metadataJSON,
                "aws.events.event.json": event.text,
            ]
            for (name, path) in transformer.pathsMap ?? [:] {
                variables[name] = JSONPath(path)?.evaluate(event.text)
            }
            let declared = Set(transformer.pathsMap?.keys.map { $0 } ?? []).union(InputTemplate.predefined)
            return InputTemplate.render(transformer.template, declared: declared, values: variables)
        }
        return event.text
    }
}

/// An `InputTemplate`: text with `<name>` placeholders, filled in with AWS's quoting rules (as documented, and as
/// EventBridge answered in recorded tests):
/// - outside a JSON string a value is inserted as JSON (a string with its quotes, an object as it is);
/// - inside a JSON string a string is inserted without its quotes (not escaped again), a number or boolean as its
///   text, an object or array as its JSON text with the quotes removed (`{acc_id:0a78,sf_id:baz}`);
/// - a variable whose path reaches nothing is empty inside a string and `""` outside;
/// - in a template that is a JSON object or array, an object or array inside a string makes the template invalid:
///   EventBridge then delivers nothing.
enum InputTemplate {
    static let predefined: Set<String> = [
        "aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time", "aws.events.event",
        "aws.events.event.json",
    ]

    /// The placeholder names the template uses, in order of first use.
    static func placeholders(_ template: String) -> [String] {
        var names: [String] = []
        self.scan(template) { piece in
            if case .placeholder(let name, _) = piece, !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// Fills the template; nil when EventBridge would deliver nothing.
    static func render(_ template: String, declared: Set<String>, values: [String: String]) -> String? {
        var out = ""
        var structuredInString = false
        self.scan(template) { piece in
            switch piece {
            case .text(let text):
                out += text
            case .placeholder(let name, let inString):
                guard declared.contains(name) else {
                    out += "<\(name)>"
                    return
                }
                guard let value = values[name] else {
                    out += inString ? "" : "\"\""
                    return
                }
                guard inString else {
                    out += value
                    return
                }
                switch value.utf8.first {
                case UInt8(ascii: "\""):
                    out += String(value.dropFirst().dropLast())
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    structuredInString = true
                    out += value.replacingOccurrences(of: "\"", with: "")
                default:
                    out += value
                }
            }
        }
        let first = template.first { !$0.isWhitespace }
        if structuredInString, first == "{" || first == "[" { return nil }
        return out
    }

    enum Piece {
        case text(String)
        case placeholder(String, inString: Bool)
    }

    /// Splits the template into literal text and placeholders (`<` name `>`, the name of letters, digits, `.`, `-`,
    /// `_`), knowing for each placeholder whether it stands inside a JSON string of the template.
    static func scan(_ template: String, _ visit: (Piece) -> Void) {
        let characters = Array(template)
        var text = ""
        var inString = false
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c == "\\", inString, i + 1 < characters.count {
                text.append(c)
                text.append(characters[i + 1])
                i += 2
                continue
            }
            if c == "\"" {
                inString.toggle()
            } else if c == "<", let close = characters[(i + 1)...].firstIndex(of: ">") {
                let name = String(characters[(i + 1)..<close])
                if !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
                {
                    if !text.isEmpty { visit(.text(text)) }
                    text = ""
                    visit(.placeholder(name, inString: inString))
                    i = close + 1
                    continue
                }
            }
            text.append(c)
            i += 1
        }
        if !text.isEmpty { visit(.text(text)) }
    }
}
