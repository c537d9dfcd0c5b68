// NimbusEventsTests
