import NimbusCore

/// API Gateway's identifiers: lower-case letters and digits, 10 for an API (it becomes the invoke host's first
/// label, so it must be unique across namespaces and a valid DNS label), 7 for integrations, routes and deployments.
enum Identifiers {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    static let apiLength = 10
    static let childLength = 7

    /// A random id of `length` characters from ``alphabet``.
    static func make(length: Int, using generator: inout some RandomNumberGenerator) -> String {
        Digest.random(from: self.alphabet, length: length, using: &generator)
    }

    static func make(length: Int) -> String {
        Digest.random(from: self.alphabet, length: length)
    }

    /// A fresh id of `length` that `taken` does not hold (36^7 ≈ 7.8e10: a collision is rare, but it is checked).
    static func fresh(length: Int, taken: (String) -> Bool) -> String {
        while true {
            let id = self.make(length: length)
            if !taken(id) { return id }
        }
    }

    /// Whether `id` could be an id of that length (a request naming anything else cannot name a resource).
    static func isWellFormed(_ id: String, length: Int) -> Bool {
        id.utf8.count == length && id.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) }
    }
}
