// NimbusScheduler: EventBridge Scheduler. See Package.swift and docs/scheduler.md.
