// NimbusSchedules: schedule expressions (rate, cron, at) and their next firing times. See Package.swift.
