// NimbusSchedulesTests
