// NimbusEvents: Amazon EventBridge. See Package.swift and docs/eventbridge.md.
