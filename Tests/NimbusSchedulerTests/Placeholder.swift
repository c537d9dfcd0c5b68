// NimbusSchedulerTests
